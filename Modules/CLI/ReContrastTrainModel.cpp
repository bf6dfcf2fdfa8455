/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The Slicer CLI module ReContrastTrainModel: trains a model on a folder of normal scans, with the
 *  SlicerExecutionModel interface. The work is `recontrast train`'s (RunTraining); Slicer's Cancel
 *  ends the process, and the model file is only ever renamed into place when training finished.
 *
 *=========================================================================*/
#include "Inference.h"
#include "ReContrast/Error.h"
#include "ReContrast/ModelConfig.h"
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

/** The module's parameters bound to the training request; the defaults are the description's. */
recontrast::cli::SlicerCliDescription
Describe(recontrast::cli::TrainingRequest & r)
{
  auto d = recontrast::cli::ProjectModuleDescription(
    "Quantification.ReContrast",
    "ReContrast Train Model",
    "Trains a ReContrast anomaly-detection model on a folder of normal scans (no annotations). The model file it "
    "writes is what ReContrast Anomaly Detection needs; it records how it was trained and, with a calibration share "
    "above 0, the threshold it recommends.");

  auto & io = d.AddGroup("Data and model", "The normal scans to learn from and the model file to write.");
  io.AddDirectory("trainingData", r.data)
    .LongFlag("data")
    .Label("Normal scans")
    .Description("A folder of normal scans (NIfTI, NRRD, MetaImage, DICOM series folders) or pictures, or an "
                 "MVTec-style folder with train/good/.");
  io.AddFile("outputModel", r.output)
    .LongFlag("outputModel")
    .Output()
    .FileExtensions(".rcm")
    .Label("Model file")
    .Description("The model file to write (with its training report and loss curve next to it).");

  // The defaults are the engine's recipe (TrainingRequest takes them from TrainingOptions).
  const recontrast::cli::TrainingRequest defaults;
  auto & training = d.AddGroup("Training", "The network and how long it learns.");
  // The choices and the default are the engine's, so a new backbone needs no change here.
  training.AddStringEnumeration("backbone", r.backbone, recontrast::BackboneNames(), recontrast::DefaultBackboneName())
    .LongFlag("backbone")
    .Label("Backbone")
    .Description("The encoder network: the default is the paper's (the most accurate, and the slowest); resnet18 "
                 "trains and runs several times faster.");
  training.AddInteger("imageSize", r.imageSize, defaults.imageSize)
    .LongFlag("imageSize")
    .Label("Image size")
    .Range(32, 1024, 32)
    .Description("Slices are resized to this many pixels (a multiple of 32) before the network sees them.");
  training.AddInteger("iterations", r.iterations, defaults.iterations)
    .LongFlag("iterations")
    .Label("Iterations")
    .Range(1, 100000, 100)
    .Description("Training steps; the paper uses 2000 to 3000.");
  training.AddBoolean("imagenetEncoder", r.fetchMissingWeights)
    .LongFlag("imagenetEncoder")
    .Label("Start from ImageNet")
    .Description("Start the encoder from the backbone's torchvision ImageNet weights, as the paper does: downloaded "
                 "once from download.pytorch.org (SHA-256 checked, resumed when interrupted) into the weights cache "
                 "that `recontrast weights` manages. Off, and no file below: random initialisation (a much weaker "
                 "detector).");
  training.AddFile("encoderWeights", r.encoderWeights)
    .LongFlag("encoderWeights")
    .FileExtensions(".pth")
    .Label("ImageNet weights file")
    .Description("Instead of the download: torchvision ImageNet weights of the backbone already on this computer "
                 "(the .pth file torchvision downloads for it, e.g. resnet18-f37072fd.pth).");
  recontrast::cli::AddDeviceParameter(training, r.device, "Where the training runs: the CPU or an NVIDIA GPU.");
  recontrast::cli::AddThreadsParameter(training, r.threads);

  auto & advanced = d.AddGroup("Advanced", "Settings with good defaults.", true);
  advanced.AddInteger("batchSize", r.batchSize, defaults.batchSize)
    .LongFlag("batchSize")
    .Label("Batch size")
    .Range(1, 256, 1)
    .Description("Slices per training step.");
  advanced.AddString("intensity", r.intensity, "")
    .LongFlag("intensity")
    .Label("Intensity preset")
    .Description("mr, ct-brain, ct-lung, window:lower:upper, bytes, ...; empty: bytes for colour pictures, mr "
                 "otherwise.");
  advanced.AddBoolean("context", r.context)
    .LongFlag("context")
    .Label("2.5-D context")
    .Description("Give the network the neighbouring slices as colour channels instead of one grey slice three "
                 "times.");
  advanced.AddStringEnumeration("mapPairs", r.mapPairs, recontrast::MapPairsNames(), defaults.mapPairs)
    .LongFlag("mapPairs")
    .Label("Map pairs")
    .Description("Feature pairs summed into the anomaly map: all six (the paper), or the three whose targets are the "
                 "frozen encoder's features, which place anomalies better after a short training from a random "
                 "encoder.");
  advanced.AddDouble("calibrationFraction", r.calibrationFraction, defaults.calibrationFraction)
    .LongFlag("calibrationFraction")
    .Label("Calibration share")
    .Range(0, 0.5, 0.05)
    .Description("Share of the normal slices held out to calibrate scores and recommend a threshold (0: train on "
                 "all, as the paper).");
  advanced.AddInteger("seed", r.seed, defaults.seed)
    .LongFlag("seed")
    .Label("Random seed")
    .Description("Seed of the initialisation and the data order.");

  auto & results = d.AddGroup("Results", "What the training produced.");
  results.AddFloatResult("finalLoss").Label("Final loss").Description("The training loss at the last iteration.");
  results.AddIntegerResult("trainingSamples")
    .Label("Training slices")
    .Description("How many normal slices the model learnt from.");
  results.AddFloatResult("recommendedThreshold")
    .Label("Recommended threshold")
    .Description("The threshold the calibration recommends in the units of the detection module's maps: "
                 "standard deviations above normal (0 when the model is not calibrated).");
  return d;
}

std::vector<std::pair<std::string, std::string>>
Run(recontrast::cli::TrainingRequest r)
{
  if (r.data.empty() || r.output.empty())
  {
    throw recontrast::Error("A folder of normal scans (--data) and a model file to write (--outputModel) are "
                            "required (run with --help).");
  }
  if (r.fetchMissingWeights)
  {
    if (!r.encoderWeights.empty())
    {
      throw recontrast::Error("Choose either \"Start from ImageNet\" or an ImageNet weights file, not both.");
    }
    r.encoderWeights = "imagenet"; // from the weights cache, downloaded first when missing
  }
  // Slicer starts one process: a launcher's variables it may have inherited do not make it wait for others.
  r.distributed = "off";
  std::signal(SIGTERM, OnTerminate);
  std::signal(SIGINT, OnTerminate);
  const nlohmann::json report =
    recontrast::cli::RunTraining(r, recontrast::cli::ProgressReporter::Style::Slicer, [] { return g_Terminated == 0; });
  const auto & calibration = report["calibration"];
  // The detection module writes calibrated maps for a calibrated model: the threshold in their units, as
  // ReContrastModelInfo gives it.
  const double threshold = calibration["valid"].get<bool>() ? recontrast::ScoreCalibration::CalibratedThreshold : 0.0;
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
  module.description = Describe(request);
  module.run = [&] { return Run(request); };
  return recontrast::cli::RunSlicerCliModule(module, argc, argv);
}
