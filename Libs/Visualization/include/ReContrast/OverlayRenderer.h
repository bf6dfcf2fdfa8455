/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Overlay pictures without a display: heat map on the scan, slice montages.
 *
 *=========================================================================*/
#ifndef ReContrast_OverlayRenderer_h
#define ReContrast_OverlayRenderer_h

#include <string>
#include <vector>

/** Pictures of an anomaly map blended on its scan, written as PNG files without a display.
 *
 * Conventions shared by every function:
 * - Buffers are row-major, x fastest: value (x, y) is at `y * width + x`. Row 0 is the first row
 *   of the image and is drawn at the TOP of the picture; column 0 is drawn at the LEFT. For an
 *   axial slice of an ITK (LPS) volume with the identity direction this is the radiological
 *   display convention: anterior at the top, the patient's right on the picture's left. A caller
 *   whose direction matrix differs reorders the buffer first.
 * - Pictures have square pixels in physical space: a slice whose spacings differ is resampled
 *   (bilinear) to the finer of its two spacings, so the picture's aspect ratio is the physical one.
 *   When that would make a side longer than max(4096, the slice's larger side in pixels), the
 *   common pixel size grows until it does not.
 * - The scan is drawn in grey through the window [scanLower, scanUpper]; NaN scan values are black.
 *   The heat is drawn where map >= mapLower, with colour colorMap(t) and opacity `opacity * t`,
 *   t = (map - mapLower) / (mapUpper - mapLower) clamped to [0, 1]; below mapLower, and where the
 *   map is NaN, the scan shows unchanged.
 * - Files are written atomically (recontrast::AtomicFile): the PNG goes to a temporary name in the
 *   same folder, which is then renamed to `path`; on any error nothing is left behind.
 * - Bad input (a null buffer, a non-positive size or spacing, an unknown colour map, a window or
 *   opacity that is not a finite number in range, a folder that does not exist, a file that cannot
 *   be written) throws recontrast::Error with one sentence naming the file.
 * - The functions share VTK's text renderer, which is not thread-safe: call them from one thread
 *   at a time. */
namespace recontrast::visualization
{

/** One 2-D slice and its anomaly map, both `width * height` floats, not owned. */
struct SliceView
{
  const float * scan = nullptr;
  const float * map = nullptr;
  int width = 0;
  int height = 0;
  /** Physical size of a pixel along x (a row) and y (a column), any unit, the same for both. */
  double spacingX = 1;
  double spacingY = 1;
};

struct OverlayStyle
{
  /** Grey window of the scan. When scanLower >= scanUpper, each slice uses the 1st and 99th
   * percentiles of its own finite scan values. */
  double scanLower = 0;
  double scanUpper = 0;
  /** The heat starts here (fully transparent at and below it)... */
  double mapLower = 0;
  /** ...and saturates here (opacity `opacity`); must be greater than mapLower. */
  double mapUpper = 1;
  /** Opacity of saturated heat, in [0, 1]. */
  double opacity = 0.5;
  /** "hot" (black - red - yellow - white) or "rainbow" (jet-like: blue - cyan - green - yellow -
   * red; "jet" is accepted as another name for it). */
  std::string colorMap = "hot";
  /** Adds a strip on the right: the colour scale from mapLower (bottom) to mapUpper (top), with
   * both values written beside it when the picture is tall enough for the text. */
  bool drawColorBar = true;
};

/** Writes one slice with its heat map blended on it as a PNG picture. Without the colour bar the
 * picture is exactly the resampled slice; the bar widens it and keeps its height. */
void WriteOverlayPng(const SliceView & slice, const OverlayStyle & style, const std::string & path);

/** Writes several slices (e.g. the most anomalous slices of a volume) as one PNG picture: a grid of
 * `columns` columns (0: the smallest n with n * n >= the number of slices; never more columns than
 * slices), filled row by row, with 2-pixel grey separators between the tiles.
 *
 * All slices are resampled to one pixel size (the finest spacing among them), so equal distances
 * look equal in every tile. Every tile has the size of the largest resampled slice, and each slice
 * is centred in its tile on black (letterbox). `labels` is empty or has one text per slice; when a
 * label is not empty, a band of text above every tile shows it (clipped to the tile's width). The
 * scan window is chosen per slice (see OverlayStyle); the heat range and the colour bar are shared. */
void WriteMontagePng(const std::vector<SliceView> & slices, const std::vector<std::string> & labels,
                     const OverlayStyle & style, const std::string & path, int columns = 0);

} // namespace recontrast::visualization

#endif
