/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Convolutions of the network, with the fast CPU paths.
 *
 *=========================================================================*/
#include "Convolution.h"

#include <torch/torch.h>

#include <cmath>

namespace recontrast
{

namespace
{
thread_local bool uninitializedParameters = false;

// A 2x2 stride-2 transposed convolution: its windows do not overlap, so each output pixel is one
// input pixel times one kernel tap, and it equals a 1x1 convolution to 4 x out channels followed by
// a pixel shuffle.
bool
IsNonOverlappingUpsampling(const ConvolutionOptions & o)
{
  return o.transposed && o.kernel == 2 && o.stride == 2 && o.padding == 0;
}
} // namespace

UninitializedParametersScope::UninitializedParametersScope()
  : m_Previous(uninitializedParameters)
{
  uninitializedParameters = true;
}

UninitializedParametersScope::~UninitializedParametersScope()
{
  uninitializedParameters = m_Previous;
}

bool
UninitializedParametersScope::Active()
{
  return uninitializedParameters;
}

ConvolutionImpl::ConvolutionImpl(const ConvolutionOptions & options)
  : m_Options(options)
{
  reset();
}

void
ConvolutionImpl::reset()
{
  const ConvolutionOptions & o = m_Options;
  const std::vector<int64_t> shape = o.transposed
                                       ? std::vector<int64_t>{ o.inputChannels, o.outputChannels, o.kernel, o.kernel }
                                       : std::vector<int64_t>{ o.outputChannels, o.inputChannels, o.kernel, o.kernel };
  weight = register_parameter("weight", torch::empty(shape));
  if (o.bias)
  {
    bias = register_parameter("bias", torch::empty({ o.outputChannels }));
  }
  if (!UninitializedParametersScope::Active())
  {
    ResetParameters();
  }
}

void
ConvolutionImpl::ResetParameters()
{
  // The same calls, in the same order, as torch::nn::ConvNdImpl::reset_parameters, so a seeded
  // network draws the same numbers as one built from torch's modules (and PyTorch's).
  torch::NoGradGuard noGrad;
  torch::nn::init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined())
  {
    const auto fans = torch::nn::init::_calculate_fan_in_and_fan_out(weight);
    const double bound = 1.0 / std::sqrt(static_cast<double>(std::get<0>(fans)));
    torch::nn::init::uniform_(bias, -bound, bound);
  }
}

void
ConvolutionImpl::FoldBatchNorm(const torch::nn::BatchNorm2dImpl & batchNorm)
{
  torch::NoGradGuard noGrad;
  const auto & bn = batchNorm;
  const torch::Tensor scale =
    bn.weight.to(torch::kFloat64) / torch::sqrt(bn.running_var.to(torch::kFloat64) + bn.options.eps());
  const torch::Tensor shift = bn.bias.to(torch::kFloat64) - bn.running_mean.to(torch::kFloat64) * scale;
  const torch::Tensor oldBias = bias.defined() ? bias.to(torch::kFloat64) : torch::zeros_like(shift);
  // Output channels are dim 0 of a convolution's weight and dim 1 of a transposed one's.
  const torch::Tensor perChannel = m_Options.transposed ? scale.view({ 1, -1, 1, 1 }) : scale.view({ -1, 1, 1, 1 });
  // set_data and registration keep the results parameters, so that module.to(dtype or device) moves them.
  const torch::Tensor newBias = (oldBias * scale + shift).to(weight.scalar_type());
  weight.set_data((weight.to(torch::kFloat64) * perChannel).to(weight.scalar_type()));
  if (bias.defined())
  {
    bias.set_data(newBias);
  }
  else
  {
    bias = register_parameter("bias", newBias, /*requires_grad=*/false);
  }
}

void
ConvolutionImpl::UsePixelShuffleForm()
{
  const ConvolutionOptions & o = m_Options;
  if (!IsNonOverlappingUpsampling(o) || m_ShuffleWeight.defined())
  {
    return;
  }
  torch::NoGradGuard noGrad;
  // out[n, c, 2i + a, 2j + b] = sum_k x[n, k, i, j] W[k, c, a, b]; pixel_shuffle reads channel
  // c * 4 + a * 2 + b as (c, a, b).
  m_ShuffleWeight = register_buffer(
    "shuffle_weight",
    weight.permute({ 1, 2, 3, 0 }).reshape({ o.outputChannels * 4, o.inputChannels, 1, 1 }).contiguous());
  if (bias.defined())
  {
    m_ShuffleBias = register_buffer("shuffle_bias", bias.repeat_interleave(4));
  }
  weight.set_data(torch::empty({ 0 }, weight.options())); // not used any more
}

