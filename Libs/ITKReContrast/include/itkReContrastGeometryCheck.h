/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Geometry that places an image in space, or a sentence saying why not.
 *
 *=========================================================================*/
#ifndef itkReContrastGeometryCheck_h
#define itkReContrastGeometryCheck_h

#include "itkMacro.h"
#include "vnl/vnl_det.h"

#include <cmath>
#include <string>

namespace itk
{

/** Refuses an image whose geometry cannot place it in space: a spacing that is not a finite positive
 * number, a non-finite origin, or a direction matrix that is not finite or not invertible. `what`
 * names the image in the sentence ("The scan", "'scan.nii.gz'"). */
template <typename TImage>
void
ReContrastCheckGeometry(const TImage * image, const std::string & what)
{
  constexpr unsigned int Dimension = TImage::ImageDimension;
  for (unsigned int d = 0; d < Dimension; ++d)
  {
    const double spacing = image->GetSpacing()[d];
    if (!std::isfinite(spacing) || spacing <= 0.0)
    {
      itkGenericExceptionMacro(<< what << " has a voxel spacing of " << spacing << " along axis " << d
                               << "; spacings must be positive finite numbers.");
    }
    if (!std::isfinite(image->GetOrigin()[d]))
    {
      itkGenericExceptionMacro(<< what << " has an origin that is not a finite number.");
    }
    for (unsigned int e = 0; e < Dimension; ++e)
    {
      if (!std::isfinite(image->GetDirection()[d][e]))
      {
        itkGenericExceptionMacro(<< what << " has a direction matrix that is not made of finite numbers.");
      }
    }
  }
  const double determinant = vnl_det(image->GetDirection().GetVnlMatrix());
  if (!std::isfinite(determinant) || std::abs(determinant) < 1e-6)
  {
    itkGenericExceptionMacro(<< what << " has a direction matrix that cannot be inverted (its axes are parallel).");
  }
}

} // namespace itk

#endif
