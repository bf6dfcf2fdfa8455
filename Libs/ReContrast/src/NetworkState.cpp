/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The network's tensors by name, for the model file and checkpoints.
 *
 *=========================================================================*/
#include "NetworkState.h"

#include "Convolution.h"
#include "ReContrast/Error.h"

#include <torch/torch.h>

#include <unordered_map>

namespace recontrast
{

NamedTensors
StateOf(const torch::nn::Module & module)
{
  NamedTensors state;
  for (const auto & item : module.named_parameters())
  {
    state.emplace_back(item.key(), item.value());
  }
  for (const auto & item : module.named_buffers())
  {
    state.emplace_back(item.key(), item.value());
  }
  return state;
}

namespace
{
std::string
ShapeText(const torch::Tensor & t)
{
  std::string text = "[";
  for (int64_t i = 0; i < t.dim(); ++i)
  {
    text += (i ? ", " : "") + std::to_string(t.size(i));
  }
  return text + "]";
}

bool
HasPrefix(const std::string & name, const std::vector<std::string> & prefixes)
{
  for (const auto & prefix : prefixes)
  {
    if (name.rfind(prefix, 0) == 0)
    {
      return true;
    }
  }
  return false;
}
} // namespace

void
LoadState(torch::nn::Module & module, const NamedTensors & state, const std::string & source,
          const std::vector<std::string> & ignoredPrefixes, bool adoptStorage)
{
  std::unordered_map<std::string, const torch::Tensor *> byName;
  for (const auto & [name, tensor] : state)
  {
    byName[name] = &tensor;
  }
  torch::NoGradGuard noGrad;
  size_t used = 0;
  for (auto & [name, target] : StateOf(module))
  {
    const auto found = byName.find(name);
    if (found == byName.end())
    {
      throw Error("'" + source + "' has no weights for '" + name + "'; it was made for another model.");
    }
    const torch::Tensor & value = *found->second;
    if (!value.sizes().equals(target.sizes()))
    {
      throw Error("'" + source + "' holds '" + name + "' with shape " + ShapeText(value) + " where this model needs " +
                  ShapeText(target) + "; it was made for another backbone or configuration.");
    }
    if (adoptStorage && value.scalar_type() == target.scalar_type() && value.device() == target.device() &&
        value.is_contiguous())
    {
      target.set_data(value);
    }
    else
    {
      target.copy_(value.to(target.device()).to(target.scalar_type()));
    }
    ++used;
  }
  if (used != state.size())
  {
    std::unordered_map<std::string, bool> known;
    for (auto & item : StateOf(module))
    {
      known[item.first] = true;
    }
    for (const auto & [name, tensor] : state)
    {
      if (!known.count(name) && !HasPrefix(name, ignoredPrefixes))
      {
        throw Error("'" + source + "' holds weights named '" + name + "' that this model does not have; it was made " +
                    "for another model.");
      }
    }
  }
}

ReContrastNetwork
NetworkFromModelFile(const ModelFileContents & contents, const std::string & path)
{
  // Every parameter comes from the file (LoadState checks), so none is drawn at random first.
  ReContrastNetwork network{ nullptr };
  {
    UninitializedParametersScope uninitialized;
    network = ReContrastNetwork(contents.description.config.backbone);
  }
  NamedTensors weights;
  for (const auto & [name, tensor] : contents.tensors)
  {
    if (name.rfind("optimizer.", 0) != 0)
    {
      weights.emplace_back(name, tensor);
    }
  }
  // Each tensor of a model file has memory of its own (ReadModelFile), so the network can adopt it.
  LoadState(*network, weights, path, {}, /*adoptStorage=*/true);
  return network;
}

std::string
SummarizeTorchError(const std::exception & error)
{
  if (const auto * c10error = dynamic_cast<const c10::Error *>(&error))
  {
    std::string message = c10error->what_without_backtrace();
    const auto newline = message.find('\n');
    if (newline != std::string::npos)
    {
      message.resize(newline);
    }
    return message;
  }
  return error.what();
}

} // namespace recontrast
