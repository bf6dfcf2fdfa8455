/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Training a ReContrast model on normal images and writing its model file.
 *
 *=========================================================================*/
#ifndef ReContrast_Trainer_h
#define ReContrast_Trainer_h

#include "ReContrast/Distributed.h"
#include "ReContrast/ModelDescription.h"
#include "ReContrast/ReContrastExport.h"
#include "ReContrast/SampleSource.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace recontrast
{

/** Settings of a training run; the defaults are the official MVTec AD recipe (Documentation/Engine.md, Method 6). */
struct RECONTRAST_EXPORT TrainingOptions
{
  Backbone backbone = Backbone::WideResNet50_2;
  int imageSize = 256;
  int iterations = 2000;
  int batchSize = 16;
  uint64_t seed = 111;
  EncoderBatchNormMode encoderBatchNorm = EncoderBatchNormMode::Train;
  double decoderLearningRate = 2e-3; ///< Decoder and bottleneck (AdamW).
  double encoderLearningRate = 1e-5; ///< Trainable encoder (AdamW).
  double weightDecay = 1e-5;
  double alphaRampFraction = 0.1; ///< Hard-mining alpha reaches 1 after this fraction of the iterations.
  /** The pairs the model's maps sum (recorded in the model; training itself uses all six). */
  MapPairs mapPairs = MapPairs::All;

  /** torchvision ImageNet weights (e.g. wide_resnet50_2-95faca4d.pth) for both encoder views;
   * empty: the encoder starts from torchvision's random initialisation. */
  std::string encoderWeights;
  /** A model file to start from instead (e.g. made by `recontrast import --torchvision`). */
  std::string initialModel;

  std::string device = "cpu";
  int threads = 0;         ///< LibTorch intra-op threads; 0 uses every core.
  int loaderWorkers = 2;   ///< Threads that decode and pre-process samples (0: in the training thread).
  int prefetchBatches = 2; ///< Batches prepared ahead of the model.

  /** Fraction of the samples held out of training to calibrate the scores of normal images
   * (at least one sample when > 0). 0 trains on every sample, as the official code does. */
  double calibrationFraction = 0.1;

  /** Write a checkpoint every N iterations (0: never) to `<model>.checkpoint`, atomically. */
  int checkpointEvery = 0;
  /** Continue from `<model>.checkpoint` when it exists. */
  bool resume = false;

  /** Data-parallel training (Documentation/Scaling.md): this process's place among the processes
   * its launcher started; each takes its shard of every batch and they train one model. Only rank 0
   * writes checkpoints and the model. Default: alone. */
  DistributedSettings distributed;

  /** Settings of the layers above (intensity preset, channel mode, ...), stored in the model file
   * (ModelDescription::properties) so that inference uses the same pre-processing. */
  std::map<std::string, std::string> modelProperties;

  /** Throws Error when a value is out of range. */
  void Validate() const;
};

/** What the trainer reports after each iteration. */
struct RECONTRAST_EXPORT TrainingProgress
{
  int iteration = 0; ///< Iterations done so far (1..total).
  int totalIterations = 0;
  double loss = 0.0;
  double alpha = 0.0;
  double elapsedSeconds = 0.0;
  double remainingSeconds = 0.0;
};

/** Called after each iteration; return false to cancel (a checkpoint is written first when
 * checkpoints are enabled, then Train() throws Cancelled). */
using TrainingProgressCallback = std::function<bool(const TrainingProgress &)>;

struct RECONTRAST_EXPORT TrainingResult
{
  ModelDescription description;
  std::vector<double> lossHistory; ///< One value per iteration, from the first (also when resumed).
  int startIteration = 0;          ///< 0, or where a resumed run started.
  double seconds = 0.0;
  double loopSeconds = 0.0; ///< The training iterations alone (no start-up, calibration or writing).

  /** Data-parallel training: this process's rank and the number of processes. Only rank 0 writes
   * the model; the others return with modelWritten false. */
  int rank = 0;
  int processes = 1;
  bool modelWritten = true;
  /** Seconds waiting for the gradient sums after backward (what backward did not hide), and in the
   * sums of the whole batch's statistics (BatchNorm, hard mining), over the iterations run. */
  double gradientSumSeconds = 0.0;
  double batchStatisticsSeconds = 0.0;
  size_t gradientBuckets = 0;
};

/** Trains a ReContrast model on normal images (Documentation/Engine.md, Methods 5-6) and writes the model file. */
class RECONTRAST_EXPORT Trainer
{
public:
  explicit Trainer(const TrainingOptions & options);
  ~Trainer();
  Trainer(const Trainer &) = delete;
  Trainer & operator=(const Trainer &) = delete;

  void SetProgressCallback(TrainingProgressCallback callback);

  /** Runs the whole training and writes `modelPath` atomically. Throws Error on bad input and
   * Cancelled when the progress callback asks to stop (in data-parallel training: in any process;
   * the callback is called in every process with the whole batch's loss). */
  TrainingResult Train(const SampleSource & source, const std::string & modelPath);

  /** The checkpoint file used for `modelPath`. */
  static std::string CheckpointPath(const std::string & modelPath);

  struct Impl;

private:
  std::unique_ptr<Impl> m_Impl;
};

} // namespace recontrast

#endif
