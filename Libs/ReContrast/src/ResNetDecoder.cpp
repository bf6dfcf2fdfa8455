/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The decoder: the mirrored ResNet stages that reconstruct the encoder features.
 *
 *=========================================================================*/
#include "ResNetDecoder.h"

#include "ResidualBlocks.h"

#include <torch/torch.h>

namespace recontrast
{

ResNetDecoderImpl::ResNetDecoderImpl(const Architecture & a)
{
  const bool b = a.bottleneckBlocks;
  const int64_t e = a.expansion;
  m_Layer1 = register_module("layer1", MakeStage(b, e, 512 * e, 256, a.decoderDepths[0], a.baseWidth, Resample::Up));
  m_Layer2 = register_module("layer2", MakeStage(b, e, 256 * e, 128, a.decoderDepths[1], a.baseWidth, Resample::Up));
  m_Layer3 = register_module("layer3", MakeStage(b, e, 128 * e, 64, a.decoderDepths[2], a.baseWidth, Resample::Up));
  const auto channels = a.FeatureChannels();
  const char * names[3] = { "out1", "out2", "out3" };
  for (int k = 0; k < 3; ++k)
  {
    m_Heads[k] = torch::nn::ModuleList();
    for (int set = 0; set < 2; ++set)
    {
      m_Heads[k]->push_back(Convolution(ConvolutionOptions{ channels[k], channels[k], 1, 1, 0, true, false }));
    }
    register_module(names[k], m_Heads[k]);
  }

  // The official initialisation touches nn.Conv2d and BatchNorm only: the transposed convs keep
  // PyTorch's default, and the heads' biases too.
  InitializeConvolutionsAndBatchNorms(*this);
}

std::array<torch::Tensor, 3>
ResNetDecoderImpl::Body(torch::Tensor x)
{
  torch::Tensor g3 = m_Layer1->forward(x);
  torch::Tensor g2 = m_Layer2->forward(g3);
  torch::Tensor g1 = m_Layer3->forward(g2);
  return { g1, g2, g3 };
}

torch::Tensor
ResNetDecoderImpl::Head(int set, int scale, const torch::Tensor & body)
{
  return m_Heads[scale]->ptr(set)->as<Convolution>()->forward(body);
}

} // namespace recontrast
