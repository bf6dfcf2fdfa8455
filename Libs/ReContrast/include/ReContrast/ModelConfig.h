/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The shape of a ReContrast model: backbone, image size, encoder BatchNorm mode, normalisation.
 *
 *=========================================================================*/
#ifndef ReContrast_ModelConfig_h
#define ReContrast_ModelConfig_h

#include "ReContrast/ReContrastExport.h"

#include <array>
#include <string>
#include <vector>

namespace recontrast
{

/** The encoder families the engine can build. Their module and parameter names are torchvision's,
 * so torchvision ImageNet weights load by name. */
enum class Backbone
{
  ResNet18,
  ResNet34,
  ResNet50,
  WideResNet50_2 ///< The paper's default.
};

/** "resnet18", "resnet34", "resnet50", "wide_resnet50_2". */
RECONTRAST_EXPORT std::string ToString(Backbone backbone);

/** Parses the names of ToString(Backbone); throws Error naming the accepted values otherwise. */
RECONTRAST_EXPORT Backbone BackboneFromString(const std::string & name);

/** The names of all backbones, for help texts. */
RECONTRAST_EXPORT std::vector<std::string> BackboneNames();

/** The name of ModelConfig's default backbone: the applications' default, so that it is chosen in
 * one place. */
RECONTRAST_EXPORT std::string DefaultBackboneName();

/** How the trainable encoder's BatchNorm layers behave during training (Documentation/Engine.md, Method 2). */
enum class EncoderBatchNormMode
{
  Train, ///< Batch statistics, running statistics updated (the official default).
  Eval   ///< Frozen ImageNet running statistics; affine parameters still trained.
};

RECONTRAST_EXPORT std::string ToString(EncoderBatchNormMode mode);
RECONTRAST_EXPORT EncoderBatchNormMode EncoderBatchNormModeFromString(const std::string & name);

/** What a model consumes: the architecture and how an image in [0, 1] becomes its input. */
/** Which encoder-decoder feature pairs make the anomaly map (Documentation/Engine.md, Method 7). */
enum class MapPairs
{
  All,   ///< All six pairs, summed (the paper).
  Frozen ///< The three pairs whose targets are the frozen encoder's features (f_k against h0_k).
};

RECONTRAST_EXPORT std::string ToString(MapPairs pairs);
RECONTRAST_EXPORT MapPairs MapPairsFromString(const std::string & name);
RECONTRAST_EXPORT std::vector<std::string> MapPairsNames();

struct RECONTRAST_EXPORT ModelConfig
{
  Backbone backbone = Backbone::WideResNet50_2;
  /** Side of the square input, in pixels; a multiple of 32 (the bottleneck works at 1/32). */
  int imageSize = 256;
  /** ImageNet normalisation applied by the engine to images given in [0, 1] (Documentation/Engine.md, Method 1). */
  std::array<float, 3> mean{ { 0.485f, 0.456f, 0.406f } };
  std::array<float, 3> std{ { 0.229f, 0.224f, 0.225f } };
  /** The pairs summed into the map. A short training from a random encoder leaves the trainable
   * encoder's features poorly reconstructed and their maps misplaced; the frozen pairs then localise. */
  MapPairs mapPairs = MapPairs::All;

  /** Throws Error when a value is out of range. */
  void Validate() const;
};

} // namespace recontrast

#endif
