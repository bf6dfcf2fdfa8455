// The Slicer CLI module ReContrastTrainModel: trains a model on a folder of normal scans, with the
// SlicerExecutionModel interface. The work is `recontrast train`'s (RunTraining); Slicer's Cancel
// ends the process, and the model file is only ever renamed into place when training finished.
#include "Inference.h"
#include "ReContrast/Error.h"
#include "ReContrast/ModelConfig.h"
#include "ReContrastTrainModelXML.h"
#include "SlicerCliModule.h"
#include "Training.h"

#include <spdlog/fmt/fmt.h>

#include <csignal>
#include <cstdio>

namespace
{
volatile std::sig_atomic_t g_Terminated = 0;

void
OnTerminate(int)
{
  g_Terminated = 1;
}

void
AddOptions(CLI::App & app, recontrast::cli::TrainingRequest & r)
{
  app.add_option("--data", r.data, "Folder of normal scans")->check(CLI::ExistingPath);
  app.add_option("--outputModel", r.output, "Model file to write");
  app.add_option("--backbone", r.backbone, "Encoder backbone")->check(CLI::IsMember(recontrast::BackboneNames()));
  app.add_option("--imageSize", r.imageSize, "Model input size (a multiple of 32)")->check(CLI::PositiveNumber);
  app.add_option("--iterations", r.iterations, "Training iterations")->check(CLI::PositiveNumber);
  app.add_option("--encoderWeights", r.encoderWeights, "torchvision ImageNet weights (.pth)")->check(CLI::ExistingFile);
  app.add_option("--device", r.device, "cpu or cuda")->check(CLI::IsMember({ "cpu", "cuda" }));
  app.add_option("--threads", r.threads, "CPU threads (0: every core)")->check(CLI::NonNegativeNumber);
  app.add_option("--batchSize", r.batchSize, "Slices per training step")->check(CLI::PositiveNumber);
  app.add_option("--intensity", r.intensity, "Intensity preset (empty: chosen from the data)");
  // Slicer passes booleans as a bare flag.
  app.add_flag("--context", r.context, "2.5-D: neighbouring slices as the colour channels");
  app.add_option("--calibrationFraction", r.calibrationFraction, "Share of slices held out for calibration")
    ->check(CLI::Range(0.0, 0.5));
  app.add_option("--seed", r.seed, "Random seed");
}

std::vector<std::pair<std::string, std::string>>
Run(const recontrast::cli::TrainingRequest & r)
{
  if (r.data.empty() || r.output.empty())
  {
    throw recontrast::Error("A folder of normal scans (--data) and a model file to write (--outputModel) are "
                            "required (run with --help).");
  }
  std::signal(SIGTERM, OnTerminate);
  std::signal(SIGINT, OnTerminate);
  const nlohmann::json report =
    recontrast::cli::RunTraining(r, recontrast::cli::ProgressReporter::Style::Slicer, [] { return g_Terminated == 0; });
  const auto & calibration = report["calibration"];
  const double threshold = calibration["valid"].get<bool>() ? calibration["recommended_threshold"].get<double>() : 0.0;
  std::printf("wrote %s\n", r.output.c_str());
  return { { "finalLoss", fmt::format("{:.6g}", report["final_loss"].get<double>()) },
           { "trainingSamples", std::to_string(report["samples"].get<int64_t>()) },
           { "recommendedThreshold", fmt::format("{:.6g}", threshold) } };
}
} // namespace

int
main(int argc, char ** argv)
{
  recontrast::cli::TrainingRequest request;
  recontrast::cli::SlicerCliModule module;
  module.name = "ReContrastTrainModel";
  module.description = "ReContrast Train Model (Slicer CLI module): a model from normal scans.";
  module.xml = recontrast::cli::ModuleDescriptionXML;
  module.addOptions = [&](CLI::App & app) { AddOptions(app, request); };
  module.run = [&] { return Run(request); };
  return recontrast::cli::RunSlicerCliModule(module, argc, argv);
}
