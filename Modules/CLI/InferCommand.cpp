#include "Commands.h"

#include "ProgressReporter.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrast/OverlayRenderer.h"
#include "ReContrast/Predictor.h"
#include "itkCommand.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageIOFactory.h"
#include "itkRGBPixel.h"
#include "itkReContrastAnomalyImageFilter.h"
#include "itkReContrastAnomalyRegionsImageFilter.h"
#include "itkReContrastDicomSeries.h"
#include "itkReContrastRegionTable.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <numeric>

namespace recontrast::cli
{

namespace
{
namespace fs = std::filesystem;

void
RequireFolderOf(const std::string & path, const char * what)
{
  const fs::path folder = fs::path(path).has_parent_path() ? fs::path(path).parent_path() : fs::path(".");
  if (!fs::is_directory(folder))
  {
    throw Error(fmt::format("Cannot write the {} '{}': the folder '{}' does not exist.", what, path, folder.string()));
  }
}

template <typename TImage>
void
WriteImageAtomically(const TImage * image, const std::string & path)
{
  // ITK chooses the format by the extension, which the temporary name keeps.
  AtomicFile file(path, AtomicFile::Mode::PathOnly);
  try
  {
    auto writer = itk::ImageFileWriter<TImage>::New();
    writer->SetInput(image);
    writer->SetFileName(file.TemporaryPath());
    writer->UseCompressionOn();
    writer->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(fmt::format("Cannot write '{}': {}", path, e.GetDescription()));
  }
  file.Commit();
}

template <typename TImage>
typename TImage::Pointer
ReadImage(const std::string & path)
{
  if constexpr (TImage::ImageDimension == 3)
  {
    if (fs::is_directory(path))
    {
      return itk::ReContrastReadDicomSeries<TImage>(path);
    }
  }
  auto reader = itk::ImageFileReader<TImage>::New();
  reader->SetFileName(path);
  reader->Update();
  return reader->GetOutput();
}

// A grey display plane of the scan for pictures: slice k along `axis` (2-D images: the image).
template <typename TImage>
std::vector<float>
GreyPlane(const TImage * image, unsigned int axis, itk::SizeValueType k, int & width, int & height, double & sx,
          double & sy)
{
  const auto size = image->GetLargestPossibleRegion().GetSize();
  const unsigned int u = TImage::ImageDimension == 2 ? 0 : (axis == 0 ? 1 : 0);
  const unsigned int v = TImage::ImageDimension == 2 ? 1 : (axis == 2 ? 1 : 2);
  width = static_cast<int>(size[u]);
  height = static_cast<int>(size[v]);
  sx = image->GetSpacing()[u];
  sy = image->GetSpacing()[v];
  std::vector<float> plane(static_cast<size_t>(width) * static_cast<size_t>(height));
  typename TImage::IndexType index;
  index.Fill(0);
  for (int y = 0; y < height; ++y)
  {
    for (int x = 0; x < width; ++x)
    {
      index[u] = x;
      index[v] = y;
      if constexpr (TImage::ImageDimension == 3)
      {
        index[axis] = static_cast<itk::IndexValueType>(k);
      }
      const auto pixel = image->GetPixel(index);
      if constexpr (itk::ReContrastDetail::IsRGB<typename TImage::PixelType>::value)
      {
        plane[static_cast<size_t>(y) * width + x] = (pixel[0] + pixel[1] + pixel[2]) / 3.0f;
      }
      else
      {
        plane[static_cast<size_t>(y) * width + x] = static_cast<float>(pixel);
      }
    }
  }
  return plane;
}

struct InferSettings
{
  std::shared_ptr<Predictor> predictor;
  itk::ReContrastIntensityPreset preset;
  bool context = false;
  double minimumForeground = 0.05;
  double threshold = -1.0;
  std::string output;
  std::string labels;
  std::string overlay;
  std::string input;
};

template <typename TImage>
nlohmann::json
RunOnImage(const InferSettings & s)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  using MapType = itk::Image<float, Dimension>;
  typename TImage::Pointer image;
  try
  {
    image = ReadImage<TImage>(s.input);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(fmt::format("Cannot read the input '{}': {}", s.input, e.GetDescription()));
  }

  auto filter = itk::ReContrastAnomalyImageFilter<TImage, MapType>::New();
  filter->SetInput(image);
  filter->SetPredictor(s.predictor);
  filter->SetIntensityPreset(s.preset);
  filter->SetMinimumForegroundFraction(s.minimumForeground);
  if constexpr (!itk::ReContrastDetail::IsRGB<typename TImage::PixelType>::value)
  {
    filter->SetChannelMode(s.context ? itk::ReContrastAnomalyImageFilter<TImage, MapType>::ChannelMode::Context
                                     : itk::ReContrastAnomalyImageFilter<TImage, MapType>::ChannelMode::Replicated);
  }
  ProgressReporter progress("anomaly map");
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
    throw Error(fmt::format("Cannot compute the anomaly map of '{}': {}", s.input, e.GetDescription()));
  }
  progress.Finish();
  typename MapType::Pointer map = filter->GetOutput();

