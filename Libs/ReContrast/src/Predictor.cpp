/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  A loaded model on a device, reused for many images: anomaly maps and scores.
 *
 *=========================================================================*/
#include "ReContrast/Predictor.h"

#include "Device.h"
#include "EnumNames.h"
#include "Inference.h"
#include "ModelFile.h"
#include "NetworkState.h"
#include "ReContrast/Error.h"

#include <torch/torch.h>

#include <algorithm>

namespace recontrast
{

namespace
{
constexpr EnumName<ScoreReduction> kScoreReductionNames[] = { { ScoreReduction::Max, "max" },
                                                              { ScoreReduction::Mean, "mean" },
                                                              { ScoreReduction::TopKMean, "topk-mean" } };
constexpr EnumName<Precision> kPrecisionNames[] = { { Precision::Exact, "exact" },
                                                    { Precision::Fp32, "fp32" },
                                                    { Precision::BFloat16, "bf16" },
                                                    { Precision::Float16, "fp16" } };

bool
NativeOn(Precision precision, const torch::Device & device)
{
  switch (precision)
  {
    case Precision::BFloat16:
      return SupportsBFloat16(device);
    case Precision::Float16:
      return device.is_cuda();
    default:
      return true;
  }
}
} // namespace

std::string
ToString(ScoreReduction reduction)
{
  return NameOf(kScoreReductionNames, reduction, "score reduction");
}

ScoreReduction
ScoreReductionFromString(const std::string & name)
{
  return ValueOf(kScoreReductionNames, name, "score reduction");
}

std::string
ToString(Precision precision)
{
  return NameOf(kPrecisionNames, precision, "precision");
}

Precision
PrecisionFromString(const std::string & name)
{
  return ValueOf(kPrecisionNames, name, "precision");
}

std::vector<std::string>
PrecisionNames()
{
  return NamesOf(kPrecisionNames);
}

bool
PrecisionAvailable(Precision precision, const std::string & device)
{
  return NativeOn(precision, ParseDevice(device));
}

struct Predictor::Impl
{
  PredictorOptions options;
  std::vector<std::string> notes;
  ModelDescription description;
  torch::Device device{ torch::kCPU };
  ReContrastNetwork network{ nullptr };
};

Predictor::Predictor(const std::string & modelPath, const PredictorOptions & options)
  : m_Impl(std::make_unique<Impl>())
{
  if (options.batchSize < 1)
  {
    throw Error("The batch size must be at least 1; got " + std::to_string(options.batchSize) + ".");
  }
  if (!(options.topFraction > 0.0 && options.topFraction <= 1.0))
  {
    throw Error("The top fraction for 'topk-mean' scores must be in (0, 1].");
  }
  if (!(options.smoothingSigma >= 0.0))
  {
    throw Error("The smoothing sigma must not be negative.");
  }
  m_Impl->options = options;
  m_Impl->device = ParseDevice(options.device);
  ApplyThreadCount(options.threads);
  try
  {
    {
      const ModelFileContents contents = ReadModelFile(modelPath);
      if (contents.kind != "model")
      {
        throw Error("'" + modelPath +
                    "' is a training checkpoint, not a model; finish or resume the training to get a model.");
      }
      m_Impl->description = contents.description;
      m_Impl->network = NetworkFromModelFile(contents, modelPath);
    } // The file's tensors now belong to the network alone: folding below replaces them, not copies them.
    m_Impl->network->to(m_Impl->device);
    m_Impl->network->SetTrainingMode(false, false);
    if (!NativeOn(options.precision, m_Impl->device))
    {
      const std::string message = options.precision == Precision::BFloat16
                                    ? "bf16 inference needs a CPU with AVX-512 BF16 or AMX instructions, or a GPU of "
                                      "compute capability 8.0 or newer"
                                    : "fp16 inference needs a GPU";
      if (options.strictPrecision)
      {
        throw Error(message + "; this " + options.device + " is not one.");
      }
      m_Impl->notes.push_back(message + "; using fp32 instead.");
      m_Impl->options.precision = Precision::Fp32;
    }
    if (m_Impl->options.precision != Precision::Exact)
    {
      m_Impl->network->PrepareForFastInference();
    }
    if (m_Impl->options.precision == Precision::BFloat16 || m_Impl->options.precision == Precision::Float16)
    {
      m_Impl->network->to(ReducedPrecisionType(m_Impl->options.precision));
    }
    if (m_Impl->options.precision != Precision::Exact)
    {
      // Channels-last (NHWC) lets oneDNN run the convolutions without reordering activations, which
      // makes both fast paths faster (more so in bf16).
      torch::NoGradGuard noGrad;
      for (auto & p : m_Impl->network->parameters())
      {
        if (p.dim() == 4)
        {
          p.set_data(p.contiguous(torch::MemoryFormat::ChannelsLast));
        }
      }
      for (auto & b : m_Impl->network->buffers())
      {
        if (b.dim() == 4)
        {
          b.set_data(b.contiguous(torch::MemoryFormat::ChannelsLast));
        }
      }
    }
  }
  catch (const c10::Error & e)
  {
    throw Error("Cannot load the model '" + modelPath + "' on " + options.device + ": " + SummarizeTorchError(e));
  }
}

Predictor::~Predictor() = default;

const ModelDescription &
Predictor::Description() const
{
  return m_Impl->description;
}

const PredictorOptions &
Predictor::Options() const
{
  return m_Impl->options;
}

int
Predictor::ImageSize() const
{
  return m_Impl->description.config.imageSize;
}

Precision
Predictor::EffectivePrecision() const
{
  return m_Impl->options.precision;
}

const std::vector<std::string> &
Predictor::Notes() const
{
  return m_Impl->notes;
}

std::vector<Prediction>
Predictor::Predict(const float * images, size_t count)
{
  std::vector<Prediction> predictions;
  predictions.reserve(count);
  const size_t pixels = 3 * static_cast<size_t>(ImageSize()) * static_cast<size_t>(ImageSize());
  const size_t batchSize = static_cast<size_t>(m_Impl->options.batchSize);
  try
  {
    for (size_t first = 0; first < count; first += batchSize)
    {
      const size_t n = std::min(batchSize, count - first);
      const torch::Tensor batch =
        NormalizedBatch(images + first * pixels, n, m_Impl->description.config, m_Impl->device);
      const torch::Tensor raw =
        RawMapsOf(m_Impl->network, batch, m_Impl->options.precision, m_Impl->description.config.mapPairs);
      for (Prediction & p : FinishPredictions(raw, m_Impl->options))
      {
        predictions.push_back(std::move(p));
      }
    }
  }
  catch (const c10::Error & e)
  {
    throw Error("Inference failed: " + SummarizeTorchError(e));
  }
  return predictions;
}

double
Predictor::Score(const std::vector<float> & map) const
{
  if (map.empty())
  {
    throw Error("Cannot score an empty anomaly map.");
  }
  const std::vector<double> values(map.begin(), map.end());
  return ReduceScore(values.data(), values.size(), m_Impl->options.reduction, m_Impl->options.topFraction);
}

} // namespace recontrast
