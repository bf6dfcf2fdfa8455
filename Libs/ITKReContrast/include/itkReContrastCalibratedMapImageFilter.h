/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *
 *=========================================================================*/
#ifndef itkReContrastCalibratedMapImageFilter_h
#define itkReContrastCalibratedMapImageFilter_h

#include "itkUnaryFunctorImageFilter.h"

#include <type_traits>

namespace itk
{
namespace Functor
{

/** \class ReContrastCalibration
 * \brief Maps a raw anomaly score m to (m - mean) / standardDeviation.
 * \ingroup ITKReContrast
 */
template <typename TInput, typename TOutput>
class ReContrastCalibration
{
public:
  void SetMean(double mean) { m_Mean = mean; }
  double GetMean() const { return m_Mean; }

  void SetStandardDeviation(double standardDeviation) { m_StandardDeviation = standardDeviation; }
  double GetStandardDeviation() const { return m_StandardDeviation; }

  bool operator==(const ReContrastCalibration & other) const
  {
    return m_Mean == other.m_Mean && m_StandardDeviation == other.m_StandardDeviation;
  }
  bool operator!=(const ReContrastCalibration & other) const { return !(*this == other); }

  inline TOutput operator()(const TInput & value) const
  {
    return static_cast<TOutput>((static_cast<double>(value) - m_Mean) / m_StandardDeviation);
  }

private:
  double m_Mean{ 0.0 };
  double m_StandardDeviation{ 1.0 };
};

} // end namespace Functor

/** \class ReContrastCalibratedMapImageFilter
 * \brief Expresses a raw anomaly map in units of the normal-data score distribution.
 *
 * Each pixel m becomes (m - Mean) / StandardDeviation, where Mean and StandardDeviation describe
 * the scores of held-out normal data (the calibration stored in the model file). A threshold on
 * the calibrated map then means the same for every model: 3 is three standard deviations above
 * normal tissue.
 *
 * StandardDeviation must be a finite number greater than 0 and Mean must be finite; Update()
 * throws an itk::ExceptionObject otherwise. Works for images of any dimension; the output has the
 * input's geometry. The filter does not run in place by default, so the raw map stays valid for
 * other consumers (InPlaceOn() trades that for memory).
 *
 * \ingroup ITKReContrast
 */
template <typename TInputImage, typename TOutputImage = TInputImage>
class ITK_TEMPLATE_EXPORT ReContrastCalibratedMapImageFilter
  : public UnaryFunctorImageFilter<
      TInputImage, TOutputImage,
      Functor::ReContrastCalibration<typename TInputImage::PixelType, typename TOutputImage::PixelType>>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(ReContrastCalibratedMapImageFilter);

  using Self = ReContrastCalibratedMapImageFilter;
  using FunctorType = Functor::ReContrastCalibration<typename TInputImage::PixelType, typename TOutputImage::PixelType>;
  using Superclass = UnaryFunctorImageFilter<TInputImage, TOutputImage, FunctorType>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  using InputImageType = TInputImage;
  using OutputImageType = TOutputImage;

  static_assert(std::is_floating_point<typename TOutputImage::PixelType>::value,
                "ReContrastCalibratedMapImageFilter needs a floating-point output pixel type.");

  // itkNewMacro(Self) spelled out: in ITK 5.2 it ends with its own ';', so the usual
  // `itkNewMacro(Self);` leaves an empty declaration that -Wpedantic reports.
  itkSimpleNewMacro(Self);
  itkCreateAnotherMacro(Self);
  itkCloneMacro(Self);
  itkTypeMacro(ReContrastCalibratedMapImageFilter, UnaryFunctorImageFilter);

  /** Mean of the raw scores on normal data. */
  void SetMean(double mean);
  double GetMean() const { return this->GetFunctor().GetMean(); }

  /** Standard deviation of the raw scores on normal data; must be > 0. */
  void SetStandardDeviation(double standardDeviation);
  double GetStandardDeviation() const { return this->GetFunctor().GetStandardDeviation(); }

protected:
  ReContrastCalibratedMapImageFilter();
  ~ReContrastCalibratedMapImageFilter() override = default;

  /** Rejects a calibration that would divide by zero or produce NaN everywhere. */
  void VerifyPreconditions() ITKv5_CONST override;

  void PrintSelf(std::ostream & os, Indent indent) const override;
};

} // end namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkReContrastCalibratedMapImageFilter.hxx"
#endif

#endif // itkReContrastCalibratedMapImageFilter_h
