/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Score calibration: normal score distributions, globally and along a scan's slice axis.
 *
 *=========================================================================*/
#include "ReContrast/Error.h"
#include "ReContrast/ModelDescription.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace recontrast
{

namespace
{
// A bin with few slices borrows this many slices' worth of the whole set's mean and of the spread
// within all bins.
constexpr double ShrinkageSlices = 3.0;
// Bins hold about this many slices, between 2 and 20 bins.
constexpr size_t SlicesPerBin = 10;
constexpr size_t MaximumBins = 20;
constexpr double SmallestSpread = 1e-6;

struct Moments
{
  double count = 0.0;
  double mean = 0.0;
  double variance = 0.0; ///< Of the population (divided by count).
};

template <typename TValues>
Moments
MomentsOf(const TValues & values)
{
  Moments m;
  m.count = static_cast<double>(values.size());
  if (values.empty())
  {
    return m;
  }
  m.mean = std::accumulate(values.begin(), values.end(), 0.0) / m.count;
  for (const double v : values)
  {
    m.variance += (v - m.mean) * (v - m.mean);
  }
  m.variance /= m.count;
  return m;
}

// The sample standard deviation (n - 1), or 0 for fewer than two values.
double
SampleSpread(const Moments & m)
{
  return m.count > 1.0 ? std::sqrt(m.variance * m.count / (m.count - 1.0)) : 0.0;
}

// The profile's mean and SD at `position`: linear between bin centres, constant beyond the outer ones.
std::pair<double, double>
ProfileAt(const std::vector<PositionBin> & bins, double position)
{
  if (position <= bins.front().position)
  {
    return { bins.front().mean, bins.front().std };
  }
  if (position >= bins.back().position)
  {
    return { bins.back().mean, bins.back().std };
  }
  const auto upper = std::upper_bound(
    bins.begin(), bins.end(), position, [](double p, const PositionBin & bin) { return p < bin.position; });
  const PositionBin & b = *upper;
  const PositionBin & a = *(upper - 1);
  const double t = (position - a.position) / (b.position - a.position);
  return { a.mean + t * (b.mean - a.mean), a.std + t * (b.std - a.std) };
}
} // namespace

std::pair<double, double>
ScoreCalibration::NormalAt(double position) const
{
  if (positions.empty() || !std::isfinite(position))
  {
    return { mean, std };
  }
  const auto [profileMean, profileSpread] = ProfileAt(positions, std::clamp(position, 0.0, 1.0));
  return { profileMean + positionLevel * profileSpread, profileSpread * positionScale };
}

double
ScoreCalibration::Calibrate(double raw, double position) const
{
  const auto [normalMean, normalSpread] = NormalAt(position);
  return (raw - normalMean) / normalSpread;
}

ScoreCalibration
FitScoreCalibration(const std::vector<CalibrationSample> & samples)
{
  std::vector<double> heldOut;
  for (const CalibrationSample & s : samples)
  {
    if (!std::isfinite(s.score))
    {
      // A model that gives a normal slice a non-finite score is broken; a calibration of NaN would
      // make its file unreadable.
      throw Error("The trained model gives a normal slice a score that is not a finite number; it cannot be "
                  "calibrated (train again, or with --calibration-fraction 0).");
    }
    if (s.heldOut)
    {
      heldOut.push_back(s.score);
    }
  }
  if (heldOut.empty())
  {
    throw Error("The score calibration needs held-out normal slices; none were given.");
  }
  ScoreCalibration c;
  const Moments global = MomentsOf(heldOut);
  c.valid = true;
  c.mean = global.mean;
  c.std = std::max(SampleSpread(global), SmallestSpread);
  c.samples = static_cast<int64_t>(heldOut.size());
  // Three standard deviations above the normal mean: about 1 normal image in 740 flagged if normal
  // scores are Gaussian.
  c.recommendedThreshold = c.mean + ScoreCalibration::CalibratedThreshold * c.std;

  // The profile along the slice axis, from every normal slice with a position: the held-out ones are
  // too few to describe it (a one-scan model holds out a dozen slices), while the slices trained on
  // show the same rise at the ends of the organ; the held-out ones then set its level and spread.
  std::vector<const CalibrationSample *> placed;
  size_t placedHeldOut = 0;
  for (const CalibrationSample & s : samples)
  {
    if (std::isfinite(s.position))
    {
      placed.push_back(&s);
      placedHeldOut += s.heldOut ? 1 : 0;
    }
  }
  if (placedHeldOut < 2 || placed.size() < 2 * SlicesPerBin)
  {
    return c;
  }
  const size_t binCount = std::clamp<size_t>(placed.size() / SlicesPerBin, 2, MaximumBins);
  std::vector<std::vector<double>> binScores(binCount);
  std::vector<double> allScores;
  for (const CalibrationSample * s : placed)
  {
    const double position = std::clamp(s->position, 0.0, 1.0);
    const size_t bin = std::min(binCount - 1, static_cast<size_t>(position * static_cast<double>(binCount)));
    binScores[bin].push_back(s->score);
    allScores.push_back(s->score);
  }
  // Means shrink toward the whole set's mean; spreads toward the pooled spread within bins (the whole
  // set's variance would count the rise at the ends as noise everywhere).
  const Moments all = MomentsOf(allScores);
  std::vector<Moments> binMoments;
  double withinSum = 0.0;
  for (const std::vector<double> & scores : binScores)
  {
    binMoments.push_back(MomentsOf(scores));
    withinSum += binMoments.back().count * binMoments.back().variance;
  }
  const double within = withinSum / all.count;
  for (size_t b = 0; b < binCount; ++b)
  {
    const Moments & m = binMoments[b];
    PositionBin bin;
    bin.position = (static_cast<double>(b) + 0.5) / static_cast<double>(binCount);
    bin.samples = static_cast<int64_t>(m.count);
    bin.mean = (m.count * m.mean + ShrinkageSlices * all.mean) / (m.count + ShrinkageSlices);
    const double variance = (m.count * m.variance + ShrinkageSlices * within) / (m.count + ShrinkageSlices);
    bin.std = std::max(std::sqrt(variance), SmallestSpread);
    c.positions.push_back(bin);
  }
  std::vector<double> standardised;
  for (const CalibrationSample * s : placed)
  {
    if (s->heldOut)
    {
      const auto [profileMean, profileSpread] = ProfileAt(c.positions, std::clamp(s->position, 0.0, 1.0));
      standardised.push_back((s->score - profileMean) / profileSpread);
    }
  }
  const Moments level = MomentsOf(standardised);
  c.positionLevel = level.mean;
  c.positionScale = std::max(SampleSpread(level), SmallestSpread);
  return c;
}

} // namespace recontrast
