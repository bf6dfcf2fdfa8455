/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Evaluation metrics of anomaly detection: image and pixel ROC AUC, average precision, AUPRO.
 *
 *=========================================================================*/
#include "ReContrast/Metrics.h"

#include "ReContrast/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <sstream>
#include <string>

namespace recontrast::metrics
{
namespace
{

// The official evaluation code's number of thresholds and FPR cut-off (compute_pro).
constexpr double kOfficialThresholdCount = 200.0;
constexpr double kOfficialFprLimit = 0.3;
// ReContrast's F1 adds this to the denominator (utils.py, return_best_thr).
constexpr double kF1Epsilon = 1e-7;

std::string
FormatNumber(double value)
{
  std::ostringstream stream;
  stream.precision(17);
  stream << value;
  return stream.str();
}

struct ClassCounts
{
  std::size_t anomalous = 0;
  std::size_t normal = 0;
};

std::string
DescribeCounts(const ClassCounts & counts, const std::string & units)
{
  return "got " + std::to_string(counts.anomalous) + " anomalous and " + std::to_string(counts.normal) + " normal " +
         units + ".";
}

ClassCounts
CheckScoresAndLabels(const std::vector<double> & scores, const std::vector<int> & labels, const std::string & metric)
{
  if (scores.size() != labels.size())
  {
    throw Error(metric + " needs one label per score; got " + std::to_string(scores.size()) + " scores and " +
                std::to_string(labels.size()) + " labels.");
  }
  if (scores.empty())
  {
    throw Error(metric + " needs at least one score; got none.");
  }
  ClassCounts counts;
  for (std::size_t i = 0; i < scores.size(); ++i)
  {
    if (!std::isfinite(scores[i]))
    {
      throw Error(metric + " needs finite scores; score " + std::to_string(i) + " is " + FormatNumber(scores[i]) + ".");
    }
    if (labels[i] == 1)
    {
      ++counts.anomalous;
    }
    else if (labels[i] == 0)
    {
      ++counts.normal;
    }
    else
    {
      throw Error(metric + " needs labels 0 (normal) or 1 (anomalous); label " + std::to_string(i) + " is " +
                  std::to_string(labels[i]) + ".");
    }
  }
  return counts;
}

/** unit is "sample" or "pixel"; the message uses its plural too. */
void
RequireBothClasses(const ClassCounts & counts, const std::string & metric, const std::string & unit)
{
  if (counts.anomalous == 0 || counts.normal == 0)
  {
    throw Error(metric + " needs at least one normal and one anomalous " + unit + "; " +
                DescribeCounts(counts, unit + "s"));
  }
}

void
RequireAnomalous(const ClassCounts & counts, const std::string & metric)
{
  if (counts.anomalous == 0)
  {
    throw Error(metric + " needs at least one anomalous sample; " + DescribeCounts(counts, "samples"));
  }
}

/** Exact area under the ROC curve from the scores of each class, both sorted in increasing order:
 * (correctly ordered pairs + half the tied pairs) / (anomalous * normal). Twice that count is kept
 * in an integer, so the half pairs stay exact. */
template <typename Score>
double
AucOfSortedClasses(const std::vector<Score> & anomalous, const std::vector<Score> & normal)
{
  std::uint64_t twiceCorrectPairs = 0;
  std::size_t normalBelow = 0; // normal scores strictly below the current anomalous score
  std::size_t i = 0;
  while (i < anomalous.size())
  {
    const Score value = anomalous[i];
    std::size_t groupEnd = i;
    while (groupEnd < anomalous.size() && anomalous[groupEnd] == value)
    {
      ++groupEnd;
    }
    while (normalBelow < normal.size() && normal[normalBelow] < value)
    {
      ++normalBelow;
    }
    std::size_t normalTiedEnd = normalBelow;
    while (normalTiedEnd < normal.size() && normal[normalTiedEnd] == value)
    {
      ++normalTiedEnd;
    }
    const std::uint64_t tiedNormal = normalTiedEnd - normalBelow;
    twiceCorrectPairs +=
      static_cast<std::uint64_t>(groupEnd - i) * (2 * static_cast<std::uint64_t>(normalBelow) + tiedNormal);
    i = groupEnd;
  }
  return static_cast<double>(twiceCorrectPairs) /
         (2.0 * static_cast<double>(anomalous.size()) * static_cast<double>(normal.size()));
}

/** The counts behind scikit-learn's _binary_clf_curve: one entry per distinct score, in
 * decreasing order, with the numbers of anomalous (true positives) and normal (false positives)
 * samples whose score is >= it. */
struct ThresholdCounts
{
  std::vector<double> thresholds;
  std::vector<std::size_t> truePositives;
  std::vector<std::size_t> falsePositives;
};

ThresholdCounts
CountAtThresholds(const std::vector<double> & scores, const std::vector<int> & labels)
{
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{ 0 });
  std::sort(order.begin(), order.end(), [&scores](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });

  ThresholdCounts counts;
  std::size_t truePositives = 0;
  std::size_t falsePositives = 0;
  for (std::size_t k = 0; k < order.size(); ++k)
  {
    const std::size_t index = order[k];
    if (labels[index] == 1)
    {
      ++truePositives;
    }
    else
    {
      ++falsePositives;
    }
    const bool lastOfGroup = k + 1 == order.size() || scores[order[k + 1]] != scores[index];
    if (lastOfGroup)
    {
      counts.thresholds.push_back(scores[index]);
      counts.truePositives.push_back(truePositives);
      counts.falsePositives.push_back(falsePositives);
    }
  }
  return counts;
}

void
CheckImages(const std::vector<const float *> & maps, const std::vector<const std::uint8_t *> & masks,
            std::size_t pixelsPerImage, const std::string & metric)
{
  if (maps.size() != masks.size())
  {
    throw Error(metric + " needs one mask per anomaly map; got " + std::to_string(maps.size()) + " maps and " +
                std::to_string(masks.size()) + " masks.");
  }
  if (maps.empty())
  {
    throw Error(metric + " needs at least one image; got none.");
  }
  if (pixelsPerImage == 0)
  {
    throw Error(metric + " needs images with at least one pixel; got empty images.");
  }
  for (std::size_t image = 0; image < maps.size(); ++image)
  {
    if (maps[image] == nullptr || masks[image] == nullptr)
    {
      throw Error(metric + " got a null " + (maps[image] == nullptr ? "anomaly map" : "mask") + " for image " +
                  std::to_string(image) + ".");
    }
  }
}

std::size_t
PixelCount(std::size_t height, std::size_t width, const std::string & metric)
{
  if (height == 0 || width == 0)
  {
    throw Error(metric + " needs images with at least one pixel; got " + std::to_string(height) + " x " +
                std::to_string(width) + ".");
  }
  if (height > std::numeric_limits<std::size_t>::max() / width)
  {
    throw Error(metric + " cannot address images of " + std::to_string(height) + " x " + std::to_string(width) +
                " pixels.");
  }
  return height * width;
}

[[noreturn]] void
ThrowNonFinitePixel(const std::string & metric, std::size_t pixel, std::size_t image, float value)
{
  throw Error(metric + " needs finite anomaly scores; pixel " + std::to_string(pixel) + " of image " +
              std::to_string(image) + " is " + FormatNumber(value) + ".");
}

double
PixelAucOfImages(const std::vector<const float *> & maps, const std::vector<const std::uint8_t *> & masks,
                 std::size_t pixelsPerImage, const std::string & metric)
{
  ClassCounts counts;
  for (std::size_t image = 0; image < maps.size(); ++image)
  {
    for (std::size_t pixel = 0; pixel < pixelsPerImage; ++pixel)
    {
      if (!std::isfinite(maps[image][pixel]))
      {
        ThrowNonFinitePixel(metric, pixel, image, maps[image][pixel]);
      }
      if (masks[image][pixel] != 0)
      {
        ++counts.anomalous;
      }
    }
  }
  counts.normal = maps.size() * pixelsPerImage - counts.anomalous;
  RequireBothClasses(counts, metric, "pixel");

  // Sorting the two classes apart keeps the extra memory at one float per pixel.
  std::vector<float> anomalous;
  std::vector<float> normal;
  anomalous.reserve(counts.anomalous);
  normal.reserve(counts.normal);
  for (std::size_t image = 0; image < maps.size(); ++image)
  {
    for (std::size_t pixel = 0; pixel < pixelsPerImage; ++pixel)
    {
      (masks[image][pixel] != 0 ? anomalous : normal).push_back(maps[image][pixel]);
    }
  }
  std::sort(anomalous.begin(), anomalous.end());
  std::sort(normal.begin(), normal.end());
  return AucOfSortedClasses(anomalous, normal);
}

/** compute_pro of the official code for one image; `image` names it in error messages. */
double
OfficialProAucOfImage(const float * map, const std::uint8_t * mask, std::size_t height, std::size_t width,
                      const std::string & image)
{
  const std::string metric = "The official AUPRO";
  const std::size_t pixelCount = height * width;

  std::vector<std::uint32_t> labels;
  const std::size_t regionCount = LabelRegions8(mask, height, width, labels);
  if (regionCount == 0)
  {
    throw Error(metric + " of " + image + " needs a mask with anomalous pixels; it has none.");
  }
  std::vector<std::size_t> regionSize(regionCount + 1, 0); // index 0 counts the normal pixels
  for (const std::uint32_t label : labels)
  {
    ++regionSize[label];
  }
  const std::size_t normalCount = regionSize[0];
  if (normalCount == 0)
  {
    throw Error(metric + " of " + image + " needs normal pixels too; its whole mask is anomalous.");
  }

  double low = std::numeric_limits<double>::infinity();
  double high = -std::numeric_limits<double>::infinity();
  for (std::size_t pixel = 0; pixel < pixelCount; ++pixel)
  {
    const double value = map[pixel];
    if (!std::isfinite(value))
    {
      throw Error(metric + " needs finite anomaly scores; pixel " + std::to_string(pixel) + " of " + image + " is " +
                  FormatNumber(value) + ".");
    }
    low = std::min(low, value);
    high = std::max(high, value);
  }
  if (low == high)
  {
    throw Error(metric + " of " + image + " is undefined for a constant anomaly map (every pixel is " +
                FormatNumber(low) + ").");
  }

  const std::vector<double> thresholds = NumpyArange(low, high, (high - low) / kOfficialThresholdCount);
  const std::size_t thresholdCount = thresholds.size();

  // A pixel is predicted anomalous at threshold i when its value is > thresholds[i], that is for
  // every i below the number of thresholds smaller than the value. Histogramming that number per
  // region gives every threshold's counts in one pass over the pixels.
  const std::size_t binCount = thresholdCount + 1;
  std::vector<std::size_t> histogram((regionCount + 1) * binCount, 0);
  for (std::size_t pixel = 0; pixel < pixelCount; ++pixel)
  {
    const double value = map[pixel];
    const auto below =
      static_cast<std::size_t>(std::lower_bound(thresholds.begin(), thresholds.end(), value) - thresholds.begin());
    ++histogram[labels[pixel] * binCount + below];
  }

  std::vector<double> pros(thresholdCount);
  std::vector<double> fprs(thresholdCount);
  std::vector<std::size_t> predicted(regionCount + 1, 0); // per region, pixels above the threshold
  for (std::size_t i = thresholdCount; i-- > 0;)
  {
    double proSum = 0.0;
    for (std::size_t region = 0; region <= regionCount; ++region)
    {
      predicted[region] += histogram[region * binCount + i + 1];
      if (region > 0)
      {
        proSum += static_cast<double>(predicted[region]) / static_cast<double>(regionSize[region]);
      }
    }
    pros[i] = proSum / static_cast<double>(regionCount);
    fprs[i] = static_cast<double>(predicted[0]) / static_cast<double>(normalCount);
  }

  std::vector<double> keptFprs;
  std::vector<double> keptPros;
  for (std::size_t i = 0; i < thresholdCount; ++i)
  {
    if (fprs[i] < kOfficialFprLimit)
    {
      keptFprs.push_back(fprs[i]);
      keptPros.push_back(pros[i]);
    }
  }
  if (keptFprs.size() < 2)
  {
    throw Error(metric + " of " + image + " is undefined: fewer than two of its " + std::to_string(thresholdCount) +
                " thresholds give a false-positive rate below 0.3.");
  }
  const double largestFpr = *std::max_element(keptFprs.begin(), keptFprs.end());
  if (largestFpr == 0.0)
  {
    throw Error(metric + " of " + image +
                " is undefined: no threshold gives a false-positive rate strictly between 0 and 0.3, so the "
                "reference code divides 0 by 0.");
  }
  for (double & fpr : keptFprs)
  {
    fpr /= largestFpr;
  }

  // sklearn.metrics.auc: a trapezoid, negated when x decreases (here it never increases).
  bool decreasing = false;
  double area = 0.0;
  for (std::size_t j = 0; j + 1 < keptFprs.size(); ++j)
  {
    const double dx = keptFprs[j + 1] - keptFprs[j];
    decreasing = decreasing || dx < 0.0;
    area += dx * (keptPros[j + 1] + keptPros[j]) / 2.0;
  }
  return decreasing ? -area : area;
}

} // namespace

