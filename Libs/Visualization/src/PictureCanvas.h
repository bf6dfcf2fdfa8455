/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  A small off-screen canvas for the pictures, written as PNG atomically.
 *
 *=========================================================================*/
#ifndef ReContrast_PictureCanvas_h
#define ReContrast_PictureCanvas_h

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <string>
#include <vector>

/** What every picture of this library is drawn on, kept in one place so that the overlays and the
 * plots look alike and write their files the same way: an RGB buffer, text drawn with VTK's
 * FreeType renderer, and the atomic PNG writer. Internal (not installed); VTK stays out of this
 * header so that its users need none of it. VTK's text renderer is not thread-safe: use TextSize and
 * DrawText from one thread at a time. */
namespace recontrast::visualization::detail
{

struct Rgb
{
  unsigned char r;
  unsigned char g;
  unsigned char b;
};

/** A picture in memory, top-down: pixel (x, y) is at 3 * (y * width + x), row 0 at the top. */
struct Canvas
{
  Canvas(int w, int h, Rgb background)
    : width(w)
    , height(h)
    , rgb(static_cast<std::size_t>(w) * static_cast<std::size_t>(h) * 3)
  {
    for (std::size_t i = 0; i < rgb.size(); i += 3)
    {
      rgb[i] = background.r;
      rgb[i + 1] = background.g;
      rgb[i + 2] = background.b;
    }
  }

  unsigned char * At(int x, int y)
  {
    return rgb.data() +
           3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x));
  }

  int width;
  int height;
  std::vector<unsigned char> rgb;
};

/** A half-open rectangle [x0, x1) x [y0, y1) of canvas pixels. */
struct Rect
{
  int x0;
  int y0;
  int x1;
  int y1;
};

// ToByte and BlendPixel are called once a pixel by the painters: inline, so that they stay as cheap
// as when each file had its own copy.

inline unsigned char
ToByte(double value)
{
  return static_cast<unsigned char>(std::lround(std::clamp(value, 0.0, 255.0)));
}

inline void
BlendPixel(Canvas & canvas, int x, int y, Rgb colour, double alpha)
{
  unsigned char * pixel = canvas.At(x, y);
  pixel[0] = ToByte(pixel[0] + alpha * (colour.r - pixel[0]));
  pixel[1] = ToByte(pixel[1] + alpha * (colour.g - pixel[1]));
  pixel[2] = ToByte(pixel[2] + alpha * (colour.b - pixel[2]));
}

/** Paints the part of `rect` that lies on the canvas. */
void FillRect(Canvas & canvas, Rect rect, Rgb colour);

enum class HAlign
{
  Left,
  Centre,
  Right
};

enum class VAlign
{
  Top,
  Centre,
  Bottom
};

/** Width and height in pixels of the text as DrawText draws it; {0, 0} when it cannot be drawn. */
std::array<int, 2> TextSize(const std::string & text, int fontSize, double angle = 0);

/** Draws the text so that its box is aligned on (x, y) as asked, keeping only the pixels in `clip`.
 * `angle` turns the text counter-clockwise, in degrees. */
void DrawText(Canvas & canvas, const std::string & text, int fontSize, Rgb colour, int x, int y, HAlign hAlign,
              VAlign vAlign, Rect clip, double angle = 0);

/** Throws unless `path` names a file in a folder that exists. `what` names the picture in the
 * message ("the curve plot"). */
void CheckOutputPath(const std::string & path, const std::string & what);

/** Encodes the canvas as PNG and writes it with recontrast::AtomicFile (a temporary name, then a
 * rename). On any failure nothing is left and Error is thrown. */
void WritePngAtomically(const Canvas & canvas, const std::string & path, const std::string & what);

} // namespace recontrast::visualization::detail

#endif
