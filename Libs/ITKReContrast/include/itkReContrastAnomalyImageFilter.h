/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The anomaly map of a 2-D or 3-D scan with a ReContrast model, as an ITK filter.
 *
 *=========================================================================*/
#ifndef itkReContrastAnomalyImageFilter_h
#define itkReContrastAnomalyImageFilter_h

#include "itkImageToImageFilter.h"
#include "itkReContrastImageSlices.h"
#include "itkReContrastIntensityPreset.h"
#include "ReContrast/Predictor.h"

#include <memory>
#include <vector>

namespace itk
{

/** \class ReContrastAnomalyImageFilter
 * \brief Anomaly map of a scan with a ReContrast model: same size, origin, spacing and direction.
 *
 * The scan is cut into 2-D slices along the slice axis (by default the index axis closest to the
 * patient's head-feet axis, read from the direction matrix), each slice is normalised with the
 * intensity preset, resampled into the model's square input preserving its physical aspect ratio,
 * scored in batches by the shared predictor, and its map is resampled back onto the slice grid.
 * Slices whose foreground (the optional mask input, or an automatic body mask) covers less than
 * MinimumForegroundFraction get 0; so do voxels outside the foreground.
 *
 * Channel modes: Replicated (the slice in all three channels, the default) or Context (2.5-D:
 * the previous, current and next slices as the three channels). RGB 2-D images use their colours.
 *
 * ProgressEvent fires after each batch; AbortGenerateData is honoured between batches (the filter
 * then throws ProcessAborted and its output holds nothing valid).
 *
 * Inputs: 0 the scan, 1 (optional) a foreground mask with the scan's geometry ("MaskImage").
 *
 * \ingroup ITKReContrast
 */
template <typename TInputImage, typename TOutputImage = Image<float, TInputImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT ReContrastAnomalyImageFilter : public ImageToImageFilter<TInputImage, TOutputImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(ReContrastAnomalyImageFilter);

  using Self = ReContrastAnomalyImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TOutputImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;
  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;
  using MaskImageType = Image<unsigned char, ImageDimension>;
  using PredictorPointer = std::shared_ptr<recontrast::Predictor>;
  /** RGB 2-D pictures are scored in their colours; grey scans in one replicated or three context channels. */
  static constexpr bool IsRGBInput = ReContrastDetail::IsRGB<typename TInputImage::PixelType>::value;
  /** Slices smaller than this along either side are refused: nothing in them can be told apart. */
  static constexpr SizeValueType MinimumSliceSide = 4;

  enum class ChannelMode
  {
    Replicated,
    Context
  };

  itkNewMacro(Self);
  itkTypeMacro(ReContrastAnomalyImageFilter, ImageToImageFilter);

  /** The loaded model; shared so that many filters (and calls) load it once. */
  void SetPredictor(PredictorPointer predictor);
  PredictorPointer GetPredictor() const { return m_Predictor; }

  /** Optional foreground mask (non-zero = foreground), same geometry as the scan. */
  void SetMaskImage(const MaskImageType * mask);
  const MaskImageType * GetMaskImage() const;

  /** Index axis along which slices are cut; -1 (default) picks the axis closest to axial. */
  itkSetMacro(SliceAxis, int);
  itkGetConstMacro(SliceAxis, int);

  /** The axis that is used: SliceAxis, or the automatic choice for this input. */
  unsigned int GetEffectiveSliceAxis() const;

  void SetIntensityPreset(const ReContrastIntensityPreset & preset);
  const ReContrastIntensityPreset & GetIntensityPreset() const { return m_IntensityPreset; }

  void SetChannelMode(ChannelMode mode);
  ChannelMode GetChannelMode() const { return m_ChannelMode; }

  /** Without a mask input, compute an automatic body/air mask (default on for 3-D, off for 2-D). */
  itkSetMacro(AutomaticMask, bool);
  itkGetConstMacro(AutomaticMask, bool);
  itkBooleanMacro(AutomaticMask);

  /** How each slice fills the model's square input: the aspect ratio kept, with padding (default;
   * scans), or stretched (the paper's resize of pictures); the map comes back onto the input's grid
   * either way. Use the model's training setting (recontrast records it as the property "resize"). */
  itkSetEnumMacro(Fit, ReContrastSliceResampler::Fit);
  itkGetEnumMacro(Fit, ReContrastSliceResampler::Fit);