double
RocAuc(const std::vector<double> & scores, const std::vector<int> & labels)
{
  const std::string metric = "ROC AUC";
  const ClassCounts counts = CheckScoresAndLabels(scores, labels, metric);
  RequireBothClasses(counts, metric, "sample");

  std::vector<double> anomalous;
  std::vector<double> normal;
  anomalous.reserve(counts.anomalous);
  normal.reserve(counts.normal);
  for (std::size_t i = 0; i < scores.size(); ++i)
  {
    (labels[i] == 1 ? anomalous : normal).push_back(scores[i]);
  }
  std::sort(anomalous.begin(), anomalous.end());
  std::sort(normal.begin(), normal.end());
  return AucOfSortedClasses(anomalous, normal);
}

RocCurve
ComputeRocCurve(const std::vector<double> & scores, const std::vector<int> & labels, bool dropIntermediate)
{
  const std::string metric = "The ROC curve";
  const ClassCounts counts = CheckScoresAndLabels(scores, labels, metric);
  RequireBothClasses(counts, metric, "sample");

  const ThresholdCounts all = CountAtThresholds(scores, labels);
  const std::size_t pointCount = all.thresholds.size();
  std::vector<std::size_t> keep;
  keep.reserve(pointCount);
  for (std::size_t i = 0; i < pointCount; ++i)
  {
    bool kept = true;
    if (dropIntermediate && pointCount > 2 && i > 0 && i + 1 < pointCount)
    {
      // Collinear with both neighbours: both steps are equal, in false and in true positives.
      const bool sameFalseStep =
        all.falsePositives[i + 1] - all.falsePositives[i] == all.falsePositives[i] - all.falsePositives[i - 1];
      const bool sameTrueStep =
        all.truePositives[i + 1] - all.truePositives[i] == all.truePositives[i] - all.truePositives[i - 1];
      kept = !(sameFalseStep && sameTrueStep);
    }
    if (kept)
    {
      keep.push_back(i);
    }
  }

  RocCurve curve;
  curve.fpr.reserve(keep.size() + 1);
  curve.tpr.reserve(keep.size() + 1);
  curve.thresholds.reserve(keep.size() + 1);
  curve.fpr.push_back(0.0);
  curve.tpr.push_back(0.0);
  curve.thresholds.push_back(std::numeric_limits<double>::infinity());
  const auto normalCount = static_cast<double>(counts.normal);
  const auto anomalousCount = static_cast<double>(counts.anomalous);
  for (const std::size_t i : keep)
  {
    curve.fpr.push_back(static_cast<double>(all.falsePositives[i]) / normalCount);
    curve.tpr.push_back(static_cast<double>(all.truePositives[i]) / anomalousCount);
    curve.thresholds.push_back(all.thresholds[i]);
  }
  return curve;
}

