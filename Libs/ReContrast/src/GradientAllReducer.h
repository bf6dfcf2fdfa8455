/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Gradients summed over the processes of a data-parallel training, in buckets, during backward.
 *
 *=========================================================================*/
#ifndef ReContrast_GradientAllReducer_h
#define ReContrast_GradientAllReducer_h

#include "ProcessGroup.h"

#include <torch/types.h>

#include <cstddef>
#include <vector>

namespace recontrast
{

/** Sums the gradients of `parameters` over the processes, as torch's DistributedDataParallel does:
 * parameters are grouped into buckets of about `bucketBytes` (last registered first, the order in
 * which backward produces them); a hook on each parameter copies its gradient into its bucket, and a
 * bucket whose gradients are all there is summed while backward goes on (buckets start in their
 * order, so that every process starts the same sums in the same order). FinishStep() sums the
 * buckets not yet complete (parameters that got no gradient this step count as zero there and keep
 * no gradient), waits, and gives each parameter its summed gradient. Each process's loss must be
 * its part of the batch's loss (the parts add up to it), so sums are what the optimiser needs. */
class GradientAllReducer
{
  // Gradients must be reset to undefined before each backward (ComputeGradients does): zeroing them
  // in place would make backward add into a bucket while it is being summed.
public:
  GradientAllReducer(ProcessGroup & group, std::vector<torch::Tensor> parameters, size_t bucketBytes = 25u << 20);
  ~GradientAllReducer();
  GradientAllReducer(const GradientAllReducer &) = delete;
  GradientAllReducer & operator=(const GradientAllReducer &) = delete;

  void BeginStep();  ///< Before backward.
  void FinishStep(); ///< After backward: every parameter that got a gradient now has the sum.

  size_t BucketCount() const { return m_Buckets.size(); }
  /** Seconds spent in FinishStep (the communication backward did not hide), summed over the steps. */
  double ExposedSeconds() const { return m_ExposedSeconds; }

private:
  struct Bucket
  {
    torch::Tensor flat;
    std::vector<size_t> members;
    size_t pending = 0;
    bool started = false;
  };
  void Arrive(size_t parameter, const torch::Tensor & gradient);

  ProcessGroup & m_Group;
  std::vector<torch::Tensor> m_Parameters;
  std::vector<unsigned> m_Hooks;
  std::vector<size_t> m_BucketOf;
  std::vector<torch::Tensor> m_Views;
  std::vector<bool> m_Arrived;
  std::vector<Bucket> m_Buckets;
  size_t m_NextBucket = 0; ///< The first bucket not started this step.
  double m_ExposedSeconds = 0.0;
};

} // namespace recontrast

#endif
