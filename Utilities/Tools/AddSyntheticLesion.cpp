/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  recontrast-add-lesion: writes a copy of a scan (a volume or a 2-D picture) with a synthetic
 *  round lesion, and optionally its mask, for the demo and for tests of detection (a known anomaly
 *  at a known place).
 *
 *=========================================================================*/
#include "itkReContrastExceptionText.h"
#include "itkImage.h"
#include "itkImageRegionIteratorWithIndex.h"
#include "itkReContrastImageFiles.h"

#include "OptionChecks.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace
{
bool
IsEightBitFormat(const std::string & path)
{
  std::string extension = std::filesystem::path(path).extension().string();
  std::transform(
    extension.begin(), extension.end(), extension.begin(), [](unsigned char c) { return std::tolower(c); });
  return extension == ".png" || extension == ".jpg" || extension == ".jpeg" || extension == ".bmp";
}

// Writes whole or not at all; 8-bit picture formats get the values rounded and clamped to 0..255.
template <typename TImage>
void
Write(const TImage * image, const std::string & path)
{
  if (IsEightBitFormat(path))
  {
    using ByteImage = itk::Image<unsigned char, TImage::ImageDimension>;
    auto bytes = ByteImage::New();
    bytes->CopyInformation(image);
    bytes->SetRegions(image->GetLargestPossibleRegion());
    bytes->Allocate();
    const auto * in = image->GetBufferPointer();
    auto * out = bytes->GetBufferPointer();
    for (size_t i = 0; i < image->GetLargestPossibleRegion().GetNumberOfPixels(); ++i)
    {
      out[i] = static_cast<unsigned char>(std::clamp(std::lround(in[i]), 0L, 255L));
    }
    itk::ReContrastWriteImageFile(bytes.GetPointer(), path, false);
  }
  else
  {
    itk::ReContrastWriteImageFile(image, path);
  }
}

template <unsigned int VDimension>
void
AddLesion(const std::string & input, itk::ImageIOBase * checked, const std::string & output,
          const std::string & maskPath, const std::vector<double> & centre, double radius, double contrast)
{
  using ImageType = itk::Image<float, VDimension>;
  if (!centre.empty() && centre.size() != VDimension)
  {
    throw std::runtime_error("The centre needs " + std::to_string(VDimension) + " values for this " +
                             std::to_string(VDimension) + "-D image.");
  }
  typename ImageType::Pointer image = itk::ReContrastReadImageFile<ImageType>(input, checked);
  auto mask = ImageType::New();
  mask->CopyInformation(image);
  mask->SetRegions(image->GetLargestPossibleRegion());
  mask->Allocate(true);
  const auto size = image->GetLargestPossibleRegion().GetSize();
  itk::ContinuousIndex<double, VDimension> middle;
  for (unsigned d = 0; d < VDimension; ++d)
  {
    middle[d] = centre.empty() ? 0.5 * (size[d] - 1) : centre[d];
  }
  typename ImageType::PointType centrePoint;
  image->TransformContinuousIndexToPhysicalPoint(middle, centrePoint);
  itk::ImageRegionIteratorWithIndex<ImageType> it(image, image->GetLargestPossibleRegion());
  for (it.GoToBegin(); !it.IsAtEnd(); ++it)
  {
    typename ImageType::PointType point;
    image->TransformIndexToPhysicalPoint(it.GetIndex(), point);
    const double distance = point.EuclideanDistanceTo(centrePoint);
    if (distance < radius + 1.0)
    {
      // A soft edge over one millimetre, like a real lesion's partial-volume border.
      const double weight = std::clamp(radius + 1.0 - distance, 0.0, 1.0);
      it.Set(static_cast<float>(it.Get() * (1.0 + weight * (contrast - 1.0))));
    }
    if (distance <= radius)
    {
      mask->SetPixel(it.GetIndex(), 255.0f);
    }
  }
  Write(image.GetPointer(), output);
  if (!maskPath.empty())
  {
    Write(mask.GetPointer(), maskPath);
  }
  std::printf("recontrast-add-lesion: wrote %s (lesion of radius %.1f mm at index", output.c_str(), radius);
  for (unsigned d = 0; d < VDimension; ++d)
  {
    std::printf(" %.1f", middle[d]);
  }
  std::printf(")\n");
}
} // namespace

int
main(int argc, char ** argv)
{
  CLI::App app{ "Write a grey copy of a scan or picture with a synthetic round lesion (for demos and tests)." };
  app.name("recontrast-add-lesion");
  std::string input;
  std::string output;
  std::string mask;
  std::vector<double> centre;
  double radius = 8.0;
  double contrast = 1.6;
  app.add_option("--input", input, "Scan or picture to copy")->required()->check(CLI::ExistingFile);
  app.add_option("--output", output, "Where to write the copy with the lesion")->required();
  app.add_option("--mask", mask, "Where to write the lesion's mask (255 inside, 0 outside)");
  app.add_option("--centre", centre, "Lesion centre as a continuous index, x y [z] (default: the image centre)")
    ->expected(2, 3);
  app.add_option("--radius", radius, "Lesion radius in millimetres")
    ->capture_default_str()
    ->check(recontrast::cli::FiniteNumber(1e-3, 1e6));
  app.add_option("--contrast", contrast, "Intensity factor inside the lesion (relative to the local tissue)")
    ->capture_default_str()
    ->check(recontrast::cli::FiniteNumber(0.0, 1e6));
  CLI11_PARSE(app, argc, argv);

  try
  {
    for (const std::string * written : { &output, &mask })
    {
      std::error_code error;
      if (!written->empty() && std::filesystem::exists(*written) && std::filesystem::equivalent(*written, input, error))
      {
        throw std::runtime_error("The output '" + *written +
                                 "' is the input itself; writing it would overwrite the scan.");
      }
    }
    const itk::ImageIOBase::Pointer io = itk::ReContrastReadImageFileInformation(input);
    // Colour (and palette) pictures are read as their luminance: the copy is grey.
    if (io->GetNumberOfDimensions() == 2)
    {
      AddLesion<2>(input, io, output, mask, centre, radius, contrast);
    }
    else if (io->GetNumberOfDimensions() == 3)
    {
      AddLesion<3>(input, io, output, mask, centre, radius, contrast);
    }
    else
    {
      throw std::runtime_error("'" + input + "' is neither a 2-D nor a 3-D image.");
    }
  }
  catch (const itk::ExceptionObject & e)
  {
    std::fprintf(stderr, "recontrast-add-lesion: %s\n", itk::ReContrastExceptionText(e).c_str());
    return 1;
  }
  catch (const std::exception & e)
  {
    std::fprintf(stderr, "recontrast-add-lesion: %s\n", e.what());
    return 1;
  }
  return 0;
}
