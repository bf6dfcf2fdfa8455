/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The public engine API: Predictor and Trainer on a tiny configuration (resnet18, 64 px).
 *
 *=========================================================================*/
#include "Convolution.h"
#include "ModelFile.h"
#include "NetworkState.h"
#include "PythonOracle.h"
#include "SyntheticSource.h"
#include "ReContrast/Error.h"
#include "ReContrast/Predictor.h"
#include "ReContrast/Trainer.h"
#include "ReContrastNetwork.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <iostream>
#include <random>

namespace
{
using recontrast::testing::SyntheticSource;
using recontrast::testing::TemporaryDirectory;

constexpr int kSize = 64;

recontrast::TrainingOptions
TinyTraining()
{
  recontrast::TrainingOptions options;
  options.backbone = recontrast::Backbone::ResNet18;
  options.imageSize = kSize;
  options.iterations = 4;
  options.batchSize = 2;
  options.seed = 5;
  options.loaderWorkers = 2;
  options.calibrationFraction = 0.2;
  return options;
}

std::vector<float>
Images(const recontrast::SampleSource & source, size_t count)
{
  std::vector<float> images(count * 3 * kSize * kSize);
  for (size_t i = 0; i < count; ++i)
  {
    source.Load(i, kSize, images.data() + i * 3 * kSize * kSize);
  }
  return images;
}

TEST(Trainer, TrainsWritesACalibratedModelAndReportsProgress)
{
  TemporaryDirectory directory;
  const std::string model = (directory.Path() / "model.rcm").string();
  SyntheticSource source(10);
  recontrast::Trainer trainer(TinyTraining());
  std::vector<int> seen;
  trainer.SetProgressCallback([&](const recontrast::TrainingProgress & p) {
    seen.push_back(p.iteration);
    EXPECT_TRUE(std::isfinite(p.loss));
    return true;
  });
  const auto result = trainer.Train(source, model);
  EXPECT_EQ(seen, (std::vector<int>{ 1, 2, 3, 4 }));
  EXPECT_EQ(result.lossHistory.size(), 4u);
  EXPECT_TRUE(recontrast::IsModelFile(model));
  EXPECT_FALSE(std::filesystem::exists(recontrast::Trainer::CheckpointPath(model)));
  const auto description = recontrast::ReadModelDescription(model);
  EXPECT_EQ(description.training.trainingSamples, 8);
  EXPECT_TRUE(description.calibration.valid);
  EXPECT_EQ(description.calibration.samples, 2);
  EXPECT_EQ(description.training.dataSummary, "10 synthetic images");
}

TEST(Trainer, CancelKeepsACheckpointAndResumeGivesTheUninterruptedResult)
{
  TemporaryDirectory directory;
  SyntheticSource source(6);
  auto options = TinyTraining();
  options.calibrationFraction = 0.0;
  options.threads = 1;

  const std::string straight = (directory.Path() / "straight.rcm").string();
  recontrast::Trainer(options).Train(source, straight);

  options.checkpointEvery = 1;
  const std::string interrupted = (directory.Path() / "interrupted.rcm").string();
  recontrast::Trainer first(options);
  first.SetProgressCallback([](const recontrast::TrainingProgress & p) { return p.iteration < 2; });
  EXPECT_THROW(first.Train(source, interrupted), recontrast::Cancelled);
  EXPECT_FALSE(std::filesystem::exists(interrupted));
  ASSERT_TRUE(std::filesystem::exists(recontrast::Trainer::CheckpointPath(interrupted)));

  options.resume = true;
  const auto resumed = recontrast::Trainer(options).Train(source, interrupted);
  EXPECT_EQ(resumed.startIteration, 2);
  EXPECT_EQ(resumed.lossHistory.size(), 4u);

  const auto a = recontrast::ReadModelFile(straight);
  const auto b = recontrast::ReadModelFile(interrupted);
  std::map<std::string, torch::Tensor> byName(b.tensors.begin(), b.tensors.end());
  for (const auto & [name, tensor] : a.tensors)
  {
    EXPECT_LT((tensor.to(torch::kFloat64) - byName.at(name).to(torch::kFloat64)).abs().max().item<double>(), 1e-6)
      << name;
  }
}

TEST(Trainer, LoadingInTheTrainingThreadGivesTheSameModel)
{
  TemporaryDirectory directory;
  SyntheticSource source(6);
  auto options = TinyTraining();
  options.calibrationFraction = 0.0;
  options.threads = 1;
  options.iterations = 2;
  const std::string threaded = (directory.Path() / "threaded.rcm").string();
  recontrast::Trainer(options).Train(source, threaded);
  options.loaderWorkers = 0;
  const std::string inline_ = (directory.Path() / "inline.rcm").string();
  recontrast::Trainer(options).Train(source, inline_);
  const auto a = recontrast::ReadModelFile(threaded);
  const auto b = recontrast::ReadModelFile(inline_);
  std::map<std::string, torch::Tensor> byName(b.tensors.begin(), b.tensors.end());
  for (const auto & [name, tensor] : a.tensors)
  {
    EXPECT_TRUE(torch::equal(tensor, byName.at(name))) << name;
  }
}

TEST(Trainer, BadSettingsAreRefused)
{
  auto options = TinyTraining();
  options.imageSize = 50;
  EXPECT_THROW(recontrast::Trainer{ options }, recontrast::Error);
  options = TinyTraining();
  options.iterations = 0;
  EXPECT_THROW(recontrast::Trainer{ options }, recontrast::Error);
  TemporaryDirectory directory;
  SyntheticSource empty(0);
  EXPECT_THROW(recontrast::Trainer(TinyTraining()).Train(empty, (directory.Path() / "m.rcm").string()),
               recontrast::Error);
  SyntheticSource some(4);
  EXPECT_THROW(recontrast::Trainer(TinyTraining()).Train(some, (directory.Path() / "none" / "m.rcm").string()),
               recontrast::Error);
}

class PredictorTest : public ::testing::Test
{
protected:
  static void SetUpTestSuite()
  {
    s_Directory = new TemporaryDirectory();
    s_Model = (s_Directory->Path() / "model.rcm").string();
    SyntheticSource source(6);
    auto options = TinyTraining();
    options.calibrationFraction = 0.0;
    recontrast::Trainer(options).Train(source, s_Model);
  }
  static void TearDownTestSuite() { delete s_Directory; }
  static TemporaryDirectory * s_Directory;
  static std::string s_Model;
};
TemporaryDirectory * PredictorTest::s_Directory = nullptr;
std::string PredictorTest::s_Model;

TEST_F(PredictorTest, MapsHaveTheModelSizeAndScoresAreTheirMaxima)
{
  recontrast::Predictor predictor(s_Model);
  EXPECT_EQ(predictor.ImageSize(), kSize);
  SyntheticSource source(3);
  const auto images = Images(source, 3);
  const auto predictions = predictor.Predict(images.data(), 3);
  ASSERT_EQ(predictions.size(), 3u);
  for (const auto & p : predictions)
  {
    ASSERT_EQ(p.map.size(), static_cast<size_t>(kSize * kSize));
    EXPECT_NEAR(p.score, *std::max_element(p.map.begin(), p.map.end()), 1e-5);
    EXPECT_GE(p.score, 0.0);
    EXPECT_LE(p.score, 12.0);
  }
}

TEST_F(PredictorTest, ResultsDoNotDependOnTheBatchSize)
{
  SyntheticSource source(3);
  const auto images = Images(source, 3);
  recontrast::PredictorOptions one;
  one.batchSize = 1;
  recontrast::PredictorOptions three;
  three.batchSize = 3;
  const auto a = recontrast::Predictor(s_Model, one).Predict(images.data(), 3);
  const auto b = recontrast::Predictor(s_Model, three).Predict(images.data(), 3);
  for (size_t i = 0; i < 3; ++i)
  {
    EXPECT_NEAR(a[i].score, b[i].score, 1e-5);
  }
}

// The optimised paths against the paper-faithful one on the same images (a trained model, so the
// folded BatchNorms carry real running statistics).
TEST_F(PredictorTest, OptimisedPathsMatchTheExactPath)
{
  SyntheticSource source(3);
  const auto images = Images(source, 3);
  const auto exact = recontrast::Predictor(s_Model).Predict(images.data(), 3);
  for (const recontrast::Precision precision : { recontrast::Precision::Fp32, recontrast::Precision::BFloat16 })
  {
    recontrast::PredictorOptions options;
    options.precision = precision;
    options.batchSize = 2;
    recontrast::Predictor predictor(s_Model, options);
    const auto fast = predictor.Predict(images.data(), 3);
    // fp32 differs from exact only by float rounding; bf16 keeps 8 bits of mantissa.
    const bool bf16 = predictor.EffectivePrecision() == recontrast::Precision::BFloat16;
    const double tolerance = bf16 ? 5e-2 : 1e-4;
    double largest = 0.0;
    for (size_t i = 0; i < 3; ++i)
    {
      for (size_t p = 0; p < exact[i].map.size(); ++p)
      {
        largest = std::max(largest, static_cast<double>(std::abs(fast[i].map[p] - exact[i].map[p])));
      }
      EXPECT_NEAR(fast[i].score, exact[i].score, tolerance);
    }
    EXPECT_LE(largest, tolerance) << recontrast::ToString(predictor.EffectivePrecision());
    std::cout << recontrast::ToString(predictor.EffectivePrecision()) << ": largest map difference to exact " << largest
              << "\n";
    if (precision == recontrast::Precision::BFloat16 && !bf16)
    {
      EXPECT_EQ(predictor.Notes().size(), 1u) << "a fallback is said, never silent";
    }
  }
}

// Folding with real (random, non-trivial) BatchNorm statistics, and the pixel-shuffle form of a
// 2x2 stride-2 deconvolution, against the unfolded modules.
TEST(FastInference, FoldedConvolutionsEqualConvolutionThenBatchNorm)
{
  torch::manual_seed(3);
  torch::NoGradGuard noGrad;
  for (const bool transposed : { false, true })
  {
    recontrast::Convolution conv(recontrast::ConvolutionOptions{
      6, 5, transposed ? 2 : 3, transposed ? 2 : 1, transposed ? 0 : 1, false, transposed });
    torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(5).eps(1e-5));
    bn->weight.uniform_(0.5, 2.0);
    bn->bias.uniform_(-1.0, 1.0);
    bn->running_mean.uniform_(-0.5, 0.5);
    bn->running_var.uniform_(0.2, 3.0);
    bn->eval();
    const torch::Tensor x = torch::randn({ 2, 6, 7, 9 });
    const torch::Tensor expected = bn->forward(conv->forward(x));
    conv->FoldBatchNorm(*bn);
    conv->UsePixelShuffleForm();
    conv->UsePixelShuffleForm(); // a second call changes nothing
    const torch::Tensor folded = conv->forward(x);
    ASSERT_EQ(folded.sizes(), expected.sizes());
    EXPECT_LT((folded - expected).abs().max().item<double>(), 1e-5) << (transposed ? "deconvolution" : "convolution");
  }
}

