/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Statistics of a batch split over the processes of a data-parallel training.
 *
 *=========================================================================*/
#include "GlobalBatch.h"

#include <torch/torch.h>

#include <algorithm>
#include <cstdint>

namespace recontrast
{

namespace
{
thread_local const GlobalBatch * t_Current = nullptr;

struct SumOverProcessesFunction : public torch::autograd::Function<SumOverProcessesFunction>
{
  static torch::Tensor forward(torch::autograd::AutogradContext * context, const torch::Tensor & local,
                               const GlobalBatch * batch)
  {
    context->saved_data["batch"] = static_cast<int64_t>(reinterpret_cast<std::intptr_t>(batch));
    torch::Tensor sum = local.detach().clone();
    batch->allReduceSum(sum);
    return sum;
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext * context,
                                                 torch::autograd::variable_list gradients)
  {
    const auto * batch =
      reinterpret_cast<const GlobalBatch *>(static_cast<std::intptr_t>(context->saved_data["batch"].toInt()));
    torch::Tensor sum = gradients[0].contiguous().clone();
    batch->allReduceSum(sum);
    return { sum, torch::Tensor() };
  }
};
} // namespace

torch::Tensor
SumOverProcesses(const torch::Tensor & local, const GlobalBatch & batch)
{
  return SumOverProcessesFunction::apply(local, &batch);
}

GlobalBatchScope::GlobalBatchScope(const GlobalBatch & batch)
  : m_Previous(t_Current)
{
  t_Current = &batch;
}

GlobalBatchScope::~GlobalBatchScope()
{
  t_Current = m_Previous;
}

const GlobalBatch *
GlobalBatchScope::Current()
{
  return t_Current;
}

torch::Tensor
SynchronizedBatchNorm(torch::nn::BatchNorm2dImpl & batchNorm, const torch::Tensor & x, const GlobalBatch & batch)
{
  const int64_t channels = x.size(1);
  const std::vector<int64_t> perChannel{ 1, channels, 1, 1 };
  // This process's mean and squared deviations per channel (two passes), then one sum over the
  // processes of [n mean, M2 + n mean^2, n] in double: the whole batch's variance is then
  // sum(M2 + n mean^2) / N - mean^2, one collective forward and one backward per layer. n counts the values here: a
  // layer may see more images than the batch holds (the decoder sees both encoders' features of each image), and a
  // shard may be empty.
  const double n = static_cast<double>(x.numel() / channels);
  const torch::Tensor localMean = x.sum({ 0, 2, 3 }) / std::max(n, 1.0);
  const torch::Tensor localSquares = (x - localMean.view(perChannel)).square().sum({ 0, 2, 3 });
  const torch::Tensor mean64 = localMean.to(torch::kFloat64);
  const torch::Tensor parts = torch::cat({ mean64 * n,
                                           localSquares.to(torch::kFloat64) + mean64.square() * n,
                                           torch::full({ 1 }, n, mean64.options().requires_grad(false)) });
  const torch::Tensor sums = SumOverProcesses(parts, batch);
  const double count = sums[2 * channels].item<double>();
  const torch::Tensor wholeMean = sums.slice(0, 0, channels) / count;
  const torch::Tensor wholeVariance =
    (sums.slice(0, channels, 2 * channels) / count - wholeMean.square()).clamp_min(0.0);
  const torch::Tensor mean = wholeMean.to(x.scalar_type());
  const torch::Tensor variance = wholeVariance.to(x.scalar_type());
  const torch::Tensor centred = x - mean.view(perChannel);
  const double eps = batchNorm.options.eps();
  torch::Tensor y = centred * torch::rsqrt(variance + eps).view(perChannel);
  if (batchNorm.options.affine())
  {
    y = y * batchNorm.weight.view(perChannel) + batchNorm.bias.view(perChannel);
  }
  if (batchNorm.options.track_running_stats())
  {
    torch::NoGradGuard noGrad;
    // The network's BatchNorms all have a momentum (0.1); a cumulative average (no momentum) is not used.
    const double momentum = batchNorm.options.momentum().value();
    batchNorm.running_mean.mul_(1.0 - momentum).add_(mean.detach(), momentum);
    batchNorm.running_var.mul_(1.0 - momentum).add_(variance.detach() * (count / std::max(count - 1.0, 1.0)), momentum);
    batchNorm.num_batches_tracked.add_(1);
  }
  return y;
}

} // namespace recontrast
