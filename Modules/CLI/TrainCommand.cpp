#include "Commands.h"

#include "Inference.h"
#include "ProgressReporter.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/CurvePlot.h"
#include "ReContrast/Error.h"
#include "ReContrast/Trainer.h"
#include "itkImageIOFactory.h"
#include "itkReContrastScanSampleSource.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <csignal>
#include <filesystem>

namespace recontrast::cli
{

namespace
{
volatile std::sig_atomic_t g_Interrupted = 0;

void
OnInterrupt(int)
{
  g_Interrupted = 1;
}

std::string
SiblingPath(const std::string & modelPath, const std::string & suffix)
{
  const std::filesystem::path model(modelPath);
  return (model.parent_path() / (model.stem().string() + suffix)).string();
}

// 8-bit colour pictures (MVTec-style data) are scaled as bytes; scans get robust MR percentiles.
std::string
DefaultIntensity(const std::string & firstScan)
{
  if (!std::filesystem::is_directory(firstScan))
  {
    itk::ImageIOBase::Pointer io =
      itk::ImageIOFactory::CreateImageIO(firstScan.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
    try
    {
      if (io)
      {
        io->SetFileName(firstScan);
        io->ReadImageInformation();
        if (io->GetNumberOfComponents() == 3 || io->GetNumberOfComponents() == 4)
        {
          return "bytes";
        }
      }
    }
    catch (const itk::ExceptionObject &)
    {
      // Reading the data for training names the unreadable file.
    }
  }
  return "mr";
}
} // namespace

TrainCommand::TrainCommand(CLI::App & app)
  : m_Command(app.add_subcommand("train", "Train a model on normal scans or pictures."))
{
  auto * c = m_Command;
  c->add_option("--data",
                m_Data,
                "Normal training data: a folder, a list file (one path per line) or an MVTec-style "
                "folder (train/good/); volumes (NIfTI, NRRD, MetaImage, DICOM folders) and pictures")
    ->required();
  c->add_option("--out", m_Output, "The model file to write")->required();
  c->add_option("--backbone", m_Backbone, "Encoder backbone")
    ->capture_default_str()
    ->check(CLI::IsMember(BackboneNames()));
  c->add_option("--image-size", m_ImageSize, "Model input size in pixels (a multiple of 32)")->capture_default_str();
  c->add_option("--iterations", m_Iterations, "Training iterations")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--batch-size", m_BatchSize, "Images per iteration")->capture_default_str()->check(CLI::PositiveNumber);
  c->add_option("--seed", m_Seed, "Random seed (initialisation and data order)")->capture_default_str();
  c->add_option("--encoder-weights", m_EncoderWeights, "torchvision ImageNet weights for the encoder (.pth)")
    ->check(CLI::ExistingFile);
  c->add_option("--init", m_InitialModel, "Start from this model file (e.g. made by `recontrast import`)")
    ->check(CLI::ExistingFile);
  c->add_option("--encoder-bn", m_EncoderBatchNorm, "Trainable encoder BatchNorm mode during training")
    ->capture_default_str()
    ->check(CLI::IsMember({ "train", "eval" }));
  c->add_option("--device", m_Device, "cpu, cuda or cuda:N")->capture_default_str();
  c->add_option("--threads", m_Threads, "CPU threads (0: every core)")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
  c->add_option("--checkpoint-every", m_CheckpointEvery, "Write <model>.checkpoint every N iterations (0: never)")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
  c->add_flag("--resume", m_Resume, "Continue from <model>.checkpoint when it exists");
  c->add_option("--intensity",
                m_Intensity,
                "Intensity preset: mr, mr:<low>:<high>, ct-brain, ct-lung, ..., "
                "window:<lower>:<upper>, bytes (8-bit pictures); default: bytes when the data are colour "
                "pictures, mr otherwise");
  c->add_flag("--context", m_Context, "2.5-D: the neighbouring slices as the colour channels");
  c->add_option("--calibration-fraction",
                m_CalibrationFraction,
                "Fraction of the normal slices held out to calibrate scores (0: train on all, as the paper)")
    ->capture_default_str();
  c->add_option("--min-foreground", m_MinimumForeground, "Skip slices whose foreground covers less than this fraction")
    ->capture_default_str();
}

int
TrainCommand::Run() const
{
  TrainingOptions options;
  options.backbone = BackboneFromString(m_Backbone);
  options.imageSize = m_ImageSize;
  options.iterations = m_Iterations;
  options.batchSize = m_BatchSize;
  options.seed = m_Seed;
  options.encoderBatchNorm = EncoderBatchNormModeFromString(m_EncoderBatchNorm);
  options.encoderWeights = m_EncoderWeights;
  options.initialModel = m_InitialModel;
  options.device = m_Device;
  options.threads = m_Threads;
  options.checkpointEvery = m_CheckpointEvery;
  options.resume = m_Resume;
  options.calibrationFraction = m_CalibrationFraction;
  std::vector<std::string> scans;
  try
  {
    scans = itk::ReContrastScanSampleSource::ListScans(m_Data);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(e.GetDescription());
  }
  const std::string intensity = m_Intensity.empty() ? DefaultIntensity(scans.front()) : m_Intensity;
  // The model's pre-processing travels with it: infer uses the same settings by default.
  options.modelProperties = { { "intensity", intensity },
                              { "channel_mode", m_Context ? "context" : "replicated" },
                              { "min_foreground", fmt::format("{}", m_MinimumForeground) } };
  options.Validate();

  itk::ReContrastScanSampleSource::Settings settings;
  try
  {
    settings.slices.preset = itk::ReContrastIntensityPreset::FromString(intensity);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(e.GetDescription());
  }
  settings.slices.context = m_Context;
  settings.slices.minimumForegroundFraction = m_MinimumForeground;
  settings.seriesFolderReader = DicomSeriesFolderReader();

  std::fprintf(stderr, "recontrast: indexing the training data in %s\n", m_Data.c_str());
  std::unique_ptr<itk::ReContrastScanSampleSource> source;
  try
  {
    source = std::make_unique<itk::ReContrastScanSampleSource>(scans, settings);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(e.GetDescription());
  }
  std::fprintf(
    stderr, "recontrast: training %s at %d px on %s\n", m_Backbone.c_str(), m_ImageSize, source->Summary().c_str());

  Trainer trainer(options);
  ProgressReporter progress("training");
  g_Interrupted = 0;
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  trainer.SetProgressCallback([&](const TrainingProgress & p) {
    progress.Update(static_cast<double>(p.iteration) / p.totalIterations,
                    fmt::format("it {}/{} loss {:.4f}", p.iteration, p.totalIterations, p.loss));
    return g_Interrupted == 0;
  });
  TrainingResult result;
  try
  {
    result = trainer.Train(*source, m_Output);
  }
  catch (const itk::ExceptionObject & e)
  {
    progress.Finish();
    throw Error(e.GetDescription());
  }
  catch (const Error &)
  {
    progress.Finish();
    throw;
  }
  progress.Finish();

  nlohmann::json report{ { "model", m_Output },
                         { "backbone", m_Backbone },
                         { "image_size", m_ImageSize },
                         { "iterations", m_Iterations },
                         { "batch_size", m_BatchSize },
                         { "seed", m_Seed },
                         { "encoder_batchnorm", m_EncoderBatchNorm },
                         { "intensity", intensity },
                         { "context", m_Context },
                         { "data", m_Data },
                         { "samples", source->Size() },
                         { "start_iteration", result.startIteration },
                         { "seconds", result.seconds },
                         { "final_loss", result.lossHistory.empty() ? 0.0 : result.lossHistory.back() },
                         { "loss", result.lossHistory },
                         { "calibration",
                           { { "valid", result.description.calibration.valid },
                             { "mean", result.description.calibration.mean },
                             { "std", result.description.calibration.std },
                             { "recommended_threshold", result.description.calibration.recommendedThreshold } } } };
  const std::string reportPath = SiblingPath(m_Output, ".training.json");
  AtomicFile reportFile(reportPath);
  reportFile.Stream() << report.dump(2) << '\n';
  reportFile.Commit();
  const std::string curvePath = SiblingPath(m_Output, ".loss.png");
  visualization::WriteCurvePng(result.lossHistory, "Training loss", "iteration", "loss", curvePath);
  std::printf("recontrast: wrote %s\nrecontrast: report %s\nrecontrast: loss curve %s\n",
              m_Output.c_str(),
              reportPath.c_str(),
              curvePath.c_str());
  return 0;
}

} // namespace recontrast::cli
