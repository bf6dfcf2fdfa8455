/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The anomaly-map filter on 2-D and 3-D images of several pixel types: geometry, progress, abort,
 *  masks, bad input. A tiny model (resnet18, 32 px, a few iterations on synthetic slices) is enough:
 *  these tests are about the ITK plumbing, not about detection quality.
 *
 *=========================================================================*/
#include "itkCommand.h"
#include "itkImage.h"
#include "itkImageFileWriter.h"
#include "itkImageRegionIterator.h"
#include "itkRGBPixel.h"
#include "itkReContrastAnomalyImageFilter.h"
#include "itkReContrastScanSampleSource.h"
#include "itkReContrastScanSlices.h"
#include "ReContrast/Predictor.h"
#include "ReContrast/Trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <functional>
#include <random>

namespace
{
namespace fs = std::filesystem;
using VolumeType = itk::Image<float, 3>;

// A head-like volume: a bright noisy ellipsoid in dark air.
template <typename TImage>
typename TImage::Pointer
MakeVolume(const typename TImage::SizeType & size, double lesionValue = 0.0)
{
  auto image = TImage::New();
  image->SetRegions(typename TImage::RegionType(size));
  image->Allocate();
  std::mt19937 random(3);
  std::normal_distribution<double> noise(0.0, 3.0);
  itk::ImageRegionIterator<TImage> it(image, image->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    double r = 0.0;
    for (unsigned d = 0; d < TImage::ImageDimension; ++d)
    {
      const double c = (index[d] - 0.5 * size[d]) / (0.4 * size[d]);
      r += c * c;
    }
    double value = r < 1.0 ? 100.0 + 20.0 * std::sin(0.3 * index[0]) + noise(random) : 5.0 + noise(random);
    if (lesionValue != 0.0 && r < 0.02)
    {
      value = lesionValue;
    }
    it.Set(static_cast<typename TImage::PixelType>(std::max(0.0, value)));
  }
  return image;
}

// A tiny model (resnet18, 32 px, a few iterations) trained on folder/normal.nii.gz with grey slices
// replicated or as 2.5-D context, recording the channel mode as `recontrast train` does.
std::string
TrainTinyModel(const fs::path & folder, const std::string & name, bool context, int iterations,
               const std::string & normal = "normal.nii.gz", double calibrationFraction = 0.0)
{
  itk::ReContrastScanSampleSource::Settings settings;
  settings.slices.context = context;
  itk::ReContrastScanSampleSource source({ (folder / normal).string() }, settings);
  recontrast::TrainingOptions options;
  options.backbone = recontrast::Backbone::ResNet18;
  options.imageSize = 32;
  options.iterations = iterations;
  options.batchSize = 4;
  options.calibrationFraction = calibrationFraction;
  options.modelProperties = { { "channel_mode", context ? "context" : "replicated" } };
  const std::string model = (folder / name).string();
  recontrast::Trainer(options).Train(source, model);
  return model;
}

class AnomalyFilter : public ::testing::Test
{
protected:
  static void SetUpTestSuite()
  {
    s_Folder = fs::temp_directory_path() / ("recontrast-itk-filter-" + std::to_string(std::random_device{}()));
    fs::create_directories(s_Folder);
    VolumeType::SizeType size{ { 40, 36, 12 } };
    auto writer = itk::ImageFileWriter<VolumeType>::New();
    writer->SetInput(MakeVolume<VolumeType>(size));
    writer->SetFileName((s_Folder / "normal.nii.gz").string());
    writer->Update();

    s_Model = TrainTinyModel(s_Folder, "model.rcm", false, 3);
    recontrast::PredictorOptions predictorOptions;
    predictorOptions.batchSize = 4;
    s_Predictor = std::make_shared<recontrast::Predictor>(s_Model, predictorOptions);
  }
  static void TearDownTestSuite()
  {
    s_Predictor.reset();
    fs::remove_all(s_Folder);
  }
  static fs::path s_Folder;
  static std::string s_Model;
  static std::shared_ptr<recontrast::Predictor> s_Predictor;
};
fs::path AnomalyFilter::s_Folder;
std::string AnomalyFilter::s_Model;
std::shared_ptr<recontrast::Predictor> AnomalyFilter::s_Predictor;

TEST_F(AnomalyFilter, OutputHasTheInputGeometryForObliqueAnisotropicScans)
{
  using ImageType = itk::Image<short, 3>;
  auto image = MakeVolume<ImageType>(ImageType::SizeType{ { 30, 26, 10 } });
  ImageType::SpacingType spacing;
  spacing[0] = 0.7;
  spacing[1] = 0.9;
  spacing[2] = 3.0;
  image->SetSpacing(spacing);
  ImageType::PointType origin;
  origin[0] = -12.5;
  origin[1] = 40.0;
  origin[2] = 7.25;
  image->SetOrigin(origin);
  ImageType::DirectionType direction;
  const double angle = 0.4;
  direction.SetIdentity();
  direction[0][0] = std::cos(angle);
  direction[0][2] = std::sin(angle);
  direction[2][0] = -std::sin(angle);
  direction[2][2] = std::cos(angle);
  image->SetDirection(direction);

  auto filter = itk::ReContrastAnomalyImageFilter<ImageType>::New();
  filter->SetInput(image);
  filter->SetPredictor(s_Predictor);
  filter->Update();
  auto output = filter->GetOutput();
  EXPECT_EQ(output->GetLargestPossibleRegion(), image->GetLargestPossibleRegion());
  EXPECT_EQ(output->GetSpacing(), image->GetSpacing());
  EXPECT_EQ(output->GetOrigin(), image->GetOrigin());
  EXPECT_EQ(output->GetDirection(), image->GetDirection());
  EXPECT_EQ(filter->GetEffectiveSliceAxis(), 2u);
  EXPECT_EQ(filter->GetSliceScores().size(), 10u);
  double maximum = 0.0;
  itk::ImageRegionConstIterator<itk::Image<float, 3>> it(output, output->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    ASSERT_TRUE(std::isfinite(it.Get()));
    maximum = std::max(maximum, static_cast<double>(it.Get()));
  }
  EXPECT_GT(maximum, 0.0);
}

TEST_F(AnomalyFilter, SliceAxisFollowsTheDirectionMatrix)
{
  VolumeType::DirectionType sagittal;
  sagittal.Fill(0.0);
  // Index axis 0 runs along the patient's z: axial slices are cut along axis 0.
  sagittal[2][0] = 1.0;
  sagittal[0][1] = 1.0;
  sagittal[1][2] = 1.0;
  EXPECT_EQ(itk::ReContrastAxialAxis(sagittal), 0u);
  VolumeType::DirectionType identity;
  identity.SetIdentity();
  EXPECT_EQ(itk::ReContrastAxialAxis(identity), 2u);
}

TEST_F(AnomalyFilter, ProgressIsMonotoneAndReachesOneAndAbortStopsBetweenBatches)
{
  auto image = MakeVolume<VolumeType>(VolumeType::SizeType{ { 30, 30, 16 } });
  auto filter = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  filter->SetInput(image);
  filter->SetPredictor(s_Predictor);
  std::vector<float> progress;
  auto observer = itk::CStyleCommand::New();
  observer->SetClientData(&progress);
  observer->SetCallback([](itk::Object * object, const itk::EventObject &, void * data) {
    static_cast<std::vector<float> *>(data)->push_back(static_cast<itk::ProcessObject *>(object)->GetProgress());
  });
  filter->AddObserver(itk::ProgressEvent(), observer);
  filter->Update();
  ASSERT_GE(progress.size(), 2u);
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end()));
  EXPECT_FLOAT_EQ(progress.back(), 1.0f);

  auto aborting = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  aborting->SetInput(image);
  aborting->SetPredictor(s_Predictor);
  int batches = 0;
  auto abortAfterOne = itk::CStyleCommand::New();
  abortAfterOne->SetClientData(&batches);
  abortAfterOne->SetCallback([](itk::Object * object, const itk::EventObject &, void * data) {
    if (++*static_cast<int *>(data) == 1)
    {
      static_cast<itk::ProcessObject *>(object)->AbortGenerateDataOn();
    }
  });
  aborting->AddObserver(itk::ProgressEvent(), abortAfterOne);
  EXPECT_THROW(aborting->Update(), itk::ProcessAborted);
  EXPECT_EQ(batches, 1);
  EXPECT_EQ(aborting->GetOutput()->GetBufferPointer(), nullptr) << "a half-filled output was left";
}

