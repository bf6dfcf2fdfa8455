#include "Convolution.h"

#include <torch/torch.h>

#include <cmath>

namespace recontrast
{

namespace
{
thread_local bool uninitializedParameters = false;
}

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

torch::Tensor
ConvolutionImpl::forward(const torch::Tensor & x)
{
  const ConvolutionOptions & o = m_Options;
  if (o.transposed)
  {
    return torch::conv_transpose2d(x, weight, bias, { o.stride, o.stride }, { o.padding, o.padding });
  }
  return torch::conv2d(x, weight, bias, { o.stride, o.stride }, { o.padding, o.padding });
}

} // namespace recontrast
