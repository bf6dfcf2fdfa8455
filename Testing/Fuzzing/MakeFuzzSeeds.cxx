/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Writes the model-file seeds of the fuzz corpus: small but valid model files and a checkpoint,
 *  written by the engine's own writer (a real model is tens of megabytes, too large to mutate).
 *
 *=========================================================================*/
#include "ModelFile.h"

#include <torch/torch.h>

#include <cstdio>
#include <string>

int
main(int argc, char ** argv)
{
  if (argc != 2)
  {
    std::fprintf(stderr, "Usage: MakeFuzzSeeds <folder>\n");
    return 2;
  }
  const std::string folder = argv[1];
  recontrast::ModelFileContents model;
  model.tensors.emplace_back("encoder.conv1.weight", torch::arange(12, torch::kFloat32).reshape({ 3, 2, 2 }));
  model.tensors.emplace_back("decoder.bias", torch::ones({ 4 }, torch::kFloat64));
  model.tensors.emplace_back("steps", torch::tensor({ 7 }, torch::kInt64));
  model.description.calibration.valid = true;
  model.description.calibration.mean = 1.0;
  model.description.calibration.std = 0.5;
  model.description.properties["intensity"] = "mr";
  recontrast::WriteModelFile(folder + "/model.rcm", model);
  model.kind = "checkpoint";
  model.extra["iteration"] = "4";
  recontrast::WriteModelFile(folder + "/checkpoint.rcm", model);
  model.tensors.clear();
  recontrast::WriteModelFile(folder + "/empty.rcm", model);
  return 0;
}