// The filter's map made the long way: the scan's usable slices through the predictor in batches of its
// batch size (as the filter batches them), each prediction turned into a square map by `squareMap`
// (slice index, prediction) and written onto the slice grid.
std::vector<float>
MapOfUsableSlices(const itk::ReContrastScanSlices & scan, recontrast::Predictor & predictor, size_t voxels,
                  const std::function<const float *(size_t, const recontrast::Prediction &)> & squareMap)
{
  const auto & usable = scan.GetUsableSlices();
  const unsigned int modelSize = static_cast<unsigned int>(predictor.ImageSize());
  const size_t plane = static_cast<size_t>(modelSize) * modelSize;
  const size_t batchSize = static_cast<size_t>(predictor.Options().batchSize);
  std::vector<float> map(voxels, 0.0f);
  for (size_t first = 0; first < usable.size(); first += batchSize)
  {
    const size_t n = std::min(batchSize, usable.size() - first);
    std::vector<float> input(n * 3 * plane);
    for (size_t b = 0; b < n; ++b)
    {
      scan.MakeModelInput(usable[first + b], modelSize, input.data() + b * 3 * plane);
    }
    const auto predictions = predictor.Predict(input.data(), n);
    for (size_t b = 0; b < n; ++b)
    {
      scan.WriteSliceMap(usable[first + b], squareMap(usable[first + b], predictions[b]), modelSize, map.data());
    }
  }
  return map;
}

