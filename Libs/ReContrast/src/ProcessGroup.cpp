/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The processes of a data-parallel training, joined through LibTorch's c10d.
 *
 *=========================================================================*/
#include "ProcessGroup.h"

#include "NetworkState.h"
#include "ReContrast/Error.h"

#include <torch/torch.h>

#ifdef RECONTRAST_WITH_GLOO
#  include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#  include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#  include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace recontrast
{

namespace
{
// Gloo's messages start with its source location ("[.../pair.cc:598] Connection closed by peer ...").
std::string
CauseOf(const std::exception & error)
{
  std::string text = SummarizeTorchError(error);
  const auto location = text.rfind("] ");
  if (text.rfind('[', 0) == 0 && location != std::string::npos)
  {
    text = text.substr(location + 2);
  }
  while (!text.empty() && (text.back() == '.' || text.back() == ' '))
  {
    text.pop_back();
  }
  return text;
}
} // namespace

#ifdef RECONTRAST_WITH_GLOO

struct ProcessGroup::Impl
{
  DistributedSettings settings;
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
  std::vector<c10::intrusive_ptr<c10d::Work>> started;

  [[noreturn]] void Lost(const std::exception & error) const
  {
    throw Error("Training process " + std::to_string(settings.rank) + " of " + std::to_string(settings.worldSize) +
                " lost the other processes (" + CauseOf(error) +
                "): one of them stopped or stopped answering, so this one stops too; the first process "
                "that failed says why.");
  }
};

ProcessGroup::ProcessGroup(const DistributedSettings & settings)
  : m_Impl(std::make_unique<Impl>())
{
  m_Impl->settings = settings;
#  ifdef C10_USE_GLOG
  // c10d logs its own retries and failures through glog ("E... socket.cpp:860] [c10d] ..."); every
  // failure reaches the user as one sentence of ours instead.
  FLAGS_minloglevel = std::max(FLAGS_minloglevel, 3);
#  endif
  const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(settings.timeoutSeconds * 1000.0));
  const std::string where = settings.masterAddress + ":" + std::to_string(settings.masterPort);
  try
  {
    c10d::TCPStoreOptions options;
    options.port = static_cast<std::uint16_t>(settings.masterPort);
    options.isServer = settings.rank == 0 && !settings.launcherHostsStore;
    options.numWorkers = settings.launcherHostsStore ? c10::nullopt : c10::optional<std::size_t>(settings.worldSize);
    options.waitWorkers = false; // the group's own rendezvous below waits for everyone
    options.timeout = timeout;
    options.multiTenant = true;
    c10::intrusive_ptr<c10d::Store> tcp = c10::make_intrusive<c10d::TCPStore>(settings.masterAddress, options);
    m_Impl->store = c10::make_intrusive<c10d::PrefixStore>(settings.storePrefix + "/recontrast", tcp);
  }
  catch (const std::exception & e)
  {
    throw Error("Training process " + std::to_string(settings.rank) + " of " + std::to_string(settings.worldSize) +
                " cannot reach the rendezvous at " + where + " (" + CauseOf(e) +
                "); check MASTER_ADDR and MASTER_PORT and that the first process started.");
  }
  try
  {
    auto options = c10d::ProcessGroupGloo::Options::create(timeout);
    if (const char * interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface)
    {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    }
    else
    {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    options->threads = 2;
    m_Impl->group =
      c10::make_intrusive<c10d::ProcessGroupGloo>(m_Impl->store, settings.rank, settings.worldSize, options);
  }
  catch (const std::exception & e)
  {
    throw Error("Training process " + std::to_string(settings.rank) + " of " + std::to_string(settings.worldSize) +
                " did not meet all the others within " + std::to_string(static_cast<int>(settings.timeoutSeconds)) +
                " s at " + where + " (" + CauseOf(e) + "); were all " + std::to_string(settings.worldSize) +
                " processes started, or did one stop before meeting the others?");
  }
}

ProcessGroup::~ProcessGroup() = default;

int
ProcessGroup::Rank() const
{
  return m_Impl->settings.rank;
}

int
ProcessGroup::Size() const
{
  return m_Impl->settings.worldSize;
}

void
ProcessGroup::AllReduceSum(torch::Tensor & tensor)
{
  try
  {
    std::vector<torch::Tensor> tensors{ tensor };
    m_Impl->group->allreduce(tensors)->wait();
  }
  catch (const std::exception & e)
  {
    m_Impl->Lost(e);
  }
}

void
ProcessGroup::StartAllReduceSum(const torch::Tensor & tensor)
{
  try
  {
    std::vector<torch::Tensor> tensors{ tensor };
    m_Impl->started.push_back(m_Impl->group->allreduce(tensors));
  }
  catch (const std::exception & e)
  {
    m_Impl->Lost(e);
  }
}

void
ProcessGroup::WaitForStarted()
{
  try
  {
    for (auto & work : m_Impl->started)
    {
      work->wait();
    }
    m_Impl->started.clear();
  }
  catch (const std::exception & e)
  {
    m_Impl->started.clear();
    m_Impl->Lost(e);
  }
}

void
ProcessGroup::Broadcast(std::vector<torch::Tensor> & tensors)
{
  try
  {
    for (torch::Tensor & tensor : tensors)
    {
      std::vector<torch::Tensor> one{ tensor };
      m_Impl->group->broadcast(one)->wait();
    }
  }
  catch (const std::exception & e)
  {
    m_Impl->Lost(e);
  }
}

bool
ProcessGroup::Available()
{
  return true;
}

#else

struct ProcessGroup::Impl
{};

ProcessGroup::ProcessGroup(const DistributedSettings &)
{
  throw Error("This build of ReContrast cannot train on several processes: LibTorch's c10d with Gloo was not "
              "found when it was configured (Documentation/Scaling.md); train with --distributed off.");
}

ProcessGroup::~ProcessGroup() = default;
int
ProcessGroup::Rank() const
{
  return 0;
}
int
ProcessGroup::Size() const
{
  return 1;
}
void
ProcessGroup::AllReduceSum(torch::Tensor &)
{}
void
ProcessGroup::StartAllReduceSum(const torch::Tensor &)
{}
void
ProcessGroup::WaitForStarted()
{}
void
ProcessGroup::Broadcast(std::vector<torch::Tensor> &)
{}
bool
ProcessGroup::Available()
{
  return false;
}

#endif

} // namespace recontrast
