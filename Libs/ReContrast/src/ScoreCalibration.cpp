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
#include <iterator>
#include <limits>
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
// The map profile's grid: cells of S/16 pixels (4 at the demo's 64 px, 16 at the paper's 256), about
// the size of the finest feature map's cells (S/4) or coarser, so that each cell holds many values.
constexpr int MapProfileGrid = 16;

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

// The bin of a position in [0, 1] (clamped) among `count` equal bins.
size_t
BinOf(double position, size_t count)
{
  return std::min(count - 1, static_cast<size_t>(std::clamp(position, 0.0, 1.0) * static_cast<double>(count)));
}

// Where `position` lies among the bins' centres: the two bins around it and the weight of the second
// (the same bin twice beyond the outer centres).
struct BinBlend
{
  size_t first = 0;
  size_t second = 0;
  double weight = 0.0;
};

BinBlend
BlendAt(const std::vector<PositionBin> & bins, double position)
{
  if (position <= bins.front().position)
  {
    return { 0, 0, 0.0 };
  }
  if (position >= bins.back().position)
  {
    return { bins.size() - 1, bins.size() - 1, 0.0 };
  }
  const auto upper = std::upper_bound(
    bins.begin(), bins.end(), position, [](double p, const PositionBin & bin) { return p < bin.position; });
  const size_t second = static_cast<size_t>(upper - bins.begin());
  const size_t first = second - 1;
  return { first, second, (position - bins[first].position) / (bins[second].position - bins[first].position) };
}

// A map's pixels standardised by the map profile at `position`: (value - mean) / SD, the profile
// linear between bin centres and bilinear between cell centres (constant beyond the outer ones).
void
StandardiseByMapProfile(const ScoreCalibration & c, const float * map, int size, double position, double * out)
{
  const int grid = c.mapGrid;
  const size_t cells = static_cast<size_t>(grid) * static_cast<size_t>(grid);
  const BinBlend blend = BlendAt(c.positions, std::clamp(position, 0.0, 1.0));
  std::vector<double> mean(cells);
  std::vector<double> spread(cells);
  for (size_t i = 0; i < cells; ++i)
  {
    const size_t a = blend.first * cells + i;
    const size_t b = blend.second * cells + i;
    mean[i] = (1.0 - blend.weight) * c.mapMean[a] + blend.weight * c.mapMean[b];
    spread[i] = (1.0 - blend.weight) * c.mapStd[a] + blend.weight * c.mapStd[b];
  }
  // Per axis: the two cells around each pixel centre and the second one's weight.
  std::vector<int> low(static_cast<size_t>(size));
  std::vector<int> high(static_cast<size_t>(size));
  std::vector<double> weight(static_cast<size_t>(size));
  for (int p = 0; p < size; ++p)
  {
    const double u = std::clamp((p + 0.5) * grid / size - 0.5, 0.0, grid - 1.0);
    low[static_cast<size_t>(p)] = static_cast<int>(std::floor(u));
    high[static_cast<size_t>(p)] = std::min(low[static_cast<size_t>(p)] + 1, grid - 1);
    weight[static_cast<size_t>(p)] = u - low[static_cast<size_t>(p)];
  }
  const auto at = [&](const std::vector<double> & cellValues, size_t x, size_t y) {
    const auto cell = [&](int cx, int cy) { return cellValues[static_cast<size_t>(cy) * grid + cx]; };
    const double top = (1.0 - weight[x]) * cell(low[x], low[y]) + weight[x] * cell(high[x], low[y]);
    const double bottom = (1.0 - weight[x]) * cell(low[x], high[y]) + weight[x] * cell(high[x], high[y]);
    return (1.0 - weight[y]) * top + weight[y] * bottom;
  };
  for (size_t y = 0; y < static_cast<size_t>(size); ++y)
  {
    for (size_t x = 0; x < static_cast<size_t>(size); ++x)
    {
      const size_t i = y * static_cast<size_t>(size) + x;
      out[i] = (static_cast<double>(map[i]) - at(mean, x, y)) / at(spread, x, y);
    }
  }
}

