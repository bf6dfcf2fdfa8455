/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  End-to-end engine check on real data: train a small ReContrast model on normal magnetic tile
 *  images (magnetic_tile_defects in the optional data folder RECONTRAST_SHARED_DATA_DIR, skipped when
 *  absent) and check that the loss goes down and that held-out defective tiles score above held-out
 *  normal ones.
 *
 *  ITK only reads the pictures here; the engine itself never sees ITK.
 *
 *=========================================================================*/
#include "ReContrast/Metrics.h"
#include "ReContrast/Predictor.h"
#include "ReContrast/Trainer.h"

#include <gtest/gtest.h>
#include <itkImage.h>
#include <itkImageFileReader.h>
#include <itkLinearInterpolateImageFunction.h>
#include <itkResampleImageFilter.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <numeric>

namespace
{
namespace fs = std::filesystem;
using GreyImage = itk::Image<float, 2>;

fs::path
DataDirectory()
{
  return fs::path(RECONTRAST_SHARED_DATA_DIR) / "magnetic_tile_defects";
}

// Reads a grey picture and resamples it to size x size (bilinear), replicated to three channels in [0, 1].
void
LoadTile(const fs::path & path, int size, float * out)
{
  auto reader = itk::ImageFileReader<GreyImage>::New();
  reader->SetFileName(path.string());
  reader->Update();
  GreyImage::Pointer image = reader->GetOutput();
  const auto inputSize = image->GetLargestPossibleRegion().GetSize();
  auto resample = itk::ResampleImageFilter<GreyImage, GreyImage>::New();
  resample->SetInput(image);
  GreyImage::SizeType outputSize;
  outputSize.Fill(static_cast<itk::SizeValueType>(size));
  GreyImage::SpacingType spacing;
  for (unsigned d = 0; d < 2; ++d)
  {
    spacing[d] = image->GetSpacing()[d] * static_cast<double>(inputSize[d]) / size;
  }
  GreyImage::PointType origin = image->GetOrigin();
  for (unsigned d = 0; d < 2; ++d)
  {
    origin[d] += 0.5 * (spacing[d] - image->GetSpacing()[d]);
  }
  resample->SetSize(outputSize);
  resample->SetOutputSpacing(spacing);
  resample->SetOutputOrigin(origin);
  resample->SetOutputDirection(image->GetDirection());
  resample->SetInterpolator(itk::LinearInterpolateImageFunction<GreyImage, double>::New());
  resample->Update();
  const float * pixels = resample->GetOutput()->GetBufferPointer();
  const size_t count = static_cast<size_t>(size) * static_cast<size_t>(size);
  for (int c = 0; c < 3; ++c)
  {
    for (size_t i = 0; i < count; ++i)
    {
      out[static_cast<size_t>(c) * count + i] = std::clamp(pixels[i] / 255.0f, 0.0f, 1.0f);
    }
  }
}

std::vector<fs::path>
Pictures(const std::string & category)
{
  std::vector<fs::path> files;
  for (const auto & entry : fs::directory_iterator(DataDirectory() / category / "Imgs"))
  {
    if (entry.path().extension() == ".jpg")
    {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  return files;
}

class TileSource : public recontrast::SampleSource
{
public:
  explicit TileSource(std::vector<fs::path> files)
    : m_Files(std::move(files))
  {}
  size_t Size() const override { return m_Files.size(); }
  void Load(size_t index, int imageSize, float * out) const override { LoadTile(m_Files[index], imageSize, out); }
  std::string Summary() const override { return std::to_string(m_Files.size()) + " normal magnetic tiles (MT_Free)"; }

private:
  std::vector<fs::path> m_Files;
};

TEST(MagneticTiles, TrainingLowersTheLossAndDefectsScoreAboveNormals)
{
  if (!fs::is_directory(DataDirectory()))
  {
    GTEST_SKIP() << "the magnetic tile data set is not at " << DataDirectory() << "; skipping";
  }
  constexpr int kSize = 64;
  std::vector<fs::path> normal = Pictures("MT_Free");
  ASSERT_GE(normal.size(), 80u);
  const std::vector<fs::path> trainFiles(normal.begin(), normal.begin() + 48);
  const std::vector<fs::path> heldOutNormal(normal.begin() + 48, normal.begin() + 72);
  std::vector<fs::path> defects;
  for (const char * category : { "MT_Blowhole", "MT_Break", "MT_Crack", "MT_Fray", "MT_Uneven" })
  {
    const auto files = Pictures(category);
    defects.insert(defects.end(), files.begin(), files.begin() + std::min<size_t>(6, files.size()));
  }

  recontrast::TrainingOptions options;
  options.backbone = recontrast::Backbone::ResNet18;
  options.imageSize = kSize;
  options.iterations = 120;
  options.batchSize = 8;
  // RECONTRAST_TEST_SEED and RECONTRAST_TEST_THREADS (default 111 and every core) exist to measure the
  // margins below over seeds and thread counts.
  options.seed = std::getenv("RECONTRAST_TEST_SEED") ? std::stoull(std::getenv("RECONTRAST_TEST_SEED")) : 111;
  options.threads = std::getenv("RECONTRAST_TEST_THREADS") ? std::stoi(std::getenv("RECONTRAST_TEST_THREADS")) : 0;
  options.calibrationFraction = 0.0;
  const fs::path model = fs::temp_directory_path() / "recontrast-magnetic-tiles.rcm";
  const auto result = recontrast::Trainer(options).Train(TileSource(trainFiles), model.string());

  const auto & loss = result.lossHistory;
  const double first = std::accumulate(loss.begin(), loss.begin() + 10, 0.0) / 10.0;
  const double last = std::accumulate(loss.end() - 10, loss.end(), 0.0) / 10.0;
  std::cout << "loss: first 10 iterations " << first << ", last 10 " << last << '\n';
  // Measured over seeds 1-5 at 1 and 2 threads: the last 10 iterations' loss is 0.31-0.34 of the
  // first 10's (bar 0.8).
  EXPECT_LT(last, 0.8 * first);

  recontrast::PredictorOptions predictorOptions;
  predictorOptions.threads = options.threads;
  recontrast::Predictor predictor(model.string(), predictorOptions);
  std::vector<double> scores;
  std::vector<int> labels;
  std::vector<float> image(3 * kSize * kSize);
  const std::vector<fs::path> * groups[] = { &heldOutNormal, &defects };
  for (const auto * group : groups)
  {
    for (const auto & file : *group)
    {
      LoadTile(file, kSize, image.data());
      scores.push_back(predictor.Predict(image.data(), 1).front().score);
      labels.push_back(group == &defects ? 1 : 0);
    }
  }
  const double auroc = recontrast::metrics::RocAuc(scores, labels);
  std::cout << "held-out image AUROC (" << heldOutNormal.size() << " normal, " << defects.size()
            << " defective): " << auroc << '\n';
  // Measured over seeds 1-5 at 1 and 2 threads: AUROC 0.608 to 0.701 (mean 0.657, SD 0.036). This
  // small random-encoder model is a weak detector; the bar (3 SD below the mean) checks what is
  // reliably true, that defects score above normals; quality is the business of `recontrast eval`
  // (Documentation/Benchmarks.md).
  EXPECT_GT(auroc, 0.55);
  fs::remove(model);
}

} // namespace
