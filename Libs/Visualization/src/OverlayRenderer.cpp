/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Overlay pictures without a display: heat map on the scan, slice montages.
 *
 *=========================================================================*/
#include "ReContrast/OverlayRenderer.h"

#include "ReContrast/HeatDisplay.h"

#include "PictureCanvas.h"
#include "ReContrast/Error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <string>
#include <vector>

namespace
{

using namespace recontrast::visualization::detail; // the picture canvas shared with CurvePlot.cpp
using recontrast::Error;
using recontrast::visualization::OverlayStyle;
using recontrast::visualization::SliceView;

constexpr int MaximumSide = 4096; // longest picture side that resampling may create (see the header)
constexpr int SeparatorWidth = 2; // between montage tiles
constexpr int LabelFontSize = 13; // montage labels
constexpr int ColorBarFontSize = 12;
constexpr int ColorBarGap = 8; // between the picture and the bar, and around the labels
constexpr int ColorBarThickness = 16;
const Rgb Black{ 0, 0, 0 };
const Rgb White{ 255, 255, 255 };
const Rgb SeparatorGrey{ 96, 96, 96 };
const Rgb FrameGrey{ 160, 160, 160 };

using ColorMap = recontrast::visualization::HeatColorFunction;

double
Unit(double value)
{
  return std::clamp(value, 0.0, 1.0);
}

/** Checks the style and returns its colour map. */
ColorMap
CheckStyle(const OverlayStyle & style, const std::string & what, const std::string & path)
{
  const std::string prefix = "Cannot write " + what + " '" + path + "': ";
  if (!std::isfinite(style.scanLower) || !std::isfinite(style.scanUpper))
  {
    throw Error(prefix + "the scan window is not a pair of finite numbers.");
  }
  if (!std::isfinite(style.mapLower) || !std::isfinite(style.mapUpper) || !(style.mapUpper > style.mapLower))
  {
    throw Error(prefix + "the heat range needs finite values with mapUpper greater than mapLower.");
  }
  if (!(style.opacity >= 0 && style.opacity <= 1))
  {
    throw Error(prefix + "the opacity must be between 0 and 1.");
  }
  if (const ColorMap colorMap = recontrast::visualization::HeatColorFunctionOf(style.colorMap))
  {
    return colorMap;
  }
  throw Error(prefix + "the colour map '" + style.colorMap + "' is unknown (use \"hot\" or \"rainbow\").");
}

void
CheckSlice(const SliceView & slice, const std::string & what, const std::string & path, const std::string & name)
{
  const std::string prefix = "Cannot write " + what + " '" + path + "': ";
  if (slice.scan == nullptr)
  {
    throw Error(prefix + "the scan buffer of " + name + " is null.");
  }
  if (slice.map == nullptr)
  {
    throw Error(prefix + "the anomaly map buffer of " + name + " is null.");
  }
  if (slice.width <= 0 || slice.height <= 0)
  {
    throw Error(prefix + name + " has the size " + std::to_string(slice.width) + " x " + std::to_string(slice.height) +
                ", which is not positive.");
  }
  if (!(std::isfinite(slice.spacingX) && slice.spacingX > 0 && std::isfinite(slice.spacingY) && slice.spacingY > 0))
  {
    throw Error(prefix + "the pixel spacing of " + name + " is not a pair of positive numbers.");
  }
}

std::size_t
PixelCount(const SliceView & slice)
{
  return static_cast<std::size_t>(slice.width) * static_cast<std::size_t>(slice.height);
}

/** The physical size of a picture pixel shared by all the slices (see the header). */
double
CommonPixelSize(const std::vector<SliceView> & slices)
{
  double pixelSize = std::numeric_limits<double>::infinity();
  for (const SliceView & slice : slices)
  {
    pixelSize = std::min({ pixelSize, slice.spacingX, slice.spacingY });
  }
  double longestExtent = 0;
  int longestSide = 0;
  for (const SliceView & slice : slices)
  {
    longestExtent = std::max({ longestExtent, slice.width * slice.spacingX, slice.height * slice.spacingY });
    longestSide = std::max({ longestSide, slice.width, slice.height });
  }
  const double limit = std::max(MaximumSide, longestSide);
  if (longestExtent / pixelSize > limit)
  {
    pixelSize = longestExtent / limit;
  }
  return pixelSize;
}

int
ResampledSide(int pixels, double spacing, double pixelSize)
{
  return std::max(1, static_cast<int>(std::lround(pixels * spacing / pixelSize)));
}

/** Grey window of one slice: the style's, or the 1st and 99th percentiles of the finite values. */
std::array<double, 2>
ScanWindow(const SliceView & slice, const OverlayStyle & style)
{
  if (style.scanLower < style.scanUpper)
  {
    return { style.scanLower, style.scanUpper };
  }
  std::vector<float> values;
  values.reserve(PixelCount(slice));
  for (std::size_t i = 0; i < PixelCount(slice); ++i)
  {
    if (std::isfinite(slice.scan[i]))
    {
      values.push_back(slice.scan[i]);
    }
  }
  if (values.empty())
  {
    return { 0, 1 };
  }
  const auto percentile = [&values](double fraction) {
    const auto k = static_cast<std::size_t>(std::lround(fraction * static_cast<double>(values.size() - 1)));
    std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(k), values.end());
    return static_cast<double>(values[k]);
  };
  double lower = percentile(0.01);
  double upper = percentile(0.99);
  if (!(upper > lower))
  {
    const auto [smallest, largest] = std::minmax_element(values.begin(), values.end());
    lower = *smallest;
    upper = *largest;
  }
  if (!(upper > lower))
  {
    // A constant slice: show it mid-grey.
    lower -= 0.5;
    upper += 0.5;
  }
  return { lower, upper };
}