double
AveragePrecision(const std::vector<double> & scores, const std::vector<int> & labels)
{
  const std::string metric = "Average precision";
  const ClassCounts counts = CheckScoresAndLabels(scores, labels, metric);
  RequireAnomalous(counts, metric);

  const ThresholdCounts all = CountAtThresholds(scores, labels);
  const auto anomalousCount = static_cast<double>(counts.anomalous);
  double previousRecall = 0.0;
  double sum = 0.0;
  for (std::size_t k = 0; k < all.thresholds.size(); ++k)
  {
    const auto truePositives = static_cast<double>(all.truePositives[k]);
    const double precision = truePositives / (truePositives + static_cast<double>(all.falsePositives[k]));
    const double recall = truePositives / anomalousCount;
    sum += (recall - previousRecall) * precision;
    previousRecall = recall;
  }
  return sum;
}

double
F1Max(const std::vector<double> & scores, const std::vector<int> & labels, double * bestThreshold)
{
  const std::string metric = "F1-max";
  const ClassCounts counts = CheckScoresAndLabels(scores, labels, metric);
  RequireAnomalous(counts, metric);

  const ThresholdCounts all = CountAtThresholds(scores, labels);
  const auto anomalousCount = static_cast<double>(counts.anomalous);
  double best = -1.0;
  double threshold = all.thresholds.back();
  // From the lowest threshold up, keeping the first maximum, as numpy.argmax on the PR curve.
  for (std::size_t k = all.thresholds.size(); k-- > 0;)
  {
    const auto truePositives = static_cast<double>(all.truePositives[k]);
    const double precision = truePositives / (truePositives + static_cast<double>(all.falsePositives[k]));
    const double recall = truePositives / anomalousCount;
    const double f1 = 2.0 * precision * recall / (precision + recall + kF1Epsilon);
    if (f1 > best)
    {
      best = f1;
      threshold = all.thresholds[k];
    }
  }
  if (bestThreshold != nullptr)
  {
    *bestThreshold = threshold;
  }
  return best;
}

