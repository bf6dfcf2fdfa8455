/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The gradients of one training step.
 *
 *=========================================================================*/
#ifndef ReContrast_TrainingStep_h
#define ReContrast_TrainingStep_h

#include "GlobalBatch.h"
#include "ReContrastNetwork.h"

#include <torch/types.h>

#include <vector>

namespace recontrast
{

/** The gradients of one training step (Documentation/Engine.md, Method 5): the forward with the kept
 * heads only, the ReContrast loss with hard mining at `alpha`, and backward. The previous step's
 * gradients are dropped rather than zeroed first (PyTorch 2's default), so backward writes them
 * instead of adding to zeros: the same values, two fewer passes over every parameter. The caller
 * then steps the optimisers.
 * @param hardMasks when given, receives the hard-mining masks as ReContrastLoss does.
 * @param global data-parallel training: `images` are this process's shard of the batch; BatchNorm and
 * the hard-mining threshold use the whole batch's statistics, and the gradients and the returned
 * value are this shard's part (summed over the processes they give the batch's).
 * @return the loss value of the step. */
torch::Tensor ComputeGradients(ReContrastNetwork & network, const torch::Tensor & images, double alpha,
                               std::vector<torch::Tensor> * hardMasks = nullptr, const GlobalBatch * global = nullptr);

} // namespace recontrast

#endif
