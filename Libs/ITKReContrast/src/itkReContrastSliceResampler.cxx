/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Resampling of a 2-D slice into the model's square input (aspect-preserving or stretched), and back.
 *
 *=========================================================================*/
#include "itkReContrastSliceResampler.h"

#include "itkMacro.h"

#include <algorithm>
#include <cmath>

namespace itk
{

ReContrastSliceResampler::ReContrastSliceResampler(unsigned int width, unsigned int height, double spacingX,
                                                   double spacingY, unsigned int squareSize, Fit fit)
  : m_Width(width)
  , m_Height(height)
  , m_SpacingX(spacingX)
  , m_SpacingY(spacingY)
  , m_SquareSize(squareSize)
  , m_Fit(fit)
{
  if (width == 0 || height == 0 || squareSize == 0)
  {
    itkGenericExceptionMacro(<< "Cannot resample a " << width << " x " << height << " slice into a " << squareSize
                             << " x " << squareSize << " square: every size must be at least 1.");
  }
  if (!(std::isfinite(spacingX) && std::isfinite(spacingY) && spacingX > 0.0 && spacingY > 0.0))
  {
    itkGenericExceptionMacro(<< "Cannot resample a slice with pixel spacing " << spacingX << " x " << spacingY
                             << ": spacings must be positive and finite.");
  }

  const double extent[2] = { width * spacingX, height * spacingY };
  const double spacing[2] = { spacingX, spacingY };
  const unsigned int size[2] = { width, height };
  if (fit == Fit::Stretch)
  {
    // Each side spans the square: no padding, square pixels as long as the slice's side / S.
    m_SquareSpacingX = extent[0] / squareSize;
    m_SquareSpacingY = extent[1] / squareSize;
  }
  else
  {
    m_SquareSpacingX = std::max(extent[0], extent[1]) / squareSize;
    m_SquareSpacingY = m_SquareSpacingX;
  }
  const double squareSpacing[2] = { m_SquareSpacingX, m_SquareSpacingY };
  m_OffsetX = 0.5 * (squareSize * m_SquareSpacingX - extent[0]);
  m_OffsetY = 0.5 * (squareSize * m_SquareSpacingY - extent[1]);
  const double offset[2] = { m_OffsetX, m_OffsetY };

  std::vector<unsigned int> * nearest[2] = { &m_NearestX, &m_NearestY };
  for (unsigned int axis = 0; axis < 2; ++axis)
  {
    // Square pixel j's centre in slice pixel units measured from the slice's edge.
    const auto centreOnSlice = [&](unsigned int j) {
      return ((j + 0.5) * squareSpacing[axis] - offset[axis]) / spacing[axis];
    };
    // A tolerance so that a centre exactly on either edge of the slice counts on both sides alike.
    const double tolerance = 1e-9 * std::max(1.0, static_cast<double>(size[axis]));
    unsigned int begin = squareSize;
    unsigned int end = 0;
    for (unsigned int j = 0; j < squareSize; ++j)
    {
      const double u = centreOnSlice(j);
      if (u >= -tolerance && u <= size[axis] + tolerance)
      {
        begin = std::min(begin, j);
        end = j + 1;
      }
    }
    if (begin >= end)
    {
      // The slice is thinner than one square pixel: keep the row or column through its centre.
      const double centre = (offset[axis] + 0.5 * extent[axis]) / squareSpacing[axis];
      begin = std::min(static_cast<unsigned int>(std::max(0.0, std::floor(centre))), squareSize - 1);
      end = begin + 1;
    }
    m_ContentBegin[axis] = begin;
    m_ContentEnd[axis] = end;

    nearest[axis]->resize(end - begin);
    for (unsigned int j = begin; j < end; ++j)
    {
      const double u = std::floor(centreOnSlice(j));
      (*nearest[axis])[j - begin] =
        static_cast<unsigned int>(std::min(std::max(u, 0.0), static_cast<double>(size[axis] - 1)));
    }
  }

  m_ToSquareX =
    MakeKernel(m_ContentBegin[0], m_ContentEnd[0], m_SquareSpacingX / spacingX, -m_OffsetX / spacingX, 0, width);
  m_ToSquareY =
    MakeKernel(m_ContentBegin[1], m_ContentEnd[1], m_SquareSpacingY / spacingY, -m_OffsetY / spacingY, 0, height);
  m_FromSquareX =
    MakeKernel(0, width, spacingX / m_SquareSpacingX, m_OffsetX / m_SquareSpacingX, m_ContentBegin[0], m_ContentEnd[0]);
  m_FromSquareY = MakeKernel(
    0, height, spacingY / m_SquareSpacingY, m_OffsetY / m_SquareSpacingY, m_ContentBegin[1], m_ContentEnd[1]);
}

ReContrastSliceResampler::IndexType
ReContrastSliceResampler::GetContentIndex() const
{
  IndexType index;
  index[0] = m_ContentBegin[0];
  index[1] = m_ContentBegin[1];
  return index;
}

ReContrastSliceResampler::SizeType
ReContrastSliceResampler::GetContentSize() const
{
  SizeType size;
  size[0] = m_ContentEnd[0] - m_ContentBegin[0];
  size[1] = m_ContentEnd[1] - m_ContentBegin[1];
  return size;
}

ReContrastSliceResampler::ContinuousIndexType
ReContrastSliceResampler::TransformSliceIndexToSquareIndex(const ContinuousIndexType & sliceIndex) const
{
  ContinuousIndexType squareIndex;
  squareIndex[0] = ((sliceIndex[0] + 0.5) * m_SpacingX + m_OffsetX) / m_SquareSpacingX - 0.5;
  squareIndex[1] = ((sliceIndex[1] + 0.5) * m_SpacingY + m_OffsetY) / m_SquareSpacingY - 0.5;
  return squareIndex;
}

ReContrastSliceResampler::ContinuousIndexType
ReContrastSliceResampler::TransformSquareIndexToSliceIndex(const ContinuousIndexType & squareIndex) const
{
  ContinuousIndexType sliceIndex;
  sliceIndex[0] = ((squareIndex[0] + 0.5) * m_SquareSpacingX - m_OffsetX) / m_SpacingX - 0.5;
  sliceIndex[1] = ((squareIndex[1] + 0.5) * m_SquareSpacingY - m_OffsetY) / m_SpacingY - 0.5;
  return sliceIndex;
}

ReContrastSliceResampler::AxisKernel
ReContrastSliceResampler::MakeKernel(unsigned int outputBegin, unsigned int outputEnd, double scale, double shift,
                                     unsigned int inputBegin, unsigned int inputEnd)
{
  // Output pixel o's centre lies at input coordinate c = (o + 0.5) * scale + shift, in input pixels
  // measured from the input's edge (input pixel k's centre is at k + 0.5). The tent's radius is one
  // input pixel (bilinear) or, when reducing, one output pixel (antialiasing).
  const double radius = std::max(1.0, scale);

  AxisKernel kernel;
  kernel.OutputBegin = outputBegin;
  kernel.OutputEnd = outputEnd;
  kernel.InputBegin = inputBegin;
  kernel.InputEnd = inputEnd;
  std::vector<double> weights;
  for (unsigned int o = outputBegin; o < outputEnd; ++o)
  {
    const double c = (o + 0.5) * scale + shift;
    const double low = std::max(std::ceil(c - radius - 0.5), static_cast<double>(inputBegin));
    const double high = std::min(std::floor(c + radius - 0.5), static_cast<double>(inputEnd) - 1.0);
    unsigned int first = 0;
    weights.clear();
    double sum = 0.0;
    for (double k = low; k <= high; k += 1.0)
    {
      const double weight = 1.0 - std::abs(k + 0.5 - c) / radius;
      if (weight <= 0.0)
      {
        continue;
      }
      if (weights.empty())
      {
        first = static_cast<unsigned int>(k);
      }
      // Pixels between two positive weights have positive weights too, so the run stays contiguous.
      weights.push_back(weight);
      sum += weight;
    }
    if (weights.empty())
    {
      // Only when the centre lies beyond the kernel's reach of the input (a degenerate content region).
      const double nearest = std::min(std::max(std::floor(c), static_cast<double>(inputBegin)), inputEnd - 1.0);
      first = static_cast<unsigned int>(nearest);
      weights.push_back(1.0);
      sum = 1.0;
    }
    kernel.First.push_back(first);
    kernel.Count.push_back(static_cast<unsigned>(weights.size()));
    kernel.Offset.push_back(kernel.Weights.size());
    for (const double weight : weights)
    {
      kernel.Weights.push_back(static_cast<float>(weight / sum));
    }
  }
  return kernel;
}

void
ReContrastSliceResampler::Resample(const float * input, size_t inputStride, const AxisKernel & kernelX,
                                   const AxisKernel & kernelY, float * output, size_t outputStride)
{
  // Horizontal pass over the input rows that the vertical pass reads, then the vertical pass.
  const size_t columns = kernelX.OutputEnd - kernelX.OutputBegin;
  const size_t rows = kernelY.InputEnd - kernelY.InputBegin;
  std::vector<float> horizontal(rows * columns);
  for (size_t r = 0; r < rows; ++r)
  {
    const float * in = input + (kernelY.InputBegin + r) * inputStride;
    float * out = horizontal.data() + r * columns;
    for (size_t q = 0; q < columns; ++q)
    {
      const float * w = kernelX.Weights.data() + kernelX.Offset[q];
      const float * source = in + kernelX.First[q];
      double sum = 0.0;
      for (unsigned k = 0; k < kernelX.Count[q]; ++k)
      {
        sum += static_cast<double>(w[k]) * source[k];
      }
      out[q] = static_cast<float>(sum);
    }
  }

  std::vector<double> sums(columns);
  for (size_t q = 0; q < kernelY.OutputEnd - kernelY.OutputBegin; ++q)
  {
    std::fill(sums.begin(), sums.end(), 0.0);
    const float * w = kernelY.Weights.data() + kernelY.Offset[q];
    for (unsigned k = 0; k < kernelY.Count[q]; ++k)
    {
      const float * row = horizontal.data() + (kernelY.First[q] + k - kernelY.InputBegin) * columns;
      const double weight = w[k];
      for (size_t x = 0; x < columns; ++x)
      {
        sums[x] += weight * row[x];
      }
    }
    float * out = output + (kernelY.OutputBegin + q) * outputStride + kernelX.OutputBegin;
    for (size_t x = 0; x < columns; ++x)
    {
      out[x] = static_cast<float>(sums[x]);
    }
  }
}

void
ReContrastSliceResampler::ToSquare(const float * slice, float * square, float padValue) const
{
  const size_t squareSize = m_SquareSize;
  std::fill(square, square + squareSize * squareSize, padValue);
  Resample(slice, m_Width, m_ToSquareX, m_ToSquareY, square, squareSize);
}

void
ReContrastSliceResampler::MaskToSquare(const unsigned char * mask, unsigned char * square) const
{
  const size_t squareSize = m_SquareSize;
  std::fill(square, square + squareSize * squareSize, static_cast<unsigned char>(0));
  for (unsigned int y = m_ContentBegin[1]; y < m_ContentEnd[1]; ++y)
  {
    const unsigned char * in = mask + static_cast<size_t>(m_NearestY[y - m_ContentBegin[1]]) * m_Width;
    unsigned char * out = square + y * squareSize;
    for (unsigned int x = m_ContentBegin[0]; x < m_ContentEnd[0]; ++x)
    {
      out[x] = in[m_NearestX[x - m_ContentBegin[0]]];
    }
  }
}

void
ReContrastSliceResampler::FromSquare(const float * square, float * slice) const
{
  Resample(square, m_SquareSize, m_FromSquareX, m_FromSquareY, slice, m_Width);
}

} // end namespace itk
