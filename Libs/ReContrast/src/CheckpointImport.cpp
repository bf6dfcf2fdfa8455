/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Checkpoint tensors into the network: names, shapes and refusals.
 *
 *=========================================================================*/
#include "CheckpointImport.h"

#include "ModelFile.h"
#include "NetworkState.h"
#include "Timestamp.h"
#include "ReContrast/Checkpoint.h"
#include "ReContrast/Error.h"
#include "ReContrast/Import.h"
#include "ReContrast/Version.h"
#include "TorchConversion.h"

#include <torch/torch.h>

#include <chrono>
#include <ctime>
#include <filesystem>

namespace recontrast
{

namespace
{

NamedTensors
ReadCheckpoint(const std::string & path)
{
  return ToNamedTensors(ReadPyTorchCheckpoint(path), path);
}

void
WriteImportedModel(ReContrastNetwork & network, Backbone backbone, int imageSize, const std::string & origin,
                   const std::string & modelPath, const std::map<std::string, std::string> & properties = {})
{
  ModelFileContents contents;
  contents.kind = "model";
  contents.description.config.backbone = backbone;
  contents.description.config.imageSize = imageSize;
  contents.description.config.Validate();
  contents.description.training.encoderWeights = origin;
  contents.description.training.createdAt = UtcTimestamp();
  contents.description.training.engineVersion = Version();
  contents.description.properties = properties;
  contents.tensors = StateOf(*network);
  WriteModelFile(modelPath, contents);
}
} // namespace

void
LoadTorchvisionEncoder(ReContrastNetwork & network, const std::string & weightsPath)
{
  const NamedTensors weights = ReadCheckpoint(weightsPath);
  try
  {
    // The classifier part of torchvision's ResNet is never run by ReContrast.
    LoadState(*network->encoder, weights, weightsPath, { "layer4.", "fc." });
  }
  catch (const Error & e)
  {
    throw Error(std::string(e.what()) + " (expected torchvision ImageNet weights of the chosen backbone)");
  }
  network->CopyEncoderToFrozen();
}

void
LoadOfficialCheckpoint(ReContrastNetwork & network, const std::string & checkpointPath)
{
  const NamedTensors weights = ReadCheckpoint(checkpointPath);
  try
  {
    // conv4/bn4 exist in the official bottleneck but its forward never uses them.
    LoadState(*network, weights, checkpointPath, { "bottleneck.conv4.", "bottleneck.bn4." });
  }
  catch (const Error & e)
  {
    throw Error(std::string(e.what()) + " (expected a state_dict saved by the official ReContrast code)");
  }
}

ModelDescription
ImportOfficialModel(const std::string & checkpointPath, Backbone backbone, int imageSize, const std::string & modelPath,
                    const std::map<std::string, std::string> & properties)
{
  ReContrastNetwork network(backbone);
  LoadOfficialCheckpoint(network, checkpointPath);
  WriteImportedModel(network,
                     backbone,
                     imageSize,
                     "official ReContrast checkpoint " + std::filesystem::path(checkpointPath).filename().string(),
                     modelPath,
                     properties);
  return ReadModelDescription(modelPath);
}

ModelDescription
CreateModelFromTorchvision(const std::string & weightsPath, Backbone backbone, int imageSize,
                           const std::string & modelPath)
{
  ReContrastNetwork network(backbone);
  LoadTorchvisionEncoder(network, weightsPath);
  WriteImportedModel(network, backbone, imageSize, std::filesystem::path(weightsPath).filename().string(), modelPath);
  return ReadModelDescription(modelPath);
}

} // namespace recontrast
