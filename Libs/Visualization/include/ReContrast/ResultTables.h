/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The tables a viewer shows next to an anomaly map: regions and slice scores.
 *
 *=========================================================================*/
#ifndef ReContrast_ResultTables_h
#define ReContrast_ResultTables_h

#include <array>
#include <string>
#include <vector>

/** The tables a viewer shows next to an anomaly map: its regions (in RAS, Slicer's patient
 * coordinates) and its per-slice scores, read from the JSON report of `recontrast infer` / the
 * Slicer CLI module (user guide, `--report`). */
namespace recontrast::visualization
{

/** One anomalous region: a row of the region table. */
struct RegionRow
{
  int label = 0; ///< 1 is the region with the highest maximum score.
  double voxels = 0;
  double size = 0;              ///< mm^3 for volumes, mm^2 for 2-D images.
  std::string sizeUnit = "mm3"; ///< "mm3" or "mm2".
  double maximumScore = 0;
  double meanScore = 0;
  std::array<double, 3> centroidRAS{}; ///< Mean position of the region's voxels.
  std::array<double, 3> peakRAS{};     ///< The voxel with the highest score.
};

/** The per-slice scores of a report, for a plot of score against slice. */
struct SliceScoreSeries
{
  int axis = 2;               ///< The volume axis the slices were cut along (IJK).
  std::vector<double> scores; ///< One per slice; 0 for slices that were not scored.
  std::vector<bool> scored;   ///< false: too little foreground, the slice was skipped.
  bool calibrated = false;    ///< The scores are in standard deviations above normal at each slice's position.
};

/** The report's calibrated slice scores when it has them (a calibrated model), else its raw ones.
 * Throws recontrast::Error when the text is not a report with slice scores. */
SliceScoreSeries SliceScoresFromReport(const std::string & reportJson);

/** The RAS position of the centre of slice `k` along `axis` of a volume of `dimensions` voxels
 * whose voxel (i, j, k) lies at ijkToRAS * (i, j, k, 1): where a viewer jumps when the plot's point
 * of that slice is clicked. Throws recontrast::Error for an axis or slice out of range. */
std::array<double, 3> SliceCenterRAS(const std::array<std::array<double, 4>, 4> & ijkToRAS,
                                     const std::array<int, 3> & dimensions, int axis, int k);

} // namespace recontrast::visualization

#endif