/** Linear interpolation that keeps a NaN neighbour out when its weight is zero. */
double
Lerp(double a, double b, double fraction)
{
  if (fraction <= 0)
  {
    return a;
  }
  if (fraction >= 1)
  {
    return b;
  }
  return a + fraction * (b - a);
}

/** Source positions of the output pixels along one axis: pixel centres map onto pixel centres of
 * the same physical extent, clamped to the edge. */
struct Sample
{
  int index0;
  int index1;
  double fraction;
};

std::vector<Sample>
Samples(int sourceSize, int outputSize)
{
  std::vector<Sample> samples(static_cast<std::size_t>(outputSize));
  for (int i = 0; i < outputSize; ++i)
  {
    double position = (i + 0.5) * sourceSize / outputSize - 0.5;
    position = std::clamp(position, 0.0, static_cast<double>(sourceSize - 1));
    const int index0 = static_cast<int>(std::floor(position));
    const int index1 = std::min(index0 + 1, sourceSize - 1);
    samples[static_cast<std::size_t>(i)] = Sample{ index0, index1, position - index0 };
  }
  return samples;
}

/** Resamples the slice to width x height pixels and paints it, grey scan and heat, with its top left
 * corner at (left, top) of the canvas. */
void
PaintSlice(Canvas & canvas, int left, int top, const SliceView & slice, int width, int height,
           const OverlayStyle & style, ColorMap colorMap)
{
  const std::array<double, 2> window = ScanWindow(slice, style);
  const std::vector<Sample> columns = Samples(slice.width, width);
  const std::vector<Sample> rows = Samples(slice.height, height);
  const auto value = [&slice](const float * buffer, const Sample & column, const Sample & row) {
    const auto at = [&slice, buffer](int x, int y) {
      return static_cast<double>(
        buffer[static_cast<std::size_t>(y) * static_cast<std::size_t>(slice.width) + static_cast<std::size_t>(x)]);
    };
    const double upper = Lerp(at(column.index0, row.index0), at(column.index1, row.index0), column.fraction);
    if (row.fraction <= 0)
    {
      return upper;
    }
    const double lower = Lerp(at(column.index0, row.index1), at(column.index1, row.index1), column.fraction);
    return Lerp(upper, lower, row.fraction);
  };

  for (int y = 0; y < height; ++y)
  {
    const Sample & row = rows[static_cast<std::size_t>(y)];
    for (int x = 0; x < width; ++x)
    {
      const Sample & column = columns[static_cast<std::size_t>(x)];
      const double scan = value(slice.scan, column, row);
      const double grey = std::isnan(scan) ? 0.0 : Unit((scan - window[0]) / (window[1] - window[0]));
      std::array<double, 3> colour = { grey, grey, grey };
      const double heat = value(slice.map, column, row);
      if (heat >= style.mapLower) // false for NaN
      {
        const double t = Unit((heat - style.mapLower) / (style.mapUpper - style.mapLower));
        const double alpha = style.opacity * t;
        const std::array<double, 3> tint = colorMap(t);
        for (std::size_t c = 0; c < 3; ++c)
        {
          colour[c] += alpha * (tint[c] - colour[c]);
        }
      }
      unsigned char * pixel = canvas.At(left + x, top + y);
      for (std::size_t c = 0; c < 3; ++c)
      {
        pixel[c] = ToByte(255 * colour[c]);
      }
    }
  }
}

