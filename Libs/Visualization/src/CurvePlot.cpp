/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Curves as pictures: training loss, ROC and PRO curves.
 *
 *=========================================================================*/
#include "ReContrast/CurvePlot.h"

#include "PictureCanvas.h"
#include "ReContrast/Error.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <string>
#include <vector>

namespace
{

using namespace recontrast::visualization::detail; // the picture canvas shared with OverlayRenderer.cpp
using recontrast::Error;

constexpr int MinimumWidth = 200;
constexpr int MinimumHeight = 150;
constexpr int MaximumSide = 8192;
constexpr int TitleFontSize = 16;
constexpr int LabelFontSize = 13;
constexpr int TickFontSize = 11;
constexpr int TickLength = 5;
constexpr int Padding = 10;
constexpr double CurveWidth = 2.0;
constexpr double DotWidth = 5.0;
constexpr double DiagonalWidth = 1.5;
constexpr double DashLength = 8.0;
constexpr double DashGap = 6.0;
const Rgb Paper{ 255, 255, 255 };
const Rgb Ink{ 30, 30, 30 };
const Rgb GridGrey{ 228, 228, 228 };
const Rgb CurveBlue{ 31, 119, 180 };
const Rgb DiagonalGrey{ 150, 150, 150 };

/** An axis range that starts and ends on a tick, and the tick spacing: 1, 2 or 5 times a power of ten. */
struct Axis
{
  double lower;
  double upper;
  double step;
  int decimals; // digits after the point that show the step exactly
};

Axis
NiceAxis(double lower, double upper, int targetTicks, bool integers)
{
  if (!(upper > lower))
  {
    const double half = lower == 0 ? 1.0 : std::abs(lower) * 0.1;
    lower -= half;
    upper += half;
  }
  const double raw = (upper - lower) / std::max(targetTicks, 1);
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  const double normalised = raw / magnitude;
  double step = (normalised < 1.5 ? 1.0 : normalised < 3 ? 2.0 : normalised < 7 ? 5.0 : 10.0) * magnitude;
  if (integers)
  {
    step = std::max(step, 1.0);
  }
  Axis axis;
  axis.step = step;
  axis.lower = std::floor(lower / step + 1e-9) * step;
  axis.upper = std::ceil(upper / step - 1e-9) * step;
  axis.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return axis;
}

std::vector<double>
TickValues(const Axis & axis)
{
  std::vector<double> values;
  const long count = std::lround((axis.upper - axis.lower) / axis.step);
  for (long k = 0; k <= count; ++k)
  {
    const double value = axis.lower + static_cast<double>(k) * axis.step;
    values.push_back(std::abs(value) < axis.step * 1e-6 ? 0.0 : value);
  }
  return values;
}

std::string
TickText(double value, const Axis & axis)
{
  char text[64];
  if (axis.decimals <= 8 && std::max(std::abs(axis.lower), std::abs(axis.upper)) < 1e9)
  {
    std::snprintf(text, sizeof(text), "%.*f", axis.decimals, value);
  }
  else
  {
    std::snprintf(text, sizeof(text), "%.4g", value);
  }
  return text;
}

int
WidestTickText(const Axis & axis)
{
  int widest = 0;
  for (double value : TickValues(axis))
  {
    widest = std::max(widest, TextSize(TickText(value, axis), TickFontSize)[0]);
  }
  return widest;
}

/** Anti-aliased coverage (0..255) of a line, over one rectangle of the canvas. The coverage of
 * overlapping pieces is the maximum, so joins of a polyline are not drawn twice. */
class CoverageMask
{
public:
  explicit CoverageMask(Rect area)
    : m_Area(area)
    , m_Values(static_cast<std::size_t>(area.x1 - area.x0) * static_cast<std::size_t>(area.y1 - area.y0), 0)
  {}

  /** Adds the segment from (x0, y0) to (x1, y1), canvas coordinates where pixel (i, j) covers
   * [i, i + 1) x [j, j + 1); a segment of length zero is a dot. */
  void AddSegment(double x0, double y0, double x1, double y1, double lineWidth)
  {
    const double reach = lineWidth / 2 + 1;
    const int left = std::max(m_Area.x0, static_cast<int>(std::floor(std::min(x0, x1) - reach)));
    const int right = std::min(m_Area.x1, static_cast<int>(std::ceil(std::max(x0, x1) + reach)));
    const int top = std::max(m_Area.y0, static_cast<int>(std::floor(std::min(y0, y1) - reach)));
    const int bottom = std::min(m_Area.y1, static_cast<int>(std::ceil(std::max(y0, y1) + reach)));
    const double dx = x1 - x0;
    const double dy = y1 - y0;
    const double length2 = dx * dx + dy * dy;
    for (int y = top; y < bottom; ++y)
    {
      for (int x = left; x < right; ++x)
      {
        const double cx = x + 0.5;
        const double cy = y + 0.5;
        const double t = length2 > 0 ? std::clamp(((cx - x0) * dx + (cy - y0) * dy) / length2, 0.0, 1.0) : 0.0;
        const double distance = std::hypot(x0 + t * dx - cx, y0 + t * dy - cy);
        const double coverage = std::clamp(lineWidth / 2 + 0.5 - distance, 0.0, 1.0);
        unsigned char & value = At(x, y);
        value = std::max(value, ToByte(255 * coverage));
      }
    }
  }

