/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Training from a folder of scans: what `recontrast train` and the Slicer CLI module share.
 *
 *=========================================================================*/
#include "Training.h"
#include "WeightsFetch.h"

#include "Inference.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/CurvePlot.h"
#include "ReContrast/Error.h"
#include "ReContrast/Trainer.h"
#include "itkReContrastExceptionText.h"
#include "itkReContrastImageFiles.h"
#include "itkReContrastScanSampleSource.h"

#include <spdlog/fmt/fmt.h>

#include <filesystem>

namespace recontrast::cli
{

namespace
{
std::string
SiblingPath(const std::string & modelPath, const std::string & suffix)
{
  const std::filesystem::path model(modelPath);
  return (model.parent_path() / (model.stem().string() + suffix)).string();
}
} // namespace

std::string
TrainingReportPath(const std::string & modelPath)
{
  return SiblingPath(modelPath, ".training.json");
}

std::string
LossCurvePath(const std::string & modelPath)
{
  return SiblingPath(modelPath, ".loss.png");
}

nlohmann::json
RunTraining(const TrainingRequest & r, ProgressReporter::Style progressStyle, const std::function<bool()> & keepGoing)
{
  TrainingOptions options;
  options.distributed = DistributedSettingsFromEnvironment(DistributedModeFromString(r.distributed));
  // Data-parallel training: rank 0 writes and speaks for all; the others say only what goes wrong.
  const bool lead = options.distributed.rank == 0;
  if (!lead)
  {
    progressStyle = ProgressReporter::Style::Silent;
  }
  // Before the data are indexed and trained on: the model must have somewhere to go.
  if (lead)
  {
    RequireFolderOf(r.output, "model");
  }
  options.backbone = BackboneFromString(r.backbone);
  options.imageSize = r.imageSize;
  options.iterations = r.iterations;
  options.batchSize = r.batchSize;
  options.seed = r.seed;
  options.encoderBatchNorm = EncoderBatchNormModeFromString(r.encoderBatchNorm);
  options.mapPairs = MapPairsFromString(r.mapPairs);
  options.encoderWeights =
    ResolveEncoderWeights(r.encoderWeights, r.backbone, r.fetchMissingWeights, progressStyle, keepGoing);
  options.initialModel = r.initialModel;
  options.device = r.device;
  options.threads = r.threads;
  options.checkpointEvery = r.checkpointEvery;
  options.resume = r.resume;
  options.calibrationFraction = r.calibrationFraction;
  std::vector<std::string> scans;
  try
  {
    scans = itk::ReContrastScanSampleSource::ListScans(r.data);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(itk::ReContrastExceptionText(e));
  }
  // The first file's header decides both defaults (read once).
  const std::string dataDefault = r.intensity.empty() || r.resize == "auto" ? DefaultIntensity(scans.front()) : "";
  const std::string intensity = r.intensity.empty() ? dataDefault : r.intensity;
  // Pictures are stretched to the square as the paper does (on the magnetic tiles this is most of the
  // gap to the official training, Benchmarks.md); scans keep their aspect ratio.
  const std::string resize = r.resize != "auto" ? r.resize : dataDefault == "bytes" ? "stretch" : "fit";
  itk::ReContrastScanSampleSource::Settings settings;
  try
  {
    settings.slices.preset = itk::ReContrastIntensityPreset::FromString(intensity);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(itk::ReContrastExceptionText(e));
  }
  // The model's pre-processing travels with it: infer uses the same settings by default.
  options.modelProperties = { { "intensity", settings.slices.preset.ToModelProperty() },
                              { "channel_mode", r.context ? "context" : "replicated" },
                              { "min_foreground", fmt::format("{}", r.minimumForeground) },
                              { "resize", resize } };
  options.Validate();

  settings.slices.context = r.context;
  settings.slices.minimumForegroundFraction = r.minimumForeground;
  settings.slices.fit = resize == "stretch" ? itk::ReContrastSliceResampler::Fit::Stretch
                                            : itk::ReContrastSliceResampler::Fit::PreserveAspect;
  settings.seriesReader = DicomReader();

  if (lead)
  {
    std::fprintf(stderr, "recontrast: indexing the training data in %s\n", r.data.c_str());
  }
  std::unique_ptr<itk::ReContrastScanSampleSource> source;
  try
  {
    source = std::make_unique<itk::ReContrastScanSampleSource>(scans, settings);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(itk::ReContrastExceptionText(e));
  }
  if (lead)
  {
    std::fprintf(stderr,
                 "recontrast: training %s at %d px on %s%s\n",
                 r.backbone.c_str(),
                 r.imageSize,
                 source->Summary().c_str(),
                 options.distributed.Enabled() ? fmt::format(" in {} processes ({}, rendezvous {}:{})",
                                                             options.distributed.worldSize,
                                                             options.distributed.launcher,
                                                             options.distributed.masterAddress,
                                                             options.distributed.masterPort)
                                                   .c_str()
                                               : "");
  }

  Trainer trainer(options);
  ProgressReporter progress("training", progressStyle);
  trainer.SetProgressCallback([&](const TrainingProgress & p) {
    progress.Update(static_cast<double>(p.iteration) / p.totalIterations,
                    fmt::format("it {}/{} loss {:.4f}", p.iteration, p.totalIterations, p.loss));
    return keepGoing();
  });
  TrainingResult result;
  try
  {
    result = trainer.Train(*source, r.output);
  }
  catch (const itk::ExceptionObject & e)
  {
    progress.Finish();
    throw Error(itk::ReContrastExceptionText(e));
  }
  catch (const Error &)
  {
    progress.Finish();
    throw;
  }
  progress.Finish();
  if (!result.modelWritten)
  {
    return { { "model_written", false }, { "rank", result.rank } };
  }

  nlohmann::json report{ { "model", r.output },
                         { "backbone", r.backbone },
                         { "image_size", r.imageSize },
                         { "iterations", r.iterations },
                         { "batch_size", r.batchSize },
                         { "seed", r.seed },
                         { "encoder_batchnorm", r.encoderBatchNorm },
                         { "map_pairs", r.mapPairs },
                         { "intensity", settings.slices.preset.ToString() },
                         { "resize", resize },
                         { "context", r.context },
                         { "data", r.data },
                         { "samples", source->Size() },
                         { "start_iteration", result.startIteration },
                         { "seconds", result.seconds },
                         { "final_loss", result.lossHistory.empty() ? 0.0 : result.lossHistory.back() },
                         { "loss", result.lossHistory },
                         { "calibration",
                           { { "valid", result.description.calibration.valid },
                             { "mean", result.description.calibration.mean },
                             { "std", result.description.calibration.std },
                             { "recommended_threshold", result.description.calibration.recommendedThreshold },
                             { "form", result.description.calibration.positions.empty() ? "global" : "position-aware" },
                             { "position_bins", result.description.calibration.positions.size() } } },
                         { "distributed",
                           { { "processes", result.processes },
                             { "launcher", options.distributed.launcher },
                             { "loop_seconds", result.loopSeconds },
                             { "gradient_sum_seconds", result.gradientSumSeconds },
                             { "batch_statistics_seconds", result.batchStatisticsSeconds },
                             { "gradient_buckets", result.gradientBuckets } } } };
  const std::string reportPath = TrainingReportPath(r.output);
  AtomicFile reportFile(reportPath);
  reportFile.Stream() << report.dump(2) << '\n';
  reportFile.Commit();
  visualization::WriteCurvePng(result.lossHistory, "Training loss", "iteration", "loss", LossCurvePath(r.output));
  return report;
}

} // namespace recontrast::cli
