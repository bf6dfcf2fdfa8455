/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Scoring scans with one loaded model: what `recontrast infer` and the Slicer CLI module share.
 *
 *=========================================================================*/
#include "Inference.h"

#include "ReContrast/AtomicFile.h"
#include "ReContrast/DicomResultWriter.h"
#include "ReContrast/Error.h"
#include "ReContrast/HeatDisplay.h"
#include "ReContrast/Version.h"
#include "ReContrast/OverlayRenderer.h"
#include "itkReContrastExceptionText.h"
#include "itkCommand.h"
#include "itkImageFileReader.h"
#include "itkReContrastImageFiles.h"
#include "itkImageFileWriter.h"
#include "itkRGBPixel.h"
#include "itkReContrastAnomalyImageFilter.h"
#include "itkReContrastImageSlices.h"
#include "itkReContrastAnomalyRegionsImageFilter.h"
#include "RegionReport.h"
#include "itkReContrastScanSampleSource.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <numeric>
#include <optional>
#include <type_traits>

namespace recontrast::cli
{

namespace
{
namespace fs = std::filesystem;

template <typename TImage>
void
WriteImageAtomically(const TImage * image, const std::string & path)
{
  try
  {
    itk::ReContrastWriteImageFile(image, path);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(itk::ReContrastExceptionText(e)); // the sentence names the file
  }
}

// The error of an input that cannot be read: one sentence that names it once.
Error
ReadFailure(const std::string & path, const itk::ExceptionObject & e)
{
  const std::string text = itk::ReContrastExceptionText(e);
  const std::string quoted = "'" + path + "'";
  if (text.rfind(quoted, 0) == 0)
  {
    return Error("The input " + text);
  }
  return Error(fmt::format("Cannot read the input '{}': {}", path, text));
}

// Reads the input; a DICOM folder (3-D) keeps what its DICOM results need in `series`.
template <typename TImage>
typename TImage::Pointer
ReadImage(const std::string & path, itk::ImageIOBase * checked, const dicom::SeriesFolderReader & dicomReader,
          std::optional<dicom::Series> & series)
{
  if constexpr (std::is_same_v<TImage, dicom::Series::VolumeType>)
  {
    if (fs::is_directory(path))
    {
      series = dicomReader.Read(path);
      return series->volume;
    }
  }
  return itk::ReContrastReadImageFile<TImage>(path, checked);
}

struct ImageJob
{
  const InferenceJob & job;
  itk::ImageIOBase * checked; // the input file, checked and its header read; null for a DICOM folder
  const std::shared_ptr<Predictor> & predictor;
  const ScanPreparation & preparation;
  double threshold;
  bool calibratedMap;
  ProgressReporter::Style progress;
  const dicom::SeriesFolderReader & dicomReader;
};

// The Parametric Map and (with a threshold) the SEG of a DICOM input, in job.dicomOutput.
nlohmann::json
WriteDicomResults(const dicom::Series & series, const dicom::MapVolumeType * map, const dicom::LabelVolumeType * labels,
                  const ModelDescription & model, int imageSize, bool calibrated, const std::string & folder)
{
  dicom::ResultDescription description;
  description.algorithmVersion = Version();
  description.modelDescription = fmt::format("{} backbone, {} px", ToString(model.config.backbone), imageSize);
  description.calibrated = calibrated;
  nlohmann::json written{ { "source_series", series.seriesInstanceUid } };
  // Both objects or neither. The folder is made only now, and removed again when this made it and
  // writing failed.
  std::error_code error;
  const bool madeFolder = !fs::exists(folder, error);
  fs::create_directories(folder, error);
  if (error)
  {
    throw Error(fmt::format("Cannot create the DICOM output folder '{}': {}.", folder, error.message()));
  }
  const fs::path mapPath = fs::path(folder) / "anomaly_map.dcm";
  const fs::path segmentationPath = fs::path(folder) / "anomaly_regions.dcm";
  try
  {
    // Each writer writes its file whole or not at all; a failed SEG removes the map written before it.
    dicom::WriteParametricMap(map, series, description, mapPath.string());
    written["parametric_map"] = mapPath.string();
    if (labels)
    {
      dicom::WriteSegmentation(labels, series, description, segmentationPath.string());
      written["segmentation"] = segmentationPath.string();
    }
  }
  catch (...)
  {
    fs::remove(mapPath, error);
    fs::remove(segmentationPath, error);
    if (madeFolder)
    {
      fs::remove(folder, error);
    }
    throw;
  }
  return written;
}

// The heat map on the scan: the most anomalous slices of a volume, or the picture itself. Its slices
// are copied out first, so that the scan can be released before the map's regions are found.
struct OverlaySlices
{
  visualization::OverlayStyle style;
  std::vector<std::vector<float>> scans;
  std::vector<std::vector<float>> maps;
  std::vector<int> sizes;       // width, height of each
  std::vector<double> spacings; // x, y of each
  std::vector<std::string> labels;
  bool montage = false;
};

template <typename TImage, typename TMap>
OverlaySlices
CollectOverlaySlices(const TImage * image, const TMap * map, const std::vector<double> & sliceScores, unsigned int axis,
                     double normalLevel, double threshold)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  OverlaySlices overlay;
  overlay.montage = Dimension == 3;
  overlay.style.scanLower = 0.0;
  overlay.style.scanUpper = 0.0; // percentiles of each slice
  // Heat starts at the normal level (0 in a calibrated map, the normal mean in a raw one; NaN: not
  // known) and saturates at the threshold, so the picture shows how far above normal each place is,
  // also below the threshold.
  const visualization::HeatRange heat =
    visualization::ChooseHeatRange(map->GetBufferPointer(),
                                   map->GetLargestPossibleRegion().GetNumberOfPixels(),
                                   normalLevel,
                                   threshold >= 0.0 ? threshold : std::nan(""));
  overlay.style.mapLower = heat.lower;
  overlay.style.mapUpper = heat.upper;
  // The most anomalous slices of a volume, most anomalous first (skipped slices, NaN, last), or the
  // image itself.
  std::vector<size_t> order(sliceScores.size());
  std::iota(order.begin(), order.end(), size_t{ 0 });
  const auto key = [&](size_t slice) {
    return std::isnan(sliceScores[slice]) ? -std::numeric_limits<double>::infinity() : sliceScores[slice];
  };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(a) > key(b); });
  order.resize(std::min<size_t>(order.size(), Dimension == 3 ? 6 : 1));
  for (const size_t slice : order)
  {
    itk::ReContrastImagePlane scan = itk::ReContrastExtractPlane(image, axis, slice);
    overlay.sizes.insert(overlay.sizes.end(), { static_cast<int>(scan.width), static_cast<int>(scan.height) });
    overlay.spacings.insert(overlay.spacings.end(), { scan.spacingX, scan.spacingY });
    overlay.scans.push_back(std::move(scan.values));
    overlay.maps.push_back(itk::ReContrastExtractPlane(map, axis, slice).values);
    overlay.labels.push_back(fmt::format("slice {}  score {:.3f}", slice, sliceScores[slice]));
  }
  return overlay;
}

