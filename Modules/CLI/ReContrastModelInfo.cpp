/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The Slicer CLI module ReContrastModelInfo: what a model file says about itself and what this
 *  computer offers to run it, as return parameters. The Slicer module's panel describes the chosen
 *  model with it, so that LibTorch is never loaded into Slicer's own process.
 *
 *=========================================================================*/
#include "ReContrast/Error.h"
#include "ReContrast/ModelDescription.h"
#include "ReContrast/Predictor.h"
#include "ReContrast/Version.h"
#include "SlicerCliModule.h"

#include <spdlog/fmt/fmt.h>

#include <cstdio>

namespace
{

std::string
Summary(const recontrast::ModelDescription & d)
{
  std::string text = fmt::format("{} at {} px", recontrast::ToString(d.config.backbone), d.config.imageSize);
  if (d.training.iterations > 0)
  {
    text +=
      fmt::format(", trained {} iterations on {} normal slices", d.training.iterations, d.training.trainingSamples);
    if (!d.training.dataSummary.empty())
    {
      text += " (" + d.training.dataSummary + ")";
    }
  }
  else
  {
    text += ", imported or untrained";
  }
  const std::string & weights = d.training.encoderWeights;
  text += ", encoder from " + (weights.empty() || weights == "random" ? std::string("random weights") : weights);
  if (d.calibration.valid)
  {
    text += fmt::format("; calibrated on {} normal slices ({}), maps in standard deviations above normal, "
                        "recommended threshold {:.3g}",
                        d.calibration.samples,
                        d.calibration.positions.empty() ? "global" : "position-aware",
                        recontrast::ScoreCalibration::CalibratedThreshold);
  }
  else
  {
    text += "; not calibrated (choose the threshold by eye)";
  }
  // The return-parameter file is read line by line.
  for (char & c : text)
  {
    if (c == '\n' || c == '\r')
    {
      c = ' ';
    }
  }
  return text;
}

/** The module's one parameter, the model file, and what it reports. */
recontrast::cli::SlicerCliDescription
Describe(std::string & model)
{
  auto d = recontrast::cli::ProjectModuleDescription(
    "Developer Tools.ReContrast",
    "ReContrast Model Info",
    "Describes a ReContrast model file (backbone, training data, calibration) and what this computer offers to run "
    "it (GPU, bfloat16). The Anomaly Detection module uses it to describe the chosen model; the model is read, never "
    "run.");

  d.AddGroup("Model", "The model file to describe.")
    .AddFile("model", model)
    .Index(0)
    .FileExtensions(".rcm")
    .Label("Model file")
    .Description("A ReContrast model file made by training or import.");

  auto & results = d.AddGroup("Description", "What the model file says about itself, and what this computer can do.");
  results.AddStringResult("summary").Label("Summary").Description(
    "One line: backbone, input size, training data, calibration.");
  results.AddStringResult("backbone").Label("Backbone").Description("The encoder network.");
  results.AddIntegerResult("imageSize").Label("Image size").Description("The model's input size in pixels.");
  results.AddBooleanResult("calibrated")
    .Label("Calibrated")
    .Description("Whether the model holds a calibration of normal scores (and so recommends a threshold).");
  results.AddFloatResult("recommendedThreshold")
    .Label("Recommended threshold")
    .Description("The threshold the calibration recommends, in the units of the anomaly maps the detection module "
                 "makes: standard deviations above normal (0 when the model is not calibrated).");
  results.AddFloatResult("normalScoreMean")
    .Label("Normal score")
    .Description("The level of normal tissue in those maps: 0 in calibrated maps (0 too when the model is not "
                 "calibrated).");
  results.AddBooleanResult("cudaAvailable")
    .Label("GPU available")
    .Description("Whether an NVIDIA GPU can run the model on this computer.");
  results.AddBooleanResult("bf16Available")
    .Label("bfloat16 on the CPU")
    .Description("Whether this CPU runs the bf16 precision natively (AVX-512 BF16 or AMX).");
  return d;
}

std::vector<std::pair<std::string, std::string>>
Run(const std::string & model)
{
  if (model.empty())
  {
    throw recontrast::Error("A model file is required (run with --help).");
  }
  const recontrast::ModelDescription d = recontrast::ReadModelDescription(model);
  const bool cuda = recontrast::CudaAvailable();
  const bool bf16 = recontrast::PrecisionAvailable(recontrast::Precision::BFloat16, "cpu");
  const std::string summary = Summary(d);
  std::printf("%s\n", summary.c_str());
  const auto flag = [](bool value) { return std::string(value ? "true" : "false"); };
  return { { "summary", summary },
           { "backbone", recontrast::ToString(d.config.backbone) },
           { "imageSize", std::to_string(d.config.imageSize) },
           { "calibrated", flag(d.calibration.valid) },
           // The detection module writes calibrated maps for calibrated models: its units.
           { "recommendedThreshold",
             fmt::format("{:.6g}", d.calibration.valid ? recontrast::ScoreCalibration::CalibratedThreshold : 0.0) },
           { "normalScoreMean", "0" },
           { "cudaAvailable", flag(cuda) },
           { "bf16Available", flag(bf16) } };
}
} // namespace

int
main(int argc, char ** argv)
{
  std::string model;
  recontrast::cli::SlicerCliModule module;
  module.name = "ReContrastModelInfo";
  module.description = Describe(model);
  module.run = [&] { return Run(model); };
  return recontrast::cli::RunSlicerCliModule(module, argc, argv);
}