double
PixelRocAuc(const std::vector<const float *> & maps, const std::vector<const std::uint8_t *> & masks,
            std::size_t pixelsPerImage)
{
  const std::string metric = "Pixel AUROC";
  CheckImages(maps, masks, pixelsPerImage, metric);
  return PixelAucOfImages(maps, masks, pixelsPerImage, metric);
}

double
PooledPixelRocAuc(const float * scores, const std::uint8_t * mask, std::size_t count)
{
  const std::string metric = "Pixel AUROC";
  const std::vector<const float *> maps{ scores };
  const std::vector<const std::uint8_t *> masks{ mask };
  CheckImages(maps, masks, count, metric);
  return PixelAucOfImages(maps, masks, count, metric);
}

std::vector<double>
NumpyArange(double start, double stop, double step)
{
  if (!std::isfinite(start) || !std::isfinite(stop) || !std::isfinite(step) || step == 0.0)
  {
    throw Error("NumpyArange needs a finite start, stop and non-zero step; got " + FormatNumber(start) + ", " +
                FormatNumber(stop) + " and " + FormatNumber(step) + ".");
  }
  const double length = std::ceil((stop - start) / step);
  if (!(length > 0.0))
  {
    return {};
  }
  if (length >= static_cast<double>(std::vector<double>().max_size()))
  {
    throw Error("NumpyArange(" + FormatNumber(start) + ", " + FormatNumber(stop) + ", " + FormatNumber(step) +
                ") would hold too many values.");
  }
  const auto count = static_cast<std::size_t>(length);
  std::vector<double> values;
  values.reserve(count);
  values.push_back(start);
  // numpy's float64 fill: the step it repeats is the one seen between the first two values.
  const double second = start + step;
  const double delta = second - start;
  for (std::size_t i = 1; i < count; ++i)
  {
    values.push_back(i == 1 ? second : start + static_cast<double>(i) * delta);
  }
  return values;
}