void
WriteOverlay(const OverlaySlices & overlay, const std::string & path)
{
  std::vector<visualization::SliceView> views(overlay.scans.size());
  for (size_t i = 0; i < views.size(); ++i)
  {
    views[i].width = overlay.sizes[2 * i];
    views[i].height = overlay.sizes[2 * i + 1];
    views[i].spacingX = overlay.spacings[2 * i];
    views[i].spacingY = overlay.spacings[2 * i + 1];
    views[i].scan = overlay.scans[i].data();
    views[i].map = overlay.maps[i].data();
  }
  if (overlay.montage)
  {
    visualization::WriteMontagePng(views, overlay.labels, overlay.style, path);
  }
  else
  {
    visualization::WriteOverlayPng(views.front(), overlay.style, path);
  }
}

template <typename TImage>
nlohmann::json
RunOnImage(const ImageJob & s)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  using MapType = itk::Image<float, Dimension>;
  typename TImage::Pointer image;
  std::optional<dicom::Series> series;
  try
  {
    image = ReadImage<TImage>(s.job.input, s.checked, s.dicomReader, series);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw ReadFailure(s.job.input, e);
  }

  auto filter = itk::ReContrastAnomalyImageFilter<TImage, MapType>::New();
  filter->SetInput(image);
  filter->SetPredictor(s.predictor);
  filter->SetIntensityPreset(s.preparation.preset);
  filter->SetMinimumForegroundFraction(s.preparation.minimumForeground);
  filter->SetFit(s.preparation.fit);
  filter->SetCalibratedMap(s.calibratedMap);
  if constexpr (!itk::ReContrastDetail::IsRGB<typename TImage::PixelType>::value)
  {
    filter->SetChannelMode(s.preparation.context
                             ? itk::ReContrastAnomalyImageFilter<TImage, MapType>::ChannelMode::Context
                             : itk::ReContrastAnomalyImageFilter<TImage, MapType>::ChannelMode::Replicated);
  }
  ProgressReporter progress("anomaly map", s.progress);
  auto observer = itk::CStyleCommand::New();
  observer->SetClientData(&progress);
  observer->SetCallback([](itk::Object * object, const itk::EventObject &, void * data) {
    static_cast<ProgressReporter *>(data)->Update(static_cast<itk::ProcessObject *>(object)->GetProgress());
  });
  filter->AddObserver(itk::ProgressEvent(), observer);
  try
  {
    filter->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    progress.Finish();
    throw Error(
      fmt::format("Cannot compute the anomaly map of '{}': {}", s.job.input, itk::ReContrastExceptionText(e)));
  }
  progress.Finish();
  typename MapType::Pointer map = filter->GetOutput();
  const std::vector<double> sliceScores = filter->GetSliceScores();
  const std::vector<double> calibratedSliceScores = filter->GetCalibratedSliceScores();
  const std::vector<double> slicePositions = filter->GetSlicePositions();
  const bool calibratedMap = filter->GetOutputIsCalibrated();
  const std::vector<bool> scoredSlices = filter->GetScoredSlices();
  const unsigned int sliceAxis = filter->GetEffectiveSliceAxis();
  const ModelDescription & model = s.predictor->Description();
  std::optional<OverlaySlices> overlay;
  if (!s.job.overlay.empty())
  {
    overlay =
      CollectOverlaySlices(image.GetPointer(),
                           map.GetPointer(),
                           calibratedMap ? calibratedSliceScores : sliceScores,
                           sliceAxis,
                           calibratedMap ? 0.0 : (model.calibration.valid ? model.calibration.mean : std::nan("")),
                           s.threshold);
  }
  // The scan is not needed any more (a DICOM series keeps it for its results): its memory goes
  // before the regions' labelling takes its own.
  filter = nullptr;
  image = nullptr;

  const double score = sliceScores.empty() ? 0.0 : *std::max_element(sliceScores.begin(), sliceScores.end());
  nlohmann::json report{ { "input", s.job.input },
                         { "score", score },
                         { "slice_axis", sliceAxis },
                         { "intensity", s.preparation.preset.ToString() },
                         { "slice_scores", sliceScores },
                         { "scored_slices", scoredSlices },
                         { "map_units", calibratedMap ? "calibrated" : "raw" } };
  if (model.calibration.valid)
  {
    // The scan's calibrated score: its most anomalous slice, each slice judged against the normal
    // slices at its position (or against all of them, for pictures and older models).
    double calibratedScore = -std::numeric_limits<double>::infinity();
    nlohmann::json calibrated = nlohmann::json::array();
    for (size_t k = 0; k < calibratedSliceScores.size(); ++k)
    {
      if (scoredSlices[k])
      {
        calibratedScore = std::max(calibratedScore, calibratedSliceScores[k]);
        calibrated.push_back(calibratedSliceScores[k]);
      }
      else
      {
        calibrated.push_back(nullptr);
      }
    }
    report["calibrated_score"] = std::isfinite(calibratedScore) ? nlohmann::json(calibratedScore) : nlohmann::json();
    report["calibrated_slice_scores"] = calibrated;
    report["calibration"] = model.calibration.positions.empty() ? "global" : "position-aware";
    nlohmann::json positions = nlohmann::json::array();
    for (const double p : slicePositions)
    {
      positions.push_back(std::isfinite(p) ? nlohmann::json(p) : nlohmann::json());
    }
    report["slice_positions"] = positions;
  }

  // Anomalous regions above the threshold.
  nlohmann::json regions = nlohmann::json::array();
  using RegionFilterType = itk::ReContrastAnomalyRegionsImageFilter<MapType>;
  typename RegionFilterType::LabelImageType::Pointer regionLabels;
  if (s.threshold >= 0.0)
  {
    auto regionFilter = RegionFilterType::New();
    regionFilter->SetInput(map);
    regionFilter->SetThreshold(s.threshold);
    regionFilter->Update();
    regions = RegionsJson(regionFilter->GetRegions());
    regionLabels = regionFilter->GetOutput();
  }
  report["regions"] = regions;

  if (!s.job.dicomOutput.empty())
  {
    if constexpr (std::is_same_v<TImage, dicom::Series::VolumeType>)
    {
      if (series)
      {
        report["dicom"] = WriteDicomResults(*series,
                                            map.GetPointer(),
                                            regionLabels.GetPointer(),
                                            model,
                                            s.predictor->ImageSize(),
                                            calibratedMap,
                                            s.job.dicomOutput);
      }
    }
    if (!report.contains("dicom"))
    {
      throw Error(fmt::format("DICOM results need a DICOM series as input; '{}' is not a DICOM folder.", s.job.input));
    }
  }

  // The files of the usual formats last: a failed DICOM write leaves nothing of this scan behind,
  // and a failure after some files were written removes them (all of this scan's outputs or none).
  std::vector<std::string> written;
  try
  {
    if (regionLabels && !s.job.labels.empty())
    {
      WriteImageAtomically(regionLabels.GetPointer(), s.job.labels);
      written.push_back(s.job.labels);
    }
    if (!s.job.output.empty()) // the DICOM node keeps only the DICOM results
    {
      WriteImageAtomically(map.GetPointer(), s.job.output);
      written.push_back(s.job.output);
    }
    if (overlay)
    {
      WriteOverlay(*overlay, s.job.overlay);
    }
  }
  catch (...)
  {
    RemoveOutputs(written, report);
    throw;
  }
  return report;
}
} // namespace

