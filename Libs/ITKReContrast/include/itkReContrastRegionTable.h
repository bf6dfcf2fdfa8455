/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *
 *  Anomaly regions as rows of a table (CSV, JSON) and the volume-level score.
 *
 *=========================================================================*/
#ifndef itkReContrastRegionTable_h
#define itkReContrastRegionTable_h

#include "itkImageRegion.h"
#include "itkIntTypes.h"
#include "itkPoint.h"

#include <string>
#include <vector>

#include "ReContrastITKExport.h"

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

/** \class ReContrastRegionTable
 * \brief Writes anomaly regions as a CSV table or a JSON array, one row / object per region.
 *
 * CSV columns (3-D): label, voxels, volume_mm3, max_score, mean_score, centroid_x/y/z, peak_x/y/z,
 * bbox_start_i/j/k, bbox_size_i/j/k. 2-D tables have no z / k columns and an area_mm2 column
 * instead of volume_mm3. JSON objects hold the same values with the keys label, voxels,
 * volume_mm3 (area_mm2 in 2-D), max_score, mean_score, centroid, peak, bbox {start, size}.
 *
 * Real numbers have 9 significant digits (exact for float scores) and always use '.' as the decimal
 * separator, whatever the process locale. Non-finite numbers are written as nan / inf in CSV and as
 * null in JSON, which has no literal for them.
 *
 * \ingroup ITKReContrast
 */
class ReContrastITK_EXPORT ReContrastRegionTable
{
public:
  static std::string ToCSV(const std::vector<ReContrastAnomalyRegion<2>> & regions);
  static std::string ToCSV(const std::vector<ReContrastAnomalyRegion<3>> & regions);

  static std::string ToJSON(const std::vector<ReContrastAnomalyRegion<2>> & regions);
  static std::string ToJSON(const std::vector<ReContrastAnomalyRegion<3>> & regions);
};

/** Reduces per-slice anomaly scores to one score for the volume.
 *
 * reduction: "max" (the most anomalous slice), "mean" (all slices), or "top3-mean" (mean of the
 * three highest slice scores, or of all of them when there are fewer than three).
 * Throws itk::ExceptionObject for an unknown reduction, an empty list or a non-finite score.
 *
 * \ingroup ITKReContrast
 */
ReContrastITK_EXPORT double ReContrastVolumeScore(const std::vector<double> & sliceScores,
                                                  const std::string & reduction = "max");

} // end namespace itk

#endif // itkReContrastRegionTable_h
