/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The anomalous regions of a scan as its report says them: the one place they become JSON.
 *
 *=========================================================================*/
#include "RegionReport.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>

namespace recontrast::cli
{

namespace
{
template <unsigned int VDimension>
nlohmann::json
ToJson(const std::vector<itk::ReContrastAnomalyRegion<VDimension>> & regions)
{
  nlohmann::json rows = nlohmann::json::array();
  for (const auto & region : regions)
  {
    nlohmann::json centroid = nlohmann::json::array();
    nlohmann::json peak = nlohmann::json::array();
    nlohmann::json start = nlohmann::json::array();
    nlohmann::json size = nlohmann::json::array();
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      centroid.push_back(region.Centroid[d]);
      peak.push_back(region.PeakPoint[d]);
      start.push_back(region.BoundingBox.GetIndex()[d]);
      size.push_back(region.BoundingBox.GetSize()[d]);
    }
    rows.push_back({ { "label", region.Label },
                     { "voxels", region.VoxelCount },
                     { VDimension == 2 ? "area_mm2" : "volume_mm3", region.PhysicalVolume },
                     { "max_score", region.MaximumScore },
                     { "mean_score", region.MeanScore },
                     { "centroid", centroid },
                     { "peak", peak },
                     { "bbox", { { "start", start }, { "size", size } } } });
  }
  return rows;
}
} // namespace

nlohmann::json
RegionsJson(const std::vector<itk::ReContrastAnomalyRegion<2>> & regions)
{
  return ToJson(regions);
}

nlohmann::json
RegionsJson(const std::vector<itk::ReContrastAnomalyRegion<3>> & regions)
{
  return ToJson(regions);
}

std::vector<std::pair<std::string, std::string>>
RegionReturnParameters(const nlohmann::json & regions)
{
  double largest = 0.0;
  for (const auto & region : regions)
  {
    const auto & size = region.contains("volume_mm3") ? region["volume_mm3"] : region["area_mm2"];
    largest = std::max(largest, size.is_number() ? size.get<double>() : 0.0);
  }
  return { { "regionCount", std::to_string(regions.size()) },
           { "largestRegionVolume", fmt::format("{:.6g}", largest) } };
}

} // namespace recontrast::cli