TEST_F(AnomalyFilter, CalibratedMapIsTheModelMapCalibratedPixelByPixelAtEachSlicePosition)
{
  // A model calibrated on a taller scan (enough slices for a position profile and a map profile).
  const VolumeType::SizeType size{ { 40, 36, 40 } };
  auto writer = itk::ImageFileWriter<VolumeType>::New();
  writer->SetInput(MakeVolume<VolumeType>(size));
  writer->SetFileName((s_Folder / "tall.nii.gz").string());
  writer->Update();
  const std::string model = TrainTinyModel(s_Folder, "calibrated.rcm", false, 2, "tall.nii.gz", 0.25);
  recontrast::PredictorOptions predictorOptions;
  predictorOptions.batchSize = 4;
  const auto predictor = std::make_shared<recontrast::Predictor>(model, predictorOptions);
  const recontrast::ScoreCalibration & calibration = predictor->Description().calibration;
  ASSERT_TRUE(calibration.valid);
  ASSERT_FALSE(calibration.positions.empty()) << "no position profile from " << calibration.samples << " slices";
  ASSERT_TRUE(calibration.HasMapProfile());

  using MaskType = itk::Image<unsigned char, 3>;
  const VolumeType::SizeType scanSize{ { 36, 32, 30 } };
  auto image = MakeVolume<VolumeType>(scanSize, 160.0);
  auto mask = MaskType::New();
  mask->SetRegions(MaskType::RegionType(scanSize));
  mask->Allocate();
  mask->FillBuffer(1);
  auto calibrated = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  calibrated->SetInput(image);
  calibrated->SetMaskImage(mask);
  calibrated->SetPredictor(predictor);
  calibrated->Update();
  ASSERT_TRUE(calibrated->GetOutputIsCalibrated());

  // Positions run from 0 to 1 over the scored slices.
  const std::vector<double> & positions = calibrated->GetSlicePositions();
  const std::vector<bool> & scored = calibrated->GetScoredSlices();
  const auto first = std::find(scored.begin(), scored.end(), true) - scored.begin();
  const auto last = scored.rend() - std::find(scored.rbegin(), scored.rend(), true) - 1;
  ASSERT_LT(first, last);
  EXPECT_DOUBLE_EQ(positions[first], 0.0);
  EXPECT_DOUBLE_EQ(positions[last], 1.0);

  // The same slices through the model, each square map calibrated at its slice's position
  // (ScoreCalibration::CalibrateMap), written onto the slice grid, and 0 at or below normal.
  const size_t voxels = image->GetLargestPossibleRegion().GetNumberOfPixels();
  itk::ReContrastScanSlices::Settings settings;
  const itk::ReContrastScanSlices scan(
    std::vector<float>(image->GetBufferPointer(), image->GetBufferPointer() + voxels),
    1,
    { { scanSize[0], scanSize[1], scanSize[2] } },
    { { 1.0, 1.0, 1.0 } },
    2,
    std::vector<unsigned char>(voxels, 1),
    settings);
  const auto & usable = scan.GetUsableSlices();
  const int modelSize = predictor->ImageSize();
  std::vector<float> square(static_cast<size_t>(modelSize) * static_cast<size_t>(modelSize));
  const std::vector<float> expected =
    MapOfUsableSlices(scan, *predictor, voxels, [&](size_t k, const recontrast::Prediction & prediction) {
      EXPECT_TRUE(scored[k]);
      const double score =
        calibration.CalibrateMap(prediction.map.data(), modelSize, prediction.score, positions[k], square.data());
      EXPECT_EQ(calibrated->GetCalibratedSliceScores()[k], score) << "slice " << k;
      EXPECT_FLOAT_EQ(static_cast<float>(score), *std::max_element(square.begin(), square.end()));
      return square.data();
    });
  const float * values = calibrated->GetOutput()->GetBufferPointer();
  size_t positive = 0;
  float largest = 0.0f;
  for (size_t i = 0; i < voxels; ++i)
  {
    largest = std::max(largest, std::abs(values[i] - std::max(expected[i], 0.0f)));
    positive += values[i] > 0.0f ? 1 : 0;
  }
  EXPECT_EQ(largest, 0.0f);
  EXPECT_GT(positive, 0u) << "the lesion scan has nothing above normal";

  // Off: the raw map, whose slice scores are the predictions' own.
  auto raw = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  raw->SetInput(image);
  raw->SetMaskImage(mask);
  raw->SetPredictor(predictor);
  raw->CalibratedMapOff();
  raw->Update();
  EXPECT_FALSE(raw->GetOutputIsCalibrated());
  for (const size_t k : usable)
  {
    EXPECT_EQ(raw->GetCalibratedSliceScores()[k], calibrated->GetCalibratedSliceScores()[k]) << "slice " << k;
  }
}