// In training mode a 2x2 stride-2 deconvolution runs as one matrix product and a reshape: the
// values and the gradients (input, weight, bias) must be the transposed convolution's.
TEST(TrainingForm, DeconvolutionMatchesTransposedConvolutionWithGradients)
{
  torch::manual_seed(4);
  for (const bool bias : { false, true })
  {
    recontrast::Convolution conv(recontrast::ConvolutionOptions{ 6, 5, 2, 2, 0, bias, true });
    ASSERT_TRUE(conv->is_training());
    const torch::Tensor x = torch::randn({ 3, 6, 7, 9 }, torch::requires_grad());
    const torch::Tensor upstream = torch::randn({ 3, 5, 14, 18 });

    const torch::Tensor expected = torch::conv_transpose2d(x, conv->weight, conv->bias, { 2, 2 });
    const auto expectedGradients = torch::autograd::grad(
      { expected },
      bias ? std::vector<torch::Tensor>{ x, conv->weight, conv->bias } : std::vector<torch::Tensor>{ x, conv->weight },
      { upstream });
    const torch::Tensor actual = conv->forward(x);
    const auto actualGradients = torch::autograd::grad({ actual },
                                                       bias ? std::vector<torch::Tensor>{ x, conv->weight, conv->bias }
                                                            : std::vector<torch::Tensor>{ x, conv->weight },
                                                       { upstream });

    ASSERT_EQ(actual.sizes(), expected.sizes());
    EXPECT_LT((actual - expected).abs().max().item<double>(), 1e-5) << "bias " << bias;
    for (size_t k = 0; k < expectedGradients.size(); ++k)
    {
      EXPECT_LT((actualGradients[k] - expectedGradients[k]).abs().max().item<double>(), 1e-4)
        << "gradient " << k << ", bias " << bias;
    }
  }
}

