/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Automatic body / air foreground mask of a scan.
 *
 *=========================================================================*/
#ifndef itkReContrastForegroundMaskImageFilter_hxx
#define itkReContrastForegroundMaskImageFilter_hxx

#include "itkReContrastForegroundMaskImageFilter.h"

#include "itkBinaryFillholeImageFilter.h"
#include "itkBinaryImageToLabelMapFilter.h"
#include "itkImageRegionConstIterator.h"
#include "itkNumericTraits.h"
#include "itkOtsuThresholdImageFilter.h"
#include "itkProgressAccumulator.h"
#include "itkSliceBySliceImageFilter.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace itk
{

template <typename TInputImage, typename TMaskImage>
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::ReContrastForegroundMaskImageFilter()
  : m_ForegroundValue(NumericTraits<MaskPixelType>::OneValue())
  , m_Threshold(NumericTraits<InputPixelType>::ZeroValue())
{}

template <typename TInputImage, typename TMaskImage>
void
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::GenerateInputRequestedRegion()
{
  Superclass::GenerateInputRequestedRegion();
  auto * input = const_cast<InputImageType *>(this->GetInput());
  if (input != nullptr)
  {
    input->SetRequestedRegionToLargestPossibleRegion();
  }
}

template <typename TInputImage, typename TMaskImage>
void
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::EnlargeOutputRequestedRegion(DataObject *)
{
  this->GetOutput()->SetRequestedRegionToLargestPossibleRegion();
}

template <typename TInputImage, typename TMaskImage>
void
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();
  if (m_ForegroundValue == NumericTraits<MaskPixelType>::ZeroValue())
  {
    itkExceptionMacro(<< "The foreground value must not be 0, the background value.");
  }
  if (m_NumberOfHistogramBins < 2)
  {
    itkExceptionMacro(<< "Otsu's threshold needs at least 2 histogram bins, not " << m_NumberOfHistogramBins << ".");
  }
  if (m_SliceAxis >= ImageDimension)
  {
    itkExceptionMacro(<< "The slice axis " << m_SliceAxis << " does not exist in a " << ImageDimension << "-D image.");
  }
}

template <typename TInputImage, typename TMaskImage>
void
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::CheckIntensities() const
{
  const InputImageType * input = this->GetInput();
  const auto region = input->GetRequestedRegion();
  if (region.GetNumberOfPixels() == 0)
  {
    itkExceptionMacro(<< "The image is empty, so it has no foreground.");
  }
  InputPixelType minimum{};
  InputPixelType maximum{};
  bool anyFinite = false;
  SizeValueType nonFinite = 0;
  for (ImageRegionConstIterator<InputImageType> it(input, region); !it.IsAtEnd(); ++it)
  {
    const InputPixelType value = it.Get();
    if constexpr (std::is_floating_point<InputPixelType>::value)
    {
      if (!std::isfinite(value))
      {
        ++nonFinite;
        continue;
      }
    }
    if (!anyFinite)
    {
      minimum = value;
      maximum = value;
      anyFinite = true;
    }
    minimum = std::min(minimum, value);
    maximum = std::max(maximum, value);
  }
  if (nonFinite > 0)
  {
    itkExceptionMacro(<< "The image contains NaN or infinite values (" << nonFinite << " of "
                      << region.GetNumberOfPixels() << " voxels), so no foreground mask can be computed.");
  }
  if (minimum == maximum)
  {
    itkExceptionMacro(<< "The image is constant (every voxel equals "
                      << static_cast<typename NumericTraits<InputPixelType>::PrintType>(minimum)
                      << "), so no foreground can be separated from the background.");
  }
}

template <typename TInputImage, typename TMaskImage>
void
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::ThrowIfAborted() const
{
  if (this->GetAbortGenerateData())
  {
    ProcessAborted aborted(__FILE__, __LINE__);
    aborted.SetDescription("The foreground mask computation was aborted.");
    throw aborted;
  }
}