void
RequireDistinctPaths(const std::string & input, const std::vector<std::pair<std::string, std::string>> & outputs)
{
  auto same = [](const std::string & a, const std::string & b) {
    std::error_code error;
    if (fs::exists(a, error) && fs::exists(b, error))
    {
      return fs::equivalent(a, b, error);
    }
    return fs::weakly_canonical(a, error) == fs::weakly_canonical(b, error);
  };
  for (size_t i = 0; i < outputs.size(); ++i)
  {
    if (outputs[i].second.empty())
    {
      continue;
    }
    if (same(outputs[i].second, input))
    {
      throw Error(fmt::format(
        "The {} '{}' is the input itself; writing it would overwrite the scan.", outputs[i].first, outputs[i].second));
    }
    for (size_t j = 0; j < i; ++j)
    {
      if (!outputs[j].second.empty() && same(outputs[i].second, outputs[j].second))
      {
        throw Error(fmt::format(
          "The {} and the {} are the same file, '{}'.", outputs[j].first, outputs[i].first, outputs[i].second));
      }
    }
  }
}

void
RemoveOutputs(const std::vector<std::string> & files, const nlohmann::json & report)
{
  std::error_code ignored;
  for (const std::string & file : files)
  {
    fs::remove(file, ignored);
  }
  if (report.contains("dicom"))
  {
    for (const char * key : { "parametric_map", "segmentation" })
    {
      if (report["dicom"].contains(key))
      {
        fs::remove(report["dicom"][key].get<std::string>(), ignored);
      }
    }
  }
}


