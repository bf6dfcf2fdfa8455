/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast eval`: metrics of a model on an MVTec-style test set.
 *
 *=========================================================================*/
#include "Commands.h"
#include "OptionChecks.h"

#include "Inference.h"
#include "ProgressReporter.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/CurvePlot.h"
#include "ReContrast/Error.h"
#include "ReContrast/Metrics.h"
#include "ReContrast/Predictor.h"
#include "itkReContrastExceptionText.h"
#include "itkImageFileReader.h"
#include "itkImageIOFactory.h"
#include "itkReContrastImageFiles.h"
#include "itkReContrastScanSampleSource.h"
#include "itkReContrastSliceResampler.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

namespace recontrast::cli
{

namespace
{
namespace fs = std::filesystem;

struct TestImage
{
  std::string path;
  std::string defectClass;
  int label = 0;
  std::string mask; ///< Empty when the image has none.
};

bool
IsReadableImage(const fs::path & path)
{
  return itk::ReContrastIsImageFile(path.string());
}

// The MVTec AD layout: test/<class>/<name>.<ext>, "good" holding the normal images, and for the
// others, optionally, ground_truth/<class>/<name>_mask.png.
std::vector<TestImage>
ListTestImages(const fs::path & data)
{
  const fs::path test = data / "test";
  if (!fs::is_directory(test))
  {
    throw Error(fmt::format("The evaluation data '{}' has no test/ folder; an MVTec-style folder holds "
                            "test/<class>/ images, test/good/ for the normal ones.",
                            data.string()));
  }
  std::vector<fs::path> classes;
  for (const auto & entry : fs::directory_iterator(test))
  {
    if (entry.is_directory())
    {
      classes.push_back(entry.path());
    }
  }
  std::sort(classes.begin(), classes.end());
  std::vector<TestImage> images;
  for (const fs::path & folder : classes)
  {
    std::vector<fs::path> files;
    for (const auto & entry : fs::directory_iterator(folder))
    {
      if (IsReadableImage(entry.path()))
      {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    const std::string name = folder.filename().string();
    for (const fs::path & file : files)
    {
      TestImage image{ file.string(), name, name == "good" ? 0 : 1, "" };
      const fs::path mask = data / "ground_truth" / name / (file.stem().string() + "_mask.png");
      if (image.label == 1 && fs::is_regular_file(mask))
      {
        image.mask = mask.string();
      }
      images.push_back(image);
    }
  }
  const auto anomalous = std::count_if(images.begin(), images.end(), [](const TestImage & i) { return i.label; });
  if (anomalous == 0 || anomalous == static_cast<long>(images.size()))
  {
    throw Error(fmt::format("The evaluation data '{}' needs normal images (test/good/) and anomalous ones "
                            "(test/<defect>/); it has {} normal and {} anomalous.",
                            data.string(),
                            images.size() - static_cast<size_t>(anomalous),
                            anomalous));
  }
  return images;
}

// One image on the model's square grid, cropped to the part that shows the picture (no padding).
struct ScoredImage
{
  double score = 0.0;
  size_t width = 0;
  size_t height = 0;
  std::vector<float> map;
  std::vector<std::uint8_t> mask; ///< Empty without a mask (normal images: all zero).
};

// The mask on the model's grid as the official evaluation makes it: a bilinear (antialiased)
// resize of the 8-bit mask, every pixel above 0 anomalous.
std::vector<std::uint8_t>
MaskOnModelGrid(const std::string & maskPath, const std::string & imagePath, const itk::ReContrastSliceResampler & r)
{
  using MaskImage = itk::Image<float, 2>;
  auto reader = itk::ImageFileReader<MaskImage>::New();
  reader->SetFileName(maskPath);
  try
  {
    reader->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(fmt::format("Cannot read the mask '{}': {}", maskPath, itk::ReContrastExceptionText(e)));
  }
  const auto size = reader->GetOutput()->GetLargestPossibleRegion().GetSize();
  if (size[0] != r.GetWidth() || size[1] != r.GetHeight())
  {
    throw Error(fmt::format("The mask '{}' is {}x{} pixels but its image '{}' is {}x{}.",
                            maskPath,
                            size[0],
                            size[1],
                            imagePath,
                            r.GetWidth(),
                            r.GetHeight()));
  }
  const unsigned int s = r.GetSquareSize();
  std::vector<float> square(static_cast<size_t>(s) * s);
  r.ToSquare(reader->GetOutput()->GetBufferPointer(), square.data());
  std::vector<std::uint8_t> mask(square.size());
  std::transform(square.begin(), square.end(), mask.begin(), [](float v) { return v > 0.0f ? 1 : 0; });
  return mask;
}

template <typename T>
std::vector<T>
Crop(const std::vector<T> & square, unsigned int size, const itk::ReContrastSliceResampler & r)
{
  const auto index = r.GetContentIndex();
  const auto extent = r.GetContentSize();
  std::vector<T> content;
  content.reserve(extent[0] * extent[1]);
  for (size_t y = 0; y < extent[1]; ++y)
  {
    const auto row = square.begin() + static_cast<long>((index[1] + y) * size + index[0]);
    content.insert(content.end(), row, row + static_cast<long>(extent[0]));
  }
  return content;
}
} // namespace

EvalCommand::EvalCommand(CLI::App & app)
  : m_Command(app.add_subcommand("eval", "Evaluate a model on an MVTec-style folder of labelled test images."))
{
  auto * c = m_Command;
  c->add_option("--model", m_Model, "Model file")->required()->check(CLI::ExistingFile);
  c->add_option(
     "--data", m_Data, "MVTec-style folder: test/good/, test/<defect>/, optional ground_truth/<defect>/<name>_mask.png")
    ->required()
    ->check(CLI::ExistingDirectory);
  c->add_option("--report", m_Report, "JSON report: metrics and per-image scores")->required();
  c->add_option("--roc", m_Roc, "PNG picture of the image-level ROC curve");
  c->add_option("--score", m_Score, "Image score from the map: max, mean or topk-mean (top 1 %)")
    ->capture_default_str()
    ->check(CLI::IsMember({ "max", "mean", "topk-mean" }));
  c->add_option("--device", m_Device, "cpu, cuda or cuda:N")->capture_default_str();
  c->add_option("--threads", m_Threads, "CPU threads (0: every core)")
    ->capture_default_str()
    ->check(WholeNumber(0, 1024));
  c->add_option("--batch-size", m_BatchSize, "Images per forward pass")
    ->capture_default_str()
    ->check(WholeNumber(1, 4096));
  c->add_option("--precision", m_Precision, "Inference path: fp32, bf16, fp16 or exact (see infer --help)")
    ->capture_default_str()
    ->check(CLI::IsMember(recontrast::PrecisionNames()));
}

int
EvalCommand::Run() const
{
  RequireFolderOf(m_Report, "report");
  if (!m_Roc.empty())
  {
    RequireFolderOf(m_Roc, "ROC picture");
  }
  const std::vector<TestImage> images = ListTestImages(m_Data);

  PredictorOptions options;
  options.device = m_Device;
  options.threads = m_Threads;
  options.batchSize = m_BatchSize;
  options.reduction = ScoreReductionFromString(m_Score);
  options.precision = PrecisionFromString(m_Precision);
  Predictor predictor(m_Model, options);
  for (const std::string & note : predictor.Notes())
  {
    std::fprintf(stderr, "recontrast: warning: %s\n", note.c_str());
  }
  ScanPreparation preparation = PreparationOf(predictor.Description());
  if (!preparation.presetGiven && !images.empty())
  {
    // A model without its own preset: the test set's kind of image decides, as train's data would.
    preparation.preset = itk::ReContrastIntensityPreset::FromString(DefaultIntensity(images.front().path));
  }
  itk::ReContrastScanSampleSource::Settings settings;
  settings.slices.preset = preparation.preset;
  settings.slices.context = preparation.context;
  settings.slices.minimumForegroundFraction = 0.0; // every test image is scored
  settings.slices.fit = preparation.fit;
  settings.seriesReader = DicomReader();
  const unsigned int size = static_cast<unsigned int>(predictor.ImageSize());
  const size_t planeSize = static_cast<size_t>(size) * size;

  std::vector<ScoredImage> scored(images.size());
  ProgressReporter progress("evaluation");
  for (size_t first = 0; first < images.size(); first += static_cast<size_t>(m_BatchSize))
  {
    const size_t count = std::min(images.size() - first, static_cast<size_t>(m_BatchSize));
    std::vector<float> inputs(count * 3 * planeSize);
    std::vector<itk::ReContrastSliceResampler> resamplers;
    for (size_t i = 0; i < count; ++i)
    {
      const TestImage & image = images[first + i];
      std::shared_ptr<const itk::ReContrastScanSlices> slices;
      try
      {
        slices = itk::ReContrastReadScanSlices(image.path, settings);
      }
      catch (const itk::ExceptionObject & e)
      {
        throw Error(itk::ReContrastExceptionText(e));
      }
      if (slices->GetNumberOfSlices() != 1)
      {
        throw Error(fmt::format("'{}' is a volume; eval scores 2-D pictures (use infer for volumes).", image.path));
      }
      slices->MakeModelInput(0, size, inputs.data() + i * 3 * planeSize);
      resamplers.push_back(slices->GetSliceResampler(size));
    }
    std::vector<Prediction> predictions = predictor.Predict(inputs.data(), count);
    for (size_t i = 0; i < count; ++i)
    {
      const TestImage & image = images[first + i];
      const itk::ReContrastSliceResampler & resampler = resamplers[i];
      ScoredImage & result = scored[first + i];
      result.score = predictions[i].score;
      result.width = resampler.GetContentSize()[0];
      result.height = resampler.GetContentSize()[1];
      result.map = Crop(predictions[i].map, size, resampler);
      if (!image.mask.empty())
      {
        result.mask = Crop(MaskOnModelGrid(image.mask, image.path, resampler), size, resampler);
      }
    }
    progress.Update(static_cast<double>(first + count) / static_cast<double>(images.size()),
                    fmt::format("{}/{} images", first + count, images.size()));
  }
  progress.Finish();

  // Image level.
  std::vector<double> scores;
  std::vector<int> labels;
  for (size_t i = 0; i < images.size(); ++i)
  {
    scores.push_back(scored[i].score);
    labels.push_back(images[i].label);
  }
  nlohmann::json report;
  report["model"] = m_Model;
  report["data"] = m_Data;
  report["image_auroc"] = metrics::RocAuc(scores, labels);
  report["image_ap"] = metrics::AveragePrecision(scores, labels);
  double f1Threshold = 0.0;
  report["f1_max"] = metrics::F1Max(scores, labels, &f1Threshold);
  report["f1_max_threshold"] = f1Threshold;

  // Pixel level, on the images that have masks and the normal ones (whose masks are empty), as
  // the official evaluation does at the model's resolution.
  std::vector<float> pooledMaps;
  std::vector<std::uint8_t> pooledMasks;
  std::vector<double> pros;
  nlohmann::json proSkipped = nlohmann::json::array();
  size_t masked = 0;
  for (size_t i = 0; i < images.size(); ++i)
  {
    const ScoredImage & s = scored[i];
    if (images[i].label == 1 && s.mask.empty())
    {
      continue;
    }
    pooledMaps.insert(pooledMaps.end(), s.map.begin(), s.map.end());
    if (s.mask.empty())
    {
      pooledMasks.insert(pooledMasks.end(), s.map.size(), 0);
    }
    else
    {
      ++masked;
      pooledMasks.insert(pooledMasks.end(), s.mask.begin(), s.mask.end());
      if (std::find(s.mask.begin(), s.mask.end(), 1) != s.mask.end())
      {
        try
        {
          pros.push_back(metrics::OfficialProAuc(s.map.data(), s.mask.data(), s.height, s.width));
        }
        catch (const Error & e)
        {
          // The official code gives NaN here (a constant map, a mask covering the whole picture).
          proSkipped.push_back({ { "path", images[i].path }, { "reason", e.what() } });
        }
      }
    }
  }
  const bool pixelMetrics = masked > 0 && std::find(pooledMasks.begin(), pooledMasks.end(), 1) != pooledMasks.end();
  report["pixel_auroc"] =
    pixelMetrics ? nlohmann::json(metrics::PooledPixelRocAuc(pooledMaps.data(), pooledMasks.data(), pooledMaps.size()))
                 : nlohmann::json(nullptr);
  double aupro = 0.0;
  for (double pro : pros)
  {
    aupro += pro / static_cast<double>(pros.size());
  }
  report["aupro"] = pros.empty() ? nlohmann::json(nullptr) : nlohmann::json(aupro);
  report["aupro_skipped"] = proSkipped;
  report["counts"] = { { "images", images.size() },
                       { "normal", std::count(labels.begin(), labels.end(), 0) },
                       { "anomalous", std::count(labels.begin(), labels.end(), 1) },
                       { "anomalous_with_mask", masked } };

  // Each defect class against the normal images.
  std::map<std::string, std::pair<std::vector<double>, std::vector<int>>> byClass;
  for (size_t i = 0; i < images.size(); ++i)
  {
    if (images[i].label == 1)
    {
      byClass[images[i].defectClass].first.push_back(scores[i]);
      byClass[images[i].defectClass].second.push_back(1);
    }
  }
  nlohmann::json classes = nlohmann::json::object();
  for (auto & [name, entry] : byClass)
  {
    const size_t count = entry.first.size();
    for (size_t i = 0; i < images.size(); ++i)
    {
      if (images[i].label == 0)
      {
        entry.first.push_back(scores[i]);
        entry.second.push_back(0);
      }
    }
    classes[name] = { { "images", count }, { "image_auroc", metrics::RocAuc(entry.first, entry.second) } };
  }
  report["classes"] = classes;

  nlohmann::json perImage = nlohmann::json::array();
  for (size_t i = 0; i < images.size(); ++i)
  {
    perImage.push_back(
      { { "path", images[i].path },
        { "class", images[i].defectClass },
        { "label", images[i].label },
        { "score", scores[i] },
        { "mask", images[i].mask.empty() ? nlohmann::json(nullptr) : nlohmann::json(images[i].mask) } });
  }
  // Pictures have no slice position: the model's global calibration, a monotone map of the score
  // (the metrics above are the same in either unit).
  // The calibration describes max-reduced scores (as training scores its normal slices): other
  // reductions have no calibrated form.
  const ScoreCalibration & calibration = predictor.Description().calibration;
  if (calibration.valid && options.reduction == ScoreReduction::Max)
  {
    for (size_t i = 0; i < images.size(); ++i)
    {
      perImage[i]["calibrated_score"] = calibration.Calibrate(scores[i], std::nan(""));
    }
  }
  report["images"] = perImage;
  report["settings"] = { { "score", m_Score },
                         { "precision", ToString(predictor.EffectivePrecision()) },
                         { "intensity", preparation.preset.ToString() },
                         { "model_image_size", size },
                         { "pixel_metrics_grid",
                           "the model's input grid (the picture's part of it), masks resized bilinearly and "
                           "thresholded above 0, as the official evaluation" },
                         { "aupro",
                           "per-image PRO area up to FPR 0.3, averaged over the anomalous images (official)" } };

  if (!m_Roc.empty())
  {
    const metrics::RocCurve roc = metrics::ComputeRocCurve(scores, labels);
    visualization::WriteXYCurvePng(roc.fpr,
                                   roc.tpr,
                                   fmt::format("Image-level ROC (AUROC {:.3f})", report["image_auroc"].get<double>()),
                                   "false-positive rate",
                                   "true-positive rate",
                                   m_Roc,
                                   true);
    report["roc_picture"] = m_Roc;
  }
  AtomicFile file(m_Report);
  file.Stream() << report.dump(2) << '\n';
  file.Commit();

  const auto text = [](const nlohmann::json & value) {
    return value.is_null() ? std::string("n/a") : fmt::format("{:.4f}", value.get<double>());
  };
  std::printf("recontrast: %zu images; image AUROC %s, pixel AUROC %s, AUPRO %s, F1max %s; report %s\n",
              images.size(),
              text(report["image_auroc"]).c_str(),
              text(report["pixel_auroc"]).c_str(),
              text(report["aupro"]).c_str(),
              text(report["f1_max"]).c_str(),
              m_Report.c_str());
  return 0;
}

} // namespace recontrast::cli
