/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The slices of one scan as the model sees them: pre- and post-processing of training and inference.
 *
 *=========================================================================*/
#include "itkReContrastScanSlices.h"

#include "itkMacro.h"

#include <cmath>
#include <limits>

namespace itk
{

ReContrastScanSlices::ReContrastScanSlices(std::vector<float> values, unsigned int components,
                                           const std::array<SizeValueType, 3> & size,
                                           const std::array<double, 3> & spacing, unsigned int sliceAxis,
                                           std::vector<unsigned char> foreground, const Settings & settings)
  : m_Values(std::move(values))
  , m_Components(components)
  , m_Size(size)
  , m_Spacing(spacing)
  , m_Stride{ { 1, size[0], size[0] * size[1] } }
  , m_Axis(sliceAxis)
  , m_U(PlaneAxes(sliceAxis)[0])
  , m_V(PlaneAxes(sliceAxis)[1])
  , m_Foreground(std::move(foreground))
  , m_Settings(settings)
  , m_Preset(settings.preset)
{
  const SizeValueType voxels = size[0] * size[1] * size[2];
  if (voxels == 0)
  {
    itkGenericExceptionMacro("The scan is empty.");
  }
  if (sliceAxis > 2 || (components != 1 && components != 3) || m_Values.size() != voxels * components)
  {
    itkGenericExceptionMacro("Inconsistent scan buffer: " << m_Values.size() << " values for " << voxels
                                                          << " voxels of " << components << " components.");
  }
  if (components == 3 && settings.context)
  {
    itkGenericExceptionMacro("The 2.5-D context mode needs a grey scan, not a colour picture.");
  }
  if (m_Foreground.empty())
  {
    m_Foreground.assign(voxels, 1);
  }
  else if (m_Foreground.size() != voxels)
  {
    itkGenericExceptionMacro("The foreground mask has " << m_Foreground.size() << " voxels; the scan has " << voxels
                                                        << '.');
  }
  // One intensity mapping for the whole scan: per-slice statistics would make slices incomparable.
  // Fit() also rejects NaN and infinite values. A fitted MR preset was fitted on the whole scan these
  // slices are a slab of, whose values the caller has checked.
  if (!(m_Preset.RequiresFit() && m_Preset.IsFitted()))
  {
    m_Preset.Fit(m_Values.data(), components == 1 ? m_Foreground.data() : nullptr, m_Values.size());
  }
  m_Usable = UsableSlices(m_Foreground.data(), m_Size, m_Axis, settings.minimumForegroundFraction);
}

double
ReContrastScanSlices::SlicePosition(const std::vector<SizeValueType> & usable, SizeValueType k,
                                    SizeValueType numberOfSlices)
{
  if (numberOfSlices <= 1 || usable.empty())
  {
    return std::numeric_limits<double>::quiet_NaN();
  }
  if (usable.size() == 1)
  {
    return 0.5;
  }
  const double first = static_cast<double>(usable.front());
  const double last = static_cast<double>(usable.back());
  return (static_cast<double>(k) - first) / (last - first);
}

std::vector<SizeValueType>
ReContrastScanSlices::UsableSlices(const unsigned char * foreground, const std::array<SizeValueType, 3> & size,
                                   unsigned int sliceAxis, double minimumForegroundFraction)
{
  const std::array<SizeValueType, 3> stride{ { 1, size[0], size[0] * size[1] } };
  const auto [u, v] = PlaneAxes(sliceAxis);
  const SizeValueType area = size[u] * size[v];
  std::vector<SizeValueType> usable;
  for (SizeValueType k = 0; k < size[sliceAxis]; ++k)
  {
    SizeValueType count = area;
    if (foreground != nullptr)
    {
      count = 0;
      for (SizeValueType y = 0; y < size[v]; ++y)
      {
        for (SizeValueType x = 0; x < size[u]; ++x)
        {
          count += foreground[x * stride[u] + y * stride[v] + k * stride[sliceAxis]] ? 1 : 0;
        }
      }
    }
    if (count > 0 && static_cast<double>(count) >= minimumForegroundFraction * static_cast<double>(area))
    {
      usable.push_back(k);
    }
  }
  return usable;
}

const ReContrastSliceResampler &
ReContrastScanSlices::Resampler(unsigned int modelSize) const
{
  std::lock_guard<std::mutex> lock(m_ResamplerMutex);
  if (!m_Resampler || m_ResamplerSize != modelSize)
  {
    m_Resampler = std::make_unique<ReContrastSliceResampler>(static_cast<unsigned int>(m_Size[m_U]),
                                                             static_cast<unsigned int>(m_Size[m_V]),
                                                             m_Spacing[m_U],
                                                             m_Spacing[m_V],
                                                             modelSize,
                                                             m_Settings.fit);
    m_ResamplerSize = modelSize;
  }
  return *m_Resampler;
}

void
ReContrastScanSlices::MakeModelInput(SizeValueType k, unsigned int modelSize, float * out) const
{
  const ReContrastSliceResampler & resampler = Resampler(modelSize);
  const SizeValueType width = m_Size[m_U];
  const SizeValueType height = m_Size[m_V];
  const SizeValueType slices = m_Size[m_Axis];
  const size_t plane = static_cast<size_t>(modelSize) * modelSize;
  std::vector<float> slice(static_cast<size_t>(width * height));
  for (unsigned int c = 0; c < 3; ++c)
  {
    SizeValueType source = k;
    if (m_Settings.context)
    {
      source = c == 0 ? (k > 0 ? k - 1 : k) : (c == 2 ? std::min(k + 1, slices - 1) : k);
    }
    for (SizeValueType y = 0; y < height; ++y)
    {
      for (SizeValueType x = 0; x < width; ++x)
      {
        const SizeValueType offset = Offset(x, y, source);
        const float value = m_Components == 3 ? m_Values[3 * offset + c] : m_Values[offset];
        slice[y * width + x] = m_Preset.Apply(value);
      }
    }
    resampler.ToSquare(slice.data(), out + c * plane);
  }
}

void
ReContrastScanSlices::WriteSliceMap(SizeValueType k, const float * squareMap, unsigned int modelSize,
                                    float * scanMap) const
{
  WriteSliceMap(k, squareMap, modelSize, scanMap, m_Size, 0);
}

void
ReContrastScanSlices::WriteSliceMap(SizeValueType k, const float * squareMap, unsigned int modelSize, float * scanMap,
                                    const std::array<SizeValueType, 3> & scanSize, SizeValueType slabStart) const
{
  for (unsigned int axis = 0; axis < 3; ++axis)
  {
    const SizeValueType extent = axis == m_Axis ? slabStart + m_Size[axis] : m_Size[axis];
    if (extent > scanSize[axis])
    {
      itkGenericExceptionMacro("The slab of slices does not fit into the scan it is written to.");
    }
  }
  const std::array<SizeValueType, 3> scanStride{ { 1, scanSize[0], scanSize[0] * scanSize[1] } };
  const SizeValueType width = m_Size[m_U];
  const SizeValueType height = m_Size[m_V];
  std::vector<float> slice(static_cast<size_t>(width * height));
  Resampler(modelSize).FromSquare(squareMap, slice.data());
  for (SizeValueType y = 0; y < height; ++y)
  {
    for (SizeValueType x = 0; x < width; ++x)
    {
      const SizeValueType scanOffset = x * scanStride[m_U] + y * scanStride[m_V] + (slabStart + k) * scanStride[m_Axis];
      scanMap[scanOffset] = m_Foreground[Offset(x, y, k)] ? slice[y * width + x] : 0.0f;
    }
  }
}

} // namespace itk