  const std::vector<double> & sliceScores = filter->GetSliceScores();
  const double score = sliceScores.empty() ? 0.0 : *std::max_element(sliceScores.begin(), sliceScores.end());
  const ModelDescription & model = s.predictor->Description();
  nlohmann::json report{ { "input", s.input },
                         { "score", score },
                         { "slice_axis", filter->GetEffectiveSliceAxis() },
                         { "slice_scores", sliceScores },
                         { "scored_slices", filter->GetScoredSlices() } };
  if (model.calibration.valid)
  {
    report["calibrated_score"] = (score - model.calibration.mean) / model.calibration.std;
  }

  // Anomalous regions above the threshold.
  nlohmann::json regions = nlohmann::json::array();
  if (s.threshold >= 0.0)
  {
    auto regionFilter = itk::ReContrastAnomalyRegionsImageFilter<MapType>::New();
    regionFilter->SetInput(map);
    regionFilter->SetThreshold(s.threshold);
    regionFilter->Update();
    regions = nlohmann::json::parse(itk::ReContrastRegionTable::ToJSON(regionFilter->GetRegions()));
    if (!s.labels.empty())
    {
      WriteImageAtomically(regionFilter->GetOutput(), s.labels);
    }
  }
  report["regions"] = regions;

  WriteImageAtomically(map.GetPointer(), s.output);

  if (!s.overlay.empty())
  {
    visualization::OverlayStyle style;
    style.scanLower = 0.0;
    style.scanUpper = 0.0; // percentiles of each slice
    float maximum = 0.0f;
    const float * values = map->GetBufferPointer();
    maximum = *std::max_element(values, values + map->GetLargestPossibleRegion().GetNumberOfPixels());
    // Heat starts at the normal level (the calibrated mean) and saturates at the threshold, so the
    // picture shows how far above normal each place is, also below the threshold.
    const double normal = model.calibration.valid ? model.calibration.mean : 0.5 * maximum;
    style.mapLower = std::min(normal, static_cast<double>(maximum));
    style.mapUpper = s.threshold > style.mapLower ? s.threshold : static_cast<double>(maximum);
    style.mapUpper = std::max(style.mapUpper, style.mapLower + 1e-6);
    // The most anomalous slices of a volume, or the image itself.
    std::vector<size_t> order(sliceScores.size());
    std::iota(order.begin(), order.end(), size_t{ 0 });
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return sliceScores[a] > sliceScores[b]; });
    order.resize(std::min<size_t>(order.size(), Dimension == 3 ? 6 : 1));
    std::sort(order.begin(), order.end());
    // Buffers first, views after: the views point into buffers that must not move any more.
    std::vector<std::vector<float>> scans;
    std::vector<std::vector<float>> maps;
    std::vector<visualization::SliceView> views(order.size());
    std::vector<std::string> labels;
    for (size_t i = 0; i < order.size(); ++i)
    {
      const unsigned int axis = filter->GetEffectiveSliceAxis();
      scans.push_back(GreyPlane(
        image.GetPointer(), axis, order[i], views[i].width, views[i].height, views[i].spacingX, views[i].spacingY));
      maps.push_back(GreyPlane(
        map.GetPointer(), axis, order[i], views[i].width, views[i].height, views[i].spacingX, views[i].spacingY));
      labels.push_back(fmt::format("slice {}  score {:.3f}", order[i], sliceScores[order[i]]));
    }
    for (size_t i = 0; i < views.size(); ++i)
    {
      views[i].scan = scans[i].data();
      views[i].map = maps[i].data();
    }
    if (Dimension == 2)
    {
      visualization::WriteOverlayPng(views.front(), style, s.overlay);
    }
    else
    {
      visualization::WriteMontagePng(views, labels, style, s.overlay);
    }
  }
  return report;
}
} // namespace

InferCommand::InferCommand(CLI::App & app)
  : m_Command(app.add_subcommand("infer", "Compute the anomaly map of a scan or picture with a model."))
{
  auto * c = m_Command;
  c->add_option("--model", m_Model, "Model file")->required()->check(CLI::ExistingFile);
  c->add_option("--input", m_Input, "Scan: NIfTI, NRRD, MetaImage, PNG, JPEG, ... or a DICOM folder")
    ->required()
    ->check(CLI::ExistingPath);
  c->add_option("--output",
                m_Output,
                "Anomaly map with the input's geometry (format by extension: .nii.gz, .nrrd, "
                ".mha, ...)")
    ->required();
  c->add_option("--overlay",
                m_Overlay,
                "PNG picture: the heat map on the scan (a montage of the most anomalous "
                "slices for volumes)");
  c->add_option("--report", m_Report, "JSON report: score, per-slice scores, regions, settings");
  c->add_option("--labels", m_Labels, "Label map of the anomalous regions (needs a threshold)");
  c->add_option("--threshold",
                m_Threshold,
                "Map value above which voxels are anomalous (default: the model's "
                "recommended threshold when it is calibrated)");
  c->add_option("--device", m_Device, "cpu, cuda or cuda:N")->capture_default_str();
  c->add_option("--threads", m_Threads, "CPU threads (0: every core)")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber);
  c->add_option("--batch-size", m_BatchSize, "Slices per forward pass")
    ->capture_default_str()
    ->check(CLI::PositiveNumber);
  c->add_option("--intensity", m_Intensity, "Override the model's intensity preset");
}

