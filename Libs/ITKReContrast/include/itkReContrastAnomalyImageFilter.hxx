/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The anomaly map of a 2-D or 3-D scan with a ReContrast model, as an ITK filter.
 *
 *=========================================================================*/
#ifndef itkReContrastAnomalyImageFilter_hxx
#define itkReContrastAnomalyImageFilter_hxx

#include "itkReContrastAnomalyImageFilter.h"

#include "itkReContrastForegroundMaskImageFilter.h"
#include "itkReContrastImageSlices.h"
#include "ReContrast/Error.h"
#include "itkReContrastGeometryCheck.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <future>
#include <limits>
#include <memory>
#include <vector>

namespace itk
{

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
  : m_IntensityPreset(IsRGBInput ? ReContrastIntensityPreset::FromString("bytes")
                                 : ReContrastIntensityPreset::FromString("mr"))
{
  this->SetNumberOfRequiredInputs(1);
  this->AddOptionalInputName("MaskImage", 1);
  static_assert(ImageDimension == 2 || ImageDimension == 3, "ReContrastAnomalyImageFilter works on 2-D and 3-D images");
  static_assert(!IsRGBInput || ImageDimension == 2, "RGB input is supported for 2-D images only");
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
  // The map gets the scan's geometry: it must place the scan in space (vnl aborts on what does not).
  ReContrastCheckGeometry(input, "The scan");
  const auto size = ReContrastSize3(input);
  const unsigned int axis = ImageDimension == 2 ? 2 : this->GetEffectiveSliceAxis();
  const unsigned int across = axis == 0 ? 1 : 0;
  const unsigned int down = axis == 2 ? 1 : 2;
  if (size[across] < MinimumSliceSide || size[down] < MinimumSliceSide)
  {
    itkExceptionMacro("The scan's slices are " << size[across] << " x " << size[down] << " pixels; at least "
                                               << MinimumSliceSide << " x " << MinimumSliceSide << " are needed.");
  }
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::GenerateData()
{
  this->VerifyModel();
  const typename MaskImageType::ConstPointer foreground = this->ComputeForeground();
  const ReContrastScanSlices::Settings settings = this->FitIntensity(foreground);
  const std::vector<SizeValueType> toScore =
    ReContrastScanSlices::UsableSlices(foreground ? foreground->GetBufferPointer() : nullptr,
                                       ReContrastSize3(this->GetInput()),
                                       this->GetEffectiveSliceAxis(),
                                       m_MinimumForegroundFraction);

  const SizeValueType slices = ReContrastSize3(this->GetInput())[this->GetEffectiveSliceAxis()];
  m_SliceScores.assign(slices, 0.0);
  m_ScoredSlices.assign(slices, false);
  // Positions among the scored slices, as training placed its slices among the usable ones.
  constexpr double none = std::numeric_limits<double>::quiet_NaN();
  m_SlicePositions.assign(slices, none);
  for (const SizeValueType k : toScore)
  {
    m_SlicePositions[k] = ReContrastScanSlices::SlicePosition(toScore, k, slices);
  }
  m_OutputIsCalibrated = m_CalibratedMap && m_Predictor->Description().calibration.valid;
  m_CalibratedSliceScores.assign(m_Predictor->Description().calibration.valid ? slices : 0, none);
  this->AllocateOutputs();
  this->GetOutput()->FillBuffer(0);
  try
  {
    this->ScoreInBatches(toScore, foreground, settings);
    if (m_OutputIsCalibrated)
    {
      // At or below the normal mean is simply normal: 0, as outside the foreground.
      OutputImageType * output = this->GetOutput();
      auto * values = output->GetBufferPointer();
      const SizeValueType count = output->GetBufferedRegion().GetNumberOfPixels();
      std::transform(values, values + count, values, [](auto value) { return std::max(value, decltype(value){ 0 }); });
    }
  }
  catch (...)
  {
    // Nothing half-filled is left that looks valid.
    this->GetOutput()->ReleaseData();
    throw;
  }
  this->UpdateProgress(1.0f);
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::VerifyModel() const
{
  if (!m_Predictor)
  {
    itkExceptionMacro("No model: call SetPredictor() with a loaded recontrast::Predictor before Update().");
  }
  // A model trained on 2.5-D context slices sees other channels than one trained on grey slices:
  // scoring with the other mode gives maps that look plausible and mean nothing.
  const auto & properties = m_Predictor->Description().properties;
  const auto trainedMode = properties.find("channel_mode");
  if (!IsRGBInput && trainedMode != properties.end())
  {
    const char * mode = m_ChannelMode == ChannelMode::Context ? "context" : "replicated";
    if (trainedMode->second != mode)
    {
      itkExceptionMacro("The model was trained with '" << trainedMode->second << "' channels but the filter is set to '"
                                                       << mode << "'; set the channel mode to the model's.");
    }
  }
  if (this->GetInput()->GetLargestPossibleRegion().GetNumberOfPixels() == 0)
  {
    itkExceptionMacro("The scan is empty.");
  }
  // NaN or infinite voxels would spread through the intensity fit into every slice's input.
  if constexpr (!IsRGBInput && std::is_floating_point<typename InputImageType::PixelType>::value)
  {
    const auto * values = this->GetInput()->GetBufferPointer();
    const SizeValueType count = this->GetInput()->GetBufferedRegion().GetNumberOfPixels();
    const SizeValueType nonFinite = static_cast<SizeValueType>(
      std::count_if(values, values + count, [](auto value) { return !std::isfinite(value); }));
    if (nonFinite > 0)
    {
      itkExceptionMacro("The scan has " << nonFinite << " voxels that are not finite numbers (NaN or infinity) of "
                                        << count << "; they cannot be scored.");
    }
  }
}

template <typename TInputImage, typename TOutputImage>
auto
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::ComputeForeground() const ->
  typename MaskImageType::ConstPointer
{
  // The mask input is referenced, not copied: volume-sized memory stays what a whole-image filter
  // cannot avoid (the input, the foreground, the output).
  typename MaskImageType::ConstPointer foreground = this->GetMaskImage();
  if constexpr (!IsRGBInput)
  {
    if (!foreground && m_AutomaticMask)
    {
      auto maskFilter = ReContrastForegroundMaskImageFilter<InputImageType, MaskImageType>::New();
      maskFilter->SetInput(this->GetInput());
      if constexpr (ImageDimension == 3)
      {
        // Holes are filled slice by slice along the axis the slices are cut.
        maskFilter->SetSliceAxis(this->GetEffectiveSliceAxis());
      }
      maskFilter->Update();
      foreground = maskFilter->GetOutput();
    }
  }
  // The buffers are read directly, in the image's own order: they must hold the whole scan.
  if (this->GetInput()->GetBufferedRegion() != this->GetInput()->GetLargestPossibleRegion() ||
      (foreground && foreground->GetBufferedRegion() != foreground->GetLargestPossibleRegion()))
  {
    itkExceptionMacro("The scan or its mask holds only part of its image in memory; the filter needs all of it.");
  }
  return foreground;
}

template <typename TInputImage, typename TOutputImage>
ReContrastScanSlices::Settings
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::FitIntensity(const MaskImageType * foregroundImage) const
{
  // One intensity mapping for the whole scan, fitted here once; every slab of slices shares it.
  ReContrastScanSlices::Settings settings;
  settings.preset = m_IntensityPreset;
  settings.context = m_ChannelMode == ChannelMode::Context;
  settings.minimumForegroundFraction = m_MinimumForegroundFraction;
  settings.fit = m_Fit;

  const InputImageType * input = this->GetInput();
  const SizeValueType voxels = input->GetLargestPossibleRegion().GetNumberOfPixels();
  constexpr unsigned int components = IsRGBInput ? 3 : 1;
  const auto * scan = input->GetBufferPointer();
  const unsigned char * foreground = foregroundImage ? foregroundImage->GetBufferPointer() : nullptr;
  // Pictures are fitted on all their colour values; grey scans on their foreground. The values are
  // handed over in small pieces, never copied whole: a long CT study would double its memory.
  const bool everyVoxel = IsRGBInput || foreground == nullptr;
  // Only the MR preset is fitted to the scan; for the others the pass would only refuse non-finite
  // values, which each slab's ReContrastScanSlices refuses anyway (it fits those presets itself).
  if (!settings.preset.RequiresFit())
  {
    return settings;
  }
  settings.preset.FitStreamed([&](const ReContrastIntensityPreset::ValueChunkFunction & receive) {
    std::array<float, 4096> chunk;
    size_t filled = 0;
    for (SizeValueType i = 0; i < voxels; ++i)
    {
      if (!everyVoxel && foreground[i] == 0)
      {
        continue;
      }
      for (unsigned int c = 0; c < components; ++c)
      {
        if constexpr (IsRGBInput)
        {
          chunk[filled++] = static_cast<float>(scan[i][c]);
        }
        else
        {
          chunk[filled++] = static_cast<float>(scan[i]);
        }
      }
      if (filled + components > chunk.size())
      {
        receive(chunk.data(), filled);
        filled = 0;
      }
    }
    receive(chunk.data(), filled);
  });
  return settings;
}

template <typename TInputImage, typename TOutputImage>
auto
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::PrepareBatch(
  const std::vector<SizeValueType> & toScore, size_t first, size_t count, const MaskImageType * foreground,
  const ReContrastScanSlices::Settings & settings) const -> Batch
{
  // The batch's slices as a small scan of their own: from its first to its last slice, and one
  // more on each side in 2.5-D mode so that the context channels see the true neighbours.
  const unsigned int axis = this->GetEffectiveSliceAxis();
  const SizeValueType slices = ReContrastSize3(this->GetInput())[axis];
  Batch batch;
  batch.first = first;
  batch.slabStart = toScore[first];
  SizeValueType last = toScore[first + count - 1];
  if (settings.context)
  {
    batch.slabStart -= batch.slabStart > 0 ? 1 : 0;
    last = std::min(last + 1, slices - 1);
  }
  batch.slab = ReContrastMakeScanSlices(
    this->GetInput(), foreground ? foreground->GetBufferPointer() : nullptr, axis, batch.slabStart, last, settings);
  const unsigned int modelSize = static_cast<unsigned int>(m_Predictor->ImageSize());
  const size_t plane = static_cast<size_t>(modelSize) * modelSize;
  batch.modelInput.resize(count * 3 * plane);
  for (size_t b = 0; b < count; ++b)
  {
    batch.slab->MakeModelInput(
      toScore[first + b] - batch.slabStart, modelSize, batch.modelInput.data() + b * 3 * plane);
  }
  return batch;
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::WriteBatch(
  const std::vector<SizeValueType> & toScore, const Batch & batch,
  const std::vector<recontrast::Prediction> & predictions)
{
  const unsigned int modelSize = static_cast<unsigned int>(m_Predictor->ImageSize());
  const std::array<SizeValueType, 3> size = ReContrastSize3(this->GetInput());
  float * const scanMap = this->GetOutput()->GetBufferPointer();
  const recontrast::ScoreCalibration & calibration = m_Predictor->Description().calibration;
  std::vector<float> calibratedMap;
  for (size_t b = 0; b < predictions.size(); ++b)
  {
    const SizeValueType k = toScore[batch.first + b];
    const float * map = predictions[b].map.data();
    if (calibration.valid)
    {
      // Per pixel with the model's map profile, else affine per slice (which commutes with the
      // resampling onto the slice grid); the values below normal are set to 0 once the whole map is
      // written (GenerateData). The calibrated score is the calibrated map's largest value.
      calibratedMap.resize(predictions[b].map.size());
      m_CalibratedSliceScores[k] = calibration.CalibrateMap(predictions[b].map.data(),
                                                            static_cast<int>(modelSize),
                                                            predictions[b].score,
                                                            m_SlicePositions[k],
                                                            calibratedMap.data());
      if (m_OutputIsCalibrated)
      {
        map = calibratedMap.data();
      }
    }
    batch.slab->WriteSliceMap(k - batch.slabStart, map, modelSize, scanMap, size, batch.slabStart);
    m_SliceScores[k] = predictions[b].score;
    m_ScoredSlices[k] = true;
  }
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastAnomalyImageFilter<TInputImage, TOutputImage>::ScoreInBatches(const std::vector<SizeValueType> & toScore,
                                                                        const MaskImageType * foreground,
                                                                        const ReContrastScanSlices::Settings & settings)
{
  // Three stages overlap, one batch in each (bounded memory): a helper thread prepares the next
  // batch's model inputs, and another writes the previous batch's maps into the output, while the
  // model runs on the current batch. The futures block in their destructors, so an abort or an
  // error waits for the helpers before the buffers they use go away.
  const size_t batchSize = static_cast<size_t>(std::max(1, m_Predictor->Options().batchSize));
  const size_t batches = (toScore.size() + batchSize - 1) / batchSize;
  const size_t plane = static_cast<size_t>(m_Predictor->ImageSize()) * static_cast<size_t>(m_Predictor->ImageSize());
  const auto prepare = [&](size_t index) {
    const size_t first = index * batchSize;
    return this->PrepareBatch(toScore, first, std::min(batchSize, toScore.size() - first), foreground, settings);
  };
  std::future<Batch> nextBatch;
  std::future<void> previousWriteBack;
  if (batches > 0)
  {
    nextBatch = std::async(std::launch::async, prepare, size_t{ 0 });
  }
  for (size_t index = 0; index < batches; ++index)
  {
    if (this->GetAbortGenerateData())
    {
      ProcessAborted aborted(__FILE__, __LINE__);
      aborted.SetDescription("The anomaly map computation was aborted.");
      throw aborted;
    }
    Batch batch = nextBatch.get();
    if (index + 1 < batches)
    {
      nextBatch = std::async(std::launch::async, prepare, index + 1);
    }
    std::vector<recontrast::Prediction> predictions;
    try
    {
      predictions = m_Predictor->Predict(batch.modelInput.data(), batch.modelInput.size() / (3 * plane));
    }
    catch (const recontrast::Error & e)
    {
      itkExceptionMacro("The model failed on the scan: " << e.what());
    }
    batch.modelInput = std::vector<float>();
    if (previousWriteBack.valid())
    {
      previousWriteBack.get();
    }
    previousWriteBack =
      std::async(std::launch::async, [this, &toScore, b = std::move(batch), p = std::move(predictions)]() {
        this->WriteBatch(toScore, b, p);
      });
    this->UpdateProgress(static_cast<float>(std::min(toScore.size(), (index + 1) * batchSize)) /
                         static_cast<float>(toScore.size()));
  }
  if (previousWriteBack.valid())
  {
    previousWriteBack.get();
  }
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
  os << indent << "Fit: " << (m_Fit == ReContrastSliceResampler::Fit::Stretch ? "stretch" : "preserve aspect")
     << std::endl;
  os << indent << "CalibratedMap: " << (m_CalibratedMap ? "On" : "Off") << std::endl;
}

} // namespace itk

#endif
