/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Scoring scans with one loaded model: what `recontrast infer` and the Slicer CLI module share.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_Inference_h
#define ReContrast_CLI_Inference_h

#include "ProgressReporter.h"
#include "ReContrast/DicomSeriesReader.h"
#include "ReContrast/ModelDescription.h"
#include "ReContrast/Predictor.h"
#include "itkImageIOBase.h"
#include "itkReContrastIntensityPreset.h"
#include "itkReContrastSliceResampler.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <utility>
#include <vector>
#include <string>

namespace recontrast::cli
{

/** Throws recontrast::Error naming `what` when the folder that would hold `path` does not exist,
 * before any work starts (outputs are written at the end). */
void RequireFolderOf(const std::string & path, const char * what);

/** The command's one DICOM series reader (the largest series of a folder, or the one named by its
 * Series Instance UID), for training, evaluation and inference alike; its notes (files skipped,
 * other series) go to stderr, each once. */
std::shared_ptr<const dicom::SeriesFolderReader> DicomReader(const std::string & seriesInstanceUid = "");

/** How a model wants its scans prepared, from the properties its training stored in the file. */
struct ScanPreparation
{
  itk::ReContrastIntensityPreset preset;
  bool context = false; ///< 2.5-D: neighbouring slices as channels.
  double minimumForeground = 0.05;
  bool presetGiven = true; ///< False: neither the model nor the user chose the preset.
  /** How slices fill the model's square (the model's "resize"; older models kept the aspect ratio). */
  itk::ReContrastSliceResampler::Fit fit = itk::ReContrastSliceResampler::Fit::PreserveAspect;
};

/** The intensity preset for data that neither a model nor the user gives one: "bytes" for 8-bit
 * pictures (grey or colour PNG and JPEG; the paper's x / 255 before ImageNet normalisation),
 * "mr" (robust percentiles) for scans. `io` has read the file's header; null stands for a DICOM
 * series folder. */
std::string DefaultIntensity(const itk::ImageIOBase * io);

/** DefaultIntensity of the file or DICOM folder at `path`; "mr" when it cannot be read (reading it for
 * the work itself then names the problem). */
std::string DefaultIntensity(const std::string & path);

/** The model's preparation; intensityOverride (when not empty) replaces its intensity preset. A model
 * without a preset (imported from torchvision weights, or older files) leaves presetGiven false:
 * each input then gets its DefaultIntensity. */
ScanPreparation PreparationOf(const ModelDescription & model, const std::string & intensityOverride = "");

/** One scan to score and the files to write for it (empty: not written). */
struct InferenceJob
{
  std::string input;  ///< An image file or a DICOM series folder.
  std::string output; ///< The anomaly map file (empty: none, as for the DICOM node).
  std::string labels;
  std::string overlay;
  std::string dicomOutput; ///< A folder for the DICOM Parametric Map and SEG (the input must be a DICOM series).
};

/** Removes files a job wrote (`files`, and the DICOM results its `report` names): what is done when a
 * later step fails, so that a job leaves all of its outputs or none. */
void RemoveOutputs(const std::vector<std::string> & files, const nlohmann::json & report);

/** Refuses outputs that would overwrite the input or each other: one sentence naming both. */
void RequireDistinctPaths(const std::string & input, const std::vector<std::pair<std::string, std::string>> & outputs);

/** Anomaly maps, region tables and pictures for scans with one loaded model: the work that
 * `recontrast infer` and the Slicer CLI module share. */
class ScanInference
{
public:
  struct Options
  {
    std::string model;
    PredictorOptions predictor;
    std::string intensity;   ///< Empty: the model's preset.
    std::string series;      ///< Series Instance UID to read from a DICOM folder (empty: the largest series).
    double threshold = -1.0; ///< Negative: the model's recommended threshold, if calibrated.
    /** Maps in standard deviations above normal when the model is calibrated (the threshold is then
     * in those units too); false: the raw map of the method. */
    bool calibratedMap = true;
    ProgressReporter::Style progress = ProgressReporter::Style::Console;
  };

  /** Loads the model; throws recontrast::Error when it cannot. */
  explicit ScanInference(const Options & options);

  /** The threshold in use (negative: none, no regions are reported). */
  double Threshold() const { return m_Threshold; }
  const ModelDescription & Model() const { return m_Predictor->Description(); }

  /** Scores one scan and writes its files (each atomically); returns its report: score,
   * calibrated score, slice scores and axis, regions. Throws recontrast::Error on bad input. */
  nlohmann::json Run(const InferenceJob & job) const;

  /** The settings every report records. */
  nlohmann::json Settings() const;

private:
  Options m_Options;
  std::shared_ptr<Predictor> m_Predictor;
  std::shared_ptr<const dicom::SeriesFolderReader> m_DicomReader;
  ScanPreparation m_Preparation;
  double m_Threshold = -1.0;
};

} // namespace recontrast::cli

#endif
