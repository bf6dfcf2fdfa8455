#include "ReContrast/ModelConfig.h"

#include "ReContrast/Error.h"

namespace recontrast
{

namespace
{
struct BackboneName
{
  Backbone backbone;
  const char * name;
};
constexpr BackboneName kBackboneNames[] = { { Backbone::ResNet18, "resnet18" },
                                            { Backbone::ResNet34, "resnet34" },
                                            { Backbone::ResNet50, "resnet50" },
                                            { Backbone::WideResNet50_2, "wide_resnet50_2" } };
} // namespace

std::string
ToString(Backbone backbone)
{
  for (const auto & entry : kBackboneNames)
  {
    if (entry.backbone == backbone)
    {
      return entry.name;
    }
  }
  throw Error("Unknown backbone value.");
}

Backbone
BackboneFromString(const std::string & name)
{
  for (const auto & entry : kBackboneNames)
  {
    if (name == entry.name)
    {
      return entry.backbone;
    }
  }
  std::string accepted;
  for (const auto & entry : kBackboneNames)
  {
    accepted += accepted.empty() ? entry.name : std::string(", ") + entry.name;
  }
  throw Error("Unknown backbone '" + name + "'; expected one of " + accepted + ".");
}

std::vector<std::string>
BackboneNames()
{
  std::vector<std::string> names;
  for (const auto & entry : kBackboneNames)
  {
    names.emplace_back(entry.name);
  }
  return names;
}

std::string
ToString(EncoderBatchNormMode mode)
{
  return mode == EncoderBatchNormMode::Train ? "train" : "eval";
}

EncoderBatchNormMode
EncoderBatchNormModeFromString(const std::string & name)
{
  if (name == "train")
  {
    return EncoderBatchNormMode::Train;
  }
  if (name == "eval")
  {
    return EncoderBatchNormMode::Eval;
  }
  throw Error("Unknown encoder BatchNorm mode '" + name + "'; expected 'train' or 'eval'.");
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