std::size_t
LabelRegions8(const std::uint8_t * mask, std::size_t height, std::size_t width, std::vector<std::uint32_t> & labels)
{
  const std::size_t pixelCount = PixelCount(height, width, "Region labelling");
  if (mask == nullptr)
  {
    throw Error("Region labelling got a null mask.");
  }
  labels.assign(pixelCount, 0);
  std::size_t regionCount = 0;
  std::vector<std::size_t> pending;
  for (std::size_t seed = 0; seed < pixelCount; ++seed)
  {
    if (mask[seed] == 0 || labels[seed] != 0)
    {
      continue;
    }
    // A region is numbered when the raster scan meets its first pixel, which is scikit-image's
    // numbering; a depth-first flood fill then labels the rest of it.
    ++regionCount;
    if (regionCount > std::numeric_limits<std::uint32_t>::max())
    {
      throw Error("Region labelling found more regions than it can number.");
    }
    const auto label = static_cast<std::uint32_t>(regionCount);
    labels[seed] = label;
    pending.push_back(seed);
    while (!pending.empty())
    {
      const std::size_t current = pending.back();
      pending.pop_back();
      const std::size_t row = current / width;
      const std::size_t column = current % width;
      const std::size_t rowBegin = row > 0 ? row - 1 : 0;
      const std::size_t rowEnd = std::min(row + 2, height);
      const std::size_t columnBegin = column > 0 ? column - 1 : 0;
      const std::size_t columnEnd = std::min(column + 2, width);
      for (std::size_t r = rowBegin; r < rowEnd; ++r)
      {
        for (std::size_t c = columnBegin; c < columnEnd; ++c)
        {
          const std::size_t neighbour = r * width + c;
          if (mask[neighbour] != 0 && labels[neighbour] == 0)
          {
            labels[neighbour] = label;
            pending.push_back(neighbour);
          }
        }
      }
    }
  }
  return regionCount;
}

double
OfficialProAuc(const float * map, const std::uint8_t * mask, std::size_t height, std::size_t width)
{
  const std::string metric = "The official AUPRO";
  const std::size_t pixelCount = PixelCount(height, width, metric);
  CheckImages({ map }, { mask }, pixelCount, metric);
  return OfficialProAucOfImage(map, mask, height, width, "the image");
}

double
AuproPerImageOfficial(const std::vector<const float *> & maps, const std::vector<const std::uint8_t *> & masks,
                      std::size_t height, std::size_t width)
{
  const std::string metric = "The official AUPRO";
  const std::size_t pixelCount = PixelCount(height, width, metric);
  CheckImages(maps, masks, pixelCount, metric);

  double sum = 0.0;
  std::size_t anomalousImages = 0;
  for (std::size_t image = 0; image < maps.size(); ++image)
  {
    const std::uint8_t * mask = masks[image];
    if (std::none_of(mask, mask + pixelCount, [](std::uint8_t value) { return value != 0; }))
    {
      continue; // the official evaluation computes the PRO of anomalous images only
    }
    sum += OfficialProAucOfImage(maps[image], mask, height, width, "image " + std::to_string(image));
    ++anomalousImages;
  }
  if (anomalousImages == 0)
  {
    throw Error(metric + " needs at least one anomalous image (a mask with a non-zero pixel); all " +
                std::to_string(maps.size()) + " masks are empty.");
  }
  return sum / static_cast<double>(anomalousImages);
}