std::shared_ptr<const dicom::SeriesFolderReader>
DicomReader(const std::string & seriesInstanceUid)
{
  dicom::SeriesReadOptions options;
  options.seriesInstanceUid = seriesInstanceUid;
  return std::make_shared<const dicom::SeriesFolderReader>(
    options, [](const std::string & folder, const std::string & note) {
      std::fprintf(stderr, "recontrast: %s: %s\n", folder.c_str(), note.c_str());
    });
}

void
RequireFolderOf(const std::string & path, const char * what)
{
  const fs::path folder = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (!fs::is_directory(folder))
  {
    throw Error(fmt::format("Cannot write the {} '{}': the folder '{}' does not exist.", what, path, folder.string()));
  }
}

std::string
DefaultIntensity(const itk::ImageIOBase * io)
{
  // Colour images of bytes in any file type (an RGB MetaImage) are pictures too.
  const bool colourBytes = io && (io->GetNumberOfComponents() == 3 || io->GetNumberOfComponents() == 4) &&
                           io->GetComponentType() == itk::IOComponentEnum::UCHAR;
  return io && (itk::ReContrastIsEightBitPicture(*io) || colourBytes) ? "bytes" : "mr";
}

std::string
DefaultIntensity(const std::string & path)
{
  if (fs::is_directory(path))
  {
    return DefaultIntensity(static_cast<const itk::ImageIOBase *>(nullptr));
  }
  // The header is enough: the file is checked whole when it is read for the work itself, which also
  // names a file that cannot be read.
  itk::ReContrastQuietStderr quiet;
  try
  {
    const itk::ImageIOBase::Pointer io = itk::ReContrastCreateImageIO(path);
    if (io)
    {
      io->SetFileName(path);
      io->ReadImageInformation();
      return DefaultIntensity(io.GetPointer());
    }
  }
  catch (const itk::ExceptionObject &)
  {}
  quiet.Discard();
  return "mr";
}