  void Paint(Canvas & canvas, Rgb colour)
  {
    for (int y = m_Area.y0; y < m_Area.y1; ++y)
    {
      for (int x = m_Area.x0; x < m_Area.x1; ++x)
      {
        if (At(x, y) != 0)
        {
          BlendPixel(canvas, x, y, colour, At(x, y) / 255.0);
        }
      }
    }
  }

private:
  unsigned char & At(int x, int y)
  {
    return m_Values[static_cast<std::size_t>(y - m_Area.y0) * static_cast<std::size_t>(m_Area.x1 - m_Area.x0) +
                    static_cast<std::size_t>(x - m_Area.x0)];
  }

  Rect m_Area;
  std::vector<unsigned char> m_Values;
};

void
Plot(const std::vector<double> & x, const std::vector<double> & y, bool integerX, const std::string & title,
     const std::string & xLabel, const std::string & yLabel, const std::string & path, bool drawDiagonal, int width,
     int height)
{
  const std::string what = "the curve plot";
  CheckOutputPath(path, what);
  const std::string prefix = "Cannot write " + what + " '" + path + "': ";
  if (width < MinimumWidth || height < MinimumHeight || width > MaximumSide || height > MaximumSide)
  {
    throw Error(prefix + "the size " + std::to_string(width) + " x " + std::to_string(height) +
                " is outside 200 x 150 to 8192 x 8192 pixels.");
  }
  if (x.size() != y.size())
  {
    throw Error(prefix + "there are " + std::to_string(x.size()) + " x values for " + std::to_string(y.size()) +
                " y values.");
  }
  const auto finite = [&x, &y](std::size_t i) { return std::isfinite(x[i]) && std::isfinite(y[i]); };
  bool any = false;
  double xMin = 0;
  double xMax = 0;
  double yMin = 0;
  double yMax = 0;
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    if (finite(i))
    {
      xMin = any ? std::min(xMin, x[i]) : x[i];
      xMax = any ? std::max(xMax, x[i]) : x[i];
      yMin = any ? std::min(yMin, y[i]) : y[i];
      yMax = any ? std::max(yMax, y[i]) : y[i];
      any = true;
    }
  }
  if (!any)
  {
    throw Error(prefix + "there is no point with finite coordinates to plot.");
  }
  if (!std::isfinite(xMax - xMin) || !std::isfinite(yMax - yMin) || std::abs(xMax) > 1e300 || std::abs(yMax) > 1e300 ||
      std::abs(xMin) > 1e300 || std::abs(yMin) > 1e300)
  {
    throw Error(prefix + "the values are too large to plot.");
  }

  // Layout, from the outside in: title, x label and y label, tick labels, then the plot box
  // [left, right) x [top, bottom).
  const int tickTextHeight = TextSize("0123456789.-", TickFontSize)[1];
  const int titleHeight = TextSize(title, TitleFontSize)[1];
  const int xLabelHeight = TextSize(xLabel, LabelFontSize)[1];
  const int yLabelWidth = TextSize(yLabel, LabelFontSize, 90)[0];
  const int top = Padding + (titleHeight > 0 ? titleHeight + Padding : 0);
  const int bottom =
    height - Padding - (xLabelHeight > 0 ? xLabelHeight + Padding / 2 : 0) - tickTextHeight - TickLength - 4;
  const Axis yAxis = NiceAxis(yMin, yMax, std::max(2, (bottom - top) / 60), false);
  const int left = Padding + (yLabelWidth > 0 ? yLabelWidth + Padding / 2 : 0) + WidestTickText(yAxis) + TickLength + 4;
  const int right = width - 2 * Padding;
  if (right - left < 20 || bottom - top < 20)
  {
    throw Error(prefix + "the picture is too small for its texts.");
  }
  int xTargetTicks = std::max(2, (right - left) / 90);
  Axis xAxis = NiceAxis(xMin, xMax, xTargetTicks, integerX);
  while (xTargetTicks > 1 && WidestTickText(xAxis) + 12 > (right - left) * xAxis.step / (xAxis.upper - xAxis.lower))
  {
    xTargetTicks /= 2;
    xAxis = NiceAxis(xMin, xMax, xTargetTicks, integerX);
  }

  const auto toColumn = [&](double value) {
    return left + (value - xAxis.lower) / (xAxis.upper - xAxis.lower) * (right - left);
  };
  const auto toRow = [&](double value) {
    return bottom - (value - yAxis.lower) / (yAxis.upper - yAxis.lower) * (bottom - top);
  };
  const auto pixel = [](double position, int first, int last) {
    return std::clamp(static_cast<int>(std::floor(position)), first, last);
  };