// The filter converts and prepares one slab of slices per batch; the map must be exactly the one of
// the whole scan prepared at once (ReContrastScanSlices over every voxel, batches of the same slices).
template <typename TImage>
void
ExpectSlabsGiveTheWholeScanMap(const TImage * image, const itk::Image<unsigned char, 3> * mask, unsigned int axis,
                               bool context, const std::shared_ptr<recontrast::Predictor> & predictor)
{
  using FilterType = itk::ReContrastAnomalyImageFilter<TImage>;
  auto filter = FilterType::New();
  filter->SetInput(image);
  filter->SetPredictor(predictor);
  filter->SetMaskImage(mask);
  filter->SetSliceAxis(static_cast<int>(axis));
  filter->SetChannelMode(context ? FilterType::ChannelMode::Context : FilterType::ChannelMode::Replicated);
  filter->Update();

  const auto size = image->GetLargestPossibleRegion().GetSize();
  const size_t voxels = image->GetLargestPossibleRegion().GetNumberOfPixels();
  std::vector<float> values(image->GetBufferPointer(), image->GetBufferPointer() + voxels);
  std::vector<unsigned char> foreground(mask->GetBufferPointer(), mask->GetBufferPointer() + voxels);
  itk::ReContrastScanSlices::Settings settings;
  settings.context = context;
  const itk::ReContrastScanSlices scan(std::move(values),
                                       1,
                                       { { size[0], size[1], size[2] } },
                                       { { 1.0, 1.0, 1.0 } },
                                       axis,
                                       std::move(foreground),
                                       settings);
  ASSERT_LT(scan.GetUsableSlices().size(), scan.GetNumberOfSlices()) << "the test needs slices without foreground";
  const std::vector<float> expected =
    MapOfUsableSlices(scan, *predictor, voxels, [&](size_t k, const recontrast::Prediction & prediction) {
      EXPECT_EQ(filter->GetSliceScores()[k], prediction.score);
      return prediction.map.data();
    });
  const float * actual = filter->GetOutput()->GetBufferPointer();
  float largest = 0.0f;
  for (size_t i = 0; i < voxels; ++i)
  {
    largest = std::max(largest, std::abs(actual[i] - expected[i]));
  }
  EXPECT_EQ(largest, 0.0f) << "axis " << axis << (context ? ", context" : ", replicated");
}

