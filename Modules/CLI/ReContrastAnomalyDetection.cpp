/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The Slicer CLI module ReContrastAnomalyDetection: the anomaly map of one scan, with the
 *  SlicerExecutionModel interface (--xml, positional images, --returnparameterfile, progress tags).
 *  The work is `recontrast infer`'s (ScanInference); only the interface differs.
 *
 *=========================================================================*/
#include "Inference.h"
#include "RegionReport.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrast/Predictor.h"
#include "SlicerCliModule.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <cstdio>

namespace
{

/** The module's parameters; their defaults are the description's (Describe). */
struct Arguments
{
  std::string inputVolume;
  std::string outputVolume;
  std::string model;
  std::string regionLabels;
  std::string report;
  double threshold{};
  std::string device;
  std::string precision;
  int threads{};
  int batchSize{};
  std::string intensity;
  std::string mapUnits;
};

recontrast::cli::SlicerCliDescription
Describe(Arguments & a)
{
  auto d = recontrast::cli::ProjectModuleDescription(
    "Quantification.ReContrast",
    "ReContrast Anomaly Detection",
    "Computes an anomaly map of a scan with a ReContrast model trained on normal scans only. The map has the scan's "
    "exact geometry: high values mark tissue the model does not recognise as normal. Optionally labels the regions "
    "above a threshold and reports a volume score.");

  auto & io = d.AddGroup("Input and output", "The scan, the model and the maps to write.");
  io.AddImage("inputVolume", a.inputVolume)
    .Index(0)
    .Label("Input scan")
    .Description("The scan to examine (a volume or a 2-D image).");
  io.AddFile("model", a.model)
    .LongFlag("model")
    .FileExtensions(".rcm")
    .Label("Model file")
    .Description("A ReContrast model file made by 'recontrast train' or 'recontrast import'.");
  io.AddImage("outputVolume", a.outputVolume)
    .Index(1)
    .Output()
    .ImageType("scalar")
    .Reference("inputVolume")
    .Label("Anomaly map")
    .Description("The anomaly map, with the input's geometry.");
  io.AddImage("regionLabels", a.regionLabels)
    .LongFlag("labels")
    .Output()
    .ImageType("label")
    .Reference("inputVolume")
    .Label("Anomalous regions")
    .Description("Label map of the connected regions above the threshold (optional).");

  auto & detection = d.AddGroup("Detection", "Where to cut normal from anomalous, and where to compute.");
  detection.AddFloat("threshold", a.threshold, -1.0)
    .LongFlag("threshold")
    .Label("Threshold")
    .Description("Map value above which voxels are anomalous, in the map's units (standard deviations above normal "
                 "for a calibrated model). Negative: the model's recommended threshold, when the model is calibrated.");
  recontrast::cli::AddDeviceParameter(detection, a.device, "Where the model runs: the CPU or an NVIDIA GPU.");
  detection
    .AddStringEnumeration(
      "precision", a.precision, recontrast::PrecisionNames(), recontrast::ToString(recontrast::Precision::Fp32))
    .LongFlag("precision")
    .Label("Precision")
    .Description("fp32: the optimised computation (same maps as exact to about 1e-6, faster); bf16: about twice as "
                 "fast on CPUs with bfloat16 instructions (and on recent GPUs), maps within about 0.01; fp16: half "
                 "precision on a GPU; exact: the paper-faithful reference computation. bf16 and fp16 fall back to "
                 "fp32 where they do not run natively, with a warning.");
  recontrast::cli::AddThreadsParameter(detection, a.threads);

  auto & advanced = d.AddGroup("Advanced", "Settings that normally come from the model.", true);
  advanced.AddInteger("batchSize", a.batchSize, 4)
    .LongFlag("batchSize")
    .Label("Slices per batch")
    .Range(1, 64, 1)
    .Description("Slices scored together; more is faster and uses more memory.");
  advanced.AddString("intensity", a.intensity, "")
    .LongFlag("intensity")
    .Label("Intensity preset")
    .Description("Overrides the model's intensity preset (mr, ct-brain, window:lower:upper, bytes, ...). Empty: the "
                 "model's.");
  advanced.AddStringEnumeration("mapUnits", a.mapUnits, { "calibrated", "raw" }, "calibrated")
    .LongFlag("mapUnits")
    .Label("Map units")
    .Description("calibrated: standard deviations above the normal scores at each slice's position (for calibrated "
                 "models; raw otherwise); raw: the method's own map.");
  advanced.AddFile("report", a.report)
    .LongFlag("report")
    .Output()
    .FileExtensions(".json")
    .Label("Report")
    .Description("JSON report: scores, per-slice scores, regions and settings (optional).");

  auto & results = d.AddGroup("Results", "What the run found.");
  results.AddFloatResult("volumeScore")
    .Label("Score")
    .Description("The scan's raw score: the largest value of its raw anomaly map.");
  results.AddFloatResult("calibratedScore")
    .Label("Calibrated score")
    .Description("The score in standard deviations above the normal scores the model was calibrated on, each slice "
                 "judged against normal slices at its position (0 when the model is not calibrated).");
  results.AddIntegerResult("regionCount")
    .Label("Anomalous regions")
    .Description("How many connected regions lie above the threshold.");
  results.AddFloatResult("largestRegionVolume")
    .Label("Largest region (mm³)")
    .Description("Volume of the largest anomalous region, in cubic millimetres (square millimetres for 2-D images).");
  return d;
}

std::vector<std::pair<std::string, std::string>>
Run(const Arguments & a)
{
  if (a.inputVolume.empty() || a.outputVolume.empty() || a.model.empty())
  {
    throw recontrast::Error("An input scan, an output map and --model are required (run with --help).");
  }
  recontrast::cli::RequireDistinctPaths(
    a.inputVolume, { { "anomaly map", a.outputVolume }, { "label map", a.regionLabels }, { "report", a.report } });
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
  options.calibratedMap = a.mapUnits != "raw";
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
    try
    {
      recontrast::AtomicFile file(a.report);
      file.Stream() << report.dump(2) << '\n';
      file.Commit();
    }
    catch (const recontrast::Error &)
    {
      recontrast::cli::RemoveOutputs({ a.outputVolume, a.regionLabels }, report); // all outputs or none
      throw;
    }
  }

  std::printf("score %.4f, %zu anomalous regions\n", report["score"].get<double>(), report["regions"].size());
  auto outputs = recontrast::cli::RegionReturnParameters(report["regions"]);
  outputs.insert(outputs.begin(),
                 { { "volumeScore", fmt::format("{:.6g}", report["score"].get<double>()) },
                   { "calibratedScore",
                     fmt::format("{:.6g}",
                                 report.contains("calibrated_score") && report["calibrated_score"].is_number()
                                   ? report["calibrated_score"].get<double>()
                                   : 0.0) } });
  return outputs;
}
} // namespace

int
main(int argc, char ** argv)
{
  Arguments a;
  recontrast::cli::SlicerCliModule module;
  module.name = "ReContrastAnomalyDetection";
  module.description = Describe(a);
  module.run = [&] { return Run(a); };
  return recontrast::cli::RunSlicerCliModule(module, argc, argv);
}
