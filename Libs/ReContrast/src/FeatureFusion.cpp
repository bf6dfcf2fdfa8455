/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The bottleneck: multi-scale feature fusion and the one-class embedding.
 *
 *=========================================================================*/
#include "FeatureFusion.h"

#include "ResidualBlocks.h"

#include <torch/torch.h>

namespace recontrast
{

FeatureFusionImpl::FeatureFusionImpl(const Architecture & a)
{
  const int64_t e = a.expansion;
  m_Conv1 = register_module("conv1", Conv3x3(64 * e, 128 * e, 2));
  m_Bn1 = register_module("bn1", BatchNorm(128 * e));
  m_Conv2 = register_module("conv2", Conv3x3(128 * e, 256 * e, 2));
  m_Bn2 = register_module("bn2", BatchNorm(256 * e));
  m_Conv3 = register_module("conv3", Conv3x3(128 * e, 256 * e, 2));
  m_Bn3 = register_module("bn3", BatchNorm(256 * e));
  m_Embedding = register_module(
    "bn_layer", MakeStage(a.bottleneckBlocks, e, 3 * 256 * e, 512, a.fusionDepth, a.baseWidth, Resample::Down));

  InitializeConvolutionsAndBatchNorms(*this);
}

torch::Tensor
FeatureFusionImpl::forward(const std::vector<torch::Tensor> & z)
{
  torch::Tensor l1 = torch::relu(Normalize(m_Bn1, m_Conv1(z[0]), m_Folded));
  l1 = torch::relu(Normalize(m_Bn2, m_Conv2(l1), m_Folded));
  torch::Tensor l2 = torch::relu(Normalize(m_Bn3, m_Conv3(z[1]), m_Folded));
  // .contiguous() as the official code, in the memory format the fast paths use (channels-last there).
  const torch::Tensor embedded = m_Embedding->forward(torch::cat({ l1, l2, z[2] }, 1));
  return embedded.contiguous(embedded.suggest_memory_format());
}

void
FeatureFusionImpl::FoldBatchNorms()
{
  if (!m_Folded)
  {
    m_Conv1->FoldBatchNorm(*m_Bn1);
    m_Conv2->FoldBatchNorm(*m_Bn2);
    m_Conv3->FoldBatchNorm(*m_Bn3);
    m_Folded = true;
  }
}

} // namespace recontrast
