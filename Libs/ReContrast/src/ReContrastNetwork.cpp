/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The whole ReContrast network: two encoders, the shared bottleneck and decoder, the feature pairs.
 *
 *=========================================================================*/
#include "ReContrastNetwork.h"

#include <torch/torch.h>

namespace recontrast
{

ReContrastNetworkImpl::ReContrastNetworkImpl(Backbone backbone)
{
  const Architecture architecture = ArchitectureOf(backbone);
  encoder = register_module("encoder", ResNetEncoder(architecture));
  encoderFrozen = register_module("encoder_freeze", ResNetEncoder(architecture));
  bottleneck = register_module("bottleneck", FeatureFusion(architecture));
  decoder = register_module("decoder", ResNetDecoder(architecture));
  CopyEncoderToFrozen();
}

namespace
{
std::vector<torch::Tensor>
ConcatenateViews(const std::vector<torch::Tensor> & trainable, const std::vector<torch::Tensor> & frozen)
{
  std::vector<torch::Tensor> z;
  for (size_t k = 0; k < trainable.size(); ++k)
  {
    z.push_back(torch::cat({ trainable[k], frozen[k] }, 0));
  }
  return z;
}
} // namespace

FeaturePairs
ReContrastNetworkImpl::forward(const torch::Tensor & x)
{
  return Forward(x, HeadWork::AllHeads);
}

FeaturePairs
ReContrastNetworkImpl::ForwardKeptHeadsOnly(const torch::Tensor & x)
{
  return Forward(x, HeadWork::KeptHeadsOnly);
}

FeaturePairs
ReContrastNetworkImpl::Forward(const torch::Tensor & x, HeadWork headWork)
{
  const int64_t batch = x.size(0);
  std::vector<torch::Tensor> trainable = encoder->forward(x);
  std::vector<torch::Tensor> frozen;
  {
    torch::NoGradGuard noGrad;
    frozen = encoderFrozen->forward(x);
  }
  const auto body = decoder->Body(bottleneck->forward(ConcatenateViews(trainable, frozen)));

  FeaturePairs pairs;
  pairs.encoder = { frozen[0], frozen[1], frozen[2], trainable[0], trainable[1], trainable[2] };
  for (int set = 0; set < 2; ++set)
  {
    for (int k = 0; k < 3; ++k)
    {
      // Head set 0 keeps the half decoded from the trainable view, set 1 the frozen view's half.
      // The heads are per-sample 1x1 convolutions, so narrowing before or after gives the same values
      // and the same gradients; the official code narrows after.
      pairs.decoder.push_back(headWork == HeadWork::AllHeads
                                ? decoder->Head(set, k, body[k]).narrow(0, set * batch, batch)
                                : decoder->Head(set, k, body[k].narrow(0, set * batch, batch)));
    }
  }
  return pairs;
}

void
ReContrastNetworkImpl::SetTrainingMode(bool training, bool encoderBatchNormTrain)
{
  train(training);
  encoder->train(training && encoderBatchNormTrain);
  encoderFrozen->train(false);
}

void
ReContrastNetworkImpl::PrepareForFastInference()
{
  SetTrainingMode(false, false);
  recontrast::PrepareForFastInference(*this);
}

void
ReContrastNetworkImpl::CopyEncoderToFrozen()
{
  torch::NoGradGuard noGrad;
  auto source = encoder->named_parameters();
  for (auto & target : encoderFrozen->named_parameters())
  {
    target.value().copy_(source[target.key()]);
    target.value().set_requires_grad(false);
  }
  auto sourceBuffers = encoder->named_buffers();
  for (auto & target : encoderFrozen->named_buffers())
  {
    target.value().copy_(sourceBuffers[target.key()]);
  }
}

std::vector<torch::Tensor>
ReContrastNetworkImpl::DecoderAndBottleneckParameters() const
{
  std::vector<torch::Tensor> parameters = decoder->parameters();
  for (const auto & p : bottleneck->parameters())
  {
    parameters.push_back(p);
  }
  return parameters;
}

std::vector<torch::Tensor>
ReContrastNetworkImpl::EncoderParameters() const
{
  return encoder->parameters();
}

} // namespace recontrast
