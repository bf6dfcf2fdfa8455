/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The processes of a data-parallel training, joined through LibTorch's c10d.
 *
 *=========================================================================*/
#ifndef ReContrast_ProcessGroup_h
#define ReContrast_ProcessGroup_h

#include "ReContrast/Distributed.h"

#include <torch/types.h>

#include <memory>
#include <vector>

namespace recontrast
{

/** The processes of one training, joined through c10d: a TCP store for the rendezvous and Gloo for
 * the collectives (CPU tensors; CUDA tensors too, staged through host memory). Collectives are
 * matched across processes by the order in which they are started, so every process must start
 * the same ones in the same order. A peer that dies or stops answering turns into one Error
 * ("another training process stopped ..."), within DistributedSettings::timeoutSeconds. */
class ProcessGroup
{
public:
  /** Meets the other processes (waits up to the timeout for them); throws Error when it cannot. */
  explicit ProcessGroup(const DistributedSettings & settings);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup &) = delete;
  ProcessGroup & operator=(const ProcessGroup &) = delete;

  int Rank() const;
  int Size() const;

  /** Sums `tensor` over the processes, in place, and waits for this sum (not for those started). */
  void AllReduceSum(torch::Tensor & tensor);

  /** Starts summing `tensor` in place over the processes; WaitForStarted() waits for all started. */
  void StartAllReduceSum(const torch::Tensor & tensor);
  void WaitForStarted();

  /** Replaces `tensors` by rank 0's (they must be alike in every process). */
  void Broadcast(std::vector<torch::Tensor> & tensors);

  /** Whether this build has c10d with Gloo (Documentation/Scaling.md). */
  static bool Available();

private:
  struct Impl;
  std::unique_ptr<Impl> m_Impl;
};

} // namespace recontrast

#endif
