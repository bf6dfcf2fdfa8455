// recontrast-render-views: the picture a viewer such as 3D Slicer shows after an anomaly-detection
// run, rendered without a display by the project's overlay renderer: the axial, coronal and sagittal
// planes through one point (by default the map's peak), with the heat drawn above a threshold at
// a chosen opacity, in the radiological convention (the patient's right on the picture's left,
// anterior / superior at the top). Optionally also the per-slice score plot of the run's report.
// Used to make the pictures of the user guides from real scans (Utilities/render-guide-pictures.sh).
#include "ReContrast/CurvePlot.h"
#include "ReContrast/Error.h"
#include "ReContrast/HeatDisplay.h"
#include "ReContrast/OverlayRenderer.h"
#include "ReContrast/ResultTables.h"
#include "itkImage.h"
#include "itkImageFileReader.h"

#include <CLI/CLI.hpp>

#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace
{
using Volume = itk::Image<float, 3>;

Volume::Pointer
Read(const std::string & path)
{
  auto reader = itk::ImageFileReader<Volume>::New();
  reader->SetFileName(path);
  try
  {
    reader->Update();
  }
  catch (const itk::ExceptionObject & e)
  {
    throw recontrast::Error("Cannot read '" + path + "': " + e.GetDescription());
  }
  return reader->GetOutput();
}

// For each patient axis (LPS x, y, z) the index axis that runs closest to it, and whether the
// index grows along (+1) or against (-1) it.
struct AxisMap
{
  std::array<unsigned int, 3> indexAxis{};
  std::array<int, 3> sign{};
};

AxisMap
PatientAxes(const Volume * volume)
{
  const auto & direction = volume->GetDirection();
  AxisMap axes;
  std::array<bool, 3> used{};
  for (unsigned int patient = 0; patient < 3; ++patient)
  {
    double best = -1.0;
    for (unsigned int index = 0; index < 3; ++index)
    {
      if (!used[index] && std::abs(direction[patient][index]) > best)
      {
        best = std::abs(direction[patient][index]);
        axes.indexAxis[patient] = index;
        axes.sign[patient] = direction[patient][index] >= 0.0 ? 1 : -1;
      }
    }
    used[axes.indexAxis[patient]] = true;
  }
  return axes;
}

// One plane through `point` whose columns run along patient axis `columnAxis` and rows along
// `rowAxis`, each towards + (LPS) when its `toPlus` is true.
void
ExtractPlane(const Volume * scan, const Volume * map, const AxisMap & axes, const Volume::IndexType & point,
             unsigned int columnAxis, bool columnsToPlus, unsigned int rowAxis, bool rowsToPlus,
             std::vector<float> & scanPlane, std::vector<float> & mapPlane, recontrast::visualization::SliceView & view)
{
  const auto size = scan->GetLargestPossibleRegion().GetSize();
  const unsigned int u = axes.indexAxis[columnAxis];
  const unsigned int v = axes.indexAxis[rowAxis];
  const bool flipU = (axes.sign[columnAxis] > 0) != columnsToPlus;
  const bool flipV = (axes.sign[rowAxis] > 0) != rowsToPlus;
  view.width = static_cast<int>(size[u]);
  view.height = static_cast<int>(size[v]);
  view.spacingX = scan->GetSpacing()[u];
  view.spacingY = scan->GetSpacing()[v];
  scanPlane.resize(static_cast<size_t>(view.width) * view.height);
  mapPlane.resize(scanPlane.size());
  Volume::IndexType index = point;
  for (int y = 0; y < view.height; ++y)
  {
    for (int x = 0; x < view.width; ++x)
    {
      index[u] = flipU ? view.width - 1 - x : x;
      index[v] = flipV ? view.height - 1 - y : y;
      scanPlane[static_cast<size_t>(y) * view.width + x] = scan->GetPixel(index);
      mapPlane[static_cast<size_t>(y) * view.width + x] = map->GetPixel(index);
    }
  }
  view.scan = scanPlane.data();
  view.map = mapPlane.data();
}

std::string
ReadText(const std::string & path)
{
  std::ifstream file(path);
  if (!file)
  {
    throw recontrast::Error("Cannot read the report '" + path + "'.");
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}
} // namespace

int
main(int argc, char ** argv)
{
  CLI::App app{ "Renders the axial, coronal and sagittal planes of a scan with its anomaly map as heat, as a "
                "viewer shows them, and optionally the per-slice score plot of a report." };
  app.name("recontrast-render-views");
  std::string scanPath;
  std::string mapPath;
  std::string output;
  std::string reportPath;
  std::string plotPath;
  double threshold = std::nan("");
  double normalLevel = std::nan("");
  double opacity = 0.5;
  std::string colors = "hot";
  std::vector<long> point;
  app.add_option("--scan", scanPath, "The scan")->required()->check(CLI::ExistingFile);
  app.add_option("--map", mapPath, "Its anomaly map (same grid)")->required()->check(CLI::ExistingFile);
  app.add_option("--output", output, "PNG picture of the three planes")->required();
  app.add_option("--threshold", threshold, "Heat is drawn above this value (default: half the map's maximum)");
  app.add_option(
    "--normal-level", normalLevel, "Without --threshold: where the heat starts (a calibrated model's normal score)");
  app.add_option("--opacity", opacity, "Opacity of the heat")->check(CLI::Range(0.0, 1.0));
  app.add_option("--colors", colors, "hot or rainbow")->check(CLI::IsMember({ "hot", "rainbow" }));
  app.add_option("--point", point, "Voxel index i j k the planes pass through (default: the map's peak)")->expected(3);
  app.add_option("--report", reportPath, "The run's JSON report, for the score plot")->check(CLI::ExistingFile);
  app.add_option("--plot", plotPath, "PNG of the score of each slice (needs --report)");
  CLI11_PARSE(app, argc, argv);

  try
  {
    const Volume::Pointer scan = Read(scanPath);
    const Volume::Pointer map = Read(mapPath);
    const auto size = scan->GetLargestPossibleRegion().GetSize();
    if (map->GetLargestPossibleRegion().GetSize() != size)
    {
      throw recontrast::Error("The anomaly map '" + mapPath + "' does not have the scan's grid.");
    }
    const size_t count = map->GetLargestPossibleRegion().GetNumberOfPixels();
    const float * values = map->GetBufferPointer();
    Volume::IndexType at;
    if (point.empty())
    {
      size_t peak = 0;
      for (size_t i = 1; i < count; ++i)
      {
        peak = values[i] > values[peak] ? i : peak;
      }
      at = map->ComputeIndex(static_cast<Volume::OffsetValueType>(peak));
    }
    else
    {
      for (unsigned int d = 0; d < 3; ++d)
      {
        if (point[d] < 0 || point[d] >= static_cast<long>(size[d]))
        {
          throw recontrast::Error("The point lies outside the scan.");
        }
        at[d] = point[d];
      }
    }

    // The heat as the Slicer module shows it (HeatDisplay.h, the module's logic): with a threshold,
    // nothing below it and the colours over what stays visible, at the layer's opacity; without
    // one, the heat from the normal level up, fading in.
    recontrast::visualization::OverlayStyle style;
    style.opacity = opacity;
    style.colorMap = colors;
    if (std::isfinite(threshold))
    {
      const auto range = recontrast::visualization::ChooseThresholdedHeatRange(values, count, threshold);
      style.mapLower = range.lower;
      style.mapUpper = range.upper;
      style.hideBelow = threshold;
      style.opacityRamp = false;
    }
    else
    {
      const auto range = recontrast::visualization::ChooseHeatRange(values, count, normalLevel, threshold);
      style.mapLower = range.lower;
      style.mapUpper = range.upper;
    }

    const AxisMap axes = PatientAxes(scan);
    // LPS: x to the patient's left, y posterior, z superior. Radiological display: columns towards
    // the patient's left (axial, coronal) or posterior (sagittal); rows downwards = posterior
    // (axial) or inferior (coronal, sagittal).
    std::vector<std::vector<float>> scans(3);
    std::vector<std::vector<float>> maps(3);
    std::vector<recontrast::visualization::SliceView> views(3);
    ExtractPlane(scan, map, axes, at, 0, true, 1, true, scans[0], maps[0], views[0]);
    ExtractPlane(scan, map, axes, at, 0, true, 2, false, scans[1], maps[1], views[1]);
    ExtractPlane(scan, map, axes, at, 1, true, 2, false, scans[2], maps[2], views[2]);
    recontrast::visualization::WriteMontagePng(views, { "Axial", "Coronal", "Sagittal" }, style, output, 3);
    std::printf("wrote %s (planes through voxel %ld %ld %ld)\n",
                output.c_str(),
                static_cast<long>(at[0]),
                static_cast<long>(at[1]),
                static_cast<long>(at[2]));

    if (!plotPath.empty())
    {
      if (reportPath.empty())
      {
        throw recontrast::Error("The score plot needs the run's report (--report).");
      }
      const auto series = recontrast::visualization::SliceScoresFromReport(ReadText(reportPath));
      std::vector<double> slices;
      std::vector<double> scores;
      for (size_t k = 0; k < series.scores.size(); ++k)
      {
        if (series.scored[k])
        {
          slices.push_back(static_cast<double>(k));
          scores.push_back(series.scores[k]);
        }
      }
      recontrast::visualization::WriteXYCurvePng(
        slices, scores, "Anomaly score per slice", "slice", "score", plotPath, false, 800, 400);
      std::printf("wrote %s\n", plotPath.c_str());
    }
  }
  catch (const recontrast::Error & e)
  {
    std::fprintf(stderr, "recontrast-render-views: %s\n", e.what());
    return 1;
  }
  return 0;
}
