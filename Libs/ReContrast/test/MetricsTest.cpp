/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Tests of the evaluation metrics against the golden values of Data/Baselines.
 *
 *=========================================================================*/
#include "ReContrast/Error.h"
#include "ReContrast/Metrics.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

namespace
{

namespace m = recontrast::metrics;
using Json = nlohmann::json;

constexpr double kTolerance = 1e-9;
constexpr double kAuproTolerance = 1e-6;

std::string
GoldenPath()
{
  const char * sourceDir = std::getenv("RECONTRAST_SOURCE_DIR");
  if (sourceDir != nullptr && *sourceDir != '\0')
  {
    return std::string(sourceDir) + "/Data/Baselines/metrics_golden.json";
  }
  return std::string(RECONTRAST_DATA_DIR) + "/Baselines/metrics_golden.json";
}

const Json &
Golden()
{
  static const Json golden = [] {
    std::ifstream stream(GoldenPath());
    if (!stream)
    {
      throw std::runtime_error("Cannot open the golden file " + GoldenPath() + ".");
    }
    return Json::parse(stream);
  }();
  return golden;
}

/** Expects `call` to throw recontrast::Error whose message contains `fragment`. */
void
ExpectError(const std::function<void()> & call, const std::string & fragment)
{
  try
  {
    call();
    ADD_FAILURE() << "no recontrast::Error thrown; expected one mentioning \"" << fragment << "\"";
  }
  catch (const recontrast::Error & error)
  {
    EXPECT_NE(std::string(error.what()).find(fragment), std::string::npos) << error.what();
  }
}

void
ExpectNear(const std::vector<double> & actual, const Json & expected, double tolerance, const std::string & what)
{
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (std::size_t i = 0; i < actual.size(); ++i)
  {
    EXPECT_NEAR(actual[i], expected[i].get<double>(), tolerance) << what << " [" << i << "]";
  }
}

/** The images of one golden group, in the form the metrics take. */
struct ImageGroup
{
  std::string name;
  std::size_t height = 0;
  std::size_t width = 0;
  std::vector<std::vector<float>> maps;
  std::vector<std::vector<std::uint8_t>> masks;

