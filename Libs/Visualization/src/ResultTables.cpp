#include "ReContrast/ResultTables.h"

#include "ReContrast/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace recontrast::visualization
{

namespace
{
nlohmann::json
Parse(const std::string & reportJson)
{
  try
  {
    nlohmann::json report = nlohmann::json::parse(reportJson);
    if (!report.is_object())
    {
      throw Error("The anomaly report is not a JSON object.");
    }
    return report;
  }
  catch (const nlohmann::json::exception & e)
  {
    throw Error(std::string("The anomaly report is not valid JSON: ") + e.what());
  }
}

// LPS (ITK) to RAS (Slicer).
std::array<double, 3>
ToRAS(const nlohmann::json & point)
{
  if (!point.is_array() || point.size() < 2)
  {
    throw Error("A region of the anomaly report has a malformed position.");
  }
  const double z = point.size() > 2 && point[2].is_number() ? point[2].get<double>() : 0.0;
  return { -point[0].get<double>(), -point[1].get<double>(), z };
}

double
NumberOr(const nlohmann::json & object, const char * key, double fallback)
{
  const auto found = object.find(key);
  return found != object.end() && found->is_number() ? found->get<double>() : fallback;
}
} // namespace

std::vector<RegionRow>
RegionRowsFromReport(const std::string & reportJson)
{
  const nlohmann::json report = Parse(reportJson);
  const auto regions = report.find("regions");
  if (regions == report.end() || !regions->is_array())
  {
    throw Error("The anomaly report has no list of regions.");
  }
  std::vector<RegionRow> rows;
  try
  {
    for (const nlohmann::json & region : *regions)
    {
      RegionRow row;
      row.label = region.at("label").get<int>();
      row.voxels = region.at("voxels").get<double>();
      const bool area = region.contains("area_mm2");
      row.size = region.at(area ? "area_mm2" : "volume_mm3").get<double>();
      row.sizeUnit = area ? "mm2" : "mm3";
      // Non-finite scores are written as null (JSON has no NaN).
      row.maximumScore = NumberOr(region, "max_score", std::nan(""));
      row.meanScore = NumberOr(region, "mean_score", std::nan(""));
      row.centroidRAS = ToRAS(region.at("centroid"));
      row.peakRAS = ToRAS(region.at("peak"));
      rows.push_back(row);
    }
  }
  catch (const nlohmann::json::exception & e)
  {
    throw Error(std::string("A region of the anomaly report is incomplete: ") + e.what());
  }
  return rows;
}

SliceScoreSeries
SliceScoresFromReport(const std::string & reportJson)
{
  const nlohmann::json report = Parse(reportJson);
  SliceScoreSeries series;
  try
  {
    series.axis = report.at("slice_axis").get<int>();
    series.scores = report.at("slice_scores").get<std::vector<double>>();
    series.scored = report.at("scored_slices").get<std::vector<bool>>();
  }
  catch (const nlohmann::json::exception & e)
  {
    throw Error(std::string("The anomaly report has no slice scores: ") + e.what());
  }
  if (series.scores.size() != series.scored.size() || series.axis < 0 || series.axis > 2)
  {
    throw Error("The anomaly report's slice scores are inconsistent.");
  }
  return series;
}

std::array<double, 3>
SliceCenterRAS(const std::array<std::array<double, 4>, 4> & ijkToRAS, const std::array<int, 3> & dimensions, int axis,
               int k)
{
  if (axis < 0 || axis > 2)
  {
    throw Error("The slice axis must be 0, 1 or 2; got " + std::to_string(axis) + ".");
  }
  if (k < 0 || k >= dimensions[static_cast<size_t>(axis)])
  {
    throw Error("Slice " + std::to_string(k) + " is outside the volume (" +
                std::to_string(dimensions[static_cast<size_t>(axis)]) + " slices).");
  }
  std::array<double, 3> ijk{};
  for (size_t a = 0; a < 3; ++a)
  {
    ijk[a] = static_cast<int>(a) == axis ? k : 0.5 * (dimensions[a] - 1);
  }
  std::array<double, 3> ras{};
  for (size_t r = 0; r < 3; ++r)
  {
    ras[r] = ijkToRAS[r][0] * ijk[0] + ijkToRAS[r][1] * ijk[1] + ijkToRAS[r][2] * ijk[2] + ijkToRAS[r][3];
  }
  return ras;
}

} // namespace recontrast::visualization
