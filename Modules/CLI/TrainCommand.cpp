/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast train`: a model from a folder of normal scans.
 *
 *=========================================================================*/
#include "Commands.h"

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
  TrainingRequest request;
  request.data = m_Data;
  request.output = m_Output;
  request.backbone = m_Backbone;
  request.imageSize = m_ImageSize;
  request.iterations = m_Iterations;
  request.batchSize = m_BatchSize;
  request.seed = m_Seed;
  request.encoderWeights = m_EncoderWeights;
  request.initialModel = m_InitialModel;
  request.encoderBatchNorm = m_EncoderBatchNorm;
  request.device = m_Device;
  request.threads = m_Threads;
  request.checkpointEvery = m_CheckpointEvery;
  request.resume = m_Resume;
  request.intensity = m_Intensity;
  request.context = m_Context;
  request.calibrationFraction = m_CalibrationFraction;
  request.minimumForeground = m_MinimumForeground;
  g_Interrupted = 0;
  std::signal(SIGINT, OnInterrupt);
  std::signal(SIGTERM, OnInterrupt);
  RunTraining(request, ProgressReporter::Style::Console, [] { return g_Interrupted == 0; });
  std::printf("recontrast: wrote %s\nrecontrast: report %s\nrecontrast: loss curve %s\n",
              m_Output.c_str(),
              TrainingReportPath(m_Output).c_str(),
              LossCurvePath(m_Output).c_str());
  return 0;
}

} // namespace recontrast::cli
