/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The bottleneck: multi-scale feature fusion and the one-class embedding.
 *
 *=========================================================================*/
#ifndef ReContrast_FeatureFusion_h
#define ReContrast_FeatureFusion_h

#include "Architecture.h"
#include "Convolution.h"
#include "ResidualBlocks.h"

#include <torch/nn.h>

#include <vector>

namespace recontrast
{

/** The bottleneck of RD4AD/ReContrast (official class BN_layer; Documentation/Engine.md, Method 3): multi-scale feature
 * fusion of the three encoder scales followed by the one-class embedding stage ("bn_layer").
 * The official module also declares conv4/bn4, which its forward never uses; they are not built
 * here (an imported official checkpoint's conv4/bn4 entries are ignored). */
class FeatureFusionImpl
  : public torch::nn::Module
  , public FoldableModule
{
public:
  explicit FeatureFusionImpl(const Architecture & architecture);
  torch::Tensor forward(const std::vector<torch::Tensor> & features);
  void FoldBatchNorms() override;

private:
  bool m_Folded = false;
  Convolution m_Conv1{ nullptr };
  torch::nn::BatchNorm2d m_Bn1{ nullptr };
  Convolution m_Conv2{ nullptr };
  torch::nn::BatchNorm2d m_Bn2{ nullptr };
  Convolution m_Conv3{ nullptr };
  torch::nn::BatchNorm2d m_Bn3{ nullptr };
  torch::nn::Sequential m_Embedding{ nullptr };
};
TORCH_MODULE(FeatureFusion);

} // namespace recontrast

#endif
