/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *=========================================================================*/
#ifndef itkReContrastAnomalyRegionsImageFilter_h
#define itkReContrastAnomalyRegionsImageFilter_h

#include "itkImage.h"
#include "itkImageToImageFilter.h"
#include "itkReContrastAnomalyRegion.h"

#include <type_traits>
#include <vector>

namespace itk
{

/** \class ReContrastAnomalyRegionsImageFilter
 * \brief Thresholds an anomaly map into connected regions, ordered from the most anomalous.
 *
 * Voxels with a map value >= Threshold are grouped into connected components (face connectivity,
 * or full connectivity with FullyConnectedOn()). Components with fewer than MinimumRegionSize
 * voxels are dropped. The output label image has the input's geometry; 0 is background and the
 * regions are labelled 1..N by decreasing maximum score (ties: larger region first), so label 1 is
 * the most anomalous region.
 *
 * After Update(), GetRegions() describes every label: voxel count, physical volume (mm^3, or mm^2
 * for 2-D maps), maximum and mean score, centroid and peak as physical points (the direction
 * matrix is honoured), and the index-space bounding box.
 *
 * The whole map is processed at once (no streaming): regions span arbitrary parts of the volume.
 * Progress events cover thresholding, labelling and the statistics pass; AbortGenerateDataOn()
 * stops the filter with an itk::ProcessAborted exception.
 *
 * \ingroup ITKReContrast
 */
template <typename TInputImage, typename TLabelImage = Image<unsigned short, TInputImage::ImageDimension>>
class ITK_TEMPLATE_EXPORT ReContrastAnomalyRegionsImageFilter : public ImageToImageFilter<TInputImage, TLabelImage>
{
public:
  ITK_DISALLOW_COPY_AND_MOVE(ReContrastAnomalyRegionsImageFilter);

  using Self = ReContrastAnomalyRegionsImageFilter;
  using Superclass = ImageToImageFilter<TInputImage, TLabelImage>;
  using Pointer = SmartPointer<Self>;
  using ConstPointer = SmartPointer<const Self>;

  static constexpr unsigned int ImageDimension = TInputImage::ImageDimension;

  using InputImageType = TInputImage;
  using InputPixelType = typename InputImageType::PixelType;
  using LabelImageType = TLabelImage;
  using LabelPixelType = typename LabelImageType::PixelType;

  using AnomalyRegionType = ReContrastAnomalyRegion<ImageDimension>;
  using AnomalyRegionListType = std::vector<AnomalyRegionType>;

  static_assert(std::is_floating_point<InputPixelType>::value,
                "ReContrastAnomalyRegionsImageFilter needs a scalar floating-point anomaly map.");
  static_assert(std::is_integral<LabelPixelType>::value && std::is_unsigned<LabelPixelType>::value,
                "ReContrastAnomalyRegionsImageFilter needs an unsigned integer label pixel type.");
  static_assert(static_cast<unsigned int>(LabelImageType::ImageDimension) == ImageDimension,
                "The label image must have the dimension of the anomaly map.");

  // itkNewMacro(Self) spelled out: in ITK 5.2 it ends with its own ';', so the usual
  // `itkNewMacro(Self);` leaves an empty declaration that -Wpedantic reports.
  itkSimpleNewMacro(Self);
  itkCreateAnotherMacro(Self);
  itkCloneMacro(Self);
  itkTypeMacro(ReContrastAnomalyRegionsImageFilter, ImageToImageFilter);

  /** Voxels with a map value >= Threshold belong to regions. Default 0. */
  itkSetMacro(Threshold, double);
  itkGetConstMacro(Threshold, double);

  /** Regions with fewer voxels than this are dropped (set to background). Default 1. */
  itkSetMacro(MinimumRegionSize, SizeValueType);
  itkGetConstMacro(MinimumRegionSize, SizeValueType);

  /** Connect voxels that share a corner or an edge, not only a face. Default off. */
  itkSetMacro(FullyConnected, bool);
  itkGetConstMacro(FullyConnected, bool);
  itkBooleanMacro(FullyConnected);

  /** The regions of the last Update(), ordered by label (element i has label i + 1). */
  const AnomalyRegionListType & GetRegions() const { return m_Regions; }

protected:
  ReContrastAnomalyRegionsImageFilter() = default;
  ~ReContrastAnomalyRegionsImageFilter() override = default;

  void VerifyPreconditions() ITKv5_CONST override;

  /** Connected components need the whole map. */
  void GenerateInputRequestedRegion() override;
  void EnlargeOutputRequestedRegion(DataObject * output) override;

  void GenerateData() override;

  void PrintSelf(std::ostream & os, Indent indent) const override;

private:
  double m_Threshold{ 0.0 };
  SizeValueType m_MinimumRegionSize{ 1 };
  bool m_FullyConnected{ false };
  AnomalyRegionListType m_Regions;
};

} // end namespace itk

#ifndef ITK_MANUAL_INSTANTIATION
#  include "itkReContrastAnomalyRegionsImageFilter.hxx"
#endif

#endif // itkReContrastAnomalyRegionsImageFilter_h
