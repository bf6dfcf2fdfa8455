/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  How an anomaly map is shown as heat: its range and colour table.
 *
 *=========================================================================*/
#include "ReContrast/HeatDisplay.h"

#include "ReContrast/Error.h"

#include <algorithm>
#include <cmath>

namespace recontrast::visualization
{

namespace
{
double
Unit(double value)
{
  return std::clamp(value, 0.0, 1.0);
}

std::array<double, 3>
HotColor(double t)
{
  t = Unit(t);
  return { Unit(3 * t), Unit(3 * t - 1), Unit(3 * t - 2) };
}

std::array<double, 3>
RainbowColor(double t)
{
  t = Unit(t);
  return { Unit(1.5 - std::abs(4 * t - 3)), Unit(1.5 - std::abs(4 * t - 2)), Unit(1.5 - std::abs(4 * t - 1)) };
}
} // namespace

namespace
{
double
FiniteMaximum(const float * map, size_t count)
{
  if (map == nullptr || count == 0)
  {
    throw Error("Cannot choose the display range of an empty anomaly map.");
  }
  double maximum = -HUGE_VAL;
  for (size_t i = 0; i < count; ++i)
  {
    if (std::isfinite(map[i]))
    {
      maximum = std::max(maximum, static_cast<double>(map[i]));
    }
  }
  if (!std::isfinite(maximum))
  {
    throw Error("Cannot choose the display range of an anomaly map without a finite value.");
  }
  return maximum;
}
} // namespace

HeatRange
ChooseHeatRange(const float * map, size_t count, double normalLevel, double threshold)
{
  const double maximum = FiniteMaximum(map, count);
  const double normal = std::isfinite(normalLevel) ? normalLevel : 0.5 * maximum;
  HeatRange range;
  range.lower = std::min(normal, maximum);
  range.upper = std::isfinite(threshold) && threshold > range.lower ? threshold : maximum;
  range.upper = std::max(range.upper, range.lower + 1e-6);
  return range;
}

HeatRange
ChooseThresholdedHeatRange(const float * map, size_t count, double threshold)
{
  const double maximum = FiniteMaximum(map, count);
  if (!std::isfinite(threshold))
  {
    throw Error("The display threshold of an anomaly map must be a finite number.");
  }
  // Nothing above the threshold: a range just above it, so that the map shows nothing.
  const double top = std::max(maximum, threshold + 1e-6);
  HeatRange range;
  range.lower = threshold - 0.5 * (top - threshold);
  range.upper = top;
  return range;
}

HeatColorFunction
HeatColorFunctionOf(const std::string & colorMap)
{
  if (colorMap == "hot")
  {
    return HotColor;
  }
  if (colorMap == "rainbow" || colorMap == "jet")
  {
    return RainbowColor;
  }
  return nullptr;
}

std::vector<std::array<double, 3>>
HeatColorTable(const std::string & colorMap, int entries)
{
  const HeatColorFunction color = HeatColorFunctionOf(colorMap);
  if (!color)
  {
    throw Error("The colour map '" + colorMap + "' is unknown (use \"hot\" or \"rainbow\").");
  }
  if (entries < 2)
  {
    throw Error("A colour table needs at least 2 entries; got " + std::to_string(entries) + ".");
  }
  std::vector<std::array<double, 3>> table;
  table.reserve(static_cast<size_t>(entries));
  for (int i = 0; i < entries; ++i)
  {
    table.push_back(color(static_cast<double>(i) / static_cast<double>(entries - 1)));
  }
  return table;
}

} // namespace recontrast::visualization
