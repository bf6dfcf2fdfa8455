/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The decoder: the mirrored ResNet stages that reconstruct the encoder features.
 *
 *=========================================================================*/
#ifndef ReContrast_ResNetDecoder_h
#define ReContrast_ResNetDecoder_h

#include "Architecture.h"

#include <torch/nn.h>

#include <array>
#include <vector>

namespace recontrast
{

/** The mirrored ResNet decoder with two sets of 1x1 output heads (official de_resnet with
 * output_conv=2; Documentation/Engine.md, Method 4). Stages layer1..layer3 up-sample with 2x2
 * transposed convs; the heads out1/out2/out3 (ModuleLists of 2) map the stage outputs back to the
 * encoder's feature space. */
class ResNetDecoderImpl : public torch::nn::Module
{
public:
  explicit ResNetDecoderImpl(const Architecture & architecture);

  /** The decoder body: {g1, g2, g3} at the resolutions of encoder layer1, layer2, layer3. */
  std::array<torch::Tensor, 3> Body(torch::Tensor x);

  /** Head set `set` (0 or 1) applied to the body output of scale k (0 = finest). */
  torch::Tensor Head(int set, int scale, const torch::Tensor & body);

private:
  torch::nn::Sequential m_Layer1{ nullptr };
  torch::nn::Sequential m_Layer2{ nullptr };
  torch::nn::Sequential m_Layer3{ nullptr };
  std::array<torch::nn::ModuleList, 3> m_Heads;
};
TORCH_MODULE(ResNetDecoder);

} // namespace recontrast

#endif
