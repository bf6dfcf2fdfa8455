#include "itkReContrastScanSlices.h"

#include "itkMacro.h"

#include <cmath>

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
  , m_U(sliceAxis == 0 ? 1 : 0)
  , m_V(sliceAxis == 2 ? 1 : 2)
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
  for (float v : m_Values)
  {
    if (!std::isfinite(v))
    {
      itkGenericExceptionMacro("The scan contains NaN or infinite values.");
    }
  }
  // One intensity mapping for the whole scan: per-slice statistics would make slices incomparable.
  if (components == 1)
  {
    m_Preset.Fit(m_Values.data(), m_Foreground.data(), m_Values.size());
  }
  else
  {
    m_Preset.Fit(m_Values.data(), nullptr, m_Values.size());
  }

  const SizeValueType width = m_Size[m_U];
  const SizeValueType height = m_Size[m_V];
  for (SizeValueType k = 0; k < m_Size[m_Axis]; ++k)
  {
    SizeValueType count = 0;
    for (SizeValueType y = 0; y < height; ++y)
    {
      for (SizeValueType x = 0; x < width; ++x)
      {
        count += m_Foreground[Offset(x, y, k)] ? 1 : 0;
      }
    }
    if (count > 0 &&
        static_cast<double>(count) >= settings.minimumForegroundFraction * static_cast<double>(width * height))
    {
      m_Usable.push_back(k);
    }
  }
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
                                                             modelSize);
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
  const SizeValueType width = m_Size[m_U];
  const SizeValueType height = m_Size[m_V];
  std::vector<float> slice(static_cast<size_t>(width * height));
  Resampler(modelSize).FromSquare(squareMap, slice.data());
  for (SizeValueType y = 0; y < height; ++y)
  {
    for (SizeValueType x = 0; x < width; ++x)
    {
      const SizeValueType offset = Offset(x, y, k);
      scanMap[offset] = m_Foreground[offset] ? slice[y * width + x] : 0.0f;
    }
  }
}

} // namespace itk
