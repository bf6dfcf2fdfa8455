// The Slicer CLI module ReContrastAnomalyDetection: the anomaly map of one scan, with the
// SlicerExecutionModel interface (--xml, positional images, --returnparameterfile, progress tags).
// The work is `recontrast infer`'s (ScanInference); only the interface differs.
#include "Inference.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrastAnomalyDetectionXML.h"
#include "SlicerCliModule.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <cstdio>

namespace
{

struct Arguments
{
  std::string inputVolume;
  std::string outputVolume;
  std::string model;
  std::string regionLabels;
  std::string report;
  double threshold = -1.0;
  std::string device = "cpu";
  std::string precision = "fp32";
  int threads = 0;
  int batchSize = 4;
  std::string intensity;
};

void
AddOptions(CLI::App & app, Arguments & a)
{
  app.add_option("inputVolume", a.inputVolume, "Input scan")->check(CLI::ExistingPath);
  app.add_option("outputVolume", a.outputVolume, "Anomaly map to write");
  app.add_option("--model", a.model, "Model file")->check(CLI::ExistingFile);
  app.add_option("--labels", a.regionLabels, "Label map of the anomalous regions");
  app.add_option("--report", a.report, "JSON report");
  app.add_option("--threshold", a.threshold, "Threshold (negative: the model's recommended one)");
  app.add_option("--device", a.device, "cpu or cuda")->check(CLI::IsMember({ "cpu", "cuda" }));
  app.add_option("--precision", a.precision, "fp32, bf16, fp16 or exact")
    ->check(CLI::IsMember(recontrast::PrecisionNames()));
  app.add_option("--threads", a.threads, "CPU threads (0: every core)")->check(CLI::NonNegativeNumber);
  app.add_option("--batchSize", a.batchSize, "Slices per batch")->check(CLI::PositiveNumber);
  app.add_option("--intensity", a.intensity, "Intensity preset override");
}

std::vector<std::pair<std::string, std::string>>
Run(const Arguments & a)
{
  if (a.inputVolume.empty() || a.outputVolume.empty() || a.model.empty())
  {
    throw recontrast::Error("An input scan, an output map and --model are required (run with --help).");
  }
  for (const std::string * path : { &a.outputVolume, &a.regionLabels, &a.report })
  {
    if (!path->empty())
    {
      recontrast::cli::RequireFolderOf(*path, "output");
    }
  }
  recontrast::cli::ScanInference::Options options;
  options.model = a.model;
  options.predictor.device = a.device;
  options.predictor.precision = recontrast::PrecisionFromString(a.precision);
  options.predictor.threads = a.threads;
  options.predictor.batchSize = a.batchSize;
  options.intensity = a.intensity;
  options.threshold = a.threshold;
  options.progress = recontrast::cli::ProgressReporter::Style::Slicer;
  const recontrast::cli::ScanInference inference(options);
  if (!a.regionLabels.empty() && inference.Threshold() < 0.0)
  {
    throw recontrast::Error("Anomalous regions need a threshold: set one (the model has no calibration to recommend "
                            "one).");
  }
  nlohmann::json report = inference.Run({ a.inputVolume, a.outputVolume, a.regionLabels, "", "" });
  report["model"] = a.model;
  report["output"] = a.outputVolume;
  report["settings"] = inference.Settings();
  if (!a.report.empty())
  {
    recontrast::AtomicFile file(a.report);
    file.Stream() << report.dump(2) << '\n';
    file.Commit();
  }

  std::printf("score %.4f, %zu anomalous regions\n", report["score"].get<double>(), report["regions"].size());
  auto outputs = recontrast::cli::RegionReturnParameters(report["regions"]);
  outputs.insert(outputs.begin(),
                 { { "volumeScore", fmt::format("{:.6g}", report["score"].get<double>()) },
                   { "calibratedScore", fmt::format("{:.6g}", report.value("calibrated_score", 0.0)) } });
  return outputs;
}
} // namespace

int
main(int argc, char ** argv)
{
  Arguments a;
  recontrast::cli::SlicerCliModule module;
  module.name = "ReContrastAnomalyDetection";
  module.description = "ReContrast Anomaly Detection (Slicer CLI module): the anomaly map of a scan.";
  module.xml = recontrast::cli::ModuleDescriptionXML;
  module.addOptions = [&](CLI::App & app) { AddOptions(app, a); };
  module.run = [&] { return Run(a); };
  return recontrast::cli::RunSlicerCliModule(module, argc, argv);
}
