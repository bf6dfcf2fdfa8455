/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The encoder: the first three stages of a ResNet or Wide ResNet.
 *
 *=========================================================================*/
#include "ResNetEncoder.h"

#include "ResidualBlocks.h"

#include <torch/torch.h>

namespace recontrast
{

ResNetEncoderImpl::ResNetEncoderImpl(const Architecture & a)
{
  m_Conv1 = register_module("conv1", Convolution(ConvolutionOptions{ 3, 64, 7, 2, 3, false, false }));
  m_Bn1 = register_module("bn1", BatchNorm(64));
  const bool b = a.bottleneckBlocks;
  const int64_t e = a.expansion;
  m_Layer1 = register_module("layer1", MakeStage(b, e, 64, 64, a.encoderDepths[0], a.baseWidth, Resample::None));
  m_Layer2 = register_module("layer2", MakeStage(b, e, 64 * e, 128, a.encoderDepths[1], a.baseWidth, Resample::Down));
  m_Layer3 = register_module("layer3", MakeStage(b, e, 128 * e, 256, a.encoderDepths[2], a.baseWidth, Resample::Down));

  // torchvision's initialisation; pretrained weights usually replace it.
  InitializeConvolutionsAndBatchNorms(*this);
}

std::vector<torch::Tensor>
ResNetEncoderImpl::forward(torch::Tensor x)
{
  x = torch::relu(Normalize(m_Bn1, m_Conv1(x), m_Folded));
  x = torch::max_pool2d(x, /*kernel_size=*/3, /*stride=*/2, /*padding=*/1);
  torch::Tensor f1 = m_Layer1->forward(x);
  torch::Tensor f2 = m_Layer2->forward(f1);
  torch::Tensor f3 = m_Layer3->forward(f2);
  return { f1, f2, f3 };
}

void
ResNetEncoderImpl::FoldBatchNorms()
{
  if (!m_Folded)
  {
    m_Conv1->FoldBatchNorm(*m_Bn1);
    m_Folded = true;
  }
}

} // namespace recontrast