TEST(Precision, NamesRoundTripAndUnknownNamesAreRefused)
{
  for (const auto precision : { recontrast::Precision::Exact,
                                recontrast::Precision::Fp32,
                                recontrast::Precision::BFloat16,
                                recontrast::Precision::Float16 })
  {
    EXPECT_EQ(recontrast::PrecisionFromString(recontrast::ToString(precision)), precision);
  }
  EXPECT_THROW(recontrast::PrecisionFromString("half"), recontrast::Error);
  EXPECT_EQ(recontrast::PrecisionNames(), (std::vector<std::string>{ "exact", "fp32", "bf16", "fp16" }));
  EXPECT_TRUE(recontrast::PrecisionAvailable(recontrast::Precision::Fp32, "cpu"));
  EXPECT_FALSE(recontrast::PrecisionAvailable(recontrast::Precision::Float16, "cpu"));
}

// fp16 is a GPU precision: on the CPU it falls back to fp32 and says so, or fails when insisted on.
TEST_F(PredictorTest, HalfPrecisionOnTheCpuFallsBackToFp32OrFailsWhenStrict)
{
  recontrast::PredictorOptions options;
  options.precision = recontrast::Precision::Float16;
  recontrast::Predictor predictor(s_Model, options);
  EXPECT_EQ(predictor.EffectivePrecision(), recontrast::Precision::Fp32);
  ASSERT_EQ(predictor.Notes().size(), 1u);
  EXPECT_NE(predictor.Notes()[0].find("fp16 inference needs a GPU; using fp32 instead."), std::string::npos)
    << predictor.Notes()[0];
  options.strictPrecision = true;
  try
  {
    recontrast::Predictor strict(s_Model, options);
    ADD_FAILURE() << "strict fp16 on the CPU was accepted";
  }
  catch (const recontrast::Error & e)
  {
    EXPECT_STREQ(e.what(), "fp16 inference needs a GPU; this cpu is not one.");
  }
}

