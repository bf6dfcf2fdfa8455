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
      samples.push_back({ NormalLevel(position) + jitter(random), position, k % 10 == 3 });
    }
  }
  return samples;
}

TEST(ScoreCalibration, GlobalFormIsTheHeldOutMeanAndSpread)
{
  const std::vector<CalibrationSample> samples = {
    { 1.0, NAN, true }, { 2.0, NAN, true }, { 3.0, NAN, true }, { 9.0, NAN, false }
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
  EXPECT_THROW(recontrast::FitScoreCalibration({ { 1.0, 0.5, false } }), recontrast::Error);
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

} // namespace
