/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Times the engine's public API on one model file: inference (Predictor, batch 1) or one
 *  training step (Trainer). Prints one JSON line; Testing/Benchmarks/engine_benchmark.py runs it
 *  next to the PyTorch reference and prints the ratios.
 *
 *=========================================================================*/
#include "BenchmarkSupport.h"
#include "ReContrast/Error.h"
#include "ReContrast/ModelDescription.h"
#include "ReContrast/Predictor.h"
#include "ReContrast/Trainer.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>


#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

namespace
{
using recontrast::benchmark::Median;
using recontrast::benchmark::PeakResidentMegabytes;
using Clock = std::chrono::steady_clock;

class RandomSource : public recontrast::SampleSource
{
public:
  size_t Size() const override { return 64; }
  void Load(size_t index, int imageSize, float * out) const override
  {
    std::mt19937 random(static_cast<unsigned>(index));
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    for (size_t i = 0; i < 3 * static_cast<size_t>(imageSize) * static_cast<size_t>(imageSize); ++i)
    {
      out[i] = uniform(random);
    }
  }
  std::string Summary() const override { return "random images"; }
};
} // namespace

int
main(int argc, char ** argv)
{
  CLI::App app{ "Time the ReContrast engine on a model file." };
  std::string model;
  std::string mode = "infer";
  int runs = 5;
  int warmup = 2;
  int batch = 1;
  int threads = 0;
  int loaderWorkers = 1;
  std::string precision = "exact";
  std::string dumpMaps;
  app.add_option("--model", model, "Model file")->required()->check(CLI::ExistingFile);
  app.add_option("--mode", mode, "infer or train")->check(CLI::IsMember({ "infer", "train" }));
  app.add_option("--runs", runs, "Timed runs")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "Untimed runs first")->check(CLI::NonNegativeNumber);
  app.add_option("--batch", batch, "Images per forward or training step")->check(CLI::PositiveNumber);
  app.add_option("--threads", threads, "LibTorch threads (0: every core)");
  app.add_option("--loader-workers", loaderWorkers, "Training data-loader threads (0: load between steps)");
  app.add_option("--precision", precision, "Inference path: exact, fp32, bf16 or fp16")
    ->check(CLI::IsMember(recontrast::PrecisionNames()));
  app.add_option("--dump-maps", dumpMaps, "Write the smoothed maps of the last run here (float32, raw)");
  CLI11_PARSE(app, argc, argv);

  try
  {
    const recontrast::ModelDescription description = recontrast::ReadModelDescription(model);
    const int size = description.config.imageSize;
    std::vector<double> seconds;
    if (mode == "infer")
    {
      recontrast::PredictorOptions options;
      options.batchSize = batch;
      options.threads = threads;
      options.precision = recontrast::PrecisionFromString(precision);
      options.strictPrecision = true;
      recontrast::Predictor predictor(model, options);
      RandomSource source;
      std::vector<float> images(static_cast<size_t>(batch) * 3 * static_cast<size_t>(size) * static_cast<size_t>(size));
      for (int b = 0; b < batch; ++b)
      {
        source.Load(static_cast<size_t>(b), size, images.data() + static_cast<size_t>(b) * 3 * size * size);
      }
      std::vector<recontrast::Prediction> predictions;
      for (int i = 0; i < warmup + runs; ++i)
      {
        const auto start = Clock::now();
        predictions = predictor.Predict(images.data(), static_cast<size_t>(batch));
        if (i >= warmup)
        {
          seconds.push_back(std::chrono::duration<double>(Clock::now() - start).count());
        }
      }
      if (!dumpMaps.empty())
      {
        std::ofstream out(dumpMaps, std::ios::binary);
        for (const auto & p : predictions)
        {
          out.write(reinterpret_cast<const char *>(p.map.data()),
                    static_cast<std::streamsize>(p.map.size() * sizeof(float)));
        }
      }
    }
    else
    {
      recontrast::TrainingOptions options;
      options.backbone = description.config.backbone;
      options.imageSize = size;
      options.batchSize = batch;
      options.iterations = warmup + runs;
      options.initialModel = model;
      options.threads = threads;
      options.calibrationFraction = 0.0;
      options.loaderWorkers = loaderWorkers;
      recontrast::Trainer trainer(options);
      auto last = Clock::now();
      trainer.SetProgressCallback([&](const recontrast::TrainingProgress & p) {
        const auto now = Clock::now();
        if (p.iteration > warmup)
        {
          seconds.push_back(std::chrono::duration<double>(now - last).count());
        }
        last = now;
        return true;
      });
      const std::string output = (std::filesystem::temp_directory_path() / "recontrast-benchmark-trained.rcm").string();
      trainer.Train(RandomSource(), output);
      std::filesystem::remove(output);
    }
    nlohmann::json result{ { "mode", mode },
                           { "precision", mode == "infer" ? precision : std::string("training") },
                           { "batch", batch },
                           { "median_s", Median(seconds) },
                           { "min_s", *std::min_element(seconds.begin(), seconds.end()) },
                           { "runs", seconds },
                           { "peak_rss_mb", PeakResidentMegabytes() } };
    std::puts(result.dump().c_str());
  }
  catch (const recontrast::Error & e)
  {
    std::fprintf(stderr, "EngineBenchmark: %s\n", e.what());
    return 1;
  }
  return 0;
}
