/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The gradients of one training step.
 *
 *=========================================================================*/
#include "TrainingStep.h"

#include "GlobalCosineLoss.h"

#include <torch/torch.h>

#include <optional>

namespace recontrast
{

torch::Tensor
ComputeGradients(ReContrastNetwork & network, const torch::Tensor & images, double alpha,
                 std::vector<torch::Tensor> * hardMasks, const GlobalBatch * global)
{
  for (torch::Tensor & parameter : network->parameters())
  {
    parameter.mutable_grad() = torch::Tensor();
  }
  std::optional<GlobalBatchScope> scope;
  if (global)
  {
    scope.emplace(*global); // BatchNorm with the whole batch's statistics
  }
  const FeaturePairs pairs = network->ForwardKeptHeadsOnly(images);
  torch::Tensor loss = ReContrastLoss(pairs.encoder, pairs.decoder, alpha, 0.0, hardMasks, global);
  loss.backward();
  return loss.detach();
}

} // namespace recontrast