torch::Tensor
ConvolutionImpl::UpsampleByMatrixProduct(const torch::Tensor & x) const
{
  const ConvolutionOptions & o = m_Options;
  const int64_t n = x.size(0);
  const int64_t h = x.size(2);
  const int64_t w = x.size(3);
  // [pixels, in] x [in, (out, a, b)]: the GEMM LibTorch's transposed convolution runs, then each
  // pixel's row goes to its 2x2 output block by reshaping instead of col2im.
  const torch::Tensor rows = x.permute({ 0, 2, 3, 1 }).reshape({ n * h * w, o.inputChannels });
  torch::Tensor y = torch::mm(rows, weight.reshape({ o.inputChannels, o.outputChannels * 4 }))
                      .view({ n, h, w, o.outputChannels, 2, 2 })
                      .permute({ 0, 3, 1, 4, 2, 5 })
                      .reshape({ n, o.outputChannels, 2 * h, 2 * w });
  return bias.defined() ? y + bias.view({ 1, -1, 1, 1 }) : y;
}

void
ConvolutionImpl::AllowPrepackedWeight()
{
  m_PrepackAllowed = true;
}

torch::Tensor
ConvolutionImpl::forward(const torch::Tensor & x)
{
  const ConvolutionOptions & o = m_Options;
  if (m_PrepackAllowed && !m_PrepackDecided)
  {
    // Decided once, at the first call: a weight larger than its input is reordered at every call
    // by oneDNN, which costs more than converting the (smaller) activation in and out.
    m_PrepackDecided = true;
    const torch::Tensor & dense = m_ShuffleWeight.defined() ? m_ShuffleWeight : weight;
    if (!o.transposed || m_ShuffleWeight.defined())
    {
      if (x.device().is_cpu() && x.scalar_type() == torch::kFloat32 && dense.scalar_type() == torch::kFloat32 &&
          dense.numel() > x.numel() && torch::hasMKLDNN())
      {
        torch::NoGradGuard noGrad;
        const int64_t stride = m_ShuffleWeight.defined() ? 1 : o.stride;
        const int64_t padding = m_ShuffleWeight.defined() ? 0 : o.padding;
        m_PackedWeight = torch::mkldnn_reorder_conv2d_weight(
          dense.contiguous().to_mkldnn(), { padding, padding }, { stride, stride }, { 1, 1 }, 1);
        // The dense copy is not used any more.
        (m_ShuffleWeight.defined() ? m_ShuffleWeight : weight).set_data(torch::empty({ 0 }, dense.options()));
      }
    }
  }
  if (m_PackedWeight.defined())
  {
    const bool shuffle = m_ShuffleWeight.defined();
    const int64_t stride = shuffle ? 1 : o.stride;
    const int64_t padding = shuffle ? 0 : o.padding;
    const torch::Tensor & b = shuffle ? m_ShuffleBias : bias;
    torch::Tensor y = torch::mkldnn_convolution(x.to_mkldnn(),
                                                m_PackedWeight,
                                                b.defined() ? c10::optional<torch::Tensor>(b) : c10::nullopt,
                                                { padding, padding },
                                                { stride, stride },
                                                { 1, 1 },
                                                1)
                        .to_dense();
    return shuffle ? torch::pixel_shuffle(y, 2) : y;
  }
  if (m_ShuffleWeight.defined())
  {
    return torch::pixel_shuffle(torch::conv2d(x, m_ShuffleWeight, m_ShuffleBias), 2);
  }
  if (is_training() && IsNonOverlappingUpsampling(o) && x.device().is_cpu())
  {
    return UpsampleByMatrixProduct(x);
  }
  if (o.transposed)
  {
    return torch::conv_transpose2d(x, weight, bias, { o.stride, o.stride }, { o.padding, o.padding });
  }
  return torch::conv2d(x, weight, bias, { o.stride, o.stride }, { o.padding, o.padding });
}

} // namespace recontrast
