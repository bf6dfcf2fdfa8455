/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *=========================================================================*/
#ifndef itkReContrastAnomalyRegionsImageFilter_hxx
#define itkReContrastAnomalyRegionsImageFilter_hxx

#include "itkReContrastAnomalyRegionsImageFilter.h"

#include "itkBinaryImageToLabelMapFilter.h"
#include "itkContinuousIndex.h"
#include "itkLabelMap.h"
#include "itkLabelObject.h"
#include "itkProgressAccumulator.h"
#include "itkProgressReporter.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace itk
{

template <typename TInputImage, typename TLabelImage>
void
ReContrastAnomalyRegionsImageFilter<TInputImage, TLabelImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (std::isnan(m_Threshold))
  {
    itkExceptionMacro("The anomaly threshold must be a number, but it is NaN.");
  }
}

template <typename TInputImage, typename TLabelImage>
void
ReContrastAnomalyRegionsImageFilter<TInputImage, TLabelImage>::GenerateInputRequestedRegion()
{
  Superclass::GenerateInputRequestedRegion();
  if (auto * input = const_cast<InputImageType *>(this->GetInput()))
  {
    input->SetRequestedRegionToLargestPossibleRegion();
  }
}

template <typename TInputImage, typename TLabelImage>
void
ReContrastAnomalyRegionsImageFilter<TInputImage, TLabelImage>::EnlargeOutputRequestedRegion(DataObject * output)
{
  Superclass::EnlargeOutputRequestedRegion(output);
  output->SetRequestedRegionToLargestPossibleRegion();
}

namespace ReContrastRegionsDetail
{
// Whether index a comes before index b in raster order (the first axis varies fastest).
template <typename TIndex>
bool
RasterBefore(const TIndex & a, const TIndex & b)
{
  for (unsigned int d = TIndex::Dimension; d-- > 0;)
  {
    if (a[d] != b[d])
    {
      return a[d] < b[d];
    }
  }
  return false;
}
} // namespace ReContrastRegionsDetail

