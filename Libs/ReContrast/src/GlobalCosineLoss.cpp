/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The global cosine loss with hard mining.
 *
 *=========================================================================*/
#include "GlobalCosineLoss.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

namespace recontrast
{

namespace
{
// mean + alpha * std (unbiased) of the point distances of the whole batch, from every process's
// shard in double precision: this shard's mean and squared deviations (two passes), then one sum of
// [n mean, M2 + n mean^2, n] over the processes (a shard may be empty).
torch::Tensor
GlobalThreshold(const torch::Tensor & distance, double alpha, const GlobalBatch & global)
{
  const torch::Tensor local = distance.to(torch::kFloat64);
  const double n = static_cast<double>(local.numel());
  const double localMean = n > 0.0 ? local.mean().item<double>() : 0.0;
  const double localSquares = n > 0.0 ? (local - localMean).square().sum().item<double>() : 0.0;
  torch::Tensor sums = torch::tensor({ n * localMean, localSquares + n * localMean * localMean, n }, torch::kFloat64);
  global.allReduceSum(sums);
  const double count = sums[2].item<double>();
  const double mean = sums[0].item<double>() / count;
  const double squares = std::max(sums[1].item<double>() - count * mean * mean, 0.0);
  const double std = std::sqrt(squares / std::max(count - 1.0, 1.0));
  return torch::full({}, mean + alpha * std, distance.options());
}
} // namespace

torch::Tensor
GlobalCosineHardMining(const std::vector<torch::Tensor> & targets, const std::vector<torch::Tensor> & predictions,
                       double alpha, double factor, std::vector<torch::Tensor> * hardMasks, const GlobalBatch * global)
{
  namespace F = torch::nn::functional;
  torch::Tensor loss = torch::zeros({}, predictions.front().options());
  for (size_t k = 0; k < targets.size(); ++k)
  {
    const torch::Tensor target = targets[k].detach();
    torch::Tensor prediction = predictions[k];
    torch::Tensor gradientScale;
    {
      torch::NoGradGuard noGrad;
      const torch::Tensor distance =
        1 - F::cosine_similarity(target, prediction, F::CosineSimilarityFuncOptions().dim(1).eps(1e-8));
      const torch::Tensor threshold =
        global ? GlobalThreshold(distance, alpha, *global) : distance.mean() + alpha * distance.std(/*unbiased=*/true);
      const torch::Tensor hard = (distance >= threshold).unsqueeze(1);
      gradientScale =
        torch::where(hard, torch::ones({}, prediction.options()), torch::full({}, factor, prediction.options()));
      if (hardMasks)
      {
        hardMasks->push_back(hard.to(torch::kFloat));
      }
    }
    if (prediction.requires_grad())
    {
      // A gradient hook, as the official code: the value is untouched, easy positions' gradient scaled.
      prediction = prediction.view_as(prediction);
      prediction.register_hook([gradientScale](torch::Tensor grad) { return grad * gradientScale; });
    }
    // flatten(1), not reshape({B, -1}): a process's shard may hold no image.
    const torch::Tensor perImage =
      1 -
      F::cosine_similarity(target.flatten(1), prediction.flatten(1), F::CosineSimilarityFuncOptions().dim(1).eps(1e-8));
    loss = loss + (global ? perImage.sum() / static_cast<double>(global->size) : torch::mean(perImage));
  }
  return loss;
}

torch::Tensor
ReContrastLoss(const std::vector<torch::Tensor> & encoder, const std::vector<torch::Tensor> & decoder, double alpha,
               double factor, std::vector<torch::Tensor> * hardMasks, const GlobalBatch * global)
{
  const std::vector<torch::Tensor> frozenTargets(encoder.begin(), encoder.begin() + 3);
  const std::vector<torch::Tensor> trainableTargets(encoder.begin() + 3, encoder.end());
  const std::vector<torch::Tensor> head0(decoder.begin(), decoder.begin() + 3);
  const std::vector<torch::Tensor> head1(decoder.begin() + 3, decoder.end());
  // Two statements: the operands of + are evaluated in an unspecified order, and the masks must
  // come out as pairs 0..5.
  const torch::Tensor frozenTerm = GlobalCosineHardMining(frozenTargets, head0, alpha, factor, hardMasks, global);
  const torch::Tensor trainableTerm = GlobalCosineHardMining(trainableTargets, head1, alpha, factor, hardMasks, global);
  return 0.5 * frozenTerm + 0.5 * trainableTerm;
}

double
HardMiningAlpha(int iteration, int totalIterations, double rampFraction)
{
  const double rampLength = rampFraction * static_cast<double>(totalIterations);
  if (rampLength <= 0.0)
  {
    return 1.0;
  }
  return std::min(-3.0 + 4.0 * static_cast<double>(iteration) / rampLength, 1.0);
}

} // namespace recontrast
