/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Names of backbones and modes, and the checks of a model configuration.
 *
 *=========================================================================*/
#include "ReContrast/ModelConfig.h"

#include "EnumNames.h"
#include "ReContrast/Error.h"

namespace recontrast
{

namespace
{
constexpr EnumName<Backbone> kBackboneNames[] = { { Backbone::ResNet18, "resnet18" },
                                                  { Backbone::ResNet34, "resnet34" },
                                                  { Backbone::ResNet50, "resnet50" },
                                                  { Backbone::WideResNet50_2, "wide_resnet50_2" } };
constexpr EnumName<EncoderBatchNormMode> kEncoderBatchNormModeNames[] = { { EncoderBatchNormMode::Train, "train" },
                                                                          { EncoderBatchNormMode::Eval, "eval" } };
constexpr EnumName<MapPairs> kMapPairsNames[] = { { MapPairs::All, "all" }, { MapPairs::Frozen, "frozen" } };
} // namespace

std::string
ToString(Backbone backbone)
{
  return NameOf(kBackboneNames, backbone, "backbone");
}

Backbone
BackboneFromString(const std::string & name)
{
  return ValueOf(kBackboneNames, name, "backbone");
}

std::vector<std::string>
BackboneNames()
{
  return NamesOf(kBackboneNames);
}

std::string
DefaultBackboneName()
{
  return ToString(ModelConfig{}.backbone);
}

std::string
ToString(EncoderBatchNormMode mode)
{
  return NameOf(kEncoderBatchNormModeNames, mode, "encoder BatchNorm mode");
}

EncoderBatchNormMode
EncoderBatchNormModeFromString(const std::string & name)
{
  return ValueOf(kEncoderBatchNormModeNames, name, "encoder BatchNorm mode");
}

std::string
ToString(MapPairs pairs)
{
  return NameOf(kMapPairsNames, pairs, "set of map pairs");
}

MapPairs
MapPairsFromString(const std::string & name)
{
  return ValueOf(kMapPairsNames, name, "set of map pairs");
}

std::vector<std::string>
MapPairsNames()
{
  return NamesOf(kMapPairsNames);
}

void
ModelConfig::Validate() const
{
  if (imageSize < 32 || imageSize % 32 != 0 || imageSize > 4096)
  {
    throw Error("The image size must be a multiple of 32 between 32 and 4096; got " + std::to_string(imageSize) + ".");
  }
  for (float s : std)
  {
    if (!(s > 0.0f))
    {
      throw Error("The normalisation standard deviations must be positive.");
    }
  }
}

} // namespace recontrast