// Fits the map profile (mapGrid, mapMean, mapStd, mapLevel, mapScale) on the placed slices' maps, in
// the bins of the position profile already in `c`.
void
FitMapProfile(ScoreCalibration & c, const std::vector<const CalibrationSample *> & samples)
{
  // The slices that come with maps (a trainer may keep maps of only some held-out slices).
  std::vector<const CalibrationSample *> placed;
  std::copy_if(samples.begin(), samples.end(), std::back_inserter(placed), [](const CalibrationSample * s) {
    return !s->map.empty();
  });
  const size_t withHeldOut = static_cast<size_t>(
    std::count_if(placed.begin(), placed.end(), [](const CalibrationSample * s) { return s->heldOut; }));
  if (placed.size() < 2 * SlicesPerBin || withHeldOut < 2)
  {
    return;
  }
  const size_t pixels = placed.front()->map.size();
  const int size = static_cast<int>(std::lround(std::sqrt(static_cast<double>(pixels))));
  const bool usable =
    static_cast<size_t>(size) * static_cast<size_t>(size) == pixels && size % MapProfileGrid == 0 &&
    std::all_of(placed.begin(), placed.end(), [&](const CalibrationSample * s) { return s->map.size() == pixels; });
  if (!usable)
  {
    return;
  }
  const int grid = MapProfileGrid;
  const int block = size / grid;
  const size_t cells = static_cast<size_t>(grid) * static_cast<size_t>(grid);
  const size_t binCount = c.positions.size();
  // Per bin and cell: the sum and the sum of squares of the values of every slice's pixels there.
  std::vector<double> sum(binCount * cells, 0.0);
  std::vector<double> squares(binCount * cells, 0.0);
  std::vector<double> slices(binCount, 0.0);
  for (const CalibrationSample * s : placed)
  {
    const size_t bin = BinOf(s->position, binCount);
    slices[bin] += 1.0;
    for (int y = 0; y < size; ++y)
    {
      for (int x = 0; x < size; ++x)
      {
        const double v = s->map[static_cast<size_t>(y) * static_cast<size_t>(size) + static_cast<size_t>(x)];
        const size_t cell = bin * cells + static_cast<size_t>(y / block) * grid + static_cast<size_t>(x / block);
        sum[cell] += v;
        squares[cell] += v * v;
      }
    }
  }
  const double perCell = static_cast<double>(block) * static_cast<double>(block);
  c.mapGrid = grid;
  c.mapMean.assign(binCount * cells, 0.0f);
  c.mapStd.assign(binCount * cells, 0.0f);
  for (size_t i = 0; i < cells; ++i)
  {
    // As the position profile: each bin's mean shrinks toward the cell's mean over all bins, its
    // variance toward the cell's variance within bins, by ShrinkageSlices slices' worth.
    double allSum = 0.0;
    double allCount = 0.0;
    double withinSum = 0.0;
    for (size_t b = 0; b < binCount; ++b)
    {
      const double n = slices[b] * perCell;
      allSum += sum[b * cells + i];
      allCount += n;
      if (n > 0.0)
      {
        withinSum += squares[b * cells + i] - sum[b * cells + i] * sum[b * cells + i] / n;
      }
    }
    const double allMean = allSum / allCount;
    const double within = std::max(withinSum / allCount, 0.0);
    for (size_t b = 0; b < binCount; ++b)
    {
      const double n = slices[b] * perCell;
      const double binMean = n > 0.0 ? sum[b * cells + i] / n : allMean;
      const double binVariance = n > 0.0 ? std::max(squares[b * cells + i] / n - binMean * binMean, 0.0) : within;
      const double m = slices[b];
      c.mapMean[b * cells + i] = static_cast<float>((m * binMean + ShrinkageSlices * allMean) / (m + ShrinkageSlices));
      c.mapStd[b * cells + i] =
        static_cast<float>(std::sqrt((m * binVariance + ShrinkageSlices * within) / (m + ShrinkageSlices)));
    }
  }
  // A cell where the normal maps hardly vary (the background) would turn any small change into many
  // SDs: no cell's SD is below its bin's median.
  for (size_t b = 0; b < binCount; ++b)
  {
    std::vector<float> spreads(c.mapStd.begin() + static_cast<std::ptrdiff_t>(b * cells),
                               c.mapStd.begin() + static_cast<std::ptrdiff_t>((b + 1) * cells));
    std::nth_element(spreads.begin(), spreads.begin() + static_cast<std::ptrdiff_t>(cells / 2), spreads.end());
    const float floor = std::max(spreads[cells / 2], static_cast<float>(SmallestSpread));
    for (size_t i = 0; i < cells; ++i)
    {
      c.mapStd[b * cells + i] = std::max(c.mapStd[b * cells + i], floor);
    }
  }
  // The slices' largest standardised values set the units: a calibrated 3 is then 3 SD above what
  // normal slices reach somewhere, not a pixel's ordinary extreme. The level is the held-out slices'
  // (slices not trained on reach higher); the spread the larger of theirs and all slices', since a
  // dozen held-out slices can miss how far normal slices spread (measured on the demo: half).
  std::vector<double> heldOutLargest;
  std::vector<double> allLargest;
  std::vector<double> standardised(pixels);
  for (const CalibrationSample * s : placed)
  {
    StandardiseByMapProfile(c, s->map.data(), size, s->position, standardised.data());
    const double largest = *std::max_element(standardised.begin(), standardised.end());
    allLargest.push_back(largest);
    if (s->heldOut)
    {
      heldOutLargest.push_back(largest);
    }
  }
  const Moments heldOut = MomentsOf(heldOutLargest);
  c.mapLevel = heldOut.mean;
  c.mapScale = std::max({ SampleSpread(heldOut), SampleSpread(MomentsOf(allLargest)), SmallestSpread });
}

// The profile's mean and SD at `position`: linear between bin centres, constant beyond the outer ones.
std::pair<double, double>
ProfileAt(const std::vector<PositionBin> & bins, double position)
{
  const BinBlend blend = BlendAt(bins, position);
  const PositionBin & a = bins[blend.first];
  const PositionBin & b = bins[blend.second];
  return { a.mean + blend.weight * (b.mean - a.mean), a.std + blend.weight * (b.std - a.std) };
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

double
ScoreCalibration::CalibrateMap(const float * map, int size, double score, double position, float * calibrated) const
{
  const size_t pixels = static_cast<size_t>(size) * static_cast<size_t>(size);
  if (HasMapProfile() && std::isfinite(position))
  {
    std::vector<double> standardised(pixels);
    StandardiseByMapProfile(*this, map, size, position, standardised.data());
    double largest = -std::numeric_limits<double>::infinity();
    for (size_t i = 0; i < pixels; ++i)
    {
      const double value = (standardised[i] - mapLevel) / mapScale;
      calibrated[i] = static_cast<float>(value);
      largest = std::max(largest, value);
    }
    return largest;
  }
  // Affine per slice: the largest calibrated value is the calibrated score of a max-reduced map.
  const auto [normalMean, normalSpread] = NormalAt(position);
  for (size_t i = 0; i < pixels; ++i)
  {
    calibrated[i] = static_cast<float>((static_cast<double>(map[i]) - normalMean) / normalSpread);
  }
  return (score - normalMean) / normalSpread;
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
    binScores[BinOf(s->position, binCount)].push_back(s->score);
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
  FitMapProfile(c, placed);
  return c;
}

} // namespace recontrast