TEST_F(AnomalyFilter, SlabsOfSlicesGiveTheWholeScanMap)
{
  using ImageType = itk::Image<short, 3>;
  using MaskType = itk::Image<unsigned char, 3>;
  const ImageType::SizeType size{ { 26, 22, 15 } };
  auto image = MakeVolume<ImageType>(size, 400.0);
  // A mask with empty slices along every axis, so that batches span skipped slices.
  auto mask = MaskType::New();
  mask->SetRegions(MaskType::RegionType(size));
  mask->Allocate();
  itk::ImageRegionIterator<MaskType> it(mask, mask->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    it.Set(index[0] % 7 != 3 && index[1] % 6 != 2 && index[2] % 5 != 1 ? 1 : 0);
  }

  // A second tiny model trained on 2.5-D context slices.
  const std::string contextModel = TrainTinyModel(s_Folder, "context.rcm", true, 2);
  recontrast::PredictorOptions predictorOptions;
  predictorOptions.batchSize = 3;
  const auto contextPredictor = std::make_shared<recontrast::Predictor>(contextModel, predictorOptions);

  for (unsigned int axis = 0; axis < 3; ++axis)
  {
    ExpectSlabsGiveTheWholeScanMap<ImageType>(image, mask, axis, false, s_Predictor);
    ExpectSlabsGiveTheWholeScanMap<ImageType>(image, mask, axis, true, contextPredictor);
  }
}

TEST_F(AnomalyFilter, TwoDimensionalGreyAndColourImagesWork)
{
  using GreyType = itk::Image<unsigned char, 2>;
  auto grey = MakeVolume<GreyType>(GreyType::SizeType{ { 50, 40 } });
  auto greyFilter = itk::ReContrastAnomalyImageFilter<GreyType>::New();
  greyFilter->SetInput(grey);
  greyFilter->SetPredictor(s_Predictor);
  greyFilter->SetIntensityPreset(itk::ReContrastIntensityPreset::FromString("bytes"));
  greyFilter->Update();
  EXPECT_EQ(greyFilter->GetOutput()->GetLargestPossibleRegion(), grey->GetLargestPossibleRegion());
  EXPECT_EQ(greyFilter->GetSliceScores().size(), 1u);
  EXPECT_GT(greyFilter->GetSliceScores()[0], 0.0);

  using ColourType = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  auto colour = ColourType::New();
  colour->SetRegions(ColourType::RegionType(ColourType::SizeType{ { 33, 47 } }));
  colour->Allocate();
  itk::ImageRegionIterator<ColourType> it(colour, colour->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    itk::RGBPixel<unsigned char> pixel;
    pixel[0] = static_cast<unsigned char>(it.GetIndex()[0] * 5);
    pixel[1] = 128;
    pixel[2] = static_cast<unsigned char>(it.GetIndex()[1] * 3);
    it.Set(pixel);
  }
  auto colourFilter = itk::ReContrastAnomalyImageFilter<ColourType>::New();
  colourFilter->SetInput(colour);
  colourFilter->SetPredictor(s_Predictor);
  colourFilter->Update();
  EXPECT_EQ(colourFilter->GetOutput()->GetLargestPossibleRegion(), colour->GetLargestPossibleRegion());
}

TEST_F(AnomalyFilter, BadInputIsRefusedClearly)
{
  auto image = MakeVolume<VolumeType>(VolumeType::SizeType{ { 20, 20, 6 } });
  auto filter = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  filter->SetInput(image);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject); // no model

  filter->SetPredictor(s_Predictor);
  using MaskType = itk::Image<unsigned char, 3>;
  auto mask = MaskType::New();
  mask->SetRegions(MaskType::RegionType(MaskType::SizeType{ { 20, 20, 5 } }));
  mask->Allocate();
  mask->FillBuffer(1);
  filter->SetMaskImage(mask);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);

  auto withNaN = MakeVolume<VolumeType>(VolumeType::SizeType{ { 20, 20, 6 } });
  withNaN->SetPixel({ { 3, 3, 3 } }, std::nanf(""));
  auto nanFilter = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  nanFilter->SetInput(withNaN);
  nanFilter->SetPredictor(s_Predictor);
  try
  {
    nanFilter->Update();
    FAIL() << "a scan with NaN was accepted";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_NE(std::string(e.GetDescription()).find("NaN"), std::string::npos) << e.GetDescription();
  }
}