template <typename TInputImage, typename TMaskImage>
void
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::GenerateData()
{
  this->CheckIntensities();

  using BinaryImageType = Image<unsigned char, ImageDimension>;

  auto progress = ProgressAccumulator::New();
  progress->SetMiniPipelineFilter(this);

  // Otsu's filter gives its inside value to voxels at or below the threshold: those are air.
  using OtsuType = OtsuThresholdImageFilter<InputImageType, BinaryImageType>;
  auto otsu = OtsuType::New();
  otsu->SetInput(this->GetInput());
  otsu->SetInsideValue(0);
  otsu->SetOutsideValue(1);
  otsu->SetNumberOfHistogramBins(m_NumberOfHistogramBins);
  otsu->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  otsu->SetReleaseDataFlag(true);
  progress->RegisterInternalFilter(otsu, 0.25f);
  otsu->Update();
  m_Threshold = otsu->GetThreshold();
  this->ThrowIfAborted();

  // The components as runs of voxels (memory in proportion to the runs, not to the voxels as a
  // label image would take).
  using LabelMapType = LabelMap<LabelObject<SizeValueType, ImageDimension>>;
  using ComponentsType = BinaryImageToLabelMapFilter<BinaryImageType, LabelMapType>;
  auto components = ComponentsType::New();
  components->SetInput(otsu->GetOutput());
  components->SetInputForegroundValue(1);
  components->SetFullyConnected(m_FullyConnected);
  components->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
  components->SetReleaseDataFlag(true);
  progress->RegisterInternalFilter(components, 0.35f);
  components->Update();
  const LabelMapType * labelMap = components->GetOutput();
  if (labelMap->GetNumberOfLabelObjects() == 0)
  {
    itkExceptionMacro(<< "No voxel of the image lies above Otsu's threshold "
                      << static_cast<typename NumericTraits<InputPixelType>::PrintType>(m_Threshold)
                      << ", so no foreground can be separated from the background.");
  }
  this->ThrowIfAborted();

  // The largest component (of equal ones, the first in label order) becomes the mask.
  // (An iterator, not GetNthLabelObject(), which walks the map from its start each time: a noisy
  // scan has many thousands of specks above the threshold.)
  const typename LabelMapType::LabelObjectType * largest = nullptr;
  for (typename LabelMapType::ConstIterator it(labelMap); !it.IsAtEnd(); ++it)
  {
    const auto * object = it.GetLabelObject();
    if (largest == nullptr || object->Size() > largest->Size())
    {
      largest = object;
    }
  }
  auto body = MaskImageType::New();
  body->CopyInformation(this->GetInput());
  body->SetRegions(this->GetInput()->GetLargestPossibleRegion());
  body->Allocate();
  body->FillBuffer(NumericTraits<MaskPixelType>::ZeroValue());
  // A run lies along index axis 0, which is contiguous in the buffer.
  for (SizeValueType line = 0; line < largest->GetNumberOfLines(); ++line)
  {
    const auto & run = largest->GetLine(line);
    std::fill_n(body->GetBufferPointer() + body->ComputeOffset(run.GetIndex()), run.GetLength(), m_ForegroundValue);
  }
  components->GetOutput()->ClearLabels();
  this->ThrowIfAborted();

  // Holes are background regions that do not reach the image border through face neighbours; the
  // face connectivity of the background fills the most (a diagonal gap in the body's outline does not
  // open a hole).
  if constexpr (ImageDimension == 2)
  {
    using FillType = BinaryFillholeImageFilter<MaskImageType>;
    auto fill = FillType::New();
    fill->SetInput(body);
    fill->SetForegroundValue(m_ForegroundValue);
    fill->SetFullyConnected(false);
    fill->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
    progress->RegisterInternalFilter(fill, 0.4f);
    fill->GraftOutput(this->GetOutput());
    fill->Update();
    this->GraftOutput(fill->GetOutput());
  }
  else
  {
    using SliceImageType = Image<MaskPixelType, ImageDimension - 1>;
    using SliceFillType = BinaryFillholeImageFilter<SliceImageType>;
    using SliceBySliceType = SliceBySliceImageFilter<MaskImageType, MaskImageType, SliceFillType>;
    auto sliceFill = SliceFillType::New();
    sliceFill->SetForegroundValue(m_ForegroundValue);
    sliceFill->SetFullyConnected(false);
    auto sliceBySlice = SliceBySliceType::New();
    sliceBySlice->SetFilter(sliceFill);
    sliceBySlice->SetDimension(m_SliceAxis);
    sliceBySlice->SetInput(body);
    sliceBySlice->SetNumberOfWorkUnits(this->GetNumberOfWorkUnits());
    progress->RegisterInternalFilter(sliceBySlice, 0.4f);
    sliceBySlice->GraftOutput(this->GetOutput());
    sliceBySlice->Update();
    this->GraftOutput(sliceBySlice->GetOutput());
  }
}

template <typename TInputImage, typename TMaskImage>
void
ReContrastForegroundMaskImageFilter<TInputImage, TMaskImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent
     << "ForegroundValue: " << static_cast<typename NumericTraits<MaskPixelType>::PrintType>(m_ForegroundValue)
     << std::endl;
  os << indent << "NumberOfHistogramBins: " << m_NumberOfHistogramBins << std::endl;
  os << indent << "FullyConnected: " << (m_FullyConnected ? "On" : "Off") << std::endl;
  os << indent << "SliceAxis: " << m_SliceAxis << std::endl;
  os << indent << "Threshold: " << static_cast<typename NumericTraits<InputPixelType>::PrintType>(m_Threshold)
     << std::endl;
}

} // end namespace itk

#endif // itkReContrastForegroundMaskImageFilter_hxx
