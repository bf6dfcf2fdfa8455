#ifndef itkReContrastAnomalyImageFilter_hxx
#define itkReContrastAnomalyImageFilter_hxx

#include "itkReContrastAnomalyImageFilter.h"

#include "itkImageRegionConstIterator.h"
#include "itkRGBPixel.h"
#include "itkReContrastForegroundMaskImageFilter.h"
#include "itkReContrastScanSlices.h"
#include "ReContrast/Error.h"

#include <algorithm>
#include <cmath>
#include <future>

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

template <typename TDirection>
unsigned int
ReContrastAxialAxis(const TDirection & direction)
{
  // Column k of the direction matrix is the physical direction of index axis k; axial slices are
  // cut along the axis most aligned with the patient's z (head-feet) axis.
  unsigned int best = 0;
  double bestAlignment = -1.0;
  for (unsigned int k = 0; k < TDirection::ColumnDimensions; ++k)
  {
    const double alignment = std::abs(direction[TDirection::RowDimensions - 1][k]);
    if (alignment > bestAlignment + 1e-9)
    {
      best = k;
      bestAlignment = alignment;
    }
  }
  return best;
}

template <typename TInputImage, typename TOutputImage>
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::ReContrastAnomalyImageFilter()
  : m_IntensityPreset(ReContrastDetail::IsRGB<typename TInputImage::PixelType>::value
                        ? ReContrastIntensityPreset::FromString("bytes")
                        : ReContrastIntensityPreset::FromString("mr"))
{
  this->SetNumberOfRequiredInputs(1);
  this->AddOptionalInputName("MaskImage", 1);
  static_assert(ImageDimension == 2 || ImageDimension == 3, "ReContrastAnomalyImageFilter works on 2-D and 3-D images");
  static_assert(!ReContrastDetail::IsRGB<typename TInputImage::PixelType>::value || ImageDimension == 2,
                "RGB input is supported for 2-D images only");
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::SetPredictor(PredictorPointer predictor)
{
  if (m_Predictor != predictor)
  {
    m_Predictor = std::move(predictor);
    this->Modified();
  }
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::SetMaskImage(const MaskImageType * mask)
{
  this->SetInput("MaskImage", const_cast<MaskImageType *>(mask));
}

template <typename TInputImage, typename TOutputImage>
auto
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::GetMaskImage() const -> const MaskImageType *
{
  return itkDynamicCastInDebugMode<const MaskImageType *>(this->ProcessObject::GetInput("MaskImage"));
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::SetIntensityPreset(const ReContrastIntensityPreset & preset)
{
  m_IntensityPreset = preset;
  this->Modified();
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::SetChannelMode(ChannelMode mode)
{
  if (m_ChannelMode != mode)
  {
    m_ChannelMode = mode;
    this->Modified();
  }
}

template <typename TInputImage, typename TOutputImage>
unsigned int
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::GetEffectiveSliceAxis() const
{
  if constexpr (ImageDimension == 2)
  {
    return 2; // A 2-D image is one slice.
  }
  else
  {
    if (m_SliceAxis >= 0)
    {
      return static_cast<unsigned int>(m_SliceAxis);
    }
    const InputImageType * input = this->GetInput();
    return input ? ReContrastAxialAxis(input->GetDirection()) : 2;
  }
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::GenerateInputRequestedRegion()
{
  Superclass::GenerateInputRequestedRegion();
  // Every slice and the whole-scan intensity statistics are needed.
  if (auto * input = const_cast<InputImageType *>(this->GetInput()))
  {
    input->SetRequestedRegionToLargestPossibleRegion();
  }
  if (auto * mask = const_cast<MaskImageType *>(this->GetMaskImage()))
  {
    mask->SetRequestedRegionToLargestPossibleRegion();
  }
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::EnlargeOutputRequestedRegion(DataObject * output)
{
  Superclass::EnlargeOutputRequestedRegion(output);
  output->SetRequestedRegionToLargestPossibleRegion();
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::VerifyInputInformation() ITKv5_CONST
{
  // The superclass checks that the mask occupies the same physical space as the scan.
  Superclass::VerifyInputInformation();
  const InputImageType * input = this->GetInput();
  const MaskImageType * mask = this->GetMaskImage();
  if (mask && mask->GetLargestPossibleRegion() != input->GetLargestPossibleRegion())
  {
    itkExceptionMacro("The foreground mask has another size than the scan.");
  }
  if (m_SliceAxis >= static_cast<int>(ImageDimension) && ImageDimension == 3)
  {
    itkExceptionMacro("The slice axis must be 0, 1 or 2 (or -1 for automatic); got " << m_SliceAxis << '.');
  }
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::GenerateData()
{
  if (!m_Predictor)
  {
    itkExceptionMacro("No model: call SetPredictor() with a loaded recontrast::Predictor before Update().");
  }
  using PixelType = typename InputImageType::PixelType;
  constexpr bool isRGB = ReContrastDetail::IsRGB<PixelType>::value;
  // A model trained on 2.5-D context slices sees other channels than one trained on grey slices:
  // scoring with the other mode gives maps that look plausible and mean nothing.
  const auto & properties = m_Predictor->Description().properties;
  const auto trainedMode = properties.find("channel_mode");
  if (!isRGB && trainedMode != properties.end())
  {
    const char * mode = m_ChannelMode == ChannelMode::Context ? "context" : "replicated";
    if (trainedMode->second != mode)
    {
      itkExceptionMacro("The model was trained with '" << trainedMode->second << "' channels but the filter is set to '"
                                                       << mode << "'; set the channel mode to the model's.");
    }
  }

  const InputImageType * input = this->GetInput();
  OutputImageType * output = this->GetOutput();

  const auto region = input->GetLargestPossibleRegion();
  const auto size = region.GetSize();
  const auto spacing = input->GetSpacing();
  const SizeValueType voxels = region.GetNumberOfPixels();
  if (voxels == 0)
  {
    itkExceptionMacro("The scan is empty.");
  }

  // Intensities as float, channel-interleaved for RGB; the buffer order is the image's (x fastest).
  const unsigned int components = isRGB ? 3 : 1;
  std::vector<float> values(static_cast<size_t>(voxels) * components);
  {
    ImageRegionConstIterator<InputImageType> it(input, region);
    size_t i = 0;
    for (it.GoToBegin(); !it.IsAtEnd(); ++it, ++i)
    {
      if constexpr (isRGB)
      {
        for (unsigned int c = 0; c < 3; ++c)
        {
          values[3 * i + c] = static_cast<float>(it.Get()[c]);
        }
      }
      else
      {
        values[i] = static_cast<float>(it.Get());
      }
    }
  }

  // Foreground: the given mask, an automatic body mask, or everything.
  std::vector<unsigned char> foreground(static_cast<size_t>(voxels), 1);
  if (const MaskImageType * mask = this->GetMaskImage())
  {
    ImageRegionConstIterator<MaskImageType> it(mask, mask->GetLargestPossibleRegion());
    size_t i = 0;
    for (it.GoToBegin(); !it.IsAtEnd(); ++it, ++i)
    {
      foreground[i] = it.Get() != 0;
    }
  }
  else if constexpr (!isRGB)
  {
    if (m_AutomaticMask)
    {
      using MaskFilterType = ReContrastForegroundMaskImageFilter<InputImageType, MaskImageType>;
      auto maskFilter = MaskFilterType::New();
      maskFilter->SetInput(input);
      if constexpr (ImageDimension == 3)
      {
        // Holes are filled slice by slice along the axis the slices are cut.
        maskFilter->SetSliceAxis(GetEffectiveSliceAxis());
      }
      maskFilter->Update();
      ImageRegionConstIterator<MaskImageType> it(maskFilter->GetOutput(), region);
      size_t i = 0;
      for (it.GoToBegin(); !it.IsAtEnd(); ++it, ++i)
      {
        foreground[i] = it.Get() != 0;
      }
    }
  }

  // The shared slice pre/post-processing (the same code prepares training slices).
  std::array<SizeValueType, 3> size3{ { size[0], size[1], 1 } };
  std::array<double, 3> spacing3{ { spacing[0], spacing[1], 1.0 } };
  if constexpr (ImageDimension == 3)
  {
    size3[2] = size[2];
    spacing3[2] = spacing[2];
  }
  ReContrastScanSlices::Settings settings;
  settings.preset = m_IntensityPreset;
  settings.context = m_ChannelMode == ChannelMode::Context;
  settings.minimumForegroundFraction = m_MinimumForegroundFraction;
  const ReContrastScanSlices scan(
    std::move(values), components, size3, spacing3, GetEffectiveSliceAxis(), std::move(foreground), settings);

  const unsigned int modelSize = static_cast<unsigned int>(m_Predictor->ImageSize());
  const size_t plane = static_cast<size_t>(modelSize) * modelSize;
  const size_t batchSize = static_cast<size_t>(std::max(1, m_Predictor->Options().batchSize));
  const std::vector<SizeValueType> & toScore = scan.GetUsableSlices();
  m_SliceScores.assign(scan.GetNumberOfSlices(), 0.0);
  m_ScoredSlices.assign(scan.GetNumberOfSlices(), false);

  std::vector<float> scanMap(static_cast<size_t>(voxels), 0.0f);

  // Three stages overlap, one batch in each (bounded memory): a helper thread prepares the next
  // batch's model inputs, and another writes the previous batch's maps back onto the slice grid,
  // while the model runs on the current batch. The futures block in their destructors, so an abort
  // or an error waits for the helpers before the buffers they use go away.
  const size_t batches = (toScore.size() + batchSize - 1) / batchSize;
  const auto prepare = [&](size_t index) {
    const size_t first = index * batchSize;
    const size_t n = std::min(batchSize, toScore.size() - first);
    std::vector<float> modelInput(n * 3 * plane);
    for (size_t b = 0; b < n; ++b)
    {
      scan.MakeModelInput(toScore[first + b], modelSize, modelInput.data() + b * 3 * plane);
    }
    return modelInput;
  };
  const auto writeBack = [&](size_t index, const std::vector<recontrast::Prediction> & predictions) {
    const size_t first = index * batchSize;
    for (size_t b = 0; b < predictions.size(); ++b)
    {
      const SizeValueType k = toScore[first + b];
      scan.WriteSliceMap(k, predictions[b].map.data(), modelSize, scanMap.data());
      m_SliceScores[k] = predictions[b].score;
      m_ScoredSlices[k] = true;
    }
  };
  std::future<std::vector<float>> nextInput;
  std::future<void> previousWriteBack;
  if (batches > 0)
  {
    nextInput = std::async(std::launch::async, prepare, size_t{ 0 });
  }
  for (size_t index = 0; index < batches; ++index)
  {
    if (this->GetAbortGenerateData())
    {
      ProcessAborted aborted(__FILE__, __LINE__);
      aborted.SetDescription("The anomaly map computation was aborted.");
      throw aborted;
    }
    const std::vector<float> batchInput = nextInput.get();
    if (index + 1 < batches)
    {
      nextInput = std::async(std::launch::async, prepare, index + 1);
    }
    std::vector<recontrast::Prediction> predictions;
    try
    {
      predictions = m_Predictor->Predict(batchInput.data(), batchInput.size() / (3 * plane));
    }
    catch (const recontrast::Error & e)
    {
      itkExceptionMacro("The model failed on the scan: " << e.what());
    }
    if (previousWriteBack.valid())
    {
      previousWriteBack.get();
    }
    previousWriteBack =
      std::async(std::launch::async, [&writeBack, index, p = std::move(predictions)]() { writeBack(index, p); });
    this->UpdateProgress(static_cast<float>(std::min(toScore.size(), (index + 1) * batchSize)) /
                         static_cast<float>(toScore.size()));
  }
  if (previousWriteBack.valid())
  {
    previousWriteBack.get();
  }

  // Only now is the output written: an abort or an error leaves nothing half-filled that looks valid.
  this->AllocateOutputs();
  std::copy(scanMap.begin(), scanMap.end(), output->GetBufferPointer());
  this->UpdateProgress(1.0f);
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Predictor: " << (m_Predictor ? "set" : "(none)") << std::endl;
  if (m_Predictor)
  {
    os << indent << "ModelImageSize: " << m_Predictor->ImageSize() << std::endl;
  }
  os << indent << "SliceAxis: " << m_SliceAxis << std::endl;
  os << indent << "IntensityPreset: " << m_IntensityPreset.ToString() << std::endl;
  os << indent << "ChannelMode: " << (m_ChannelMode == ChannelMode::Context ? "Context" : "Replicated") << std::endl;
  os << indent << "AutomaticMask: " << (m_AutomaticMask ? "On" : "Off") << std::endl;
  os << indent << "MinimumForegroundFraction: " << m_MinimumForegroundFraction << std::endl;
}

} // namespace itk

#endif
