/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Normal images for the engine's tests: smooth random blobs.
 *
 *=========================================================================*/
#ifndef ReContrast_Test_SyntheticSource_h
#define ReContrast_Test_SyntheticSource_h

#include "ReContrast/SampleSource.h"

#include <cmath>
#include <random>
#include <string>

namespace recontrast::testing
{

/** Smooth random blobs (phases drawn from index + seedOffset) around a grey level: 0.5 for every
 * image, or (varyLevel) 0.3 + 0.05 x (index mod 7), so that shards of a batch have different
 * BatchNorm statistics. */
class SyntheticSource : public recontrast::SampleSource
{
public:
  explicit SyntheticSource(size_t count, bool varyLevel = false, unsigned seedOffset = 17)
    : m_Count(count)
    , m_VaryLevel(varyLevel)
    , m_SeedOffset(seedOffset)
  {}
  size_t Size() const override { return m_Count; }
  void Load(size_t index, int imageSize, float * out) const override
  {
    std::mt19937 random(static_cast<unsigned>(index) + m_SeedOffset);
    std::uniform_real_distribution<float> phase(0.0f, 6.28f);
    const float a = phase(random);
    const float b = phase(random);
    const float level = m_VaryLevel ? 0.3f + 0.05f * static_cast<float>(index % 7) : 0.5f;
    for (int c = 0; c < 3; ++c)
    {
      for (int y = 0; y < imageSize; ++y)
      {
        for (int x = 0; x < imageSize; ++x)
        {
          out[(c * imageSize + y) * imageSize + x] =
            level + 0.25f * std::sin(0.2f * static_cast<float>(x) + a) * std::cos(0.15f * static_cast<float>(y) + b);
        }
      }
    }
  }
  std::string Summary() const override { return std::to_string(m_Count) + " synthetic images"; }

private:
  size_t m_Count;
  bool m_VaryLevel;
  unsigned m_SeedOffset;
};

} // namespace recontrast::testing

#endif