  /** Slices whose foreground covers less than this fraction are not scored (map 0). */
  itkSetClampMacro(MinimumForegroundFraction, double, 0.0, 1.0);
  itkGetConstMacro(MinimumForegroundFraction, double);

  /** With a calibrated model, the output map is in calibrated units (default on): at each voxel, how
   * many standard deviations the raw map lies above the normal slice scores at the slice's position
   * (recontrast::ScoreCalibration: position-aware for models trained on volumes, global otherwise),
   * 0 at or below the normal mean. ScoreCalibration::CalibratedThreshold (3) is then the recommended
   * threshold. Off, or with an uncalibrated model: the raw map of the method. */
  itkSetMacro(CalibratedMap, bool);
  itkGetConstMacro(CalibratedMap, bool);
  itkBooleanMacro(CalibratedMap);

  /** After Update(): whether the output map is in calibrated units. */
  bool GetOutputIsCalibrated() const { return m_OutputIsCalibrated; }

  /** After Update(): one raw score per slice along the slice axis (0 for skipped slices). */
  const std::vector<double> & GetSliceScores() const { return m_SliceScores; }
  /** After Update(): the slice scores in calibrated units (NaN for skipped slices); empty when the
   * model is not calibrated. */
  const std::vector<double> & GetCalibratedSliceScores() const { return m_CalibratedSliceScores; }
  /** After Update(): each slice's position among the scored slices, 0 (first) to 1 (last); NaN for
   * skipped slices and for 2-D images. */
  const std::vector<double> & GetSlicePositions() const { return m_SlicePositions; }
  /** After Update(): which slices were scored. */
  const std::vector<bool> & GetScoredSlices() const { return m_ScoredSlices; }

protected:
  ReContrastAnomalyImageFilter();
  ~ReContrastAnomalyImageFilter() override = default;

  void PrintSelf(std::ostream & os, Indent indent) const override;
  void GenerateInputRequestedRegion() override;
  void EnlargeOutputRequestedRegion(DataObject * output) override;
  void VerifyInputInformation() ITKv5_CONST override;
  void GenerateData() override;

private:
  /** The slices of one batch, as a slab of the scan, and their model inputs. */
  struct Batch
  {
    size_t first{ 0 }; ///< Position of the batch's first slice in the list of slices to score.
    SizeValueType slabStart{ 0 };
    std::unique_ptr<ReContrastScanSlices> slab;
    std::vector<float> modelInput;
  };

  /** The steps of GenerateData. */
  void VerifyModel() const;
  typename MaskImageType::ConstPointer ComputeForeground() const;
  ReContrastScanSlices::Settings FitIntensity(const MaskImageType * foreground) const;
  void ScoreInBatches(const std::vector<SizeValueType> & toScore, const MaskImageType * foreground,
                      const ReContrastScanSlices::Settings & settings);
  Batch PrepareBatch(const std::vector<SizeValueType> & toScore, size_t first, size_t count,
                     const MaskImageType * foreground, const ReContrastScanSlices::Settings & settings) const;
  void WriteBatch(const std::vector<SizeValueType> & toScore, const Batch & batch,
                  const std::vector<recontrast::Prediction> & predictions);

  PredictorPointer m_Predictor;
  int m_SliceAxis{ -1 };
  ReContrastIntensityPreset m_IntensityPreset;
  ChannelMode m_ChannelMode{ ChannelMode::Replicated };
  bool m_AutomaticMask{ ImageDimension == 3 };
  double m_MinimumForegroundFraction{ 0.05 };
  ReContrastSliceResampler::Fit m_Fit{ ReContrastSliceResampler::Fit::PreserveAspect };
  bool m_CalibratedMap{ true };
  bool m_OutputIsCalibrated{ false };
  std::vector<double> m_SliceScores;
  std::vector<double> m_CalibratedSliceScores;
  std::vector<double> m_SlicePositions;
  std::vector<bool> m_ScoredSlices;
};

/** The index axis of a 3-D image whose physical direction is closest to the head-feet (z) axis. */
template <typename TDirection>
unsigned int ReContrastAxialAxis(const TDirection & direction);

} // namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkReContrastAnomalyImageFilter.hxx"
#endif

#endif
