/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  How an anomaly map is shown as heat: its range and colour table.
 *
 *=========================================================================*/
#ifndef ReContrast_HeatDisplay_h
#define ReContrast_HeatDisplay_h

#include <array>
#include <cstddef>
#include <string>
#include <vector>

/** How an anomaly map is shown as heat: its display range and its colours. One definition for every
 * viewer: the PNG overlays of this library and the Slicer module's colour table and window. */
namespace recontrast::visualization
{

/** Where the heat of a map starts (transparent, at and below `lower`) and saturates (`upper`). */
struct HeatRange
{
  double lower = 0.0;
  double upper = 1.0;
};

/** The display range of a map. The heat starts at the normal level: `normalLevel` when it is finite
 * (a calibrated model's mean score of normal images), otherwise half the map's maximum; never above
 * the maximum. It saturates at `threshold` when that lies above the start, otherwise at the map's
 * maximum; upper > lower always (a flat map gets a range of 1e-6). NaN values are ignored. Throws
 * recontrast::Error when the map is empty or holds no finite value. */
HeatRange ChooseHeatRange(const float * map, size_t count, double normalLevel, double threshold);

/** The display range of a map whose values below `threshold` are hidden (a viewer's lower threshold,
 * as the Slicer module sets it): the colours span what stays visible, with the threshold a third of
 * the way up the colour map (red in "hot", not black) and the map's maximum at its top; upper >
 * lower always. NaN values are ignored. Throws recontrast::Error when the map is empty or holds no
 * finite value, or when the threshold is not a finite number. */
HeatRange ChooseThresholdedHeatRange(const float * map, size_t count, double threshold);

using HeatColorFunction = std::array<double, 3> (*)(double t);

/** The colour function of a colour map name: "hot" (black - red - yellow - white, as matplotlib's)
 * or "rainbow" / "jet" (blue - cyan - green - yellow - red, as MATLAB's jet); RGB in [0, 1] for t in
 * [0, 1] (clamped). nullptr for an unknown name. */
HeatColorFunction HeatColorFunctionOf(const std::string & colorMap);

/** A colour table for viewers that look values up in a table (Slicer's colour nodes): `entries` RGB
 * colours, entry i for t = i / (entries - 1) of the heat range. Opaque: such viewers hide what is
 * below their threshold and blend the rest by the layer's opacity. Throws recontrast::Error for an
 * unknown colour map or fewer than 2 entries. */
std::vector<std::array<double, 3>> HeatColorTable(const std::string & colorMap, int entries = 256);

} // namespace recontrast::visualization

#endif