template <typename TInputImage, typename TLabelImage>
void
ReContrastAnomalyRegionsImageFilter<TInputImage, TLabelImage>::GenerateData()
{
  using ReContrastRegionsDetail::RasterBefore;
  // The components as runs of voxels (ITK's label map), not as an image: their memory follows the
  // regions' extent, not the volume's, which matters next to a whole CT study and its map.
  using LabelObjectType = LabelObject<SizeValueType, ImageDimension>;
  using LabelMapType = LabelMap<LabelObjectType>;
  using IndexType = typename InputImageType::IndexType;
  using ComponentFilterType = BinaryImageToLabelMapFilter<LabelImageType, LabelMapType>;

  m_Regions.clear();
  this->AllocateOutputs();
  LabelImageType * output = this->GetOutput();
  const InputImageType * input = this->GetInput();
  const SizeValueType pixelCount = output->GetBufferedRegion().GetNumberOfPixels();

  // The smallest map value that still satisfies value >= threshold, so that converting the
  // double threshold to the pixel type never admits a voxel just below it.
  InputPixelType lower = std::numeric_limits<InputPixelType>::infinity();
  if (m_Threshold <= static_cast<double>(std::numeric_limits<InputPixelType>::max()))
  {
    lower = m_Threshold < static_cast<double>(std::numeric_limits<InputPixelType>::lowest())
              ? -std::numeric_limits<InputPixelType>::infinity()
              : static_cast<InputPixelType>(m_Threshold);
    if (static_cast<double>(lower) < m_Threshold)
    {
      lower = std::nextafter(lower, std::numeric_limits<InputPixelType>::infinity());
    }
  }

  // The output holds the thresholded map (1 above, 0 below) until the regions are known: no mask
  // image of its own. (Memory-bound and quick: its progress is not reported.)
  const InputPixelType * map = input->GetBufferPointer();
  LabelPixelType * labels = output->GetBufferPointer();
  std::transform(map, map + pixelCount, labels, [lower](InputPixelType value) {
    return static_cast<LabelPixelType>(value >= lower ? 1 : 0);
  });

  auto progress = ProgressAccumulator::New();
  progress->SetMiniPipelineFilter(this);
  // A grafted view of the output keeps the mini-pipeline from updating or modifying the caller's.
  auto thresholded = LabelImageType::New();
  thresholded->Graft(output);
  auto components = ComponentFilterType::New();
  components->SetInput(thresholded);
  components->SetInputForegroundValue(1);
  components->SetFullyConnected(m_FullyConnected);
  components->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  progress->RegisterInternalFilter(components, 0.7f);
  components->Update();
  const LabelMapType * labelMap = components->GetOutput();
  const SizeValueType componentCount = labelMap->GetNumberOfLabelObjects();

  // One pass over each component's runs gathers its statistics. ITK's StatisticsLabelMapFilter
  // would give the same counts, sums, maxima and boxes, but its peak is the last voxel of tied
  // maxima (this filter promises the first in raster order) and it also builds a histogram and
  // moments per component, of which a noisy map has thousands before the size filter.
  struct ComponentStatistics
  {
    const LabelObjectType * Object{ nullptr };
    SizeValueType Count{ 0 };
    double Sum{ 0.0 };
    double Maximum{ -std::numeric_limits<double>::infinity() };
    IndexType Peak{};
    IndexType First{}; // the first voxel in raster order
    std::array<double, ImageDimension> IndexSum{};
    IndexType Lower{};
    IndexType Upper{};
  };
  std::vector<ComponentStatistics> statistics(static_cast<std::size_t>(componentCount));
  // Progress (and the abort check) counts runs, not components: one huge region is most of the work.
  SizeValueType runCount = 0;
  for (typename LabelMapType::ConstIterator counted(labelMap); !counted.IsAtEnd(); ++counted)
  {
    runCount += counted.GetLabelObject()->GetNumberOfLines();
  }
  ProgressReporter reporter(this, 0, 2 * runCount + 1, 100, 0.7f, 0.3f);
  // An iterator, not GetNthLabelObject(), which walks the map from its start each time.
  typename LabelMapType::ConstIterator object(labelMap);
  for (SizeValueType n = 0; n < componentCount; ++n, ++object)
  {
    ComponentStatistics & s = statistics[n];
    s.Object = object.GetLabelObject();
    for (SizeValueType l = 0; l < s.Object->GetNumberOfLines(); ++l)
    {
      const auto & line = s.Object->GetLine(l);
      const IndexType start = line.GetIndex();
      const SizeValueType length = line.GetLength();
      const InputPixelType * values = map + input->ComputeOffset(start);
      if (s.Count == 0)
      {
        s.Lower = start;
        s.Upper = start;
        s.First = start;
      }
      else if (RasterBefore(start, s.First))
      {
        s.First = start;
      }
      IndexType index = start;
      for (SizeValueType i = 0; i < length; ++i)
      {
        index[0] = start[0] + static_cast<IndexValueType>(i);
        const double value = static_cast<double>(values[i]);
        s.Sum += value;
        // Ties keep the first voxel in raster order, which is deterministic.
        if (value > s.Maximum || (value == s.Maximum && RasterBefore(index, s.Peak)))
        {
          s.Maximum = value;
          s.Peak = index;
        }
      }
      s.Count += length;
      // The run's voxels differ only along the first axis: their index sums and box in one step.
      s.IndexSum[0] += static_cast<double>(length) * (static_cast<double>(start[0]) + 0.5 * (length - 1.0));
      for (unsigned int d = 1; d < ImageDimension; ++d)
      {
        s.IndexSum[d] += static_cast<double>(length) * static_cast<double>(start[d]);
      }
      for (unsigned int d = 0; d < ImageDimension; ++d)
      {
        s.Lower[d] = std::min(s.Lower[d], start[d]);
        s.Upper[d] = std::max(s.Upper[d], d == 0 ? start[0] + static_cast<IndexValueType>(length) - 1 : start[d]);
      }
      reporter.CompletedPixel();
    }
  }

  const SizeValueType minimumSize = std::max<SizeValueType>(m_MinimumRegionSize, 1);
  std::vector<std::size_t> kept;
  for (std::size_t component = 0; component < statistics.size(); ++component)
  {
    if (statistics[component].Count >= minimumSize)
    {
      kept.push_back(component);
    }
  }
  std::sort(kept.begin(), kept.end(), [&statistics](std::size_t a, std::size_t b) {
    const ComponentStatistics & sa = statistics[a];
    const ComponentStatistics & sb = statistics[b];
    if (sa.Maximum != sb.Maximum)
    {
      return sa.Maximum > sb.Maximum;
    }
    if (sa.Count != sb.Count)
    {
      return sa.Count > sb.Count;
    }
    return RasterBefore(sa.First, sb.First);
  });

  const auto maximumLabel = static_cast<SizeValueType>(std::numeric_limits<LabelPixelType>::max());
  if (kept.size() > maximumLabel)
  {
    itkExceptionMacro("The anomaly map has " << kept.size() << " regions above the threshold " << m_Threshold
                                             << ", more than the " << maximumLabel
                                             << " labels the label pixel type can hold; raise the threshold or "
                                                "the minimum region size, or use a wider label pixel type.");
  }

  double voxelVolume = 1.0;
  for (unsigned int d = 0; d < ImageDimension; ++d)
  {
    voxelVolume *= output->GetSpacing()[d];
  }
  std::fill(labels, labels + pixelCount, LabelPixelType{ 0 });
  m_Regions.reserve(kept.size());
  for (std::size_t rank = 0; rank < kept.size(); ++rank)
  {
    const ComponentStatistics & s = statistics[kept[rank]];
    const auto label = static_cast<LabelPixelType>(rank + 1);
    for (SizeValueType l = 0; l < s.Object->GetNumberOfLines(); ++l)
    {
      const auto & line = s.Object->GetLine(l);
      LabelPixelType * run = labels + output->ComputeOffset(line.GetIndex());
      std::fill(run, run + line.GetLength(), label);
      reporter.CompletedPixel();
    }

    AnomalyRegionType anomalyRegion;
    anomalyRegion.Label = static_cast<SizeValueType>(rank + 1);
    anomalyRegion.VoxelCount = s.Count;
    anomalyRegion.PhysicalVolume = static_cast<double>(s.Count) * voxelVolume;
    anomalyRegion.MaximumScore = s.Maximum;
    anomalyRegion.MeanScore = s.Sum / static_cast<double>(s.Count);
    // Index to physical space is affine, so the mean index maps to the mean physical point.
    ContinuousIndex<double, ImageDimension> meanIndex;
    typename AnomalyRegionType::BoundingBoxType::SizeType boxSize;
    for (unsigned int d = 0; d < ImageDimension; ++d)
    {
      meanIndex[d] = s.IndexSum[d] / static_cast<double>(s.Count);
      boxSize[d] = static_cast<SizeValueType>(s.Upper[d] - s.Lower[d] + 1);
    }
    output->TransformContinuousIndexToPhysicalPoint(meanIndex, anomalyRegion.Centroid);
    output->TransformIndexToPhysicalPoint(s.Peak, anomalyRegion.PeakPoint);
    anomalyRegion.BoundingBox = typename AnomalyRegionType::BoundingBoxType(s.Lower, boxSize);
    m_Regions.push_back(anomalyRegion);
  }
  reporter.CompletedPixel();
}

template <typename TInputImage, typename TLabelImage>
void
ReContrastAnomalyRegionsImageFilter<TInputImage, TLabelImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Threshold: " << m_Threshold << std::endl;
  os << indent << "MinimumRegionSize: " << m_MinimumRegionSize << std::endl;
  os << indent << "FullyConnected: " << (m_FullyConnected ? "On" : "Off") << std::endl;
  os << indent << "Regions: " << m_Regions.size() << std::endl;
}

} // end namespace itk

#endif // itkReContrastAnomalyRegionsImageFilter_hxx
