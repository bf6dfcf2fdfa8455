/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *
 *=========================================================================*/
#ifndef itkReContrastCalibratedMapImageFilter_hxx
#define itkReContrastCalibratedMapImageFilter_hxx

#include "itkReContrastCalibratedMapImageFilter.h"

#include <cmath>

namespace itk
{

template <typename TInputImage, typename TOutputImage>
ReContrastCalibratedMapImageFilter<TInputImage, TOutputImage>::ReContrastCalibratedMapImageFilter()
{
  // The raw map is usually still needed (regions, display) after calibration.
  this->InPlaceOff();
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastCalibratedMapImageFilter<TInputImage, TOutputImage>::SetMean(double mean)
{
  FunctorType functor = this->GetFunctor();
  functor.SetMean(mean);
  this->SetFunctor(functor); // calls Modified() only when the value changes
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastCalibratedMapImageFilter<TInputImage, TOutputImage>::SetStandardDeviation(double standardDeviation)
{
  FunctorType functor = this->GetFunctor();
  functor.SetStandardDeviation(standardDeviation);
  this->SetFunctor(functor);
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastCalibratedMapImageFilter<TInputImage, TOutputImage>::VerifyPreconditions() ITKv5_CONST
{
  Superclass::VerifyPreconditions();

  const double standardDeviation = this->GetStandardDeviation();
  // Written as !(x > 0) so that NaN is rejected as well.
  if (!(standardDeviation > 0.0) || !std::isfinite(standardDeviation))
  {
    itkExceptionMacro("The calibration standard deviation must be a finite number greater than 0, but it is "
                      << standardDeviation << ".");
  }
  if (!std::isfinite(this->GetMean()))
  {
    itkExceptionMacro("The calibration mean must be a finite number, but it is " << this->GetMean() << ".");
  }
}

template <typename TInputImage, typename TOutputImage>
void
ReContrastCalibratedMapImageFilter<TInputImage, TOutputImage>::PrintSelf(std::ostream & os, Indent indent) const
{
  Superclass::PrintSelf(os, indent);
  os << indent << "Mean: " << this->GetMean() << std::endl;
  os << indent << "StandardDeviation: " << this->GetStandardDeviation() << std::endl;
}

} // end namespace itk

#endif // itkReContrastCalibratedMapImageFilter_hxx