// Scans come in many pixel types; each one gets a map with its geometry.
template <typename TImage>
void
ExpectAFiniteMapWithTheGeometryOf(const typename TImage::SizeType & size,
                                  const std::shared_ptr<recontrast::Predictor> & predictor)
{
  auto image = MakeVolume<TImage>(size);
  typename TImage::SpacingType spacing;
  spacing.Fill(0.8);
  image->SetSpacing(spacing);
  auto filter = itk::ReContrastAnomalyImageFilter<TImage>::New();
  filter->SetInput(image);
  filter->SetPredictor(predictor);
  filter->Update();
  const auto * output = filter->GetOutput();
  ASSERT_EQ(output->GetLargestPossibleRegion(), image->GetLargestPossibleRegion());
  EXPECT_EQ(output->GetSpacing(), image->GetSpacing());
  const float * values = output->GetBufferPointer();
  const size_t count = output->GetLargestPossibleRegion().GetNumberOfPixels();
  EXPECT_TRUE(std::all_of(values, values + count, [](float v) { return std::isfinite(v) && v >= 0.0f; }));
  EXPECT_GT(*std::max_element(values, values + count), 0.0f);
}

TEST_F(AnomalyFilter, ScansOfEveryPixelTypeWork)
{
  ExpectAFiniteMapWithTheGeometryOf<itk::Image<unsigned char, 3>>({ { 24, 22, 5 } }, s_Predictor);
  ExpectAFiniteMapWithTheGeometryOf<itk::Image<short, 3>>({ { 24, 22, 5 } }, s_Predictor);
  ExpectAFiniteMapWithTheGeometryOf<itk::Image<float, 3>>({ { 24, 22, 5 } }, s_Predictor);
  ExpectAFiniteMapWithTheGeometryOf<itk::Image<short, 2>>({ { 31, 27 } }, s_Predictor);
  ExpectAFiniteMapWithTheGeometryOf<itk::Image<float, 2>>({ { 31, 27 } }, s_Predictor);
}

TEST_F(AnomalyFilter, ConstantEmptyAndMismatchedInputsAreRefused)
{
  const auto expectRefusal = [](itk::ProcessObject * filter, const std::string & words) {
    try
    {
      filter->Update();
      ADD_FAILURE() << "accepted; expected an error about " << words;
    }
    catch (const itk::ExceptionObject & e)
    {
      EXPECT_NE(std::string(e.GetDescription()).find(words), std::string::npos) << e.GetDescription();
    }
  };
  auto constant = VolumeType::New();
  constant->SetRegions(VolumeType::RegionType(VolumeType::SizeType{ { 16, 16, 4 } }));
  constant->Allocate();
  constant->FillBuffer(42.0f);
  auto constantFilter = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  constantFilter->SetInput(constant);
  constantFilter->SetPredictor(s_Predictor);
  expectRefusal(constantFilter, "constant");
  EXPECT_EQ(constantFilter->GetOutput()->GetBufferPointer(), nullptr) << "a partial output was left";

  auto empty = VolumeType::New();
  empty->SetRegions(VolumeType::RegionType(VolumeType::SizeType{ { 16, 0, 4 } }));
  empty->Allocate();
  auto emptyFilter = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  emptyFilter->SetInput(empty);
  emptyFilter->SetPredictor(s_Predictor);
  EXPECT_THROW(emptyFilter->Update(), itk::ExceptionObject);

  // The model was trained on replicated grey slices; asking for 2.5-D context is refused.
  auto contextFilter = itk::ReContrastAnomalyImageFilter<VolumeType>::New();
  contextFilter->SetInput(MakeVolume<VolumeType>(VolumeType::SizeType{ { 20, 20, 6 } }));
  contextFilter->SetPredictor(s_Predictor);
  contextFilter->SetChannelMode(itk::ReContrastAnomalyImageFilter<VolumeType>::ChannelMode::Context);
  expectRefusal(contextFilter, "channel mode");
}

TEST_F(AnomalyFilter, TrainingDataListing)
{
  EXPECT_EQ(itk::ReContrastScanSampleSource::ListScans(s_Folder.string()).size(), 1u);
  const fs::path list = s_Folder / "scans.txt";
  std::ofstream(list) << "# normal scans\nnormal.nii.gz\n\n";
  const auto scans = itk::ReContrastScanSampleSource::ListScans(list.string());
  ASSERT_EQ(scans.size(), 1u);
  EXPECT_TRUE(fs::exists(scans[0]));
  EXPECT_THROW(itk::ReContrastScanSampleSource::ListScans((s_Folder / "missing").string()), itk::ExceptionObject);
}

} // namespace
