/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Basic and bottleneck residual blocks, and their up-sampling variants for the decoder.
 *
 *=========================================================================*/
#include "ResidualBlocks.h"

#include "GlobalBatch.h"

#include <torch/torch.h>

namespace recontrast
{

Convolution
Conv3x3(int64_t in, int64_t out, int64_t stride)
{
  return Convolution(ConvolutionOptions{ in, out, 3, stride, 1, false, false });
}

Convolution
Conv1x1(int64_t in, int64_t out, int64_t stride)
{
  return Convolution(ConvolutionOptions{ in, out, 1, stride, 0, false, false });
}

Convolution
Deconv2x2(int64_t in, int64_t out)
{
  return Convolution(ConvolutionOptions{ in, out, 2, 2, 0, false, true });
}

torch::nn::BatchNorm2d
BatchNorm(int64_t channels)
{
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).eps(1e-5).momentum(0.1));
}

void
InitializeConvolutionsAndBatchNorms(torch::nn::Module & module)
{
  if (UninitializedParametersScope::Active())
  {
    return;
  }
  for (auto & child : module.modules(/*include_self=*/false))
  {
    auto * conv = child->as<Convolution>();
    if (conv && !conv->Options().transposed)
    {
      torch::nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
    }
    else if (auto * bn = child->as<torch::nn::BatchNorm2d>())
    {
      torch::nn::init::ones_(bn->weight);
      torch::nn::init::zeros_(bn->bias);
    }
  }
}

torch::Tensor
Normalize(torch::nn::BatchNorm2d & batchNorm, const torch::Tensor & x, bool folded)
{
  if (folded)
  {
    return x;
  }
  // Data-parallel training: the statistics of the whole batch, not of this process's shard.
  const GlobalBatch * batch = GlobalBatchScope::Current();
  if (batch && batchNorm->is_training())
  {
    return SynchronizedBatchNorm(*batchNorm, x, *batch);
  }
  return batchNorm->forward(x);
}

void
PrepareForFastInference(torch::nn::Module & module)
{
  torch::NoGradGuard noGrad;
  for (auto & child : module.modules(/*include_self=*/true))
  {
    if (auto * foldable = dynamic_cast<FoldableModule *>(child.get()))
    {
      foldable->FoldBatchNorms();
    }
  }
  for (auto & child : module.modules(/*include_self=*/true))
  {
    if (auto * conv = child->as<Convolution>())
    {
      conv->UsePixelShuffleForm();
      conv->AllowPrepackedWeight();
    }
  }
}

namespace
{
// The shortcut of a block: [conv or deconv, BatchNorm]; once folded, the convolution alone.
torch::Tensor
RunShortcut(torch::nn::Sequential & shortcut, const torch::Tensor & x, bool folded)
{
  const torch::Tensor projected = shortcut[0]->as<Convolution>()->forward(x);
  if (folded)
  {
    return projected;
  }
  torch::nn::BatchNorm2d batchNorm(std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(shortcut->ptr(1)));
  return Normalize(batchNorm, projected, false);
}

void
FoldShortcut(torch::nn::Sequential & shortcut)
{
  if (shortcut)
  {
    shortcut[0]->as<Convolution>()->FoldBatchNorm(*shortcut[1]->as<torch::nn::BatchNorm2d>());
  }
}

// The shortcut that matches the residual branch's shape: 1x1 conv (stride 2 when down-sampling) or
// 2x2 deconv, then BatchNorm; torchvision calls it "downsample", the official decoder "upsample".
torch::nn::Sequential
ProjectionShortcut(int64_t in, int64_t out, Resample resample)
{
  torch::nn::Sequential shortcut;
  if (resample == Resample::Up)
  {
    shortcut->push_back(Deconv2x2(in, out));
  }
  else
  {
    shortcut->push_back(Conv1x1(in, out, resample == Resample::Down ? 2 : 1));
  }
  shortcut->push_back(BatchNorm(out));
  return shortcut;
}

const char *
ShortcutName(Resample resample)
{
  return resample == Resample::Up ? "upsample" : "downsample";
}
} // namespace

