/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The unsmoothed anomaly maps of a batch from its encoder and decoder features.
 *
 *=========================================================================*/
#include "AnomalyMap.h"

#include <torch/torch.h>

#include <cmath>

namespace recontrast
{

torch::Tensor
RawAnomalyMaps(const std::vector<torch::Tensor> & encoder, const std::vector<torch::Tensor> & decoder,
               int64_t outputSize, MapPairs pairs)
{
  namespace F = torch::nn::functional;
  torch::NoGradGuard noGrad;
  const int64_t batch = encoder.front().size(0);
  torch::Tensor sum = torch::zeros({ batch, outputSize, outputSize }, torch::kFloat64);
  const size_t count = pairs == MapPairs::All ? encoder.size() : encoder.size() / 2;
  for (size_t i = 0; i < count; ++i)
  {
    torch::Tensor distance =
      1 - F::cosine_similarity(encoder[i], decoder[i], F::CosineSimilarityFuncOptions().dim(1).eps(1e-8));
    distance = F::interpolate(distance.unsqueeze(1),
                              F::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{ outputSize, outputSize })
                                .mode(torch::kBilinear)
                                .align_corners(true));
    // The official code adds each float32 map into a float64 numpy accumulator.
    sum += distance.squeeze(1).to(torch::kCPU).to(torch::kFloat64);
  }
  return sum;
}

int
GaussianRadius(double sigma)
{
  return static_cast<int>(4.0 * sigma + 0.5);
}

namespace
{
// scipy's 'reflect' boundary (d c b a | a b c d | d c b a), folded as often as needed.
int64_t
Reflect(int64_t index, int64_t size)
{
  const int64_t period = 2 * size;
  index %= period;
  if (index < 0)
  {
    index += period;
  }
  return index < size ? index : period - 1 - index;
}

// One pass of scipy's correlate1d along rows (stride 1) or columns (stride = width).
void
Correlate1d(const double * input, double * output, int64_t lines, int64_t length, int64_t lineStride, int64_t step,
            const std::vector<double> & weights)
{
  const int64_t radius = static_cast<int64_t>(weights.size() / 2);
  std::vector<double> line(static_cast<size_t>(length + 2 * radius));
  for (int64_t l = 0; l < lines; ++l)
  {
    const double * in = input + l * lineStride;
    for (int64_t i = -radius; i < length + radius; ++i)
    {
      line[static_cast<size_t>(i + radius)] = in[Reflect(i, length) * step];
    }
    double * out = output + l * lineStride;
    for (int64_t i = 0; i < length; ++i)
    {
      double value = 0.0;
      for (size_t j = 0; j < weights.size(); ++j)
      {
        value += weights[j] * line[static_cast<size_t>(i) + j];
      }
      out[i * step] = value;
    }
  }
}
} // namespace

void
GaussianSmooth(double * image, int64_t height, int64_t width, double sigma)
{
  const int radius = GaussianRadius(sigma);
  std::vector<double> weights(static_cast<size_t>(2 * radius + 1));
  double total = 0.0;
  for (int x = -radius; x <= radius; ++x)
  {
    const double w = std::exp(-0.5 * static_cast<double>(x * x) / (sigma * sigma));
    weights[static_cast<size_t>(x + radius)] = w;
    total += w;
  }
  for (double & w : weights)
  {
    w /= total;
  }
  // scipy filters axis 0 (columns) first, then axis 1 (rows).
  std::vector<double> temporary(static_cast<size_t>(height * width));
  Correlate1d(image, temporary.data(), width, height, 1, width, weights);
  Correlate1d(temporary.data(), image, height, width, width, 1, weights);
}

} // namespace recontrast