std::string
FormatValue(double value)
{
  char text[32];
  std::snprintf(text, sizeof(text), "%.3g", value);
  return text;
}

/** The colour bar strip: its width, and whether the picture is tall enough for its labels. */
struct ColorBarLayout
{
  int width = 0;
  bool labels = false;
  int textHeight = 0;
};

ColorBarLayout
LayOutColorBar(const OverlayStyle & style, int height)
{
  ColorBarLayout layout;
  if (!style.drawColorBar)
  {
    return layout;
  }
  const std::array<int, 2> upperSize = TextSize(FormatValue(style.mapUpper), ColorBarFontSize);
  const std::array<int, 2> lowerSize = TextSize(FormatValue(style.mapLower), ColorBarFontSize);
  layout.textHeight = std::max(upperSize[1], lowerSize[1]);
  layout.labels = layout.textHeight > 0 && height >= 4 * layout.textHeight;
  layout.width = ColorBarGap + ColorBarThickness + ColorBarGap;
  if (layout.labels)
  {
    layout.width += std::max(upperSize[0], lowerSize[0]) + ColorBarGap;
  }
  return layout;
}

/** Draws the colour scale in the strip that starts at column `left` and spans the canvas height. */
void
DrawColorBar(Canvas & canvas, int left, const ColorBarLayout & layout, const OverlayStyle & style, ColorMap colorMap)
{
  const int margin = layout.labels ? layout.textHeight / 2 + 1 : 1;
  const int barLeft = left + ColorBarGap;
  const int barTop = margin;
  const int barBottom = canvas.height - margin; // exclusive
  const int barHeight = barBottom - barTop;
  if (barHeight <= 0)
  {
    return;
  }
  FillRect(canvas, Rect{ barLeft - 1, barTop - 1, barLeft + ColorBarThickness + 1, barBottom + 1 }, FrameGrey);
  for (int y = barTop; y < barBottom; ++y)
  {
    const double t = 1.0 - (y - barTop + 0.5) / barHeight;
    const std::array<double, 3> colour = colorMap(t);
    FillRect(canvas,
             Rect{ barLeft, y, barLeft + ColorBarThickness, y + 1 },
             Rgb{ ToByte(255 * colour[0]), ToByte(255 * colour[1]), ToByte(255 * colour[2]) });
  }
  if (layout.labels)
  {
    const int textLeft = barLeft + ColorBarThickness + ColorBarGap;
    const Rect strip{ left, 0, canvas.width, canvas.height };
    DrawText(canvas,
             FormatValue(style.mapUpper),
             ColorBarFontSize,
             White,
             textLeft,
             barTop,
             HAlign::Left,
             VAlign::Centre,
             strip);
    DrawText(canvas,
             FormatValue(style.mapLower),
             ColorBarFontSize,
             White,
             textLeft,
             barBottom - 1,
             HAlign::Left,
             VAlign::Centre,
             strip);
  }
}

} // namespace

