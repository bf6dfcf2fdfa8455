// The Slicer CLI module ReContrastAnomalousRegions: the regions of an existing anomaly map above a
// threshold (the region filter of a detection run, without the model), so that the Slicer module
// can follow its threshold slider without scoring the scan again.
#include "Inference.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrastAnomalousRegionsXML.h"
#include "SlicerCliModule.h"

#include <spdlog/fmt/fmt.h>

#include <cstdio>

namespace
{

struct Arguments
{
  std::string anomalyMap;
  std::string regionLabels;
  std::string report;
  double threshold = 0.5;
};

std::vector<std::pair<std::string, std::string>>
Run(const Arguments & a)
{
  if (a.anomalyMap.empty() || a.regionLabels.empty())
  {
    throw recontrast::Error("An anomaly map and a label map to write are required (run with --help).");
  }
  recontrast::cli::RequireFolderOf(a.regionLabels, "output");
  if (!a.report.empty())
  {
    recontrast::cli::RequireFolderOf(a.report, "report");
  }
  const nlohmann::json regions = recontrast::cli::RegionsOfMap(a.anomalyMap, a.threshold, a.regionLabels);
  if (!a.report.empty())
  {
    recontrast::AtomicFile file(a.report);
    file.Stream() << nlohmann::json{ { "threshold", a.threshold }, { "regions", regions } }.dump(2) << '\n';
    file.Commit();
  }
  std::printf("%zu anomalous regions above %g\n", regions.size(), a.threshold);
  return recontrast::cli::RegionReturnParameters(regions);
}
} // namespace

int
main(int argc, char ** argv)
{
  Arguments a;
  recontrast::cli::SlicerCliModule module;
  module.name = "ReContrastAnomalousRegions";
  module.description = "ReContrast Anomalous Regions (Slicer CLI module): the regions of an anomaly map.";
  module.xml = recontrast::cli::ModuleDescriptionXML;
  module.addOptions = [&](CLI::App & app) {
    app.add_option("anomalyMap", a.anomalyMap, "Anomaly map")->check(CLI::ExistingFile);
    app.add_option("regionLabels", a.regionLabels, "Label map to write");
    app.add_option("--threshold", a.threshold, "Threshold");
    app.add_option("--report", a.report, "JSON of the regions");
  };
  module.run = [&] { return Run(a); };
  return recontrast::cli::RunSlicerCliModule(module, argc, argv);
}
