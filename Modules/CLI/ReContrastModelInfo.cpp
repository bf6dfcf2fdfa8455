// The Slicer CLI module ReContrastModelInfo: what a model file says about itself and what this
// computer offers to run it, as return parameters. The Slicer module's panel describes the chosen
// model with it, so that LibTorch is never loaded into Slicer's own process.
#include "ReContrast/Error.h"
#include "ReContrast/ModelDescription.h"
#include "ReContrast/Predictor.h"
#include "ReContrast/Version.h"
#include "ReContrastModelInfoXML.h"
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
    text += fmt::format("; calibrated on {} normal slices, recommended threshold {:.4g}",
                        d.calibration.samples,
                        d.calibration.recommendedThreshold);
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
           { "recommendedThreshold",
             fmt::format("{:.6g}", d.calibration.valid ? d.calibration.recommendedThreshold : 0.0) },
           { "normalScoreMean", fmt::format("{:.6g}", d.calibration.valid ? d.calibration.mean : 0.0) },
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
  module.description = "ReContrast Model Info (Slicer CLI module): describes a model file.";
  module.xml = recontrast::cli::ModuleDescriptionXML;
  module.addOptions = [&](CLI::App & app) { app.add_option("model", model, "Model file")->check(CLI::ExistingFile); };
  module.run = [&] { return Run(model); };
  return recontrast::cli::RunSlicerCliModule(module, argc, argv);
}
