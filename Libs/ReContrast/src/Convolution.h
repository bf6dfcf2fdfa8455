/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Convolutions of the network, with the fast CPU paths.
 *
 *=========================================================================*/
#ifndef ReContrast_Convolution_h
#define ReContrast_Convolution_h

#include <torch/nn.h>

namespace recontrast
{

struct ConvolutionOptions
{
  int64_t inputChannels = 0;
  int64_t outputChannels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t padding = 0;
  bool bias = false;
  bool transposed = false; ///< A transposed convolution (weight [in, out, k, k]) instead of [out, in, k, k].
};

/** A 2-D convolution or transposed convolution with the parameter names, shapes, default
 * initialisation and numerics of torch::nn::Conv2d / ConvTranspose2d (groups 1, dilation 1).
 *
 * It exists so that the initialisation can be skipped: a network about to receive its weights
 * from a model file would otherwise spend most of its load time drawing random numbers that are
 * overwritten (Documentation/Benchmarks.md, start-up), and torch's own modules always draw them. */
class ConvolutionImpl : public torch::nn::Cloneable<ConvolutionImpl>
{
public:
  explicit ConvolutionImpl(const ConvolutionOptions & options);
  void reset() override;
  /** PyTorch's default: Kaiming uniform (a = sqrt(5)) weights, bias uniform in +-1/sqrt(fan_in). */
  void ResetParameters();
  torch::Tensor forward(const torch::Tensor & x);
  const ConvolutionOptions & Options() const { return m_Options; }

  /** Inference only: folds an eval-mode BatchNorm that follows this convolution into its weight
   * and bias (computed in float64), so the BatchNorm can be skipped. The parameters are no longer
   * the trained ones: never save or train a folded network. */
  void FoldBatchNorm(const torch::nn::BatchNorm2dImpl & batchNorm);

  /** Inference only: runs a 2x2 stride-2 transposed convolution as a 1x1 convolution to 4 x out
   * channels followed by a pixel shuffle. Exact: the 2x2 windows of a stride-2 deconvolution do not
   * overlap, so each output pixel is one input pixel times one kernel tap. No-op for other shapes.
   * (Training mode has a form of its own, see UpsampleByMatrixProduct.) */
  void UsePixelShuffleForm();

  /** Inference only, float32 on the CPU: lets forward keep the weight in oneDNN's blocked layout
   * (reordered once instead of at every call) where that pays, i.e. where the weight is larger than
   * the input activation (the deep, small-resolution layers; decided at the first call). The packed
   * weight is not a parameter: move the module (device, dtype) before its first forward, and do not
   * share one module between threads (the Predictor does neither). */
  void AllowPrepackedWeight();

  torch::Tensor weight;
  torch::Tensor bias; ///< Undefined without bias.

private:
  /** Training-mode forward of a 2x2 stride-2 transposed convolution on the CPU: one matrix product
   * over all pixels and a reshape to the 2x2 output blocks, with gradients to `weight`. The same values
   * as LibTorch 1.13's CPU operation (which runs this product and then col2im: bit for bit in the
   * forward), in clearly less forward + backward time: that operation's backward is slow
   * (Documentation/Benchmarks.md, training step). On CUDA, and in eval mode (the exact path), the
   * official operation runs. */
  torch::Tensor UpsampleByMatrixProduct(const torch::Tensor & x) const;

  ConvolutionOptions m_Options;
  torch::Tensor m_ShuffleWeight; ///< [4 out, in, 1, 1] when the pixel-shuffle form is in use.
  torch::Tensor m_ShuffleBias;
  bool m_PrepackAllowed = false;
  bool m_PrepackDecided = false;
  torch::Tensor m_PackedWeight; ///< oneDNN layout, when the first call chose it.
};
TORCH_MODULE(Convolution);

/** While one exists on a thread, the networks built on that thread get uninitialised parameters
 * (convolutions are not drawn at random, InitializeConvolutionsAndBatchNorms does nothing). Use it
 * only where every parameter is loaded right after construction; LoadState checks that. */
class UninitializedParametersScope
{
public:
  UninitializedParametersScope();
  ~UninitializedParametersScope();
  UninitializedParametersScope(const UninitializedParametersScope &) = delete;
  UninitializedParametersScope & operator=(const UninitializedParametersScope &) = delete;
  static bool Active();

private:
  bool m_Previous;
};

} // namespace recontrast

#endif
