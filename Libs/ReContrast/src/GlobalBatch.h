/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Statistics of a batch split over the processes of a data-parallel training.
 *
 *=========================================================================*/
#ifndef ReContrast_GlobalBatch_h
#define ReContrast_GlobalBatch_h

#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>

#include <functional>

namespace recontrast
{

/** Data-parallel training: this process holds a shard of a batch of `size` images (its shard may be
 * empty); a statistic of the whole batch adds up the shards' parts with `allReduceSum` (in place,
 * over every process, each starting the same sums in the same order). */
struct GlobalBatch
{
  int64_t size = 0;
  std::function<void(torch::Tensor &)> allReduceSum;
};

/** The sum of `local` over the processes, differentiable: every process's loss depends on the sum,
 * so the gradient of a process's part is the sum of the gradients the processes receive. `batch`
 * must outlive the backward pass (the autograd graph keeps its address). */
torch::Tensor SumOverProcesses(const torch::Tensor & local, const GlobalBatch & batch);

/** While a scope is alive, BatchNorm layers in training mode (Normalize, ResidualBlocks.h) use the
 * statistics of the whole batch, as torch's SyncBatchNorm does, in the forward and backward pass,
 * and update their running statistics with them; on this thread only. */
class GlobalBatchScope
{
public:
  explicit GlobalBatchScope(const GlobalBatch & batch);
  ~GlobalBatchScope();
  GlobalBatchScope(const GlobalBatchScope &) = delete;
  GlobalBatchScope & operator=(const GlobalBatchScope &) = delete;

  /** The batch of the innermost scope of this thread, or null. */
  static const GlobalBatch * Current();

private:
  const GlobalBatch * m_Previous;
};

/** Training-mode BatchNorm of `x` (this process's shard) with the mean and biased variance of the
 * whole batch; the running statistics get the unbiased variance, as torch's BatchNorm. */
torch::Tensor SynchronizedBatchNorm(torch::nn::BatchNorm2dImpl & batchNorm, const torch::Tensor & x,
                                    const GlobalBatch & batch);

} // namespace recontrast

#endif
