/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Score calibration: the global form, and the position profile that tells "unusual for this
 *  position" from "position rarely seen".
 *
 *=========================================================================*/
#include "ReContrast/Error.h"
#include "ReContrast/ModelDescription.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

namespace
{
using recontrast::CalibrationSample;

// Normal slice scores of a slice-wise model along a scan: flat in the middle, high at both ends of
// the organ, where the model saw few slices like them.
double
NormalLevel(double position)
{
  const double edge = std::min(position, 1.0 - position);
  return 1.0 + (edge < 0.08 ? 0.12 * (0.08 - edge) / 0.08 : 0.0);
}

std::vector<CalibrationSample>
Scans(int scans, int slices, double noise, unsigned seed)
{
  std::mt19937 random(seed);
  std::normal_distribution<double> jitter(0.0, noise);
  std::vector<CalibrationSample> samples;
  for (int s = 0; s < scans; ++s)
  {
    for (int k = 0; k < slices; ++k)
    {
      const double position = static_cast<double>(k) / (slices - 1);
      samples.push_back({ NormalLevel(position) + jitter(random), position, k % 10 == 3, {} });
    }
  }
  return samples;
}

TEST(ScoreCalibration, GlobalFormIsTheHeldOutMeanAndSpread)
{
  const std::vector<CalibrationSample> samples = {
    { 1.0, NAN, true, {} }, { 2.0, NAN, true, {} }, { 3.0, NAN, true, {} }, { 9.0, NAN, false, {} }
  };
  const recontrast::ScoreCalibration c = recontrast::FitScoreCalibration(samples);
  EXPECT_TRUE(c.valid);
  EXPECT_DOUBLE_EQ(c.mean, 2.0);
  EXPECT_DOUBLE_EQ(c.std, 1.0);
  EXPECT_EQ(c.samples, 3);
  EXPECT_DOUBLE_EQ(c.recommendedThreshold, 5.0);
  EXPECT_TRUE(c.positions.empty());
  // Without a profile every position is judged globally.
  EXPECT_DOUBLE_EQ(c.Calibrate(4.0, 0.05), 2.0);
  EXPECT_DOUBLE_EQ(c.Calibrate(4.0, NAN), 2.0);
  EXPECT_THROW(recontrast::FitScoreCalibration({ { 1.0, 0.5, false, {} } }), recontrast::Error);
}

TEST(ScoreCalibration, ProfileJudgesEachSliceAgainstItsPosition)
{
  const recontrast::ScoreCalibration c = recontrast::FitScoreCalibration(Scans(3, 140, 0.005, 1));
  ASSERT_FALSE(c.positions.empty());
  EXPECT_LE(c.positions.size(), 20u);
  // An end slice as high as the ends of normal scans is normal there; globally it is far out.
  const double endScore = NormalLevel(0.01);
  EXPECT_LT(std::abs(c.Calibrate(endScore, 0.01)), 3.0);
  EXPECT_GT((endScore - c.mean) / c.std, 3.0);
  // A middle slice raised by a lesion stands out at its position though it stays below the ends.
  const double lesion = NormalLevel(0.5) + 0.05;
  EXPECT_LT(lesion, endScore);
  EXPECT_GT(c.Calibrate(lesion, 0.5), 5.0);
  EXPECT_GT(c.Calibrate(lesion, 0.5), c.Calibrate(endScore, 0.01));
  // Pictures (no position) keep the global form.
  EXPECT_DOUBLE_EQ(c.NormalAt(NAN).first, c.mean);
  // The held-out slices come out standard: mean near 0, SD near 1 in calibrated units.
  double sum = 0.0;
  double squares = 0.0;
  int count = 0;
  for (const CalibrationSample & s : Scans(3, 140, 0.005, 1))
  {
    if (s.heldOut)
    {
      const double z = c.Calibrate(s.score, s.position);
      sum += z;
      squares += z * z;
      ++count;
    }
  }
  EXPECT_NEAR(sum / count, 0.0, 1e-9);
  EXPECT_NEAR(std::sqrt(squares / count), 1.0, 0.05);
}

TEST(ScoreCalibration, SparseBinsShrinkTowardTheWholeSetAndFewSlicesStayGlobal)
{
  // Too few slices for a profile: the global form.
  EXPECT_TRUE(recontrast::FitScoreCalibration(Scans(1, 15, 0.01, 2)).positions.empty());
  // A bin with no slices (nothing near position 0.5 here) takes the whole set's mean.
  std::vector<CalibrationSample> gap;
  for (const CalibrationSample & s : Scans(2, 100, 0.01, 3))
  {
    if (std::abs(s.position - 0.5) > 0.12)
    {
      gap.push_back(s);
    }
  }
  const recontrast::ScoreCalibration c = recontrast::FitScoreCalibration(gap);
  ASSERT_FALSE(c.positions.empty());
  double wholeMean = 0.0;
  for (const CalibrationSample & s : gap)
  {
    wholeMean += s.score / static_cast<double>(gap.size());
  }
  bool sawEmpty = false;
  for (const recontrast::PositionBin & bin : c.positions)
  {
    if (bin.samples == 0)
    {
      sawEmpty = true;
      EXPECT_NEAR(bin.mean, wholeMean, 1e-12);
    }
    EXPECT_GT(bin.std, 0.0);
  }
  EXPECT_TRUE(sawEmpty);
}

// Normal maps (32 x 32) of a slice-wise model: always higher on the right (a place the model finds
// hard in every scan), rising at the ends of the organ, with pixel noise.
std::vector<float>
NormalMap(double position, std::mt19937 & random)
{
  std::normal_distribution<double> noise(0.0, 0.01);
  std::vector<float> map(32 * 32);
  for (int y = 0; y < 32; ++y)
  {
    for (int x = 0; x < 32; ++x)
    {
      map[static_cast<size_t>(y * 32 + x)] =
        static_cast<float>(NormalLevel(position) + (x >= 16 ? 0.2 : 0.0) + noise(random));
    }
  }
  return map;
}

double
MaxOf(const std::vector<float> & map)
{
  return *std::max_element(map.begin(), map.end());
}

TEST(ScoreCalibration, MapProfileJudgesEachPixelAgainstItsPlaceAndPosition)
{
  std::mt19937 random(7);
  std::vector<CalibrationSample> samples;
  for (int scan = 0; scan < 3; ++scan)
  {
    for (int k = 0; k < 140; ++k)
    {
      const double position = k / 139.0;
      std::vector<float> map = NormalMap(position, random);
      samples.push_back({ MaxOf(map), position, k % 10 == 3, map });
    }
  }
  const recontrast::ScoreCalibration c = recontrast::FitScoreCalibration(samples);
  ASSERT_TRUE(c.HasMapProfile());
  EXPECT_EQ(c.mapGrid, 16);
  EXPECT_EQ(c.mapMean.size(), c.positions.size() * 256);
  EXPECT_EQ(c.mapStd.size(), c.mapMean.size());
  EXPECT_GT(c.mapScale, 0.0);

  // A new normal slice: nothing reaches 3, and its calibrated score is its map's largest value.
  std::vector<float> calibrated(32 * 32);
  const std::vector<float> normal = NormalMap(0.5, random);
  const double normalScore = c.CalibrateMap(normal.data(), 32, MaxOf(normal), 0.5, calibrated.data());
  EXPECT_LT(normalScore, 3.0);
  EXPECT_NEAR(normalScore, MaxOf(calibrated), 1e-6); // the map is float

  // An end slice of the organ, high everywhere in every scan, is normal at its own position, not at the
  // middle's.
  const std::vector<float> end = NormalMap(0.01, random);
  EXPECT_LT(c.CalibrateMap(end.data(), 32, MaxOf(end), 0.01, calibrated.data()), 3.0);
  EXPECT_GT(c.CalibrateMap(end.data(), 32, MaxOf(end), 0.5, calibrated.data()), 3.0);

  // A lesion on the left raises a 4 x 4 patch by 0.1: still below the right side's normal level, so the
  // raw map's largest value is elsewhere and the slice's score hardly moves; pixel by pixel it stands out
  // where it is.
  std::vector<float> lesion = NormalMap(0.5, random);
  for (int y = 10; y < 14; ++y)
  {
    for (int x = 4; x < 8; ++x)
    {
      lesion[static_cast<size_t>(y * 32 + x)] += 0.1f;
    }
  }
  const auto argMax = [](const std::vector<float> & map) {
    return static_cast<int>(std::max_element(map.begin(), map.end()) - map.begin());
  };
  EXPECT_GE(argMax(lesion) % 32, 16);
  const double lesionScore = c.CalibrateMap(lesion.data(), 32, MaxOf(lesion), 0.5, calibrated.data());
  EXPECT_GT(lesionScore, 3.0);
  const int peak = argMax(calibrated);
  EXPECT_TRUE(peak / 32 >= 10 && peak / 32 < 14 && peak % 32 >= 4 && peak % 32 < 8) << "peak at " << peak;
  EXPECT_LT(c.Calibrate(MaxOf(lesion), 0.5), 3.0);

  // Pictures (no position) and models without maps are calibrated per slice, affinely.
  const double pictureScore = c.CalibrateMap(lesion.data(), 32, MaxOf(lesion), NAN, calibrated.data());
  EXPECT_DOUBLE_EQ(pictureScore, c.Calibrate(MaxOf(lesion), NAN));
  EXPECT_NEAR(calibrated[0], c.Calibrate(lesion[0], NAN), 1e-5);
  std::vector<CalibrationSample> withoutMaps = samples;
  for (CalibrationSample & s : withoutMaps)
  {
    s.map.clear();
  }
  // A trainer keeps maps of only some held-out slices when there are many: the profile is fitted on
  // the slices that have them.
  std::vector<CalibrationSample> someMaps = samples;
  int heldOut = 0;
  for (CalibrationSample & s : someMaps)
  {
    if (s.heldOut && heldOut++ % 3 != 0)
    {
      s.map.clear();
    }
  }
  EXPECT_TRUE(recontrast::FitScoreCalibration(someMaps).HasMapProfile());
  const recontrast::ScoreCalibration perSlice = recontrast::FitScoreCalibration(withoutMaps);
  EXPECT_FALSE(perSlice.HasMapProfile());
  EXPECT_FALSE(perSlice.positions.empty());
  EXPECT_DOUBLE_EQ(perSlice.CalibrateMap(lesion.data(), 32, MaxOf(lesion), 0.5, calibrated.data()),
                   perSlice.Calibrate(MaxOf(lesion), 0.5));
}

} // namespace
