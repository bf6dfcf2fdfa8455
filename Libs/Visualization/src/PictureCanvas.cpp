/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  A small off-screen canvas for the pictures, written as PNG atomically.
 *
 *=========================================================================*/
#include "PictureCanvas.h"

#include "ReContrast/AtomicFile.h"

#include "ReContrast/Error.h"

#include <vtkAutoInit.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGWriter.h>
#include <vtkStdString.h>
#include <vtkTextProperty.h>
#include <vtkTextRenderer.h>
#include <vtkType.h>
#include <vtkUnsignedCharArray.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

// vtkTextRenderer::GetInstance() is an object-factory override that the FreeType module registers.
// This file is the only user of the text renderer in the library, so the registration is here.
VTK_MODULE_INIT(vtkRenderingFreeType);

namespace recontrast::visualization::detail
{

namespace
{

constexpr int TextDpi = 72; // at 72 dpi a font size in points is a size in pixels

void
SetUpTextProperty(vtkTextProperty * property, int fontSize, Rgb colour, double angle)
{
  property->SetFontFamilyToArial();
  property->SetFontSize(fontSize);
  property->SetColor(colour.r / 255.0, colour.g / 255.0, colour.b / 255.0);
  property->SetJustificationToLeft();
  property->SetVerticalJustificationToBottom();
  property->SetOrientation(angle);
}

/** The box {xmin, xmax, ymin, ymax} of the text around its anchor (y up), or false when there is
 * no text renderer or the text is empty. */
bool
TextBox(const std::string & text, int fontSize, double angle, int box[4])
{
  vtkTextRenderer * renderer = vtkTextRenderer::GetInstance();
  if (text.empty() || renderer == nullptr)
  {
    return false;
  }
  vtkNew<vtkTextProperty> property;
  SetUpTextProperty(property, fontSize, Rgb{ 0, 0, 0 }, angle);
  return renderer->GetBoundingBox(property, vtkStdString(text), box, TextDpi, vtkTextRenderer::FreeType) &&
         box[1] >= box[0] && box[3] >= box[2];
}

} // namespace

void
FillRect(Canvas & canvas, Rect rect, Rgb colour)
{
  for (int y = std::max(rect.y0, 0); y < std::min(rect.y1, canvas.height); ++y)
  {
    for (int x = std::max(rect.x0, 0); x < std::min(rect.x1, canvas.width); ++x)
    {
      unsigned char * pixel = canvas.At(x, y);
      pixel[0] = colour.r;
      pixel[1] = colour.g;
      pixel[2] = colour.b;
    }
  }
}

std::array<int, 2>
TextSize(const std::string & text, int fontSize, double angle)
{
  int box[4];
  if (!TextBox(text, fontSize, angle, box))
  {
    return { 0, 0 };
  }
  return { box[1] - box[0] + 1, box[3] - box[2] + 1 };
}

void
DrawText(Canvas & canvas, const std::string & text, int fontSize, Rgb colour, int x, int y, HAlign hAlign,
         VAlign vAlign, Rect clip, double angle)
{
  int box[4];
  if (!TextBox(text, fontSize, angle, box))
  {
    return;
  }
  vtkNew<vtkTextProperty> property;
  SetUpTextProperty(property, fontSize, colour, angle);
  vtkNew<vtkImageData> image;
  int dimensions[2] = { 0, 0 };
  if (!vtkTextRenderer::GetInstance()->RenderString(
        property, vtkStdString(text), image, dimensions, TextDpi, vtkTextRenderer::FreeType) ||
      image->GetScalarType() != VTK_UNSIGNED_CHAR || image->GetNumberOfScalarComponents() != 4)
  {
    return;
  }
  const int boxWidth = box[1] - box[0] + 1;
  const int boxHeight = box[3] - box[2] + 1;
  const int left = hAlign == HAlign::Left ? x : hAlign == HAlign::Centre ? x - boxWidth / 2 : x - boxWidth;
  const int top = vAlign == VAlign::Top ? y : vAlign == VAlign::Centre ? y - boxHeight / 2 : y - boxHeight;
  clip.x0 = std::max(clip.x0, 0);
  clip.y0 = std::max(clip.y0, 0);
  clip.x1 = std::min(clip.x1, canvas.width);
  clip.y1 = std::min(clip.y1, canvas.height);

  int extent[6];
  image->GetExtent(extent);
  for (int ey = extent[2]; ey <= extent[3]; ++ey)
  {
    const int cy = top + (box[3] - ey);
    if (cy < clip.y0 || cy >= clip.y1)
    {
      continue;
    }
    for (int ex = extent[0]; ex <= extent[1]; ++ex)
    {
      const int cx = left + (ex - box[0]);
      if (cx < clip.x0 || cx >= clip.x1)
      {
        continue;
      }
      const auto * texel = static_cast<const unsigned char *>(image->GetScalarPointer(ex, ey, 0));
      if (texel[3] != 0)
      {
        BlendPixel(canvas, cx, cy, colour, texel[3] / 255.0);
      }
    }
  }
}

void
CheckOutputPath(const std::string & path, const std::string & what)
{
  namespace fs = std::filesystem;
  if (path.empty())
  {
    throw Error("The file name of " + what + " is empty.");
  }
  std::error_code error;
  const fs::path target(path);
  fs::path folder = target.parent_path();
  if (folder.empty())
  {
    folder = ".";
  }
  if (!fs::is_directory(folder, error))
  {
    throw Error("Cannot write " + what + " '" + path + "': the folder '" + folder.string() + "' does not exist.");
  }
  if (fs::is_directory(target, error))
  {
    throw Error("Cannot write " + what + " '" + path + "': a folder of that name is in the way.");
  }
}

void
WritePngAtomically(const Canvas & canvas, const std::string & path, const std::string & what)
{
  vtkNew<vtkImageData> image;
  image->SetDimensions(canvas.width, canvas.height, 1);
  image->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  const std::size_t rowBytes = 3 * static_cast<std::size_t>(canvas.width);
  for (int y = 0; y < canvas.height; ++y)
  {
    // VTK's row 0 is the bottom of the picture.
    auto * row = static_cast<unsigned char *>(image->GetScalarPointer(0, canvas.height - 1 - y, 0));
    std::copy_n(canvas.rgb.data() + rowBytes * static_cast<std::size_t>(y), rowBytes, row);
  }
  vtkNew<vtkPNGWriter> writer;
  writer->SetInputData(image);
  writer->WriteToMemoryOn();
  writer->Write();
  vtkUnsignedCharArray * encoded = writer->GetResult();
  if (writer->GetErrorCode() != 0 || encoded == nullptr || encoded->GetNumberOfValues() == 0)
  {
    throw Error("Cannot write " + what + " '" + path + "': PNG encoding failed.");
  }

  AtomicFile file(path);
  file.Stream().write(reinterpret_cast<const char *>(encoded->GetPointer(0)),
                      static_cast<std::streamsize>(encoded->GetNumberOfValues()));
  file.Commit();
}

} // namespace recontrast::visualization::detail
