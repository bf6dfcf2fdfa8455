/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Automatic body / air foreground mask of a scan.
 *
 *=========================================================================*/
#ifndef itkReContrastForegroundMaskImageFilter_h
#define itkReContrastForegroundMaskImageFilter_h

#include "itkImage.h"
#include "itkImageToImageFilter.h"

#include <type_traits>

namespace itk
{

/** \class ReContrastForegroundMaskImageFilter
 * \brief Automatic foreground (body versus air) mask of a 2-D or 3-D scalar image.
 *
 * Steps, run as a mini-pipeline over the whole image:
 * 1. Otsu's threshold of the whole image's histogram (NumberOfHistogramBins bins); voxels above it
 *    are candidate foreground.
 * 2. The largest connected component of the candidates (FullyConnected selects face or full
 *    connectivity), which removes background noise, table parts and other small bright specks.
 * 3. Holes filled: enclosed background becomes foreground. 2-D images are filled as a whole; 3-D
 *    images slice by slice across SliceAxis, which also fills cavities that are open in 3-D but
 *    closed within a slice (airways, sinuses, bowel gas), as the slice-wise model sees them.
 *
 * The output has the input's geometry and holds ForegroundValue (default 1) inside and 0 outside.
 * The threshold used is available from GetThreshold() after an update.
 *
 * An image whose voxels are all equal, or that holds NaN or infinite values, cannot be separated into
 * body and air: the update then throws ExceptionObject with one sentence saying so. Progress is
 * reported through the mini-pipeline; AbortGenerateData is honoured between its stages (throws
 * ProcessAborted).
 *
 * \ingroup ITKReContrast
 */
template <typename TInputImage, typename TMaskImage = Image<unsigned char, TInputImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT ReContrastForegroundMaskImageFilter : public ImageToImageFilter<TInputImage, TMaskImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(ReContrastForegroundMaskImageFilter);

  using Self = ReContrastForegroundMaskImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TMaskImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;

  using InputImageType = TInputImage;
  using MaskImageType = TMaskImage;
  using InputPixelType = typename InputImageType::PixelType;
  using MaskPixelType = typename MaskImageType::PixelType;
  using OutputImageRegionType = typename MaskImageType::RegionType;

  static_assert(
    std::is_arithmetic<InputPixelType>::value,
    "ReContrastForegroundMaskImageFilter needs a scalar input image (convert colour images to grey first).");
  static_assert(static_cast<unsigned int>(MaskImageType::ImageDimension) == ImageDimension,
                "The mask image must have the input image's dimension.");
  static_assert(ImageDimension == 2 || ImageDimension == 3,
                "ReContrastForegroundMaskImageFilter works on 2-D and 3-D images.");

  // ITK 5.2's itkNewMacro expands to a stray ';' that -Wpedantic reports (later ITK versions fixed it).
#if defined(__GNUC__)
#  pragma GCC diagnostic push
#  pragma GCC diagnostic ignored "-Wpedantic"
#endif
  itkNewMacro(Self);
#if defined(__GNUC__)
#  pragma GCC diagnostic pop
#endif
  itkTypeMacro(ReContrastForegroundMaskImageFilter, ImageToImageFilter);

  /** The value of foreground voxels in the output (1 by default, 255 for viewers); must not be 0. */
  itkSetMacro(ForegroundValue, MaskPixelType);
  itkGetConstMacro(ForegroundValue, MaskPixelType);

  /** Histogram bins of Otsu's threshold (256 by default). */
  itkSetMacro(NumberOfHistogramBins, unsigned int);
  itkGetConstMacro(NumberOfHistogramBins, unsigned int);

  /** Whether diagonal neighbours join foreground components (off by default: faces only). */
  itkSetMacro(FullyConnected, bool);
  itkGetConstMacro(FullyConnected, bool);
  itkBooleanMacro(FullyConnected);

  /** The axis across which 3-D images are hole-filled slice by slice (default: the last axis); ignored in 2-D. */
  itkSetMacro(SliceAxis, unsigned int);
  itkGetConstMacro(SliceAxis, unsigned int);

  /** Otsu's threshold found by the last update. */
  itkGetConstMacro(Threshold, InputPixelType);

protected:
  ReContrastForegroundMaskImageFilter();
  ~ReContrastForegroundMaskImageFilter() override = default;

  void PrintSelf(std::ostream & os, Indent indent) const override;

  /** Otsu's histogram and the components need the whole image. */
  void GenerateInputRequestedRegion() override;

  void EnlargeOutputRequestedRegion(DataObject * output) override;

  void VerifyPreconditions() ITKv5_CONST override;

  void GenerateData() override;

private:
  /** Throws when the image has no spread to threshold (all voxels equal) or holds non-finite values. */
  void CheckIntensities() const;

  void ThrowIfAborted() const;

  MaskPixelType m_ForegroundValue;
  unsigned int m_NumberOfHistogramBins{ 256 };
  bool m_FullyConnected{ false };
  unsigned int m_SliceAxis{ ImageDimension - 1 };
  InputPixelType m_Threshold;
};

} // end namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkReContrastForegroundMaskImageFilter.hxx"
#endif

#endif // itkReContrastForegroundMaskImageFilter_h
