/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *
 *=========================================================================*/
#include "itkReContrastRegionTable.h"

#include "itkMacro.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <locale>
#include <numeric>
#include <sstream>

namespace itk
{
namespace
{

const char * const AxisNames[] = { "x", "y", "z" };
const char * const IndexNames[] = { "i", "j", "k" };

// The classic locale keeps '.' as the decimal separator even when the host application
// (Slicer, Qt) has switched LC_NUMERIC to a locale that writes ','.
std::string
FormatReal(double value, bool json)
{
  if (!std::isfinite(value))
  {
    if (json)
    {
      return "null";
    }
    return std::isnan(value) ? "nan" : (value > 0 ? "inf" : "-inf");
  }
  std::ostringstream stream;
  stream.imbue(std::locale::classic());
  stream.precision(9); // same digits as printf's %.9g
  stream << value;
  return stream.str();
}

const char *
MeasureName(unsigned int dimension)
{
  return dimension == 2 ? "area_mm2" : "volume_mm3";
}

template <unsigned int VDimension>
std::string
RegionsToCSV(const std::vector<ReContrastAnomalyRegion<VDimension>> & regions)
{
  std::string text = "label,voxels,";
  text += MeasureName(VDimension);
  text += ",max_score,mean_score";
  for (const char * prefix : { "centroid_", "peak_" })
  {
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      text += std::string(",") + prefix + AxisNames[d];
    }
  }
  for (const char * prefix : { "bbox_start_", "bbox_size_" })
  {
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      text += std::string(",") + prefix + IndexNames[d];
    }
  }
  text += '\n';

  for (const auto & region : regions)
  {
    text += std::to_string(region.Label) + ',' + std::to_string(region.VoxelCount);
    for (double value : { region.PhysicalVolume, region.MaximumScore, region.MeanScore })
    {
      text += ',' + FormatReal(value, false);
    }
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      text += ',' + FormatReal(region.Centroid[d], false);
    }
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      text += ',' + FormatReal(region.PeakPoint[d], false);
    }
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      text += ',' + std::to_string(region.BoundingBox.GetIndex(d));
    }
    for (unsigned int d = 0; d < VDimension; ++d)
    {
      text += ',' + std::to_string(region.BoundingBox.GetSize(d));
    }
    text += '\n';
  }
  return text;
}

template <unsigned int VDimension>
std::string
JSONRealArray(const Point<double, VDimension> & point)
{
  std::string text = "[";
  for (unsigned int d = 0; d < VDimension; ++d)
  {
    text += (d > 0 ? "," : "") + FormatReal(point[d], true);
  }
  return text + ']';
}

template <typename TArray>
std::string
JSONIntegerArray(const TArray & values, unsigned int dimension)
{
  std::string text = "[";
  for (unsigned int d = 0; d < dimension; ++d)
  {
    text += (d > 0 ? "," : "") + std::to_string(values[d]);
  }
  return text + ']';
}

// Every key is a fixed ASCII literal and every value a number, so nothing needs escaping.
template <unsigned int VDimension>
std::string
RegionsToJSON(const std::vector<ReContrastAnomalyRegion<VDimension>> & regions)
{
  std::string text = "[";
  bool first = true;
  for (const auto & region : regions)
  {
    text += first ? "\n  {" : ",\n  {";
    first = false;
    text += "\"label\":" + std::to_string(region.Label);
    text += ",\"voxels\":" + std::to_string(region.VoxelCount);
    text += std::string(",\"") + MeasureName(VDimension) + "\":" + FormatReal(region.PhysicalVolume, true);
    text += ",\"max_score\":" + FormatReal(region.MaximumScore, true);
    text += ",\"mean_score\":" + FormatReal(region.MeanScore, true);
    text += ",\"centroid\":" + JSONRealArray(region.Centroid);
    text += ",\"peak\":" + JSONRealArray(region.PeakPoint);
    text += ",\"bbox\":{\"start\":" + JSONIntegerArray(region.BoundingBox.GetIndex(), VDimension);
    text += ",\"size\":" + JSONIntegerArray(region.BoundingBox.GetSize(), VDimension) + '}';
    text += '}';
  }
  text += regions.empty() ? "]" : "\n]";
  return text;
}

} // namespace

std::string
ReContrastRegionTable::ToCSV(const std::vector<ReContrastAnomalyRegion<2>> & regions)
{
  return RegionsToCSV<2>(regions);
}

std::string
ReContrastRegionTable::ToCSV(const std::vector<ReContrastAnomalyRegion<3>> & regions)
{
  return RegionsToCSV<3>(regions);
}

std::string
ReContrastRegionTable::ToJSON(const std::vector<ReContrastAnomalyRegion<2>> & regions)
{
  return RegionsToJSON<2>(regions);
}

std::string
ReContrastRegionTable::ToJSON(const std::vector<ReContrastAnomalyRegion<3>> & regions)
{
  return RegionsToJSON<3>(regions);
}

double
ReContrastVolumeScore(const std::vector<double> & sliceScores, const std::string & reduction)
{
  if (reduction != "max" && reduction != "mean" && reduction != "top3-mean")
  {
    itkGenericExceptionMacro("Unknown volume score reduction \""
                             << reduction << "\"; use one of \"max\", \"mean\" or \"top3-mean\".");
  }
  if (sliceScores.empty())
  {
    itkGenericExceptionMacro("Cannot compute a volume score: no slice scores were given.");
  }
  for (std::size_t i = 0; i < sliceScores.size(); ++i)
  {
    if (!std::isfinite(sliceScores[i]))
    {
      itkGenericExceptionMacro("Cannot compute a volume score: slice score " << i << " is not a finite number ("
                                                                             << sliceScores[i] << ").");
    }
  }

  if (reduction == "max")
  {
    return *std::max_element(sliceScores.begin(), sliceScores.end());
  }
  std::vector<double> scores = sliceScores;
  if (reduction == "top3-mean" && scores.size() > 3)
  {
    std::partial_sort(scores.begin(), scores.begin() + 3, scores.end(), std::greater<double>());
    scores.resize(3);
  }
  return std::accumulate(scores.begin(), scores.end(), 0.0) / static_cast<double>(scores.size());
}

} // end namespace itk
