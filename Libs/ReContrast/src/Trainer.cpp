/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Training a ReContrast model on normal images and writing its model file.
 *
 *=========================================================================*/
#include "ReContrast/Trainer.h"

#include "BatchLoader.h"
#include "CheckpointImport.h"
#include "Device.h"
#include "GlobalCosineLoss.h"
#include "GradientAllReducer.h"
#include "Inference.h"
#include "ModelFile.h"
#include "NetworkState.h"
#include "ProcessGroup.h"
#include "Timestamp.h"
#include "TrainingStep.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrast/Version.h"

#include <torch/torch.h>

#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <limits>
#include <numeric>
#include <random>
#include <sstream>
#include <type_traits>

namespace recontrast
{

SampleSource::~SampleSource() = default;

double
SampleSource::Position(size_t) const
{
  return std::numeric_limits<double>::quiet_NaN();
}

void
TrainingOptions::Validate() const
{
  ModelConfig config;
  config.backbone = backbone;
  config.imageSize = imageSize;
  config.Validate();
  if (iterations < 1)
  {
    throw Error("The number of iterations must be at least 1; got " + std::to_string(iterations) + ".");
  }
  if (batchSize < 1)
  {
    throw Error("The batch size must be at least 1; got " + std::to_string(batchSize) + ".");
  }
  if (!(decoderLearningRate > 0.0) || !(encoderLearningRate >= 0.0) || !(weightDecay >= 0.0))
  {
    throw Error("Learning rates must be positive and the weight decay must not be negative.");
  }
  if (!(alphaRampFraction >= 0.0 && alphaRampFraction <= 1.0))
  {
    throw Error("The hard-mining ramp fraction must be between 0 and 1.");
  }
  if (!(calibrationFraction >= 0.0 && calibrationFraction < 1.0))
  {
    throw Error("The calibration fraction must be at least 0 and below 1.");
  }
  if (checkpointEvery < 0 || loaderWorkers < 0 || prefetchBatches < 1)
  {
    throw Error("The checkpoint interval and loader workers must not be negative, and prefetch must be at least 1.");
  }
  if (!encoderWeights.empty() && !initialModel.empty())
  {
    throw Error("Give either encoder weights or an initial model, not both.");
  }
  if (distributed.worldSize < 1 || distributed.rank < 0 || distributed.rank >= distributed.worldSize)
  {
    throw Error("The rank of a distributed training must be at least 0 and below the number of processes.");
  }
  if (batchSize < distributed.worldSize)
  {
    throw Error("The batch size (" + std::to_string(batchSize) +
                ") must be at least the number of training processes (" + std::to_string(distributed.worldSize) +
                "): each takes its share of every batch.");
  }
}

namespace
{
using Clock = std::chrono::steady_clock;


// The samples held out for calibration: a seeded choice, the same on resume.
void
SplitSamples(size_t count, double calibrationFraction, uint64_t seed, std::vector<size_t> & training,
             std::vector<size_t> & calibration)
{
  std::vector<size_t> order(count);
  std::iota(order.begin(), order.end(), size_t{ 0 });
  size_t held = 0;
  if (calibrationFraction > 0.0 && count >= 2)
  {
    held = std::max<size_t>(1, static_cast<size_t>(std::floor(calibrationFraction * static_cast<double>(count))));
    held = std::min(held, count - 1);
    std::mt19937_64 random(seed ^ 0xC0FFEEull);
    for (size_t i = count; i > 1; --i)
    {
      std::swap(order[i - 1], order[static_cast<size_t>(random() % i)]);
    }
  }
  calibration.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(held));
  training.assign(order.begin() + static_cast<std::ptrdiff_t>(held), order.end());
  std::sort(training.begin(), training.end());
}

// The normal slices a calibration is fitted on, scored by the trained model: every held-out slice,
// and, when the slices have positions along their scans, also slices trained on (at most
// MaximumProfileSlices, evenly spread) for the position profile.
std::vector<CalibrationSample>
ScoreNormalSlices(ReContrastNetwork & network, const SampleSource & source, const ModelConfig & config,
                  const torch::Device & device, int imageSize, const std::vector<size_t> & trainingSamples,
                  const std::vector<size_t> & calibrationSamples)
{
  constexpr size_t MaximumProfileSlices = 512;
  std::vector<std::pair<size_t, bool>> chosen; // (sample, held out)
  for (size_t index : calibrationSamples)
  {
    chosen.emplace_back(index, true);
  }
  const bool positioned = std::any_of(calibrationSamples.begin(), calibrationSamples.end(), [&](size_t index) {
    return std::isfinite(source.Position(index));
  });
  if (positioned && !trainingSamples.empty())
  {
    const size_t count = std::min(trainingSamples.size(), MaximumProfileSlices);
    for (size_t i = 0; i < count; ++i)
    {
      chosen.emplace_back(trainingSamples[i * trainingSamples.size() / count], false);
    }
  }
  PredictorOptions options;
  const size_t pixels = 3 * static_cast<size_t>(imageSize) * static_cast<size_t>(imageSize);
  std::vector<float> image(pixels);
  // Maps for the map profile: those of the slices trained on (at most MaximumProfileSlices) and of
  // at most as many held-out slices, evenly spread, so that a large held-out set (10 % of a big data
  // set) does not keep every map in memory (256 KB each at 256 px).
  const size_t heldOutStride =
    std::max<size_t>(1, (calibrationSamples.size() + MaximumProfileSlices - 1) / MaximumProfileSlices);
  size_t heldOutSeen = 0;
  std::vector<CalibrationSample> samples;
  for (const auto & [index, heldOut] : chosen)
  {
    source.Load(index, imageSize, image.data());
    const torch::Tensor batch = NormalizedBatch(image.data(), 1, config, device);
    Prediction prediction =
      FinishPredictions(RawMapsOf(network, batch, Precision::Exact, config.mapPairs), options).front();
    CalibrationSample sample;
    sample.score = prediction.score;
    sample.position = source.Position(index);
    const bool keepMap = !heldOut || heldOutSeen++ % heldOutStride == 0;
    if (std::isfinite(sample.position) && keepMap)
    {
      sample.map = std::move(prediction.map);
    }
    sample.heldOut = heldOut;
    samples.push_back(sample);
  }
  return samples;
}

// The key of a parameter in an optimizer's state: LibTorch 1.x uses the address of its TensorImpl as
// text, 2.x the address itself.
template <typename TState>
typename TState::key_type
OptimizerStateKey(const TState &, const torch::Tensor & parameter)
{
  using Key = typename TState::key_type;
  if constexpr (std::is_same_v<Key, std::string>)
  {
    std::ostringstream text;
    text << parameter.unsafeGetTensorImpl();
    return text.str();
  }
  else
  {
    return static_cast<Key>(parameter.unsafeGetTensorImpl());
  }
}

// What a checkpoint remembers of its training data, so that --resume on other data is refused: the
// number of samples, their summary and a checksum of a spread of up to 16 of them as the network sees them.
std::string
DataFingerprint(const SampleSource & source, int imageSize)
{
  uLong crc = crc32(0L, Z_NULL, 0);
  const size_t size = source.Size();
  const size_t step = std::max<size_t>(1, size / 16);
  std::vector<float> sample(static_cast<size_t>(3) * static_cast<size_t>(imageSize) * static_cast<size_t>(imageSize));
  for (size_t i = 0; i < size; i += step)
  {
    source.Load(i, imageSize, sample.data());
    crc = crc32_z(crc, reinterpret_cast<const Bytef *>(sample.data()), sample.size() * sizeof(float));
  }
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", static_cast<unsigned int>(crc));
  return std::to_string(size) + ":" + hex + ":" + source.Summary();
}

// An unwritable folder or a full disk is found before the first iteration, not after the last: the
// folder of the model must be writable and hold the model and (with checkpoints) a checkpoint of weights and AdamW
// moments beside it.
void
RequireSpaceFor(const ReContrastNetwork & network, const std::string & modelPath, bool checkpoints)
{
  {
    const AtomicFile probe(modelPath); // throws now when the folder is missing or not writable
  }
  uint64_t bytes = 0;
  for (const auto & [name, tensor] : StateOf(*network))
  {
    bytes += static_cast<uint64_t>(tensor.numel()) * static_cast<uint64_t>(tensor.element_size());
  }
  const uint64_t needed = bytes * (checkpoints ? 4 : 1) + (1u << 20);
  const std::filesystem::path folder = std::filesystem::absolute(modelPath).parent_path();
  std::error_code error;
  const std::filesystem::space_info space = std::filesystem::space(folder, error);
  if (!error && space.available < needed)
  {
    throw Error("The folder '" + folder.string() + "' has " + std::to_string(space.available >> 20) +
                " MB of free disk space, and training writes about " + std::to_string(needed >> 20) +
                " MB there (the model" + (checkpoints ? " and its checkpoint" : "") + "); free some space first.");
  }
}

// AdamW moments of each parameter, stored in checkpoints so that a resumed run continues exactly.
void
SaveOptimizer(torch::optim::AdamW & optimizer, const std::vector<std::pair<std::string, torch::Tensor>> & parameters,
              const std::string & prefix, NamedTensors & out)
{
  for (const auto & [name, parameter] : parameters)
  {
    auto found = optimizer.state().find(OptimizerStateKey(optimizer.state(), parameter));
    if (found == optimizer.state().end())
    {
      continue;
    }
    auto & state = static_cast<torch::optim::AdamWParamState &>(*found->second);
    out.emplace_back(prefix + name + ".exp_avg", state.exp_avg());
    out.emplace_back(prefix + name + ".exp_avg_sq", state.exp_avg_sq());
    out.emplace_back(prefix + name + ".step", torch::tensor(static_cast<int64_t>(state.step())));
  }
}

void
RestoreOptimizer(torch::optim::AdamW & optimizer, const std::vector<std::pair<std::string, torch::Tensor>> & parameters,
                 const std::string & prefix, const std::map<std::string, torch::Tensor> & saved)
{
  for (const auto & [name, parameter] : parameters)
  {
    const auto average = saved.find(prefix + name + ".exp_avg");
    const auto squares = saved.find(prefix + name + ".exp_avg_sq");
    const auto step = saved.find(prefix + name + ".step");
    if (average == saved.end() || squares == saved.end() || step == saved.end())
    {
      continue;
    }
    auto state = std::make_unique<torch::optim::AdamWParamState>();
    state->step(step->second.item<int64_t>());
    state->exp_avg(average->second.to(parameter.device()).clone());
    state->exp_avg_sq(squares->second.to(parameter.device()).clone());
    optimizer.state()[OptimizerStateKey(optimizer.state(), parameter)] = std::move(state);
  }
}

// Whether `value` is the same in every process: N * sum(x^2) == sum(x)^2 only when all are equal.
bool
SameInEveryProcess(ProcessGroup & group, double value)
{
  torch::Tensor sums = torch::tensor({ value, value * value }, torch::kFloat64);
  group.AllReduceSum(sums);
  return static_cast<double>(group.Size()) * sums[1].item<double>() == sums[0].item<double>() * sums[0].item<double>();
}

// Every process must start from the same iteration (a resumed run needs the checkpoint where all of
// them read it).
void
RequireSameStart(ProcessGroup & group, int startIteration)
{
  if (!SameInEveryProcess(group, static_cast<double>(startIteration)))
  {
    throw Error("The training processes would start at different iterations (process " + std::to_string(group.Rank()) +
                " at " + std::to_string(startIteration) +
                "): --resume needs the checkpoint in a folder every process reads.");
  }
}

// Rank 0's weights, buffers and (after --resume) optimizer moments in every process, whatever each
// read or drew. The moments go in the parameters' order (the optimizer's state is a hash map, whose
// order differs between processes); every process resumed from the same iteration (RequireSameStart).
void
ShareStateOfRankZero(ProcessGroup & group, torch::nn::Module & network, torch::optim::AdamW & decoder,
                     const std::vector<std::pair<std::string, torch::Tensor>> & decoderParameters,
                     torch::optim::AdamW & encoder,
                     const std::vector<std::pair<std::string, torch::Tensor>> & encoderParameters)
{
  torch::NoGradGuard noGrad;
  std::vector<torch::Tensor> tensors;
  for (const torch::Tensor & parameter : network.parameters())
  {
    tensors.push_back(parameter.detach());
  }
  for (const torch::Tensor & buffer : network.buffers())
  {
    tensors.push_back(buffer.detach());
  }
  for (const auto & [optimizer, parameters] :
       { std::pair{ &decoder, &decoderParameters }, std::pair{ &encoder, &encoderParameters } })
  {
    for (const auto & [name, parameter] : *parameters)
    {
      auto found = optimizer->state().find(OptimizerStateKey(optimizer->state(), parameter));
      if (found != optimizer->state().end())
      {
        auto & adam = static_cast<torch::optim::AdamWParamState &>(*found->second);
        tensors.push_back(adam.exp_avg());
        tensors.push_back(adam.exp_avg_sq());
      }
    }
  }
  // The same number of moments in every process, or the broadcasts below would pair different tensors.
  if (!SameInEveryProcess(group, static_cast<double>(tensors.size())))
  {
    throw Error("The training processes did not restore the same checkpoint (process " + std::to_string(group.Rank()) +
                " has other optimizer moments): --resume needs the checkpoint in a folder every process reads.");
  }
  group.Broadcast(tensors);
}

std::vector<std::pair<std::string, torch::Tensor>>
NamedParameters(const torch::nn::Module & module, const std::string & prefix)
{
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (const auto & item : module.named_parameters())
  {
    named.emplace_back(prefix + item.key(), item.value());
  }
  return named;
}
} // namespace

