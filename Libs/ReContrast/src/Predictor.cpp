#include "ReContrast/Predictor.h"

#include "Device.h"
#include "Inference.h"
#include "ModelFile.h"
#include "NetworkState.h"
#include "ReContrast/Error.h"

#include <torch/torch.h>

#include <algorithm>

namespace recontrast
{

std::string
ToString(ScoreReduction reduction)
{
  switch (reduction)
  {
    case ScoreReduction::Max:
      return "max";
    case ScoreReduction::Mean:
      return "mean";
    case ScoreReduction::TopKMean:
      return "topk-mean";
  }
  throw Error("Unknown score reduction.");
}

ScoreReduction
ScoreReductionFromString(const std::string & name)
{
  if (name == "max")
  {
    return ScoreReduction::Max;
  }
  if (name == "mean")
  {
    return ScoreReduction::Mean;
  }
  if (name == "topk-mean")
  {
    return ScoreReduction::TopKMean;
  }
  throw Error("Unknown score reduction '" + name + "'; expected 'max', 'mean' or 'topk-mean'.");
}

struct Predictor::Impl
{
  PredictorOptions options;
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
  const ModelFileContents contents = ReadModelFile(modelPath);
  if (contents.kind != "model")
  {
    throw Error("'" + modelPath +
                "' is a training checkpoint, not a model; finish or resume the training to get a model.");
  }
  m_Impl->description = contents.description;
  try
  {
    m_Impl->network = NetworkFromModelFile(contents, modelPath);
    m_Impl->network->to(m_Impl->device);
    m_Impl->network->SetTrainingMode(false, false);
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
      const torch::Tensor raw = RawMapsOf(m_Impl->network, batch, m_Impl->options.precision);
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
