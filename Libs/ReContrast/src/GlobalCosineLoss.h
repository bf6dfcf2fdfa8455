/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The global cosine loss with hard mining.
 *
 *=========================================================================*/
#ifndef ReContrast_GlobalCosineLoss_h
#define ReContrast_GlobalCosineLoss_h

#include "GlobalBatch.h"

#include <torch/types.h>

#include <vector>

namespace recontrast
{

/** Global cosine loss with hard mining (official global_cosine_hm; Documentation/Engine.md, Method 5).
 * Value: sum over scales of mean over the batch of 1 - cos(vec(target_b), vec(pred_b)); targets are
 * detached. Hard mining changes gradients only: positions whose channel-cosine distance is below
 * mean + alpha * std (over all positions of the scale, unbiased std) have their gradient
 * multiplied by `factor` (0 in every official script).
 * @param hardMasks when given, receives per scale the [B,1,H,W] mask of kept (hard) positions.
 * @param global data-parallel training: the tensors hold this process's shard of `global->size`
 * images; the threshold's mean and std are those of the whole batch (two passes in double) and the
 * value is this shard's part of the batch mean (its sum / global->size; the parts add up). */
torch::Tensor GlobalCosineHardMining(const std::vector<torch::Tensor> & targets,
                                     const std::vector<torch::Tensor> & predictions, double alpha, double factor = 0.0,
                                     std::vector<torch::Tensor> * hardMasks = nullptr,
                                     const GlobalBatch * global = nullptr);

/** The ReContrast training loss: 0.5 * GCHM(frozen targets, head-0 predictions) + 0.5 * GCHM(trainable
 * targets, head-1 predictions), with the six pairs ordered as FeaturePairs. */
torch::Tensor ReContrastLoss(const std::vector<torch::Tensor> & encoder, const std::vector<torch::Tensor> & decoder,
                             double alpha, double factor = 0.0, std::vector<torch::Tensor> * hardMasks = nullptr,
                             const GlobalBatch * global = nullptr);

/** The hard-mining threshold schedule: alpha rises linearly from -3 to 1 over the first
 * `rampFraction` (0.1 officially, 0.2 in the stable variant) of the iterations, then stays 1. */
double HardMiningAlpha(int iteration, int totalIterations, double rampFraction = 0.1);

} // namespace recontrast

#endif
