/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The encoder: the first three stages of a ResNet or Wide ResNet.
 *
 *=========================================================================*/
#ifndef ReContrast_ResNetEncoder_h
#define ReContrast_ResNetEncoder_h

#include "Architecture.h"
#include "Convolution.h"
#include "ResidualBlocks.h"

#include <torch/nn.h>

#include <vector>

namespace recontrast
{

/** torchvision's ResNet up to layer3 (layer4 and fc are never built): conv1, bn1, relu, maxpool,
 * layer1..layer3, with torchvision's parameter names. forward returns the three stage outputs. */
class ResNetEncoderImpl
  : public torch::nn::Module
  , public FoldableModule
{
public:
  explicit ResNetEncoderImpl(const Architecture & architecture);
  std::vector<torch::Tensor> forward(torch::Tensor x);
  void FoldBatchNorms() override;

private:
  bool m_Folded = false;
  Convolution m_Conv1{ nullptr };
  torch::nn::BatchNorm2d m_Bn1{ nullptr };
  torch::nn::Sequential m_Layer1{ nullptr };
  torch::nn::Sequential m_Layer2{ nullptr };
  torch::nn::Sequential m_Layer3{ nullptr };
};
TORCH_MODULE(ResNetEncoder);

} // namespace recontrast

#endif
