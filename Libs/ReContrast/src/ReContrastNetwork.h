/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The whole ReContrast network: two encoders, the shared bottleneck and decoder, the feature pairs.
 *
 *=========================================================================*/
#ifndef ReContrast_ReContrastNetwork_h
#define ReContrast_ReContrastNetwork_h

#include "Architecture.h"
#include "FeatureFusion.h"
#include "ResNetDecoder.h"
#include "ResNetEncoder.h"

#include <torch/nn.h>

#include <vector>

namespace recontrast
{

/** The six compared feature pairs (Documentation/Engine.md, Method 1): encoder[i] is compared with decoder[i].
 * encoder = [f1, f2, f3, e1, e2, e3] (frozen view, then trainable view);
 * decoder = [head0(g_k)[:B] for k] + [head1(g_k)[B:] for k]. */
struct FeaturePairs
{
  std::vector<torch::Tensor> encoder;
  std::vector<torch::Tensor> decoder;
};

/** ReContrast: a trainable encoder and its frozen copy, a shared bottleneck and decoder
 * (sub-modules named as in the official state_dict: encoder, encoder_freeze, bottleneck, decoder). */
class ReContrastNetworkImpl : public torch::nn::Module
{
public:
  explicit ReContrastNetworkImpl(Backbone backbone);

  /** The forward exactly as the official code runs it: both head sets on the concatenated 2B batch,
   * half of each kept. Used by the exact inference path and as the reference in tests. */
  FeaturePairs forward(const torch::Tensor & x);

  /** The same pairs, values and gradients with half the head work: head set 0 only on the first half
   * of the decoded batch and head set 1 only on the second (Engine.md, Method 1). Exact in training too: the
   * body still decodes the whole 2B batch (its BatchNorm statistics), and the heads are per-sample 1x1
   * convolutions. Used in training and by the optimised inference paths. */
  FeaturePairs ForwardKeptHeadsOnly(const torch::Tensor & x);

  /** Inference only: eval mode, BatchNorms folded into convolutions, deconvolutions in their
   * pixel-shuffle form (PrepareForFastInference in ResidualBlocks.h). Use ForwardKeptHeadsOnly
   * afterwards; the network must not be trained or saved any more. */
  void PrepareForFastInference();

  /** Training mode as ReContrast.train(mode, encoder_bn_train): the frozen copy is always in eval
   * mode; the trainable encoder follows `encoderBatchNormTrain` while training. */
  void SetTrainingMode(bool training, bool encoderBatchNormTrain);

  /** Makes the frozen copy bit-identical to the trainable encoder (done once, after the
   * pretrained weights are loaded, as the official deepcopy). */
  void CopyEncoderToFrozen();

  /** Parameters of the decoder and bottleneck (learning rate 2e-3) and of the trainable encoder (1e-5). */
  std::vector<torch::Tensor> DecoderAndBottleneckParameters() const;
  std::vector<torch::Tensor> EncoderParameters() const;

  ResNetEncoder encoder{ nullptr };
  ResNetEncoder encoderFrozen{ nullptr };
  FeatureFusion bottleneck{ nullptr };
  ResNetDecoder decoder{ nullptr };

private:
  enum class HeadWork
  {
    AllHeads,
    KeptHeadsOnly
  };
  FeaturePairs Forward(const torch::Tensor & x, HeadWork headWork);
};
TORCH_MODULE(ReContrastNetwork);

} // namespace recontrast

#endif
