/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Gradients summed over the processes of a data-parallel training, in buckets, during backward.
 *
 *=========================================================================*/
#include "GradientAllReducer.h"

#include <torch/torch.h>

#include <chrono>

namespace recontrast
{

GradientAllReducer::GradientAllReducer(ProcessGroup & group, std::vector<torch::Tensor> parameters, size_t bucketBytes)
  : m_Group(group)
  , m_Parameters(std::move(parameters))
  , m_BucketOf(m_Parameters.size())
  , m_Views(m_Parameters.size())
  , m_Arrived(m_Parameters.size(), false)
{
  // Buckets of one dtype and device, filled from the last parameter backwards.
  std::vector<std::vector<size_t>> groups;
  size_t bytes = 0;
  for (size_t n = m_Parameters.size(); n-- > 0;)
  {
    const torch::Tensor & p = m_Parameters[n];
    const bool fits = !groups.empty() && bytes + p.nbytes() <= bucketBytes &&
                      m_Parameters[groups.back().front()].options().type_equal(p.options());
    if (!fits)
    {
      groups.emplace_back();
      bytes = 0;
    }
    groups.back().push_back(n);
    bytes += p.nbytes();
  }
  for (const std::vector<size_t> & members : groups)
  {
    Bucket bucket;
    int64_t elements = 0;
    for (size_t n : members)
    {
      elements += m_Parameters[n].numel();
    }
    bucket.flat = torch::zeros({ elements }, m_Parameters[members.front()].options().requires_grad(false));
    int64_t offset = 0;
    for (size_t n : members)
    {
      const torch::Tensor & p = m_Parameters[n];
      m_Views[n] = bucket.flat.narrow(0, offset, p.numel()).view(p.sizes());
      m_BucketOf[n] = m_Buckets.size();
      offset += p.numel();
    }
    bucket.members = members;
    m_Buckets.push_back(std::move(bucket));
  }
  for (size_t n = 0; n < m_Parameters.size(); ++n)
  {
    m_Hooks.push_back(
      m_Parameters[n].register_hook([this, n](const torch::Tensor & gradient) { Arrive(n, gradient); }));
  }
  BeginStep();
}

GradientAllReducer::~GradientAllReducer()
{
  for (size_t n = 0; n < m_Parameters.size(); ++n)
  {
    m_Parameters[n].remove_hook(m_Hooks[n]);
  }
}

void
GradientAllReducer::BeginStep()
{
  std::fill(m_Arrived.begin(), m_Arrived.end(), false);
  for (Bucket & bucket : m_Buckets)
  {
    bucket.pending = bucket.members.size();
    bucket.started = false;
  }
  m_NextBucket = 0;
}

void
GradientAllReducer::Arrive(size_t parameter, const torch::Tensor & gradient)
{
  if (m_Arrived[parameter])
  {
    return; // a leaf's hook runs once per backward; never count a parameter twice
  }
  torch::NoGradGuard noGrad;
  m_Views[parameter].copy_(gradient);
  m_Arrived[parameter] = true;
  --m_Buckets[m_BucketOf[parameter]].pending;
  // Buckets start in their order only (as DDP does): the processes then start the same sums in the
  // same order even if their gradients arrived in another.
  while (m_NextBucket < m_Buckets.size() && m_Buckets[m_NextBucket].pending == 0)
  {
    m_Buckets[m_NextBucket].started = true;
    m_Group.StartAllReduceSum(m_Buckets[m_NextBucket].flat);
    ++m_NextBucket;
  }
}

void
GradientAllReducer::FinishStep()
{
  const auto started = std::chrono::steady_clock::now();
  torch::NoGradGuard noGrad;
  for (Bucket & bucket : m_Buckets)
  {
    if (bucket.started)
    {
      continue;
    }
    for (size_t n : bucket.members)
    {
      if (!m_Arrived[n])
      {
        m_Views[n].zero_();
      }
    }
    bucket.started = true;
    m_Group.StartAllReduceSum(bucket.flat);
  }
  m_Group.WaitForStarted();
  for (size_t n = 0; n < m_Parameters.size(); ++n)
  {
    if (m_Arrived[n])
    {
      m_Parameters[n].mutable_grad() = m_Views[n];
    }
  }
  m_ExposedSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
}

} // namespace recontrast
