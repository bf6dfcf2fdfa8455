/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *=========================================================================*/
#ifndef itkReContrastAnomalyRegionsImageFilter_hxx
#define itkReContrastAnomalyRegionsImageFilter_hxx

#include "itkReContrastAnomalyRegionsImageFilter.h"

#include "itkBinaryThresholdImageFilter.h"
#include "itkConnectedComponentImageFilter.h"
#include "itkContinuousIndex.h"
#include "itkImageRegionConstIterator.h"
#include "itkImageRegionConstIteratorWithIndex.h"
#include "itkImageRegionIterator.h"
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

template <typename TInputImage, typename TLabelImage>
void
ReContrastAnomalyRegionsImageFilter<TInputImage, TLabelImage>::GenerateData()
{
  using MaskImageType = Image<unsigned char, ImageDimension>;
  // Raw components before the size filter can be far more numerous than the final labels
  // (a noisy map has many specks), so they get a wider type than the output.
  using ComponentImageType = Image<unsigned int, ImageDimension>;
  using ComponentPixelType = typename ComponentImageType::PixelType;
  using IndexType = typename InputImageType::IndexType;
  using ThresholdFilterType = BinaryThresholdImageFilter<InputImageType, MaskImageType>;
  using ComponentFilterType = ConnectedComponentImageFilter<MaskImageType, ComponentImageType>;

  m_Regions.clear();
  this->AllocateOutputs();

  LabelImageType * output = this->GetOutput();
  const auto region = output->GetRequestedRegion();

  // A grafted copy keeps the mini-pipeline from updating or modifying the caller's pipeline.
  auto input = InputImageType::New();
  input->Graft(this->GetInput());

  auto progress = ProgressAccumulator::New();
  progress->SetMiniPipelineFilter(this);

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

  auto thresholder = ThresholdFilterType::New();
  thresholder->SetInput(input);
  thresholder->SetLowerThreshold(lower);
  thresholder->SetUpperThreshold(std::numeric_limits<InputPixelType>::infinity());
  thresholder->SetInsideValue(1);
  thresholder->SetOutsideValue(0);
  // One work unit: ITK 5.2's threaded BinaryThresholdImageFilter reports progress twice (per pixel
  // and per chunk), which makes it jump backwards; thresholding is memory-bound and cheap anyway.
  thresholder->SetNumberOfWorkUnits(1);
  thresholder->ReleaseDataFlagOn(); // the mask is not needed once it is labelled
  progress->RegisterInternalFilter(thresholder, 0.1f);

  auto components = ComponentFilterType::New();
  components->SetInput(thresholder->GetOutput());
  components->SetFullyConnected(m_FullyConnected);
  components->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  progress->RegisterInternalFilter(components, 0.5f);
  components->Update();

  const ComponentImageType * componentImage = components->GetOutput();
  const SizeValueType componentCount = components->GetObjectCount();
  const SizeValueType pixelCount = region.GetNumberOfPixels();

  // One pass over the map gathers every component's statistics. ITK's StatisticsLabelMapFilter
  // would give the same counts, sums, maxima and boxes, but its peak is the last voxel of tied
  // maxima (this filter promises the first in raster order) and it also builds a histogram and
  // moments per component, of which a noisy map has thousands before the size filter.
  struct ComponentStatistics
  {
    SizeValueType Count{ 0 };
    double Sum{ 0.0 };
    double Maximum{ -std::numeric_limits<double>::infinity() };
    IndexType Peak{};
    std::array<double, ImageDimension> IndexSum{};
    IndexType Lower{};
    IndexType Upper{};
  };
  std::vector<ComponentStatistics> statistics(static_cast<std::size_t>(componentCount) + 1);
  {
    ProgressReporter reporter(this, 0, pixelCount, 100, 0.6f, 0.2f);
    ImageRegionConstIteratorWithIndex<ComponentImageType> componentIt(componentImage, region);
    ImageRegionConstIterator<InputImageType> mapIt(input, region);
    for (; !componentIt.IsAtEnd(); ++componentIt, ++mapIt)
    {
      const ComponentPixelType component = componentIt.Get();
      if (component != 0)
      {
        ComponentStatistics & s = statistics[component];
        const IndexType index = componentIt.GetIndex();
        const double value = static_cast<double>(mapIt.Get());
        if (s.Count == 0)
        {
          s.Lower = index;
          s.Upper = index;
        }
        ++s.Count;
        s.Sum += value;
        // Strict comparison: ties keep the first voxel in raster order, which is deterministic.
        if (value > s.Maximum)
        {
          s.Maximum = value;
          s.Peak = index;
        }
        for (unsigned int d = 0; d < ImageDimension; ++d)
        {
          s.IndexSum[d] += static_cast<double>(index[d]);
          s.Lower[d] = std::min(s.Lower[d], index[d]);
          s.Upper[d] = std::max(s.Upper[d], index[d]);
        }
      }
      reporter.CompletedPixel();
    }
  }

  const SizeValueType minimumSize = std::max<SizeValueType>(m_MinimumRegionSize, 1);
  std::vector<std::size_t> kept;
  for (std::size_t component = 1; component < statistics.size(); ++component)
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
    return a < b;
  });

  const auto maximumLabel = static_cast<SizeValueType>(std::numeric_limits<LabelPixelType>::max());
  if (kept.size() > maximumLabel)
  {
    itkExceptionMacro("The anomaly map has " << kept.size() << " regions above the threshold " << m_Threshold
                                             << ", more than the " << maximumLabel
                                             << " labels the label pixel type can hold; raise the threshold or "
                                                "the minimum region size, or use a wider label pixel type.");
  }

  std::vector<LabelPixelType> labelOfComponent(statistics.size(), 0);
  double voxelVolume = 1.0;
  for (unsigned int d = 0; d < ImageDimension; ++d)
  {
    voxelVolume *= output->GetSpacing()[d];
  }
  m_Regions.reserve(kept.size());
  for (std::size_t rank = 0; rank < kept.size(); ++rank)
  {
    const ComponentStatistics & s = statistics[kept[rank]];
    labelOfComponent[kept[rank]] = static_cast<LabelPixelType>(rank + 1);

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

  ProgressReporter reporter(this, 0, pixelCount, 100, 0.8f, 0.2f);
  ImageRegionConstIterator<ComponentImageType> componentIt(componentImage, region);
  ImageRegionIterator<LabelImageType> labelIt(output, region);
  for (; !labelIt.IsAtEnd(); ++componentIt, ++labelIt)
  {
    labelIt.Set(labelOfComponent[componentIt.Get()]);
    reporter.CompletedPixel();
  }
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