TEST_F(PredictorTest, BadInputIsRefusedClearly)
{
  recontrast::Predictor predictor(s_Model);
  std::vector<float> image(3 * kSize * kSize, 0.5f);
  image[100] = std::nanf("");
  EXPECT_THROW(predictor.Predict(image.data(), 1), recontrast::Error);

  recontrast::PredictorOptions cuda;
  cuda.device = "gpu";
  EXPECT_THROW(recontrast::Predictor(s_Model, cuda), recontrast::Error);
  recontrast::PredictorOptions zero;
  zero.batchSize = 0;
  EXPECT_THROW(recontrast::Predictor(s_Model, zero), recontrast::Error);
  EXPECT_THROW(recontrast::Predictor("/nonexistent/model.rcm"), recontrast::Error);
}

TEST_F(PredictorTest, ScoreReductions)
{
  recontrast::PredictorOptions options;
  options.reduction = recontrast::ScoreReduction::Mean;
  recontrast::Predictor mean(s_Model, options);
  std::vector<float> map = { 1.0f, 2.0f, 3.0f, 6.0f };
  EXPECT_DOUBLE_EQ(mean.Score(map), 3.0);
  options.reduction = recontrast::ScoreReduction::TopKMean;
  options.topFraction = 0.5;
  EXPECT_DOUBLE_EQ(recontrast::Predictor(s_Model, options).Score(map), 4.5);
  EXPECT_EQ(recontrast::ScoreReductionFromString("topk-mean"), recontrast::ScoreReduction::TopKMean);
  EXPECT_THROW(recontrast::ScoreReductionFromString("median"), recontrast::Error);
}

} // namespace
