/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The tables a viewer shows next to an anomaly map: regions and slice scores.
 *
 *=========================================================================*/
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

} // namespace

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
    // Calibrated scores judge each slice against normal slices at its position: the ends of an organ
    // no longer outrank a lesion. Slices not scored are null there.
    if (report.contains("calibrated_slice_scores"))
    {
      const nlohmann::json & calibrated = report.at("calibrated_slice_scores");
      series.scores.assign(calibrated.size(), 0.0);
      for (size_t k = 0; k < calibrated.size(); ++k)
      {
        series.scores[k] = calibrated[k].is_null() ? 0.0 : calibrated[k].get<double>();
      }
      series.calibrated = true;
    }
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
