/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Basic and bottleneck residual blocks, and their up-sampling variants for the decoder.
 *
 *=========================================================================*/
#ifndef ReContrast_ResidualBlocks_h
#define ReContrast_ResidualBlocks_h

#include "Convolution.h"

#include <torch/nn.h>

namespace recontrast
{

/** Layer factories with torchvision's settings (no bias, BatchNorm eps 1e-5, momentum 0.1). */
Convolution Conv3x3(int64_t in, int64_t out, int64_t stride = 1);
Convolution Conv1x1(int64_t in, int64_t out, int64_t stride = 1);
/** The decoder's up-sampling: 2x2 transposed convolution, stride 2, no padding, no bias. */
Convolution Deconv2x2(int64_t in, int64_t out);
torch::nn::BatchNorm2d BatchNorm(int64_t channels);

/** torchvision's and the official code's initialisation of every nn.Conv2d (Kaiming normal, fan-out,
 * ReLU) and BatchNorm (weight 1, bias 0) inside `module`; transposed convs keep PyTorch's default.
 * Does nothing inside an UninitializedParametersScope. */
void InitializeConvolutionsAndBatchNorms(torch::nn::Module & module);

/** BatchNorm that may have been folded into the convolution before it (inference only). */
torch::Tensor Normalize(torch::nn::BatchNorm2d & batchNorm, const torch::Tensor & x, bool folded);

/** Inference only: folds every eval-mode BatchNorm of `module`'s blocks, stem and fusion into the
 * convolution before it and switches 2x2 stride-2 deconvolutions to their pixel-shuffle form
 * (ConvolutionImpl::FoldBatchNorm, UsePixelShuffleForm). The result computes the eval-mode
 * forward with fewer operations; it must not be trained or saved. */
void PrepareForFastInference(torch::nn::Module & module);

/** Implemented by modules whose forward skips their BatchNorms once folded. */
class FoldableModule
{
public:
  virtual ~FoldableModule() = default;
  virtual void FoldBatchNorms() = 0;
};

/** Resolution change of a block: Down (encoder, stride 2 in the 3x3 conv), Up (decoder, 2x2 deconv). */
enum class Resample
{
  None,
  Down,
  Up
};

/** torchvision's BasicBlock (conv1/bn1/conv2/bn2[/downsample]) and its decoder mirror, where the
 * first conv becomes a 2x2 transposed conv and the shortcut is named "upsample" (Documentation/Engine.md, Method 4). */
class BasicBlockImpl
  : public torch::nn::Module
  , public FoldableModule
{
public:
  BasicBlockImpl(int64_t inplanes, int64_t planes, Resample resample, bool projectShortcut);
  torch::Tensor forward(torch::Tensor x);
  void FoldBatchNorms() override;

private:
  bool m_Folded = false;
  Convolution m_Conv1{ nullptr };
  torch::nn::BatchNorm2d m_Bn1{ nullptr };
  Convolution m_Conv2{ nullptr };
  torch::nn::BatchNorm2d m_Bn2{ nullptr };
  torch::nn::Sequential m_Shortcut{ nullptr };
};
TORCH_MODULE(BasicBlock);

/** torchvision's Bottleneck (ResNet v1.5: stride in the 3x3 conv) and its decoder mirror, where
 * the 3x3 conv becomes a 2x2 transposed conv and the shortcut is named "upsample". */
class BottleneckBlockImpl
  : public torch::nn::Module
  , public FoldableModule
{
public:
  BottleneckBlockImpl(int64_t inplanes, int64_t planes, int64_t baseWidth, Resample resample, bool projectShortcut);
  torch::Tensor forward(torch::Tensor x);
  void FoldBatchNorms() override;

private:
  bool m_Folded = false;
  Convolution m_Conv1{ nullptr };
  torch::nn::BatchNorm2d m_Bn1{ nullptr };
  Convolution m_Conv2{ nullptr };
  torch::nn::BatchNorm2d m_Bn2{ nullptr };
  Convolution m_Conv3{ nullptr };
  torch::nn::BatchNorm2d m_Bn3{ nullptr };
  torch::nn::Sequential m_Shortcut{ nullptr };
};
TORCH_MODULE(BottleneckBlock);

/** A ResNet stage as torchvision's _make_layer builds it: blocks named "0", "1", ...; the first
 * one changes resolution and gets a projection shortcut when the shape changes.
 * @param inputChannels channels entering the stage (the bottleneck's stage takes 3 fused scales).
 * @param resample Down for encoder stages with stride 2, Up for decoder stages, None otherwise. */
torch::nn::Sequential MakeStage(bool bottleneckBlocks, int64_t expansion, int64_t inputChannels, int64_t planes,
                                int64_t blocks, int64_t baseWidth, Resample resample);

} // namespace recontrast

#endif