double
AuproPerDataset(const std::vector<const float *> & maps, const std::vector<const std::uint8_t *> & masks,
                std::size_t height, std::size_t width, double fprLimit)
{
  const std::string metric = "The per-dataset AUPRO";
  if (!(fprLimit > 0.0 && fprLimit <= 1.0))
  {
    throw Error(metric + " needs a false-positive-rate limit in (0, 1]; got " + FormatNumber(fprLimit) + ".");
  }
  const std::size_t pixelCount = PixelCount(height, width, metric);
  CheckImages(maps, masks, pixelCount, metric);

  // One entry per pixel: its score and its region (0 for normal pixels, else a region number
  // unique over all images).
  struct Pixel
  {
    float score;
    std::uint32_t region;
  };
  std::vector<Pixel> pixels;
  pixels.reserve(maps.size() * pixelCount);
  std::vector<double> inverseRegionSize(1, 0.0);
  std::vector<std::uint32_t> labels;
  std::size_t normalCount = 0;
  for (std::size_t image = 0; image < maps.size(); ++image)
  {
    const std::size_t regionCount = LabelRegions8(masks[image], height, width, labels);
    const std::size_t firstRegion = inverseRegionSize.size() - 1;
    if (firstRegion + regionCount > std::numeric_limits<std::uint32_t>::max())
    {
      throw Error(metric + " found more regions than it can number.");
    }
    std::vector<std::size_t> regionSize(regionCount + 1, 0);
    for (std::size_t pixel = 0; pixel < pixelCount; ++pixel)
    {
      const float score = maps[image][pixel];
      if (!std::isfinite(score))
      {
        ThrowNonFinitePixel(metric, pixel, image, score);
      }
      const std::uint32_t label = labels[pixel];
      ++regionSize[label];
      pixels.push_back({ score, label == 0 ? 0 : static_cast<std::uint32_t>(firstRegion + label) });
    }
    normalCount += regionSize[0];
    for (std::size_t region = 1; region <= regionCount; ++region)
    {
      inverseRegionSize.push_back(1.0 / static_cast<double>(regionSize[region]));
    }
  }
  const std::size_t regionCount = inverseRegionSize.size() - 1;
  ClassCounts counts;
  counts.normal = normalCount;
  counts.anomalous = pixels.size() - normalCount;
  RequireBothClasses(counts, metric, "pixel");

  std::sort(pixels.begin(), pixels.end(), [](const Pixel & a, const Pixel & b) { return a.score > b.score; });

  // Walk the PRO curve from (0, 0) and integrate it, by trapezoids, up to the FPR limit.
  double previousFpr = 0.0;
  double previousPro = 0.0;
  double area = 0.0;
  bool reachedLimit = false;
  const auto addPoint = [&](double fpr, double pro) {
    if (fpr <= fprLimit)
    {
      area += 0.5 * (pro + previousPro) * (fpr - previousFpr);
      previousFpr = fpr;
      previousPro = pro;
      return;
    }
    if (previousFpr < fprLimit)
    {
      const double proAtLimit = previousPro + (pro - previousPro) * (fprLimit - previousFpr) / (fpr - previousFpr);
      area += 0.5 * (proAtLimit + previousPro) * (fprLimit - previousFpr);
    }
    reachedLimit = true;
  };

  std::size_t falsePositives = 0;
  double overlapSum = 0.0; // sum over regions of the fraction of the region above the threshold
  const auto normalTotal = static_cast<double>(normalCount);
  const auto regionTotal = static_cast<double>(regionCount);
  for (std::size_t k = 0; k < pixels.size() && !reachedLimit; ++k)
  {
    if (pixels[k].region == 0)
    {
      ++falsePositives;
    }
    else
    {
      overlapSum += inverseRegionSize[pixels[k].region];
    }
    const bool lastOfGroup = k + 1 == pixels.size() || pixels[k + 1].score != pixels[k].score;
    if (lastOfGroup)
    {
      addPoint(static_cast<double>(falsePositives) / normalTotal, overlapSum / regionTotal);
    }
  }
  if (!reachedLimit)
  {
    addPoint(1.0, 1.0);
  }
  return area / fprLimit;
}

} // namespace recontrast::metrics
