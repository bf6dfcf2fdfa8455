/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  One anomalous region of a thresholded anomaly map: a row of the region table.
 *
 *=========================================================================*/
#ifndef itkReContrastAnomalyRegion_h
#define itkReContrastAnomalyRegion_h

#include "itkImageRegion.h"
#include "itkIntTypes.h"
#include "itkPoint.h"

namespace itk
{

/** \struct ReContrastAnomalyRegion
 * \brief One connected anomaly region of a thresholded anomaly map: one row of the region table.
 *
 * Points are physical (world) coordinates in mm; BoundingBox is in index space of the map.
 * PhysicalVolume is in mm^3 for volumes and mm^2 for 2-D images. Centroid is the mean position of
 * the region's voxels (not weighted by score); PeakPoint is the voxel with the maximum score.
 *
 * \ingroup ITKReContrast
 */
template <unsigned int VDimension>
struct ReContrastAnomalyRegion
{
  static constexpr unsigned int Dimension = VDimension;
  using PointType = Point<double, VDimension>;
  using BoundingBoxType = ImageRegion<VDimension>;

  /** Label of the region in the label image: 1 is the region with the highest maximum score. */
  SizeValueType Label{ 0 };
  SizeValueType VoxelCount{ 0 };
  double PhysicalVolume{ 0.0 };
  double MaximumScore{ 0.0 };
  double MeanScore{ 0.0 };
  PointType Centroid{};
  PointType PeakPoint{};
  BoundingBoxType BoundingBox{};
};

} // end namespace itk

#endif // itkReContrastAnomalyRegion_h
