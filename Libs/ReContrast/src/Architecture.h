/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The numbers that define each backbone family's encoder, bottleneck and decoder.
 *
 *=========================================================================*/
#ifndef ReContrast_Architecture_h
#define ReContrast_Architecture_h

#include "ReContrast/ModelConfig.h"

#include <array>

namespace recontrast
{

/** The numbers that define one backbone family's encoder, bottleneck and decoder
 * (Documentation/Engine.md, Methods 2-4). */
struct Architecture
{
  bool bottleneckBlocks;            ///< Bottleneck (expansion 4) or BasicBlock (expansion 1).
  int expansion;                    ///< Output channels of a block per "plane".
  int baseWidth;                    ///< torchvision's width_per_group (128 for the wide ResNet).
  std::array<int, 3> encoderDepths; ///< Blocks in the encoder's layer1..layer3.
  int fusionDepth;                  ///< Blocks of the one-class embedding stage of the bottleneck.
  std::array<int, 3> decoderDepths; ///< Blocks in the decoder's layer1..layer3.

  /** Channels of the encoder features layer1..layer3 (e.g. 256, 512, 1024 for the wide ResNet). */
  std::array<int, 3> FeatureChannels() const { return { 64 * expansion, 128 * expansion, 256 * expansion }; }
};

Architecture ArchitectureOf(Backbone backbone);

} // namespace recontrast

#endif
