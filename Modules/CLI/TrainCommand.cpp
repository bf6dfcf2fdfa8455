/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast train`: a model from a folder of normal scans.
 *
 *=========================================================================*/
#include "Commands.h"
#include "OptionChecks.h"

#include "ReContrast/ModelConfig.h"
#include "Training.h"

#include <csignal>
#include <cstdio>

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

} // namespace

TrainCommand::TrainCommand(CLI::App & app)
  : m_Command(app.add_subcommand("train", "Train a model on normal scans or pictures."))
{
  auto * c = m_Command;
  c->add_option("--data",
                m_Request.data,
                "Normal training data: a folder, a list file (one path per line) or an MVTec-style "
                "folder (train/good/); volumes (NIfTI, NRRD, MetaImage, DICOM folders) and pictures")
    ->required();
  c->add_option("--out", m_Request.output, "The model file to write")->required();
  c->add_option("--backbone", m_Request.backbone, "Encoder backbone")
    ->capture_default_str()
    ->check(CLI::IsMember(BackboneNames()));
  c->add_option("--image-size", m_Request.imageSize, "Model input size in pixels (a multiple of 32)")
    ->capture_default_str()
    ->check(WholeNumber(32, 4096));
  c->add_option("--iterations", m_Request.iterations, "Training iterations")
    ->capture_default_str()
    ->check(WholeNumber(1, 100000000));
  c->add_option("--batch-size", m_Request.batchSize, "Images per iteration")
    ->capture_default_str()
    ->check(WholeNumber(1, 4096));
  c->add_option("--seed", m_Request.seed, "Random seed (initialisation and data order)")
    ->capture_default_str()
    ->check(WholeNumber(0, 4294967295LL));
  c->add_option("--encoder-weights",
                m_Request.encoderWeights,
                "Start the encoder from ImageNet: imagenet (the backbone's torchvision weights from the cache, "
                "see `recontrast weights`) or a torchvision weights file (.pth); default: random")
    ->check(CLI::IsMember({ "imagenet" }) | CLI::ExistingFile);
  c->add_option("--init", m_Request.initialModel, "Start from this model file (e.g. made by `recontrast import`)")
    ->check(CLI::ExistingFile);
  c->add_option("--encoder-bn", m_Request.encoderBatchNorm, "Trainable encoder BatchNorm mode during training")
    ->capture_default_str()
    ->check(CLI::IsMember({ "train", "eval" }));
  c->add_option("--map-pairs",
                m_Request.mapPairs,
                "Feature pairs summed into the anomaly map: all (the paper's six) or frozen (the three whose targets "
                "are the frozen encoder's features: they localise better after a short training from a random "
                "encoder, as the demo's)")
    ->capture_default_str()
    ->check(CLI::IsMember(MapPairsNames()));
  c->add_option("--device", m_Request.device, "cpu, cuda or cuda:N")->capture_default_str();
  c->add_option("--threads", m_Request.threads, "CPU threads (0: every core)")
    ->capture_default_str()
    ->check(WholeNumber(0, 1024));
  c->add_option(
     "--checkpoint-every", m_Request.checkpointEvery, "Write <model>.checkpoint every N iterations (0: never)")
    ->capture_default_str()
    ->check(WholeNumber(0, 100000000));
  c->add_flag("--resume", m_Request.resume, "Continue from <model>.checkpoint when it exists");
  c->add_option("--intensity",
                m_Request.intensity,
                "Intensity preset: mr, mr:<low>:<high>, ct-brain, ct-lung, ..., "
                "window:<lower>:<upper>, bytes (8-bit pictures); default: bytes when the data are colour "
                "pictures, mr otherwise");
  c->add_option("--resize",
                m_Request.resize,
                "How each slice fills the model's square input: auto (stretch for 8-bit pictures, as the paper "
                "resizes them; fit for scans), fit (the aspect ratio kept, padded) or stretch")
    ->capture_default_str()
    ->check(CLI::IsMember({ "auto", "fit", "stretch" }));
  c->add_flag("--context", m_Request.context, "2.5-D: the neighbouring slices as the colour channels");
  c->add_option("--calibration-fraction",
                m_Request.calibrationFraction,
                "Fraction of the normal slices held out to calibrate scores (0: train on all, as the paper)")
    ->capture_default_str()
    ->check(FiniteNumber(0.0, 1.0));
  c->add_option(
     "--min-foreground", m_Request.minimumForeground, "Skip slices whose foreground covers less than this fraction")
    ->capture_default_str()
    ->check(FiniteNumber(0.0, 1.0));
  c->add_option("--distributed",
                m_Request.distributed,
                "auto: under torchrun or srun, join the other processes and train one model on the shared "
                "batches (rank 0 writes it); off: train alone (Documentation/Scaling.md)")
    ->capture_default_str()
    ->check(CLI::IsMember({ "auto", "off" }));
}

int
TrainCommand::Run() const
{
  g_Interrupted = 0;
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  const nlohmann::json report =
    RunTraining(m_Request, ProgressReporter::Style::Console, [] { return g_Interrupted == 0; });
  if (!report.value("model_written", true))
  {
    return 0; // another process of a distributed training wrote the model
  }
  std::printf("recontrast: wrote %s\nrecontrast: report %s\nrecontrast: loss curve %s\n",
              m_Request.output.c_str(),
              TrainingReportPath(m_Request.output).c_str(),
              LossCurvePath(m_Request.output).c_str());
  return 0;
}

} // namespace recontrast::cli
