/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Times a whole volume through the ITK layer against the engine's pure model time for the same
 *  slices, and reports peak memory. One measurement per process (peak RSS is per process); prints
 *  one JSON line. Testing/Benchmarks/streaming_benchmark.py runs it for several volume sizes.
 *
 *  --mode model     Predictor::Predict on `slices` prepared 256 x 256 inputs, in batches;
 *  --mode pipeline  read a NIfTI volume of `slices` axial slices, ReContrastAnomalyImageFilter
 *  (masking, intensity preset, resampling, model, inverse resampling), write the map.
 *
 *=========================================================================*/
#include "BenchmarkSupport.h"
#include "ReContrast/Predictor.h"
#include "itkImage.h"
#include "itkImageFileReader.h"
#include "itkImageFileWriter.h"
#include "itkImageRegionIterator.h"
#include "itkReContrastAnomalyImageFilter.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>


#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>

namespace
{
using recontrast::benchmark::PeakResidentMegabytes;
using Clock = std::chrono::steady_clock;
using VolumeType = itk::Image<short, 3>;
using MapType = itk::Image<float, 3>;

// A head-like volume: a noisy textured ellipsoid in air, 1 x 1 x 2 mm voxels.
VolumeType::Pointer
MakeVolume(unsigned int width, unsigned int slices)
{
  auto image = VolumeType::New();
  image->SetRegions(VolumeType::RegionType(VolumeType::SizeType{ { width, width, slices } }));
  VolumeType::SpacingType spacing;
  spacing[0] = 1.0;
  spacing[1] = 1.0;
  spacing[2] = 2.0;
  image->SetSpacing(spacing);
  image->Allocate();
  std::mt19937 random(5);
  std::normal_distribution<double> noise(0.0, 20.0);
  itk::ImageRegionIterator<VolumeType> it(image, image->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    const double x = (index[0] - 0.5 * width) / (0.42 * width);
    const double y = (index[1] - 0.5 * width) / (0.48 * width);
    const double z = (index[2] - 0.5 * slices) / (0.55 * slices);
    const bool inside = x * x + y * y + z * z < 1.0;
    const double value = inside ? 600.0 + 150.0 * std::sin(0.21 * index[0]) * std::cos(0.17 * index[1]) : 10.0;
    it.Set(static_cast<short>(std::max(0.0, value + noise(random))));
  }
  return image;
}
} // namespace

int
main(int argc, char ** argv)
{
  CLI::App app{ "Time a volume through the ITK anomaly filter, or the model alone on the same slices." };
  std::string model;
  std::string mode = "pipeline";
  std::string precision = "exact";
  std::string volumePath;
  std::string mapPath;
  unsigned int slices = 50;
  unsigned int width = 256;
  int batch = 8;
  app.add_option("--model", model, "Model file")->required()->check(CLI::ExistingFile);
  app.add_option("--mode", mode, "model, pipeline, or make-volume")
    ->check(CLI::IsMember({ "model", "pipeline", "make-volume" }));
  app.add_option("--volume", volumePath, "NIfTI volume to read (pipeline) or write (make-volume)");
  app.add_option("--map", mapPath, "Where the pipeline writes the map");
  app.add_option("--slices", slices, "Slices of the volume")->check(CLI::PositiveNumber);
  app.add_option("--width", width, "Width and height of each slice")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "Slices per forward pass")->check(CLI::PositiveNumber);
  app.add_option("--precision", precision, "exact, fp32, bf16 or fp16")
    ->check(CLI::IsMember(recontrast::PrecisionNames()));
  CLI11_PARSE(app, argc, argv);

  try
  {
    if (mode == "make-volume")
    {
      auto writer = itk::ImageFileWriter<VolumeType>::New();
      writer->SetInput(MakeVolume(width, slices));
      writer->SetFileName(volumePath);
      writer->UseCompressionOn();
      writer->Update();
      return 0;
    }
    recontrast::PredictorOptions options;
    options.batchSize = batch;
    options.precision = recontrast::PrecisionFromString(precision);
    options.strictPrecision = true;
    const auto start = Clock::now();
    auto predictor = std::make_shared<recontrast::Predictor>(model, options);
    const double load = std::chrono::duration<double>(Clock::now() - start).count();
    const size_t size = static_cast<size_t>(predictor->ImageSize());
    double seconds = 0.0;
    nlohmann::json stages = nlohmann::json::object();
    nlohmann::json stagePeaks = nlohmann::json::object();
    if (mode == "model")
    {
      // The inputs are prepared before the clock starts: this is the model's time alone.
      std::vector<float> inputs(static_cast<size_t>(batch) * 3 * size * size);
      std::mt19937 random(1);
      std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
      for (float & v : inputs)
      {
        v = uniform(random);
      }
      const auto begin = Clock::now();
      for (unsigned int done = 0; done < slices; done += static_cast<unsigned int>(batch))
      {
        const size_t count = std::min<size_t>(static_cast<size_t>(batch), slices - done);
        predictor->Predict(inputs.data(), count);
      }
      seconds = std::chrono::duration<double>(Clock::now() - begin).count();
    }
    else
    {
      const auto begin = Clock::now();
      auto reader = itk::ImageFileReader<VolumeType>::New();
      reader->SetFileName(volumePath);
      auto filter = itk::ReContrastAnomalyImageFilter<VolumeType, MapType>::New();
      filter->SetInput(reader->GetOutput());
      filter->SetPredictor(predictor);
      filter->SetMinimumForegroundFraction(0.0); // every slice is scored, as in the model-only run
      auto writer = itk::ImageFileWriter<MapType>::New();
      writer->SetInput(filter->GetOutput());
      writer->SetFileName(mapPath);
      writer->UseCompressionOn();
      // The stages one after another, so that each one's share shows.
      reader->Update();
      const auto read = Clock::now();
      const double readPeak = PeakResidentMegabytes();
      filter->Update();
      const auto filtered = Clock::now();
      const double filterPeak = PeakResidentMegabytes();
      writer->Update();
      seconds = std::chrono::duration<double>(Clock::now() - begin).count();
      stages = { { "read", std::chrono::duration<double>(read - begin).count() },
                 { "filter", std::chrono::duration<double>(filtered - read).count() },
                 { "write", std::chrono::duration<double>(Clock::now() - filtered).count() } };
      // The process's peak after each stage: where the memory goes.
      stagePeaks = { { "read", readPeak }, { "filter", filterPeak }, { "write", PeakResidentMegabytes() } };
      const auto & scored = filter->GetScoredSlices();
      const auto count = static_cast<unsigned int>(std::count(scored.begin(), scored.end(), true));
      if (count != slices)
      {
        std::fprintf(stderr, "StreamingBenchmark: scored %u of %u slices\n", count, slices);
        return 1;
      }
    }
    const nlohmann::json result{ { "mode", mode },
                                 { "slices", slices },
                                 { "seconds", seconds },
                                 { "load_seconds", load },
                                 { "stage_seconds", stages },
                                 { "stage_peak_rss_mb", stagePeaks },
                                 { "peak_rss_mb", PeakResidentMegabytes() } };
    std::printf("%s\n", result.dump().c_str());
  }
  catch (const std::exception & e)
  {
    std::fprintf(stderr, "StreamingBenchmark: %s\n", e.what());
    return 1;
  }
  return 0;
}