BasicBlockImpl::BasicBlockImpl(int64_t inplanes, int64_t planes, Resample resample, bool projectShortcut)
{
  if (resample == Resample::Up)
  {
    m_Conv1 = register_module("conv1", Deconv2x2(inplanes, planes));
  }
  else
  {
    m_Conv1 = register_module("conv1", Conv3x3(inplanes, planes, resample == Resample::Down ? 2 : 1));
  }
  m_Bn1 = register_module("bn1", BatchNorm(planes));
  m_Conv2 = register_module("conv2", Conv3x3(planes, planes));
  m_Bn2 = register_module("bn2", BatchNorm(planes));
  if (projectShortcut)
  {
    m_Shortcut = register_module(ShortcutName(resample), ProjectionShortcut(inplanes, planes, resample));
  }
}

torch::Tensor
BasicBlockImpl::forward(torch::Tensor x)
{
  torch::Tensor out = torch::relu(Normalize(m_Bn1, m_Conv1(x), m_Folded));
  out = Normalize(m_Bn2, m_Conv2(out), m_Folded);
  out += m_Shortcut ? RunShortcut(m_Shortcut, x, m_Folded) : x;
  return torch::relu(out);
}

void
BasicBlockImpl::FoldBatchNorms()
{
  if (!m_Folded)
  {
    m_Conv1->FoldBatchNorm(*m_Bn1);
    m_Conv2->FoldBatchNorm(*m_Bn2);
    FoldShortcut(m_Shortcut);
    m_Folded = true;
  }
}

BottleneckBlockImpl::BottleneckBlockImpl(int64_t inplanes, int64_t planes, int64_t baseWidth, Resample resample,
                                         bool projectShortcut)
{
  constexpr int64_t expansion = 4;
  const int64_t width = planes * baseWidth / 64;
  m_Conv1 = register_module("conv1", Conv1x1(inplanes, width));
  m_Bn1 = register_module("bn1", BatchNorm(width));
  if (resample == Resample::Up)
  {
    m_Conv2 = register_module("conv2", Deconv2x2(width, width));
  }
  else
  {
    m_Conv2 = register_module("conv2", Conv3x3(width, width, resample == Resample::Down ? 2 : 1));
  }
  m_Bn2 = register_module("bn2", BatchNorm(width));
  m_Conv3 = register_module("conv3", Conv1x1(width, planes * expansion));
  m_Bn3 = register_module("bn3", BatchNorm(planes * expansion));
  if (projectShortcut)
  {
    m_Shortcut = register_module(ShortcutName(resample), ProjectionShortcut(inplanes, planes * expansion, resample));
  }
}

torch::Tensor
BottleneckBlockImpl::forward(torch::Tensor x)
{
  torch::Tensor out = torch::relu(Normalize(m_Bn1, m_Conv1(x), m_Folded));
  out = torch::relu(Normalize(m_Bn2, m_Conv2(out), m_Folded));
  out = Normalize(m_Bn3, m_Conv3(out), m_Folded);
  out += m_Shortcut ? RunShortcut(m_Shortcut, x, m_Folded) : x;
  return torch::relu(out);
}

void
BottleneckBlockImpl::FoldBatchNorms()
{
  if (!m_Folded)
  {
    m_Conv1->FoldBatchNorm(*m_Bn1);
    m_Conv2->FoldBatchNorm(*m_Bn2);
    m_Conv3->FoldBatchNorm(*m_Bn3);
    FoldShortcut(m_Shortcut);
    m_Folded = true;
  }
}

torch::nn::Sequential
MakeStage(bool bottleneckBlocks, int64_t expansion, int64_t inputChannels, int64_t planes, int64_t blocks,
          int64_t baseWidth, Resample resample)
{
  torch::nn::Sequential stage;
  const int64_t outputChannels = planes * expansion;
  const bool project = resample != Resample::None || inputChannels != outputChannels;
  for (int64_t i = 0; i < blocks; ++i)
  {
    const int64_t in = i == 0 ? inputChannels : outputChannels;
    const Resample blockResample = i == 0 ? resample : Resample::None;
    const bool blockProject = i == 0 && project;
    if (bottleneckBlocks)
    {
      stage->push_back(BottleneckBlock(in, planes, baseWidth, blockResample, blockProject));
    }
    else
    {
      stage->push_back(BasicBlock(in, planes, blockResample, blockProject));
    }
  }
  return stage;
}

} // namespace recontrast
