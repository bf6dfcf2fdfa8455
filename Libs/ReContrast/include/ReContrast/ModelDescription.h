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
#include <utility>
#include <vector>

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

/** The normal slice scores near one position along a scan's slice axis (0: the first slice of the
 * scan's foreground, 1: the last). */
struct RECONTRAST_EXPORT PositionBin
{
  double position = 0.0; ///< The bin's centre.
  double mean = 0.0;
  double std = 1.0;
  int64_t samples = 0;
};

/** The distribution of image scores on held-out normal images, so that a score can be expressed
 * in standard deviations above normal and a threshold means the same across models.
 *
 * Global form: the held-out slices' mean and SD. Position-aware form (models trained on volumes):
 * a slice-wise model sees few slices like the first and last of an organ, so their scores are high in
 * every scan; `positions` profiles the normal scores along the slice axis (all normal slices binned by
 * position, each bin shrunk toward the whole set where it has few slices), and the held-out slices'
 * scores in units of that profile give `positionLevel` and `positionScale`. */
struct RECONTRAST_EXPORT ScoreCalibration
{
  bool valid = false;
  double mean = 0.0;
  double std = 1.0;
  int64_t samples = 0;
  double recommendedThreshold = 0.0;  ///< In raw score units (the global form: mean + 3 SD).
  std::vector<PositionBin> positions; ///< Empty: the global form only (pictures, older files).
  double positionLevel = 0.0;         ///< Mean of the held-out slices' scores in profile units.
  double positionScale = 1.0;         ///< Their SD.

  /** The map profile (volumes, newer files): where in the slice the normal maps are high and how much
   * they vary there. For each position bin, the mean and SD of the normal map values in each cell of a
   * mapGrid x mapGrid grid over the model's input (row-major, bin after bin). A map is then calibrated
   * pixel by pixel: (value - mean) / SD there, and that in units of the normal slices' largest such
   * value (mapLevel: the held-out slices' mean; mapScale: the larger SD of the held-out and of all
   * slices), so that 3 means 3 SD above the most a normal slice reaches. 0: none. */
  int mapGrid = 0;
  std::vector<float> mapMean;
  std::vector<float> mapStd;
  double mapLevel = 0.0;
  double mapScale = 1.0;

  /** Calibrated values at or above this many standard deviations are anomalous (the recommended
   * threshold of calibrated maps and scores). */
  static constexpr double CalibratedThreshold = 3.0;

  /** The normal score distribution (mean, SD) of a slice at `position` in [0, 1]; the global one for
   * a NaN position (a picture) or without a position profile. Requires `valid`. */
  std::pair<double, double> NormalAt(double position) const;

  /** A raw score or map value of a slice at `position`, in standard deviations of that distribution. */
  double Calibrate(double raw, double position) const;

  /** Whether maps are calibrated pixel by pixel (a map profile is present). */
  bool HasMapProfile() const { return mapGrid > 0 && !positions.empty(); }

  /** Calibrates a slice's smoothed map (size x size, the model's input grid) at `position`: with a map
   * profile pixel by pixel, otherwise with Calibrate. Returns the slice's calibrated score: the largest
   * calibrated value with a map profile, else Calibrate(score, position). Requires `valid`. */
  double CalibrateMap(const float * map, int size, double score, double position, float * calibrated) const;
};

/** One normal slice's score, for fitting a calibration. */
struct RECONTRAST_EXPORT CalibrationSample
{
  double score = 0.0;
  double position = 0.0;  ///< NaN: no position (a picture).
  bool heldOut = false;   ///< Not trained on: its score sets the level and spread.
  std::vector<float> map; ///< Its smoothed map (model input size, row-major) for the map profile; may be empty.
};

/** Fits the calibration: the global form from the held-out samples, the position profile when the
 * samples have positions, and the map profile when they also have maps. Throws Error without held-out
 * samples. */
RECONTRAST_EXPORT ScoreCalibration FitScoreCalibration(const std::vector<CalibrationSample> & samples);

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
