/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The anomalous regions of a scan as its report says them: the one place they become JSON.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_RegionReport_h
#define ReContrast_CLI_RegionReport_h

#include "itkReContrastAnomalyRegion.h"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace recontrast::cli
{

/** The "regions" array of a report, one object per region in the table's order, with the keys
 * label, voxels, volume_mm3 (area_mm2 for 2-D maps), max_score, mean_score, centroid and peak
 * (physical LPS points, mm) and bbox {start, size} (index space). Non-finite numbers become null. */
nlohmann::json RegionsJson(const std::vector<itk::ReContrastAnomalyRegion<2>> & regions);
nlohmann::json RegionsJson(const std::vector<itk::ReContrastAnomalyRegion<3>> & regions);

/** The Slicer CLI modules' output scalars of a report's "regions" array: regionCount and
 * largestRegionVolume (mm^3, or mm^2 for 2-D images; 0 when there is no region). */
std::vector<std::pair<std::string, std::string>> RegionReturnParameters(const nlohmann::json & regions);

} // namespace recontrast::cli

#endif