int
InferCommand::Run() const
{
  RequireFolderOf(m_Output, "anomaly map");
  for (const std::string * path : { &m_Overlay, &m_Report, &m_Labels })
  {
    if (!path->empty())
    {
      RequireFolderOf(*path, "output");
    }
  }
  PredictorOptions options;
  options.device = m_Device;
  options.threads = m_Threads;
  options.batchSize = m_BatchSize;
  InferSettings s;
  s.predictor = std::make_shared<Predictor>(m_Model, options);
  const ModelDescription & model = s.predictor->Description();
  const auto property = [&](const std::string & key, const std::string & fallback) {
    const auto found = model.properties.find(key);
    return found == model.properties.end() ? fallback : found->second;
  };
  try
  {
    s.preset =
      itk::ReContrastIntensityPreset::FromString(m_Intensity.empty() ? property("intensity", "mr") : m_Intensity);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(e.GetDescription());
  }
  s.context = property("channel_mode", "replicated") == "context";
  s.minimumForeground = std::stod(property("min_foreground", "0.05"));
  s.threshold =
    m_Threshold >= 0.0 ? m_Threshold : (model.calibration.valid ? model.calibration.recommendedThreshold : -1.0);
  if (!m_Labels.empty() && s.threshold < 0.0)
  {
    throw Error("A label map needs a threshold: give --threshold (the model has no calibration to recommend one).");
  }
  s.output = m_Output;
  s.labels = m_Labels;
  s.overlay = m_Overlay;
  s.input = m_Input;

  nlohmann::json report;
  unsigned int dimension = 3;
  unsigned int components = 1;
  if (!fs::is_directory(m_Input))
  {
    itk::ImageIOBase::Pointer io =
      itk::ImageIOFactory::CreateImageIO(m_Input.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
    if (!io)
    {
      throw Error(fmt::format("The input '{}' is not an image file that ITK can read.", m_Input));
    }
    io->SetFileName(m_Input);
    try
    {
      io->ReadImageInformation();
    }
    catch (const itk::ExceptionObject & e)
    {
      throw Error(fmt::format("Cannot read the input '{}': {}", m_Input, e.GetDescription()));
    }
    dimension = io->GetNumberOfDimensions();
    components = io->GetNumberOfComponents();
  }
  if (dimension == 2 && (components == 3 || components == 4))
  {
    if (m_Intensity.empty() && property("intensity", "") != "bytes")
    {
      s.preset = itk::ReContrastIntensityPreset::FromString("bytes");
    }
    report = RunOnImage<itk::Image<itk::RGBPixel<float>, 2>>(s);
  }
  else if (components != 1)
  {
    throw Error(fmt::format(
      "The input '{}' has {} components per pixel; grey scans and RGB pictures are supported.", m_Input, components));
  }
  else if (dimension == 2)
  {
    report = RunOnImage<itk::Image<float, 2>>(s);
  }
  else if (dimension == 3)
  {
    report = RunOnImage<itk::Image<float, 3>>(s);
  }
  else
  {
    throw Error(fmt::format("The input '{}' is a {}-D image; 2-D and 3-D images are supported.", m_Input, dimension));
  }

  report["model"] = m_Model;
  report["output"] = m_Output;
  report["settings"] = { { "threshold", s.threshold },
                         { "intensity", s.preset.ToString() },
                         { "channel_mode", s.context ? "context" : "replicated" },
                         { "device", m_Device },
                         { "score_reduction", "max over slices of the max of each slice map" },
                         { "model_image_size", s.predictor->ImageSize() },
                         { "backbone", ToString(model.config.backbone) } };
  if (!m_Report.empty())
  {
    AtomicFile file(m_Report);
    file.Stream() << report.dump(2) << '\n';
    file.Commit();
  }
  std::printf("recontrast: score %.4f; anomaly map %s", report["score"].get<double>(), m_Output.c_str());
  if (!m_Overlay.empty())
  {
    std::printf("; overlay %s", m_Overlay.c_str());
  }
  if (!m_Report.empty())
  {
    std::printf("; report %s", m_Report.c_str());
  }
  std::printf("\n");
  return 0;
}

} // namespace recontrast::cli