struct Trainer::Impl
{
  TrainingOptions options;
  TrainingProgressCallback progress;
};

Trainer::Trainer(const TrainingOptions & options)
  : m_Impl(std::make_unique<Impl>())
{
  options.Validate();
  m_Impl->options = options;
}

Trainer::~Trainer() = default;

void
Trainer::SetProgressCallback(TrainingProgressCallback callback)
{
  m_Impl->progress = std::move(callback);
}

std::string
Trainer::CheckpointPath(const std::string & modelPath)
{
  return modelPath + ".checkpoint";
}

TrainingResult
Trainer::Train(const SampleSource & source, const std::string & modelPath)
{
  const TrainingOptions & o = m_Impl->options;
  const auto started = Clock::now();
  // Processes of a data-parallel training on one machine each take their own GPU.
  const bool ownGpu = o.distributed.Enabled() && o.device == "cuda" && torch::cuda::device_count() > 0;
  const torch::Device device = ParseDevice(
    ownGpu ? "cuda:" + std::to_string(static_cast<size_t>(o.distributed.localRank) % torch::cuda::device_count())
           : o.device);
  ApplyThreadCount(o.threads);
  if (source.Size() == 0)
  {
    throw Error("There are no training images (" + source.Summary() + ").");
  }
  // Data-parallel training: rank 0 writes; every process checks what it reads.
  std::unique_ptr<ProcessGroup> group;
  if (o.distributed.Enabled())
  {
    group = std::make_unique<ProcessGroup>(o.distributed);
  }
  const bool writer = o.distributed.rank == 0;
  const std::filesystem::path modelFolder = std::filesystem::path(modelPath).has_parent_path()
                                              ? std::filesystem::path(modelPath).parent_path()
                                              : std::filesystem::path(".");
  if (writer && !std::filesystem::is_directory(modelFolder))
  {
    throw Error("Cannot write the model '" + modelPath + "': the folder '" + modelFolder.string() +
                "' does not exist.");
  }

  ModelDescription description;
  description.config.backbone = o.backbone;
  description.config.imageSize = o.imageSize;
  description.config.mapPairs = o.mapPairs;
  description.training.iterations = o.iterations;
  description.training.batchSize = o.batchSize;
  description.training.seed = o.seed;
  description.training.encoderBatchNorm = o.encoderBatchNorm;
  description.training.dataSummary = source.Summary();
  description.training.engineVersion = Version();
  description.properties = o.modelProperties;

  torch::manual_seed(o.seed);
  ReContrastNetwork network(o.backbone);
  if (!o.encoderWeights.empty())
  {
    LoadTorchvisionEncoder(network, o.encoderWeights);
    description.training.encoderWeights = std::filesystem::path(o.encoderWeights).filename().string();
  }
  else if (!o.initialModel.empty())
  {
    const ModelFileContents initial = ReadModelFile(o.initialModel);
    if (initial.description.config.backbone != o.backbone)
    {
      throw Error("The initial model '" + o.initialModel + "' has backbone " +
                  ToString(initial.description.config.backbone) + ", not " + ToString(o.backbone) + ".");
    }
    LoadState(*network, initial.tensors, o.initialModel);
    description.training.encoderWeights = initial.description.training.encoderWeights.empty()
                                            ? std::filesystem::path(o.initialModel).filename().string()
                                            : initial.description.training.encoderWeights;
  }
  else
  {
    description.training.encoderWeights = "random";
  }
  network->to(device);
  if (writer)
  {
    RequireSpaceFor(network, modelPath, o.checkpointEvery > 0);
  }

  std::vector<size_t> trainingSamples;
  std::vector<size_t> calibrationSamples;
  SplitSamples(source.Size(), o.calibrationFraction, o.seed, trainingSamples, calibrationSamples);
  description.training.trainingSamples = static_cast<int64_t>(trainingSamples.size());

  const auto decoderParameters = [&]() {
    auto named = NamedParameters(*network->decoder, "decoder.");
    for (auto & item : NamedParameters(*network->bottleneck, "bottleneck."))
    {
      named.push_back(item);
    }
    return named;
  }();
  const auto encoderParameters = NamedParameters(*network->encoder, "encoder.");
  torch::optim::AdamW decoderOptimizer(
    network->DecoderAndBottleneckParameters(),
    torch::optim::AdamWOptions(o.decoderLearningRate).betas({ 0.9, 0.999 }).weight_decay(o.weightDecay).eps(1e-8));
  torch::optim::AdamW encoderOptimizer(
    network->EncoderParameters(),
    torch::optim::AdamWOptions(o.encoderLearningRate).betas({ 0.9, 0.999 }).weight_decay(o.weightDecay).eps(1e-8));

  TrainingResult result;
  const std::string checkpointPath = CheckpointPath(modelPath);
  const std::string dataFingerprint = o.checkpointEvery > 0 || o.resume ? DataFingerprint(source, o.imageSize) : "";
  if (o.resume && std::filesystem::exists(checkpointPath))
  {
    const ModelFileContents checkpoint = ReadModelFile(checkpointPath);
    const TrainingRecord & saved = checkpoint.description.training;
    if (checkpoint.kind != "checkpoint" || checkpoint.description.config.backbone != o.backbone ||
        checkpoint.description.config.imageSize != o.imageSize || saved.iterations != o.iterations ||
        saved.batchSize != o.batchSize || saved.seed != o.seed)
    {
      throw Error("The checkpoint '" + checkpointPath + "' was made with other settings (backbone, image size, " +
                  "iterations, batch size or seed); remove it or train with the same settings.");
    }
    const auto fingerprint = checkpoint.extra.find("data_fingerprint");
    if (fingerprint == checkpoint.extra.end() || fingerprint->second != dataFingerprint)
    {
      throw Error("The checkpoint '" + checkpointPath + "' was made on other training data; remove it or resume " +
                  "with the data it was made on.");
    }
    std::map<std::string, torch::Tensor> byName(checkpoint.tensors.begin(), checkpoint.tensors.end());
    NamedTensors weights;
    for (const auto & [name, tensor] : checkpoint.tensors)
    {
      if (name.rfind("optimizer.", 0) != 0 && name != "training.loss_history")
      {
        weights.emplace_back(name, tensor);
      }
    }
    LoadState(*network, weights, checkpointPath);
    RestoreOptimizer(decoderOptimizer, decoderParameters, "optimizer.", byName);
    RestoreOptimizer(encoderOptimizer, encoderParameters, "optimizer.", byName);
    const torch::Tensor history = byName.at("training.loss_history");
    result.lossHistory.assign(history.data_ptr<double>(), history.data_ptr<double>() + history.numel());
    result.startIteration = static_cast<int>(result.lossHistory.size());
    description.training.encoderWeights = saved.encoderWeights;
  }

  result.rank = o.distributed.rank;
  result.processes = o.distributed.worldSize;
  std::unique_ptr<GradientAllReducer> gradientSums;
  double batchStatisticsSeconds = 0.0;
  const auto sumOverProcesses = [&](torch::Tensor & tensor) {
    const auto begin = Clock::now();
    group->AllReduceSum(tensor);
    batchStatisticsSeconds += std::chrono::duration<double>(Clock::now() - begin).count();
  };
  if (group)
  {
    RequireSameStart(*group, result.startIteration);
    ShareStateOfRankZero(*group, *network, decoderOptimizer, decoderParameters, encoderOptimizer, encoderParameters);
    std::vector<torch::Tensor> trainable;
    for (const torch::Tensor & parameter : network->parameters())
    {
      if (parameter.requires_grad())
      {
        trainable.push_back(parameter);
      }
    }
    gradientSums = std::make_unique<GradientAllReducer>(
      *group, trainable, static_cast<size_t>(o.distributed.gradientBucketMegabytes * 1024.0 * 1024.0));
    result.gradientBuckets = gradientSums->BucketCount();
  }

  const auto writeCheckpoint = [&](int iterationsDone) {
    ModelFileContents checkpoint;
    checkpoint.kind = "checkpoint";
    checkpoint.description = description;
    checkpoint.tensors = StateOf(*network);
    SaveOptimizer(decoderOptimizer, decoderParameters, "optimizer.", checkpoint.tensors);
    SaveOptimizer(encoderOptimizer, encoderParameters, "optimizer.", checkpoint.tensors);
    checkpoint.tensors.emplace_back("training.loss_history", torch::tensor(result.lossHistory, torch::kFloat64));
    checkpoint.extra["iteration"] = std::to_string(iterationsDone);
    checkpoint.extra["data_fingerprint"] = dataFingerprint;
    WriteModelFile(checkpointPath, checkpoint);
  };

  try
  {
    BatchLoader loader(source,
                       trainingSamples,
                       o.imageSize,
                       o.batchSize,
                       o.seed,
                       result.startIteration,
                       o.iterations,
                       o.loaderWorkers,
                       o.prefetchBatches,
                       o.distributed.rank,
                       o.distributed.worldSize);
    const auto loopStarted = Clock::now();
    for (int iteration = result.startIteration; iteration < o.iterations; ++iteration)
    {
      const ImageBatch batch = loader.Take(iteration);
      const torch::Tensor images = NormalizedBatch(batch.pixels.data(), batch.count, description.config, device);
      network->SetTrainingMode(true, o.encoderBatchNorm == EncoderBatchNormMode::Train);
      const double alpha = HardMiningAlpha(iteration, o.iterations, o.alphaRampFraction);
      double lossValue = 0.0;
      if (group)
      {
        const GlobalBatch global{ static_cast<int64_t>(batch.globalCount), sumOverProcesses };
        gradientSums->BeginStep();
        const torch::Tensor loss = ComputeGradients(network, images, alpha, nullptr, &global);
        gradientSums->FinishStep();
        torch::Tensor total = loss.to(torch::kCPU, torch::kFloat64).reshape({ 1 });
        group->AllReduceSum(total);
        lossValue = total.item<double>();
      }
      else
      {
        lossValue = ComputeGradients(network, images, alpha).item<double>();
      }
      decoderOptimizer.step();
      encoderOptimizer.step();
      if (!std::isfinite(lossValue))
      {
        throw Error("Training diverged at iteration " + std::to_string(iteration + 1) +
                    " (the loss is not finite); try --encoder-bn eval or check the training images.");
      }
      result.lossHistory.push_back(lossValue);

      const int done = iteration + 1;
      bool keepGoing = true;
      if (m_Impl->progress)
      {
        TrainingProgress p;
        p.iteration = done;
        p.totalIterations = o.iterations;
        p.loss = lossValue;
        p.alpha = alpha;
        p.elapsedSeconds = std::chrono::duration<double>(Clock::now() - started).count();
        const double perIteration = std::chrono::duration<double>(Clock::now() - loopStarted).count() /
                                    static_cast<double>(done - result.startIteration);
        p.remainingSeconds = perIteration * static_cast<double>(o.iterations - done);
        keepGoing = m_Impl->progress(p);
      }
      if (group)
      {
        // A cancel in any process stops them all after the same iteration.
        torch::Tensor stops = torch::tensor({ keepGoing ? 0.0 : 1.0 }, torch::kFloat64);
        group->AllReduceSum(stops);
        keepGoing = stops.item<double>() == 0.0;
      }
      if (!keepGoing)
      {
        if (o.checkpointEvery > 0)
        {
          if (writer)
          {
            writeCheckpoint(done);
          }
          throw Cancelled("Training was cancelled after iteration " + std::to_string(done) + "; the checkpoint '" +
                          checkpointPath + "' holds it (resume with --resume).");
        }
        throw Cancelled("Training was cancelled after iteration " + std::to_string(done) + "; nothing was written.");
      }
      if (writer && o.checkpointEvery > 0 && done % o.checkpointEvery == 0 && done < o.iterations)
      {
        writeCheckpoint(done);
      }
    }
    result.loopSeconds = std::chrono::duration<double>(Clock::now() - loopStarted).count();
  }
  catch (const c10::Error & e)
  {
    throw Error("Training failed: " + SummarizeTorchError(e));
  }
  if (group)
  {
    result.gradientSumSeconds = gradientSums->ExposedSeconds();
    result.batchStatisticsSeconds = batchStatisticsSeconds;
    gradientSums.reset();
    group.reset();
  }
  if (!writer)
  {
    description.training.finalLoss = result.lossHistory.empty() ? 0.0 : result.lossHistory.back();
    result.description = description;
    result.modelWritten = false;
    result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
    return result;
  }

  // Calibrate the image scores of held-out normal images with the trained model.
  description.training.finalLoss = result.lossHistory.empty() ? 0.0 : result.lossHistory.back();
  if (!calibrationSamples.empty())
  {
    description.calibration = FitScoreCalibration(
      ScoreNormalSlices(network, source, description.config, device, o.imageSize, trainingSamples, calibrationSamples));
  }
  description.training.createdAt = UtcTimestamp();

  ModelFileContents model;
  model.kind = "model";
  model.description = description;
  model.tensors = StateOf(*network);
  WriteModelFile(modelPath, model);
  std::error_code ignored;
  std::filesystem::remove(checkpointPath, ignored);

  result.description = description;
  result.seconds = std::chrono::duration<double>(Clock::now() - started).count();
  return result;
}

} // namespace recontrast
