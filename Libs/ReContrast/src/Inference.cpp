/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Smoothing of anomaly maps and their scores.
 *
 *=========================================================================*/
#include "Inference.h"

#include "AnomalyMap.h"
#include "ReContrast/Error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>

namespace recontrast
{

torch::Tensor
NormalizedBatch(const float * images, size_t count, const ModelConfig & config, const torch::Device & device)
{
  const int64_t size = config.imageSize;
  const int64_t n = static_cast<int64_t>(count);
  torch::Tensor batch = torch::from_blob(const_cast<float *>(images), { n, 3, size, size }, torch::kFloat32).clone();
  if (!torch::isfinite(batch).all().item<bool>())
  {
    throw Error("The input image contains NaN or infinite values.");
  }
  const torch::Tensor mean =
    torch::tensor(std::vector<float>(config.mean.begin(), config.mean.end())).view({ 1, 3, 1, 1 });
  const torch::Tensor std =
    torch::tensor(std::vector<float>(config.std.begin(), config.std.end())).view({ 1, 3, 1, 1 });
  return ((batch - mean) / std).to(device);
}

torch::ScalarType
ReducedPrecisionType(Precision precision)
{
  switch (precision)
  {
    case Precision::BFloat16:
      return torch::kBFloat16;
    case Precision::Float16:
      return torch::kHalf;
    default:
      throw Error("Only bf16 and fp16 are reduced precisions.");
  }
}

torch::Tensor
RawMapsOf(ReContrastNetwork & network, const torch::Tensor & batch, Precision precision, MapPairs pairs)
{
  torch::NoGradGuard noGrad;
  network->SetTrainingMode(false, false);
  switch (precision)
  {
    case Precision::Exact: {
      const FeaturePairs features = network->forward(batch);
      return RawAnomalyMaps(features.encoder, features.decoder, batch.size(2), pairs);
    }
    case Precision::Fp32: {
      const FeaturePairs features = network->ForwardKeptHeadsOnly(batch.contiguous(torch::MemoryFormat::ChannelsLast));
      return RawAnomalyMaps(features.encoder, features.decoder, batch.size(2), pairs);
    }
    case Precision::BFloat16:
    case Precision::Float16: {
      FeaturePairs features = network->ForwardKeptHeadsOnly(
        batch.to(ReducedPrecisionType(precision)).contiguous(torch::MemoryFormat::ChannelsLast));
      // The distances in float32, as the other paths compute them.
      for (auto * list : { &features.encoder, &features.decoder })
      {
        for (torch::Tensor & f : *list)
        {
          f = f.to(torch::kFloat32);
        }
      }
      return RawAnomalyMaps(features.encoder, features.decoder, batch.size(2), pairs);
    }
  }
  throw Error("Unknown inference precision.");
}

double
ReduceScore(const double * map, size_t count, ScoreReduction reduction, double topFraction)
{
  switch (reduction)
  {
    case ScoreReduction::Max:
      return *std::max_element(map, map + count);
    case ScoreReduction::Mean:
      return std::accumulate(map, map + count, 0.0) / static_cast<double>(count);
    case ScoreReduction::TopKMean: {
      // The official max_ratio: the mean of the top floor(count * ratio) pixels.
      const size_t k = std::max<size_t>(1, static_cast<size_t>(static_cast<double>(count) * topFraction));
      std::vector<double> values(map, map + count);
      std::nth_element(
        values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k - 1), values.end(), std::greater<double>());
      return std::accumulate(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), 0.0) /
             static_cast<double>(k);
    }
  }
  throw Error("Unknown score reduction.");
}

std::vector<Prediction>
FinishPredictions(const torch::Tensor & rawMaps, const PredictorOptions & options)
{
  const torch::Tensor maps = rawMaps.to(torch::kCPU).to(torch::kFloat64).contiguous();
  const int64_t batch = maps.size(0);
  const int64_t height = maps.size(1);
  const int64_t width = maps.size(2);
  std::vector<Prediction> predictions(static_cast<size_t>(batch));
  for (int64_t b = 0; b < batch; ++b)
  {
    std::vector<double> map(maps[b].data_ptr<double>(), maps[b].data_ptr<double>() + height * width);
    if (options.smoothingSigma > 0.0)
    {
      GaussianSmooth(map.data(), height, width, options.smoothingSigma);
    }
    Prediction & p = predictions[static_cast<size_t>(b)];
    p.score = ReduceScore(map.data(), map.size(), options.reduction, options.topFraction);
    p.map.assign(map.begin(), map.end());
  }
  return predictions;
}

} // namespace recontrast
