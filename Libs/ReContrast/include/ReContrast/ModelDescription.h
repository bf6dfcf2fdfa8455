/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  What a model file says about itself: configuration, calibration, properties, training summary.
 *
 *=========================================================================*/
#ifndef ReContrast_ModelDescription_h
#define ReContrast_ModelDescription_h

#include "ReContrast/ModelConfig.h"
#include "ReContrast/ReContrastExport.h"

#include <cstdint>
#include <map>
#include <string>

namespace recontrast
{

/** How a model was trained (recorded in the model file, shown by `recontrast info`). */
struct RECONTRAST_EXPORT TrainingRecord
{
  int iterations = 0;
  int batchSize = 0;
  uint64_t seed = 0;
  EncoderBatchNormMode encoderBatchNorm = EncoderBatchNormMode::Train;
  std::string encoderWeights; ///< Where the encoder started: "random", a torchvision file name, ...
  int64_t trainingSamples = 0;
  std::string dataSummary; ///< Free text from the sample source (folders, number of scans, ...).
  double finalLoss = 0.0;
  std::string createdAt; ///< ISO 8601, UTC.
  std::string engineVersion;
};

/** The distribution of image scores on held-out normal images, so that a score can be expressed
 * in standard deviations above normal and a threshold means the same across models. */
struct RECONTRAST_EXPORT ScoreCalibration
{
  bool valid = false;
  double mean = 0.0;
  double std = 1.0;
  int64_t samples = 0;
  double recommendedThreshold = 0.0; ///< In raw score units.
};

/** Everything a model file says about its model besides the weights. */
struct RECONTRAST_EXPORT ModelDescription
{
  ModelConfig config;
  TrainingRecord training;
  ScoreCalibration calibration;
  /** Settings of the layers above the engine (intensity preset, channel mode, slice axis, ...),
   * stored and returned verbatim. */
  std::map<std::string, std::string> properties;
};

/** Reads only the description of a model file (fast: the weights are not loaded).
 * Throws Error when the file is not a ReContrast model file, has another format version or is damaged. */
RECONTRAST_EXPORT ModelDescription ReadModelDescription(const std::string & path);

/** True when the file starts like a ReContrast model file (decided by content, not by the name). */
RECONTRAST_EXPORT bool IsModelFile(const std::string & path);

/** The current model-file format version. */
RECONTRAST_EXPORT int ModelFileFormatVersion();

} // namespace recontrast

#endif