  Canvas canvas(width, height, Paper);
  const Rect box{ left, top, right, bottom };
  const Rect whole{ 0, 0, width, height };

  // Grid, ticks and tick labels.
  for (double value : TickValues(xAxis))
  {
    const int column = pixel(toColumn(value), left, right - 1);
    FillRect(canvas, Rect{ column, top, column + 1, bottom }, GridGrey);
    FillRect(canvas, Rect{ column, bottom, column + 1, bottom + 1 + TickLength }, Ink);
    DrawText(canvas,
             TickText(value, xAxis),
             TickFontSize,
             Ink,
             column,
             bottom + 1 + TickLength + 3,
             HAlign::Centre,
             VAlign::Top,
             whole);
  }
  for (double value : TickValues(yAxis))
  {
    const int row = pixel(toRow(value), top, bottom - 1);
    FillRect(canvas, Rect{ left, row, right, row + 1 }, GridGrey);
    FillRect(canvas, Rect{ left - 1 - TickLength, row, left - 1, row + 1 }, Ink);
    DrawText(canvas,
             TickText(value, yAxis),
             TickFontSize,
             Ink,
             left - 1 - TickLength - 3,
             row,
             HAlign::Right,
             VAlign::Centre,
             whole);
  }

  // The chance line y = x, dashed, where it crosses the plot.
  if (drawDiagonal)
  {
    const double from = std::max(xAxis.lower, yAxis.lower);
    const double to = std::min(xAxis.upper, yAxis.upper);
    if (to > from)
    {
      const double x0 = toColumn(from);
      const double y0 = toRow(from);
      const double x1 = toColumn(to);
      const double y1 = toRow(to);
      const double length = std::hypot(x1 - x0, y1 - y0);
      CoverageMask dashes(box);
      for (double start = 0; start < length; start += DashLength + DashGap)
      {
        const double end = std::min(start + DashLength, length);
        dashes.AddSegment(x0 + (x1 - x0) * start / length,
                          y0 + (y1 - y0) * start / length,
                          x0 + (x1 - x0) * end / length,
                          y0 + (y1 - y0) * end / length,
                          DiagonalWidth);
      }
      dashes.Paint(canvas, DiagonalGrey);
    }
  }

  // The curve: runs of finite points joined by segments; a run of one point is a dot.
  CoverageMask curve(box);
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    if (!finite(i))
    {
      continue;
    }
    const bool previous = i > 0 && finite(i - 1);
    const bool next = i + 1 < x.size() && finite(i + 1);
    if (next)
    {
      curve.AddSegment(toColumn(x[i]), toRow(y[i]), toColumn(x[i + 1]), toRow(y[i + 1]), CurveWidth);
    }
    else if (!previous)
    {
      curve.AddSegment(toColumn(x[i]), toRow(y[i]), toColumn(x[i]), toRow(y[i]), DotWidth);
    }
  }
  curve.Paint(canvas, CurveBlue);

  // Frame around the plot box.
  FillRect(canvas, Rect{ left - 1, top - 1, right + 1, top }, Ink);
  FillRect(canvas, Rect{ left - 1, bottom, right + 1, bottom + 1 }, Ink);
  FillRect(canvas, Rect{ left - 1, top - 1, left, bottom + 1 }, Ink);
  FillRect(canvas, Rect{ right, top - 1, right + 1, bottom + 1 }, Ink);

  // Title and axis labels.
  DrawText(canvas, title, TitleFontSize, Ink, width / 2, Padding, HAlign::Centre, VAlign::Top, whole);
  DrawText(
    canvas, xLabel, LabelFontSize, Ink, (left + right) / 2, height - Padding, HAlign::Centre, VAlign::Bottom, whole);
  DrawText(canvas, yLabel, LabelFontSize, Ink, Padding, (top + bottom) / 2, HAlign::Left, VAlign::Centre, whole, 90);

  WritePngAtomically(canvas, path, what);
}

} // namespace

namespace recontrast::visualization
{

void
WriteCurvePng(const std::vector<double> & y, const std::string & title, const std::string & xLabel,
              const std::string & yLabel, const std::string & path, int width, int height)
{
  std::vector<double> x(y.size());
  for (std::size_t i = 0; i < x.size(); ++i)
  {
    x[i] = static_cast<double>(i + 1);
  }
  Plot(x, y, true, title, xLabel, yLabel, path, false, width, height);
}

void
WriteXYCurvePng(const std::vector<double> & x, const std::vector<double> & y, const std::string & title,
                const std::string & xLabel, const std::string & yLabel, const std::string & path, bool drawDiagonal,
                int width, int height)
{
  Plot(x, y, false, title, xLabel, yLabel, path, drawDiagonal, width, height);
}

} // namespace recontrast::visualization