ScanPreparation
PreparationOf(const ModelDescription & model, const std::string & intensityOverride)
{
  const auto property = [&](const std::string & key, const std::string & fallback) {
    const auto found = model.properties.find(key);
    return found == model.properties.end() ? fallback : found->second;
  };
  ScanPreparation preparation;
  preparation.presetGiven = !intensityOverride.empty() || model.properties.count("intensity") > 0;
  try
  {
    // A model file's own form (an older file's "mr" was clipped); a form given by the user is read as written.
    preparation.preset = intensityOverride.empty()
                           ? itk::ReContrastIntensityPreset::FromModelProperty(property("intensity", "mr"))
                           : itk::ReContrastIntensityPreset::FromString(intensityOverride);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(itk::ReContrastExceptionText(e));
  }
  preparation.context = property("channel_mode", "replicated") == "context";
  try
  {
    preparation.minimumForeground = std::stod(property("min_foreground", "0.05"));
  }
  catch (const std::exception &)
  {
    throw Error("The model's 'min_foreground' property is not a number.");
  }
  const std::string resize = property("resize", "fit");
  if (resize != "fit" && resize != "stretch")
  {
    throw Error(fmt::format("The model's 'resize' property '{}' is neither fit nor stretch.", resize));
  }
  preparation.fit = resize == "stretch" ? itk::ReContrastSliceResampler::Fit::Stretch
                                        : itk::ReContrastSliceResampler::Fit::PreserveAspect;
  return preparation;
}