  std::vector<const float *> MapPointers() const
  {
    std::vector<const float *> pointers;
    for (const auto & map : maps)
    {
      pointers.push_back(map.data());
    }
    return pointers;
  }
  std::vector<const std::uint8_t *> MaskPointers() const
  {
    std::vector<const std::uint8_t *> pointers;
    for (const auto & mask : masks)
    {
      pointers.push_back(mask.data());
    }
    return pointers;
  }
};

std::vector<std::uint8_t>
DecodeMask(const Json & rows)
{
  std::vector<std::uint8_t> mask;
  for (const auto & row : rows)
  {
    for (const char c : row.get<std::string>())
    {
      mask.push_back(c == '1' ? 1 : 0);
    }
  }
  return mask;
}

std::vector<std::uint32_t>
DecodeLabels(const Json & rows)
{
  std::vector<std::uint32_t> labels;
  for (const auto & row : rows)
  {
    for (const char c : row.get<std::string>())
    {
      labels.push_back(static_cast<std::uint32_t>(std::stoul(std::string(1, c), nullptr, 36)));
    }
  }
  return labels;
}

ImageGroup
LoadGroup(const Json & group)
{
  ImageGroup result;
  result.name = group["name"].get<std::string>();
  result.height = group["height"].get<std::size_t>();
  result.width = group["width"].get<std::size_t>();
  for (const auto & milli : group["maps_milli"])
  {
    std::vector<float> map;
    for (const auto & value : milli)
    {
      // Same conversion as the oracle: (k / 1000.0).astype(float32).
      map.push_back(static_cast<float>(value.get<double>() / 1000.0));
    }
    result.maps.push_back(map);
  }
  for (const auto & rows : group["masks"])
  {
    result.masks.push_back(DecodeMask(rows));
  }
  return result;
}

std::vector<double>
Doubles(const Json & values)
{
  return values.get<std::vector<double>>();
}

std::vector<int>
Ints(const Json & values)
{
  return values.get<std::vector<int>>();
}

// ----------------------------------------------------------------------------------------------
// Golden values from scikit-learn / scikit-image
// ----------------------------------------------------------------------------------------------

TEST(MetricsGolden, BinaryMetricsMatchScikitLearn)
{
  ASSERT_FALSE(Golden()["binary"].empty());
  for (const auto & item : Golden()["binary"])
  {
    const std::string name = item["name"].get<std::string>();
    const std::vector<double> scores = Doubles(item["scores"]);
    const std::vector<int> labels = Ints(item["labels"]);

    EXPECT_NEAR(m::RocAuc(scores, labels), item["roc_auc"].get<double>(), kTolerance) << name;
    EXPECT_NEAR(m::AveragePrecision(scores, labels), item["average_precision"].get<double>(), kTolerance) << name;
    double threshold = std::numeric_limits<double>::quiet_NaN();
    EXPECT_NEAR(m::F1Max(scores, labels, &threshold), item["f1_max"].get<double>(), kTolerance) << name;
    EXPECT_EQ(threshold, item["f1_best_threshold"].get<double>()) << name;
  }
}

TEST(MetricsGolden, RocCurveMatchesScikitLearn)
{
  for (const auto & item : Golden()["binary"])
  {
    const std::string name = item["name"].get<std::string>();
    const std::vector<double> scores = Doubles(item["scores"]);
    const std::vector<int> labels = Ints(item["labels"]);
    for (const bool drop : { false, true })
    {
      const Json & expected = item[drop ? "roc_curve_drop_intermediate" : "roc_curve"];
      const std::string what = name + (drop ? " (drop_intermediate)" : "");
      const m::RocCurve curve = m::ComputeRocCurve(scores, labels, drop);
      ExpectNear(curve.fpr, expected["fpr"], kTolerance, what + " fpr");
      ExpectNear(curve.tpr, expected["tpr"], kTolerance, what + " tpr");
      ASSERT_FALSE(curve.thresholds.empty());
      EXPECT_TRUE(std::isinf(curve.thresholds[0]) && curve.thresholds[0] > 0) << what;
      const std::vector<double> finite(curve.thresholds.begin() + 1, curve.thresholds.end());
      ExpectNear(finite, expected["finite_thresholds"], 0.0, what + " thresholds");
    }
  }
}

TEST(MetricsGolden, RegionLabellingMatchesScikitImage)
{
  const Json & item = Golden()["labelling"];
  const std::size_t height = item["height"].get<std::size_t>();
  const std::size_t width = item["width"].get<std::size_t>();
  const std::vector<std::uint8_t> mask = DecodeMask(item["mask"]);
  ASSERT_EQ(mask.size(), height * width);
  std::vector<std::uint32_t> labels;
  EXPECT_EQ(m::LabelRegions8(mask.data(), height, width, labels), item["num_regions"].get<std::size_t>());
  EXPECT_EQ(labels, item["labels"].get<std::vector<std::uint32_t>>());

  for (const auto & groupJson : Golden()["image_groups"])
  {
    const ImageGroup group = LoadGroup(groupJson);
    for (std::size_t image = 0; image < group.masks.size(); ++image)
    {
      m::LabelRegions8(group.masks[image].data(), group.height, group.width, labels);
      EXPECT_EQ(labels, DecodeLabels(groupJson["region_labels"][image])) << group.name << " image " << image;
    }
  }
}

TEST(MetricsGolden, NumpyArangeIsBitExact)
{
  bool saw200 = false;
  bool saw201 = false;
  for (const auto & item : Golden()["arange"])
  {
    const std::vector<double> values =
      m::NumpyArange(item["start"].get<double>(), item["stop"].get<double>(), item["step"].get<double>());
    const std::size_t length = item["length"].get<std::size_t>();
    ASSERT_EQ(values.size(), length);
    saw200 = saw200 || length == 200;
    saw201 = saw201 || length == 201;
    const auto indices = item["sample_indices"].get<std::vector<std::size_t>>();
    const auto expected = item["sample_values"].get<std::vector<double>>();
    for (std::size_t j = 0; j < indices.size(); ++j)
    {
      EXPECT_EQ(values[indices[j]], expected[j]) << "index " << indices[j];
    }
  }
  EXPECT_TRUE(saw200 && saw201);
}

TEST(MetricsGolden, PixelRocAucMatchesScikitLearn)
{
  for (const auto & groupJson : Golden()["image_groups"])
  {
    const ImageGroup group = LoadGroup(groupJson);
    const double expected = groupJson["pixel_roc_auc"].get<double>();
    EXPECT_NEAR(
      m::PixelRocAuc(group.MapPointers(), group.MaskPointers(), group.height * group.width), expected, kTolerance)
      << group.name;

    // The pooled scores through the other entry points give the same value.
    std::vector<float> pooledScores;
    std::vector<std::uint8_t> pooledMask;
    std::vector<double> scores;
    std::vector<int> labels;
    for (std::size_t image = 0; image < group.maps.size(); ++image)
    {
      pooledScores.insert(pooledScores.end(), group.maps[image].begin(), group.maps[image].end());
      pooledMask.insert(pooledMask.end(), group.masks[image].begin(), group.masks[image].end());
    }
    for (std::size_t i = 0; i < pooledScores.size(); ++i)
    {
      scores.push_back(pooledScores[i]);
      labels.push_back(pooledMask[i] != 0 ? 1 : 0);
    }
    EXPECT_NEAR(
      m::PooledPixelRocAuc(pooledScores.data(), pooledMask.data(), pooledScores.size()), expected, kTolerance);
    EXPECT_NEAR(m::RocAuc(scores, labels), expected, kTolerance);
  }
}

TEST(MetricsGolden, OfficialAuproMatchesReference)
{
  bool saw201Thresholds = false;
  for (const auto & groupJson : Golden()["image_groups"])
  {
    const ImageGroup group = LoadGroup(groupJson);
    for (std::size_t image = 0; image < group.maps.size(); ++image)
    {
      const Json & expected = groupJson["official_per_image"][image];
      if (expected.is_null())
      {
        continue;
      }
      saw201Thresholds = saw201Thresholds || expected["num_thresholds"].get<int>() == 201;
      EXPECT_NEAR(m::OfficialProAuc(group.maps[image].data(), group.masks[image].data(), group.height, group.width),
                  expected["pro_auc"].get<double>(),
                  kAuproTolerance)
        << group.name << " image " << image;
    }
    EXPECT_NEAR(m::AuproPerImageOfficial(group.MapPointers(), group.MaskPointers(), group.height, group.width),
                groupJson["aupro_per_image_official"].get<double>(),
                kAuproTolerance)
      << group.name;
  }
  EXPECT_TRUE(saw201Thresholds) << "the golden maps should cover np.arange giving 201 thresholds";
}

TEST(MetricsGolden, PerDatasetAuproMatchesReference)
{
  for (const auto & groupJson : Golden()["image_groups"])
  {
    const ImageGroup group = LoadGroup(groupJson);
    for (const auto & item : groupJson["aupro_per_dataset"].items())
    {
      const double limit = std::stod(item.key());
      EXPECT_NEAR(m::AuproPerDataset(group.MapPointers(), group.MaskPointers(), group.height, group.width, limit),
                  item.value().get<double>(),
                  kAuproTolerance)
        << group.name << " limit " << item.key();
    }
    EXPECT_EQ(m::AuproPerDataset(group.MapPointers(), group.MaskPointers(), group.height, group.width),
              m::AuproPerDataset(group.MapPointers(), group.MaskPointers(), group.height, group.width, 0.3));
  }
}

// ----------------------------------------------------------------------------------------------
// Hand-computed cases
// ----------------------------------------------------------------------------------------------

TEST(MetricsHand, RocAucOfSimpleOrderings)
{
  EXPECT_DOUBLE_EQ(m::RocAuc({ 0.1, 0.2, 0.8, 0.9 }, { 0, 0, 1, 1 }), 1.0);
  EXPECT_DOUBLE_EQ(m::RocAuc({ 0.9, 0.8, 0.2, 0.1 }, { 0, 0, 1, 1 }), 0.0);
  EXPECT_DOUBLE_EQ(m::RocAuc({ 0.5, 0.5, 0.5, 0.5, 0.5 }, { 0, 1, 0, 1, 1 }), 0.5);
  // Pairs (anomalous, normal): (0.4, 0.1) correct, (0.4, 0.4) tied, (0.35, 0.1) correct,
  // (0.35, 0.4) wrong: (1 + 0.5 + 1 + 0) / 4.
  EXPECT_DOUBLE_EQ(m::RocAuc({ 0.1, 0.4, 0.35, 0.4 }, { 0, 0, 1, 1 }), 0.625);
}

TEST(MetricsHand, RocCurveOfSmallCase)
{
  // sklearn.metrics.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]), its documented example.
  const m::RocCurve curve = m::ComputeRocCurve({ 0.1, 0.4, 0.35, 0.8 }, { 0, 0, 1, 1 });
  EXPECT_EQ(curve.fpr, (std::vector<double>{ 0.0, 0.0, 0.5, 0.5, 1.0 }));
  EXPECT_EQ(curve.tpr, (std::vector<double>{ 0.0, 0.5, 0.5, 1.0, 1.0 }));
  EXPECT_EQ(curve.thresholds, (std::vector<double>{ std::numeric_limits<double>::infinity(), 0.8, 0.4, 0.35, 0.1 }));

  // Three equally spaced steps up on the tpr axis: the middle points are collinear.
  const m::RocCurve dropped = m::ComputeRocCurve({ 4.0, 3.0, 2.0, 1.0 }, { 1, 1, 1, 0 }, true);
  EXPECT_EQ(dropped.tpr, (std::vector<double>{ 0.0, 1.0 / 3.0, 1.0, 1.0 }));
  EXPECT_EQ(dropped.thresholds, (std::vector<double>{ std::numeric_limits<double>::infinity(), 4.0, 2.0, 1.0 }));
}

TEST(MetricsHand, AveragePrecisionAndF1OfSmallCase)
{
  // sklearn's documented example: average_precision_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).
  const std::vector<double> scores{ 0.1, 0.4, 0.35, 0.8 };
  const std::vector<int> labels{ 0, 0, 1, 1 };
  EXPECT_NEAR(m::AveragePrecision(scores, labels), 0.8333333333333333, 1e-15);
  // Thresholds 0.8: P=1, R=0.5; 0.4: P=0.5, R=0.5; 0.35: P=2/3, R=1; 0.1: P=0.5, R=1.
  double threshold = 0.0;
  const double f1 = m::F1Max(scores, labels, &threshold);
  EXPECT_NEAR(f1, 2.0 * (2.0 / 3.0) / (2.0 / 3.0 + 1.0 + 1e-7), 1e-15);
  EXPECT_EQ(threshold, 0.35);

  EXPECT_DOUBLE_EQ(m::AveragePrecision({ 0.2, 0.9, 0.1 }, { 1, 1, 1 }), 1.0);
  EXPECT_NEAR(m::F1Max({ 0.1, 0.9 }, { 0, 1 }), 2.0 / (2.0 + 1e-7), 1e-15);
}

TEST(MetricsHand, F1MaxTieTakesTheLowestThreshold)
{
  // At threshold 2: TP 1, FP 0, so P = 1 and R = 0.5. At threshold 1: TP 2, FP 2, so P = 0.5 and
  // R = 1. Both give exactly 1 / (1.5 + 1e-7); the lower threshold wins, as numpy.argmax does.
  const std::vector<double> scores{ 2.0, 1.0, 1.0, 1.0 };
  const std::vector<int> labels{ 1, 1, 0, 0 };
  double threshold = 0.0;
  EXPECT_EQ(m::F1Max(scores, labels, &threshold), 2.0 * 0.5 * 1.0 / (0.5 + 1.0 + 1e-7));
  EXPECT_EQ(threshold, 1.0);
}

TEST(MetricsHand, PixelRocAucOfSeparatedAndTiedMaps)
{
  const std::vector<float> map{ 0.1F, 0.2F, 0.9F, 0.8F };
  const std::vector<std::uint8_t> mask{ 0, 0, 255, 1 };
  EXPECT_DOUBLE_EQ(m::PooledPixelRocAuc(map.data(), mask.data(), map.size()), 1.0);
  const std::vector<float> flat(4, 0.5F);
  EXPECT_DOUBLE_EQ(m::PooledPixelRocAuc(flat.data(), mask.data(), flat.size()), 0.5);
  // The images are pooled: the first image's normal pixels score above the second's anomaly.
  const std::vector<float> first{ 0.7F, 0.9F };
  const std::vector<std::uint8_t> firstMask{ 0, 1 };
  const std::vector<float> second{ 0.1F, 0.5F };
  const std::vector<std::uint8_t> secondMask{ 0, 1 };
  // Anomalous {0.9, 0.5}, normal {0.7, 0.1}: pairs correct 0.9>0.7, 0.9>0.1, 0.5>0.1 -> 3/4.
  EXPECT_DOUBLE_EQ(m::PixelRocAuc({ first.data(), second.data() }, { firstMask.data(), secondMask.data() }, 2), 0.75);
}

TEST(MetricsHand, PixelRocAucOfManyPixelsMatchesAHistogramCount)
{
  // 2^21 pixels quantised to 1000 levels: the exact AUC also follows from per-level counts.
  const std::size_t pixelsPerImage = 1 << 18;
  const std::size_t imageCount = 8;
  std::mt19937 generator(7);
  std::uniform_int_distribution<int> level(0, 999);
  std::bernoulli_distribution anomalous(0.1);
  std::vector<std::vector<float>> maps(imageCount, std::vector<float>(pixelsPerImage));
  std::vector<std::vector<std::uint8_t>> masks(imageCount, std::vector<std::uint8_t>(pixelsPerImage));
  std::vector<double> anomalousPerLevel(1000, 0.0);
  std::vector<double> normalPerLevel(1000, 0.0);
  for (std::size_t image = 0; image < imageCount; ++image)
  {
    for (std::size_t pixel = 0; pixel < pixelsPerImage; ++pixel)
    {
      const bool isAnomalous = anomalous(generator);
      const int value = std::min(999, level(generator) + (isAnomalous ? 150 : 0));
      maps[image][pixel] = static_cast<float>(value);
      masks[image][pixel] = isAnomalous ? 1 : 0;
      (isAnomalous ? anomalousPerLevel : normalPerLevel)[static_cast<std::size_t>(value)] += 1.0;
    }
  }
  double correctPairs = 0.0;
  double normalBelow = 0.0;
  double anomalousTotal = 0.0;
  for (std::size_t value = 0; value < 1000; ++value)
  {
    correctPairs += anomalousPerLevel[value] * (normalBelow + 0.5 * normalPerLevel[value]);
    normalBelow += normalPerLevel[value];
    anomalousTotal += anomalousPerLevel[value];
  }
  const double expected = correctPairs / (anomalousTotal * normalBelow);

  std::vector<const float *> mapPointers;
  std::vector<const std::uint8_t *> maskPointers;
  for (std::size_t image = 0; image < imageCount; ++image)
  {
    mapPointers.push_back(maps[image].data());
    maskPointers.push_back(masks[image].data());
  }
  EXPECT_NEAR(m::PixelRocAuc(mapPointers, maskPointers, pixelsPerImage), expected, 1e-12);
}

TEST(MetricsHand, NumpyArangeLengths)
{
  EXPECT_EQ(m::NumpyArange(0.0, 1.0, 0.25), (std::vector<double>{ 0.0, 0.25, 0.5, 0.75 }));
  EXPECT_EQ(m::NumpyArange(0.0, 1.0, 0.3).size(), 4U); // 0, 0.3, 0.6, 0.9
  EXPECT_TRUE(m::NumpyArange(1.0, 0.0, 0.5).empty());
  EXPECT_EQ(m::NumpyArange(1.0, 0.0, -0.5), (std::vector<double>{ 1.0, 0.5 }));
}

TEST(MetricsHand, RegionLabellingUsesEightNeighbours)
{
  // Corner contacts join, and numbering follows the raster position of each region's first pixel
  // (the right arm of the U starts earlier than the lone pixel at the bottom left).
  const std::vector<std::uint8_t> mask{
    1, 0, 0, 1, //
    0, 1, 0, 1, //
    0, 0, 1, 1, //
    1, 0, 0, 0, //
  };
  std::vector<std::uint32_t> labels;
  EXPECT_EQ(m::LabelRegions8(mask.data(), 4, 4, labels), 2U);
  EXPECT_EQ(labels,
            (std::vector<std::uint32_t>{
              1,
              0,
              0,
              1, //
              0,
              1,
              0,
              1, //
              0,
              0,
              1,
              1, //
              2,
              0,
              0,
              0, //
            }));
  EXPECT_EQ(m::LabelRegions8(std::vector<std::uint8_t>(6, 0).data(), 2, 3, labels), 0U);
  EXPECT_EQ(labels, std::vector<std::uint32_t>(6, 0));
}

TEST(MetricsHand, AuproOfAPerfectMap)
{
  // Two regions in a 4 x 4 image; the map is 1 on them and decreases elsewhere with distance.
  const std::vector<std::uint8_t> mask{
    1, 1, 0, 0, //
    1, 1, 0, 0, //
    0, 0, 0, 0, //
    0, 0, 0, 1, //
  };
  const std::vector<float> map{
    1.0F, 1.0F, 0.6F, 0.3F, //
    1.0F, 1.0F, 0.5F, 0.2F, //
    0.6F, 0.5F, 0.4F, 0.1F, //
    0.3F, 0.2F, 0.1F, 1.0F, //
  };
  EXPECT_NEAR(m::AuproPerDataset({ map.data() }, { mask.data() }, 4, 4), 1.0, 1e-12);
  EXPECT_NEAR(m::AuproPerDataset({ map.data() }, { mask.data() }, 4, 4, 1.0), 1.0, 1e-12);

  // The reversed map finds the anomalies last: PRO stays 0 until every normal pixel is found.
  std::vector<float> reversed(map.size());
  for (std::size_t i = 0; i < map.size(); ++i)
  {
    reversed[i] = 1.0F - map[i];
  }
  EXPECT_DOUBLE_EQ(m::AuproPerDataset({ reversed.data() }, { mask.data() }, 4, 4), 0.0);

  // A map that ranks every pixel the same gives the diagonal from (0, 0) to (1, 1): the
  // interpolated point at FPR 0.3 has PRO 0.3, so the area is 0.3 * 0.3 / 2, normalised 0.15.
  const std::vector<float> flat(map.size(), 0.5F);
  EXPECT_NEAR(m::AuproPerDataset({ flat.data() }, { mask.data() }, 4, 4), 0.15, 1e-15);
}

TEST(MetricsHand, OfficialAuproOfARampMap)
{
  // One 1 x 10 image, the anomaly is the last two pixels, the map a ramp 0..9: thresholds are
  // 0, 0.045, ..., 8.955 (200 of them). Above th = 7 (and below 8) the prediction is {8, 9}:
  // FPR 0 and PRO 1; FPR < 0.3 requires at most 2 normal pixels above th, so th >= 5; FPR is 2/8
  // for th in [5, 6), 1/8 in [6, 7), 0 above 7 (PRO 1 throughout, until th reaches 8, then 0.5).
  std::vector<float> map(10);
  for (std::size_t i = 0; i < map.size(); ++i)
  {
    map[i] = static_cast<float>(i);
  }
  const std::vector<std::uint8_t> mask{ 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 };
  // Normalised FPR goes 1 -> 0.5 -> 0 with PRO 1, then PRO drops to 0.5 at FPR 0: area 1.
  EXPECT_NEAR(m::OfficialProAuc(map.data(), mask.data(), 1, 10), 1.0, 1e-12);

  // A normal image (empty mask) is skipped by the per-image average.
  const std::vector<float> other(10, 0.0F);
  const std::vector<std::uint8_t> empty(10, 0);
  EXPECT_NEAR(m::AuproPerImageOfficial({ map.data(), other.data() }, { mask.data(), empty.data() }, 1, 10), 1.0, 1e-12);
}

// ----------------------------------------------------------------------------------------------
// Bad input
// ----------------------------------------------------------------------------------------------

TEST(MetricsBadInput, BinaryMetricsRejectInvalidInput)
{
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  ExpectError([] { m::RocAuc({ 0.1, 0.2 }, { 0, 1, 1 }); }, "got 2 scores and 3 labels");
  ExpectError([] { m::RocAuc({}, {}); }, "needs at least one score");
  ExpectError([] { m::RocAuc({ 0.1, 0.2, 0.3 }, { 1, 1, 1 }); }, "got 3 anomalous and 0 normal samples");
  ExpectError([] { m::RocAuc({ 0.1, 0.2 }, { 0, 0 }); }, "got 0 anomalous and 2 normal samples");
  ExpectError([nan] { m::RocAuc({ 0.1, nan }, { 0, 1 }); }, "score 1 is nan");
  ExpectError([inf] { m::RocAuc({ inf, 0.1 }, { 0, 1 }); }, "score 0 is inf");
  ExpectError([] { m::RocAuc({ 0.1, 0.2 }, { 0, 2 }); }, "label 1 is 2");
  ExpectError([] { m::ComputeRocCurve({ 0.1, 0.2 }, { 1, 1 }); }, "needs at least one normal and one anomalous");
  ExpectError([] { m::AveragePrecision({ 0.1, 0.2 }, { 0, 0 }); }, "needs at least one anomalous sample");
  ExpectError([nan] { m::AveragePrecision({ nan }, { 1 }); }, "finite scores");
  ExpectError([] { m::F1Max({ 0.1, 0.2 }, { 0, 0 }); }, "needs at least one anomalous sample");
  ExpectError([] { m::F1Max({ 0.1 }, {}); }, "one label per score");
}

TEST(MetricsBadInput, RocAucMessageIsOneSentence)
{
  try
  {
    m::RocAuc(std::vector<double>(12, 0.5), std::vector<int>(12, 1));
    FAIL() << "expected recontrast::Error";
  }
  catch (const recontrast::Error & error)
  {
    EXPECT_STREQ(error.what(),
                 "ROC AUC needs at least one normal and one anomalous sample; got 12 anomalous and 0 normal samples.");
  }
}

TEST(MetricsBadInput, PixelMetricsRejectInvalidInput)
{
  const std::vector<float> map{ 0.1F, 0.2F, 0.3F, 0.4F };
  const std::vector<std::uint8_t> mask{ 0, 0, 1, 1 };
  const std::vector<std::uint8_t> empty(4, 0);
  const std::vector<std::uint8_t> full(4, 1);
  std::vector<float> withNan = map;
  withNan[2] = std::numeric_limits<float>::quiet_NaN();

  ExpectError([&] { m::PixelRocAuc({ map.data() }, { mask.data(), mask.data() }, 4); }, "got 1 maps and 2 masks");
  ExpectError([&] { m::PixelRocAuc(std::vector<const float *>(), std::vector<const std::uint8_t *>(), 4); },
              "needs at least one image");
  ExpectError([&] { m::PixelRocAuc({ map.data() }, { mask.data() }, 0); }, "at least one pixel");
  ExpectError([&] { m::PixelRocAuc({ nullptr }, { mask.data() }, 4); }, "null anomaly map for image 0");
  ExpectError([&] { m::PooledPixelRocAuc(map.data(), empty.data(), 4); }, "got 0 anomalous and 4 normal pixels");
  ExpectError([&] { m::PooledPixelRocAuc(map.data(), full.data(), 4); }, "got 4 anomalous and 0 normal pixels");
  ExpectError([&] { m::PooledPixelRocAuc(withNan.data(), mask.data(), 4); }, "pixel 2 of image 0 is nan");

  ExpectError([&] { m::AuproPerDataset({ map.data() }, { empty.data() }, 2, 2); }, "got 0 anomalous and 4 normal");
  ExpectError([&] { m::AuproPerDataset({ map.data() }, { full.data() }, 2, 2); }, "got 4 anomalous and 0 normal");
  ExpectError([&] { m::AuproPerDataset({ withNan.data() }, { mask.data() }, 2, 2); }, "pixel 2 of image 0 is nan");
  ExpectError([&] { m::AuproPerDataset({ map.data() }, { mask.data() }, 2, 2, 0.0); }, "limit in (0, 1]");
  ExpectError([&] { m::AuproPerDataset({ map.data() }, { mask.data() }, 0, 2); }, "at least one pixel");

  ExpectError([&] { m::AuproPerImageOfficial({ map.data() }, { empty.data() }, 2, 2); },
              "needs at least one anomalous image");
  ExpectError([&] { m::OfficialProAuc(map.data(), full.data(), 2, 2); }, "needs normal pixels too");
  ExpectError([&] { m::OfficialProAuc(map.data(), empty.data(), 2, 2); }, "needs a mask with anomalous pixels");
  const std::vector<float> constant(4, 0.25F);
  ExpectError([&] { m::OfficialProAuc(constant.data(), mask.data(), 2, 2); }, "constant anomaly map");
  ExpectError([&] { m::AuproPerImageOfficial({ withNan.data() }, { mask.data() }, 2, 2); }, "pixel 2 of image 0");
  // A perfect map: every threshold below the anomalies' score gives FPR 0 (the reference: NaN).
  ExpectError([&] { m::OfficialProAuc(map.data(), mask.data(), 2, 2); }, "strictly between 0 and 0.3");

  ExpectError([] { m::NumpyArange(0.0, 1.0, 0.0); }, "non-zero step");
}

} // namespace
