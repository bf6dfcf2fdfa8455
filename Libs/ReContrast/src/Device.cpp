/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Choosing and describing the device a model runs on (CPU threads, CUDA).
 *
 *=========================================================================*/
#include "Device.h"

#include "ReContrast/Error.h"

#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <fstream>

#include <algorithm>
#include <thread>

namespace recontrast
{

torch::Device
ParseDevice(const std::string & name)
{
  if (name == "cpu")
  {
    return torch::Device(torch::kCPU);
  }
  if (name.rfind("cuda", 0) == 0)
  {
    if (!torch::cuda::is_available())
    {
      throw Error("The device '" + name + "' was requested but no CUDA device is available" +
                  " (this build or this machine has no CUDA); use --device cpu.");
    }
    if (name == "cuda")
    {
      return torch::Device(torch::kCUDA, 0);
    }
    if (name.size() > 5 && name[4] == ':')
    {
      try
      {
        const int index = std::stoi(name.substr(5));
        if (index >= 0 && static_cast<size_t>(index) < torch::cuda::device_count())
        {
          return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
        }
      }
      catch (const std::exception &)
      {}
    }
    throw Error("The device '" + name + "' does not exist; this machine has " +
                std::to_string(torch::cuda::device_count()) + " CUDA device(s).");
  }
  throw Error("Unknown device '" + name + "'; expected 'cpu', 'cuda' or 'cuda:N'.");
}

void
ApplyThreadCount(int threads)
{
  if (threads < 0)
  {
    throw Error("The thread count must be 0 (automatic) or positive; got " + std::to_string(threads) + ".");
  }
  // 0 means every core: Debian's LibTorch otherwise starts with a single intra-op thread.
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  torch::set_num_threads(threads > 0 ? threads : static_cast<int>(cores));
}

bool
SupportsBFloat16(const torch::Device & device)
{
  if (device.is_cuda())
  {
    // LibTorch's own test for fast bf16 convolutions on the current GPU: cuDNN 8 and compute
    // capability 8.0 or newer (Ampere, Hopper); older GPUs emulate them.
    return at::detail::getCUDAHooks().supportsBFloat16ConvolutionWithCuDNNv8();
  }
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line))
  {
    if (line.rfind("flags", 0) == 0)
    {
      return line.find(" avx512_bf16") != std::string::npos || line.find(" amx_bf16") != std::string::npos;
    }
  }
  return false;
}

} // namespace recontrast