ScanInference::ScanInference(const Options & options)
  : m_Options(options)
  , m_Predictor(std::make_shared<Predictor>(options.model, options.predictor))
  , m_DicomReader(DicomReader(options.series))
  , m_Preparation(PreparationOf(m_Predictor->Description(), options.intensity))
{
  const ModelDescription & model = m_Predictor->Description();
  for (const std::string & note : m_Predictor->Notes())
  {
    std::fprintf(stderr, "recontrast: warning: %s\n", note.c_str());
  }
  // The recommended threshold in the map's units: standard deviations above normal in a calibrated
  // map, the raw global threshold otherwise.
  const double recommended = !model.calibration.valid ? -1.0
                             : options.calibratedMap  ? ScoreCalibration::CalibratedThreshold
                                                      : model.calibration.recommendedThreshold;
  m_Threshold = options.threshold >= 0.0 ? options.threshold : recommended;
}

nlohmann::json
ScanInference::Run(const InferenceJob & job) const
{
  if (!job.dicomOutput.empty())
  {
    if (!fs::is_directory(job.input))
    {
      throw Error(fmt::format("DICOM results need a DICOM series folder as input; '{}' is a file.", job.input));
    }
  }
  unsigned int dimension = 3;
  unsigned int components = 1;
  itk::ImageIOBase::Pointer io; // checked once, read with the same ImageIO
  if (!fs::is_directory(job.input))
  {
    try
    {
      io = itk::ReContrastReadImageFileInformation(job.input);
    }
    catch (const itk::ExceptionObject & e)
    {
      throw ReadFailure(job.input, e);
    }
    dimension = io->GetNumberOfDimensions();
    components = io->GetNumberOfComponents();
  }
  // The model's own pre-processing, as in training; a model without one gets the input's default.
  ScanPreparation preparation = m_Preparation;
  if (!preparation.presetGiven)
  {
    preparation.preset = itk::ReContrastIntensityPreset::FromString(DefaultIntensity(io.GetPointer()));
  }
  const ImageJob imageJob{ job,         io.GetPointer(),         m_Predictor,        preparation,
                           m_Threshold, m_Options.calibratedMap, m_Options.progress, *m_DicomReader };
  if (dimension == 2 && (components == 3 || components == 4))
  {
    return RunOnImage<itk::Image<itk::RGBPixel<float>, 2>>(imageJob);
  }
  if (components != 1)
  {
    throw Error(fmt::format(
      "The input '{}' has {} components per pixel; grey scans and RGB pictures are supported.", job.input, components));
  }
  if (dimension == 2)
  {
    return RunOnImage<itk::Image<float, 2>>(imageJob);
  }
  if (dimension == 3)
  {
    // 8- and 16-bit volumes (most CT and MR files) stay in their own pixel type: a float copy of a
    // long study would double the memory the scan takes. The model sees the same values either way.
    using IOComponent = itk::IOComponentEnum;
    const IOComponent type = io ? io->GetComponentType() : IOComponent::FLOAT;
    if (type == IOComponent::SHORT || type == IOComponent::CHAR || type == IOComponent::UCHAR)
    {
      return RunOnImage<itk::Image<short, 3>>(imageJob);
    }
    if (type == IOComponent::USHORT)
    {
      return RunOnImage<itk::Image<unsigned short, 3>>(imageJob);
    }
    return RunOnImage<itk::Image<float, 3>>(imageJob);
  }
  throw Error(fmt::format("The input '{}' is a {}-D image; 2-D and 3-D images are supported.", job.input, dimension));
}

nlohmann::json
ScanInference::Settings() const
{
  const ModelDescription & model = m_Predictor->Description();
  return { { "threshold", m_Threshold },
           { "map_units", m_Options.calibratedMap && model.calibration.valid ? "calibrated" : "raw" },
           { "intensity", m_Preparation.presetGiven ? m_Preparation.preset.ToString() : "the default of each input" },
           { "channel_mode", m_Preparation.context ? "context" : "replicated" },
           { "device", m_Options.predictor.device },
           { "precision", ToString(m_Predictor->EffectivePrecision()) },
           { "score_reduction", "max over slices of the max of each slice map" },
           { "model_image_size", m_Predictor->ImageSize() },
           { "backbone", ToString(model.config.backbone) } };
}

} // namespace recontrast::cli