namespace recontrast::visualization
{

void
WriteOverlayPng(const SliceView & slice, const OverlayStyle & style, const std::string & path)
{
  const std::string what = "the overlay picture";
  CheckOutputPath(path, what);
  const ColorMap colorMap = CheckStyle(style, what, path);
  CheckSlice(slice, what, path, "the slice");

  const double pixelSize = CommonPixelSize({ slice });
  const int width = ResampledSide(slice.width, slice.spacingX, pixelSize);
  const int height = ResampledSide(slice.height, slice.spacingY, pixelSize);
  const ColorBarLayout colorBar = LayOutColorBar(style, height);

  Canvas canvas(width + colorBar.width, height, Black);
  PaintSlice(canvas, 0, 0, slice, width, height, style, colorMap);
  if (style.drawColorBar)
  {
    DrawColorBar(canvas, width, colorBar, style, colorMap);
  }
  WritePngAtomically(canvas, path, what);
}

void
WriteMontagePng(const std::vector<SliceView> & slices, const std::vector<std::string> & labels,
                const OverlayStyle & style, const std::string & path, int columns)
{
  const std::string what = "the montage picture";
  CheckOutputPath(path, what);
  const ColorMap colorMap = CheckStyle(style, what, path);
  if (slices.empty())
  {
    throw Error("Cannot write " + what + " '" + path + "': there are no slices.");
  }
  if (!labels.empty() && labels.size() != slices.size())
  {
    throw Error("Cannot write " + what + " '" + path + "': there are " + std::to_string(labels.size()) +
                " labels for " + std::to_string(slices.size()) + " slices.");
  }
  if (columns < 0)
  {
    throw Error("Cannot write " + what + " '" + path + "': the number of columns is negative.");
  }
  for (std::size_t i = 0; i < slices.size(); ++i)
  {
    CheckSlice(slices[i], what, path, "slice " + std::to_string(i));
  }

  const int count = static_cast<int>(slices.size());
  if (columns == 0)
  {
    columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(count))));
    while (columns * columns < count)
    {
      ++columns;
    }
  }
  columns = std::min(columns, count);
  const int rows = (count + columns - 1) / columns;

  const double pixelSize = CommonPixelSize(slices);
  std::vector<std::array<int, 2>> sizes;
  int tileWidth = 0;
  int tileHeight = 0;
  for (const SliceView & slice : slices)
  {
    sizes.push_back({ ResampledSide(slice.width, slice.spacingX, pixelSize),
                      ResampledSide(slice.height, slice.spacingY, pixelSize) });
    tileWidth = std::max(tileWidth, sizes.back()[0]);
    tileHeight = std::max(tileHeight, sizes.back()[1]);
  }

  int bandHeight = 0;
  if (std::any_of(labels.begin(), labels.end(), [](const std::string & label) { return !label.empty(); }))
  {
    const int textHeight = TextSize("Ag", LabelFontSize)[1];
    if (textHeight > 0)
    {
      bandHeight = textHeight + 6;
    }
  }

  const int gridWidth = columns * tileWidth + (columns - 1) * SeparatorWidth;
  const int gridHeight = rows * (bandHeight + tileHeight) + (rows - 1) * SeparatorWidth;
  const ColorBarLayout colorBar = LayOutColorBar(style, gridHeight);
  Canvas canvas(gridWidth + colorBar.width, gridHeight, Black);

  for (int c = 1; c < columns; ++c)
  {
    const int x = c * (tileWidth + SeparatorWidth) - SeparatorWidth;
    FillRect(canvas, Rect{ x, 0, x + SeparatorWidth, gridHeight }, SeparatorGrey);
  }
  for (int r = 1; r < rows; ++r)
  {
    const int y = r * (bandHeight + tileHeight + SeparatorWidth) - SeparatorWidth;
    FillRect(canvas, Rect{ 0, y, gridWidth, y + SeparatorWidth }, SeparatorGrey);
  }

  for (int i = 0; i < count; ++i)
  {
    const int left = (i % columns) * (tileWidth + SeparatorWidth);
    const int top = (i / columns) * (bandHeight + tileHeight + SeparatorWidth);
    const auto index = static_cast<std::size_t>(i);
    if (bandHeight > 0 && !labels[index].empty())
    {
      DrawText(canvas,
               labels[index],
               LabelFontSize,
               White,
               left + 4,
               top + bandHeight / 2,
               HAlign::Left,
               VAlign::Centre,
               Rect{ left, top, left + tileWidth, top + bandHeight });
    }
    const int width = sizes[index][0];
    const int height = sizes[index][1];
    PaintSlice(canvas,
               left + (tileWidth - width) / 2,
               top + bandHeight + (tileHeight - height) / 2,
               slices[index],
               width,
               height,
               style,
               colorMap);
  }
  if (style.drawColorBar)
  {
    DrawColorBar(canvas, gridWidth, colorBar, style, colorMap);
  }
  WritePngAtomically(canvas, path, what);
}

} // namespace recontrast::visualization
