/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The one way from an ITK image to its slices: model inputs (ReContrastScanSlices) and display planes.
 *
 *=========================================================================*/
#ifndef itkReContrastImageSlices_h
#define itkReContrastImageSlices_h

#include "itkMacro.h"
#include "itkRGBPixel.h"
#include "itkReContrastScanSlices.h"

#include <array>
#include <memory>
#include <type_traits>
#include <vector>

namespace itk
{

namespace ReContrastDetail
{
template <typename T>
struct IsRGB : std::false_type
{};
template <typename T>
struct IsRGB<RGBPixel<T>> : std::true_type
{};
} // namespace ReContrastDetail

/** Size of a 2-D or 3-D image along three index axes (a 2-D image is one slice along the third). */
template <typename TImage>
std::array<SizeValueType, 3>
ReContrastSize3(const TImage * image)
{
  const auto size = image->GetLargestPossibleRegion().GetSize();
  return { { size[0], size[1], TImage::ImageDimension == 3 ? size[TImage::ImageDimension - 1] : 1 } };
}

/** Spacing of a 2-D or 3-D image along three index axes (the third of a 2-D image is 1). */
template <typename TImage>
std::array<double, 3>
ReContrastSpacing3(const TImage * image)
{
  const auto spacing = image->GetSpacing();
  return { { spacing[0], spacing[1], TImage::ImageDimension == 3 ? spacing[TImage::ImageDimension - 1] : 1.0 } };
}

/** The slices first..last (inclusive) along sliceAxis of a grey or RGB image, with their foreground,
 * as the model sees them. `foreground` has one byte per voxel of the whole image in buffer order
 * (nullptr: everything). The image must hold its whole largest region in memory. Training reads a
 * whole scan this way; the anomaly filter one slab of slices per batch. */
template <typename TImage>
std::unique_ptr<ReContrastScanSlices>
ReContrastMakeScanSlices(const TImage * image, const unsigned char * foreground, unsigned int sliceAxis,
                         SizeValueType first, SizeValueType last, const ReContrastScanSlices::Settings & settings)
{
  constexpr bool isRGB = ReContrastDetail::IsRGB<typename TImage::PixelType>::value;
  constexpr unsigned int components = isRGB ? 3 : 1;
  const std::array<SizeValueType, 3> size = ReContrastSize3(image);
  if (image->GetBufferedRegion() != image->GetLargestPossibleRegion() || sliceAxis > 2 || first > last ||
      last >= size[sliceAxis])
  {
    itkGenericExceptionMacro("Slices " << first << " to " << last << " along axis " << sliceAxis
                                       << " are not in the image held in memory.");
  }
  std::array<SizeValueType, 3> slabSize = size;
  slabSize[sliceAxis] = last - first + 1;
  std::array<SizeValueType, 3> low{ { 0, 0, 0 } };
  low[sliceAxis] = first;
  const size_t slabVoxels = static_cast<size_t>(slabSize[0] * slabSize[1] * slabSize[2]);
  std::vector<float> values(slabVoxels * components);
  std::vector<unsigned char> slabForeground(foreground ? slabVoxels : 0);
  const auto * buffer = image->GetBufferPointer();
  size_t i = 0;
  for (SizeValueType z = 0; z < slabSize[2]; ++z)
  {
    for (SizeValueType y = 0; y < slabSize[1]; ++y)
    {
      const SizeValueType row = low[0] + size[0] * ((low[1] + y) + size[1] * (low[2] + z));
      for (SizeValueType x = 0; x < slabSize[0]; ++x, ++i)
      {
        if constexpr (isRGB)
        {
          for (unsigned int c = 0; c < 3; ++c)
          {
            values[3 * i + c] = static_cast<float>(buffer[row + x][c]);
          }
        }
        else
        {
          values[i] = static_cast<float>(buffer[row + x]);
        }
        if (foreground)
        {
          slabForeground[i] = foreground[row + x];
        }
      }
    }
  }
  ReContrastScanSlices::Settings slabSettings = settings;
  slabSettings.context = settings.context && !isRGB; // colour pictures use their own channels
  return std::make_unique<ReContrastScanSlices>(std::move(values),
                                                components,
                                                slabSize,
                                                ReContrastSpacing3(image),
                                                sliceAxis,
                                                std::move(slabForeground),
                                                slabSettings);
}

/** One plane of an image for display: grey values (colour: the mean of the channels), x fastest. */
struct ReContrastImagePlane
{
  std::vector<float> values;
  unsigned int width{ 0 };
  unsigned int height{ 0 };
  double spacingX{ 1.0 };
  double spacingY{ 1.0 };
};

/** Slice k along sliceAxis of a grey or RGB image (a 2-D image: axis 2, k 0), in the plane axes
 * the model's slices use. */
template <typename TImage>
ReContrastImagePlane
ReContrastExtractPlane(const TImage * image, unsigned int sliceAxis, SizeValueType k)
{
  const std::array<SizeValueType, 3> size = ReContrastSize3(image);
  const std::array<double, 3> spacing = ReContrastSpacing3(image);
  if (image->GetBufferedRegion() != image->GetLargestPossibleRegion() || sliceAxis > 2 || k >= size[sliceAxis])
  {
    itkGenericExceptionMacro("Slice " << k << " along axis " << sliceAxis << " is not in the image held in memory.");
  }
  const auto [u, v] = ReContrastScanSlices::PlaneAxes(sliceAxis);
  const std::array<SizeValueType, 3> stride{ { 1, size[0], size[0] * size[1] } };
  ReContrastImagePlane plane;
  plane.width = static_cast<unsigned int>(size[u]);
  plane.height = static_cast<unsigned int>(size[v]);
  plane.spacingX = spacing[u];
  plane.spacingY = spacing[v];
  plane.values.resize(static_cast<size_t>(size[u] * size[v]));
  const auto * buffer = image->GetBufferPointer();
  size_t i = 0;
  for (SizeValueType y = 0; y < size[v]; ++y)
  {
    for (SizeValueType x = 0; x < size[u]; ++x, ++i)
    {
      const auto & pixel = buffer[x * stride[u] + y * stride[v] + k * stride[sliceAxis]];
      if constexpr (ReContrastDetail::IsRGB<typename TImage::PixelType>::value)
      {
        plane.values[i] =
          (static_cast<float>(pixel[0]) + static_cast<float>(pixel[1]) + static_cast<float>(pixel[2])) / 3.0f;
      }
      else
      {
        plane.values[i] = static_cast<float>(pixel);
      }
    }
  }
  return plane;
}

} // namespace itk

#endif
