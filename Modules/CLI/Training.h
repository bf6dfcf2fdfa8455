/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Training from a folder of scans: what `recontrast train` and the Slicer CLI module share.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_Training_h
#define ReContrast_CLI_Training_h

#include "ProgressReporter.h"
#include "ReContrast/ModelConfig.h"
#include "ReContrast/Trainer.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace recontrast::cli
{

/** What to train on and how: the settings `recontrast train` and the Slicer CLI module
 * ReContrastTrainModel share. The defaults are the engine's (TrainingOptions), so that the command,
 * the Slicer module and the engine name one recipe. */
struct TrainingRequest
{
  std::string data;   ///< A folder, a list file or an MVTec-style folder of normal scans.
  std::string output; ///< The model file to write.
  std::string backbone = DefaultBackboneName();
  int imageSize = TrainingOptions{}.imageSize;
  int iterations = TrainingOptions{}.iterations;
  int batchSize = TrainingOptions{}.batchSize;
  uint64_t seed = TrainingOptions{}.seed;
  /** torchvision ImageNet weights (.pth), or "imagenet": the backbone's catalogue weights in the
   * weights cache; empty: random initialisation. */
  std::string encoderWeights;
  bool fetchMissingWeights = false; ///< With "imagenet": download them first when the cache lacks them.
  std::string initialModel;         ///< A model file to start from; empty: none.
  std::string encoderBatchNorm = ToString(TrainingOptions{}.encoderBatchNorm);
  std::string mapPairs = ToString(TrainingOptions{}.mapPairs);
  std::string device = TrainingOptions{}.device;
  int threads = TrainingOptions{}.threads;
  int checkpointEvery = TrainingOptions{}.checkpointEvery;
  bool resume = false;
  std::string intensity; ///< Empty: "bytes" for colour pictures, "mr" otherwise.
  bool context = false;
  double calibrationFraction = TrainingOptions{}.calibrationFraction;
  double minimumForeground = 0.05;
  /** How slices fill the model's square: auto (stretch for 8-bit pictures, as the paper resizes them;
   * fit, the aspect ratio kept, for scans), fit or stretch. */
  std::string resize = "auto";
  /** auto: join the processes torchrun or srun started (each trains on its share of every batch;
   * rank 0 writes the model and the reports); off: train alone (Documentation/Scaling.md). */
  std::string distributed = "auto";
};

/** Trains a model and writes it with its training report (<model>.training.json) and loss curve
 * (<model>.loss.png), each atomically. `keepGoing` is asked after every iteration; false stops the
 * training without writing a model (the last checkpoint, if any, stays for --resume). Returns the
 * training report. Throws recontrast::Error with one sentence on bad input. In a data-parallel
 * training, processes other than rank 0 write nothing and return {"model_written": false, "rank": R}. */
nlohmann::json RunTraining(const TrainingRequest & request, ProgressReporter::Style progressStyle,
                           const std::function<bool()> & keepGoing);

/** The paths of the files RunTraining writes next to the model. */
std::string TrainingReportPath(const std::string & modelPath);
std::string LossCurvePath(const std::string & modelPath);

} // namespace recontrast::cli

#endif
