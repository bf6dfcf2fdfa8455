/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The project's Slicer CLI modules' common fields, shared parameters and command-line handling.
 *
 *=========================================================================*/
#include "SlicerCliModule.h"

#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrast/Version.h"
#include "Inference.h"

#include <cstdio>
#include <exception>
#include <stdexcept>

namespace recontrast::cli
{

SlicerCliDescription
ProjectModuleDescription(std::string category, std::string title, std::string description)
{
  SlicerCliDescription d;
  d.category = std::move(category);
  d.title = std::move(title);
  d.description = std::move(description);
  d.version = Version();
  d.license = "Apache 2.0";
  d.contributor = "ReContrast for Slicer and ITK developers";
  d.acknowledgements = "Method: J. Guo et al., \"ReContrast: Domain-Specific Anomaly Detection via Contrastive "
                       "Reconstruction\", NeurIPS 2023.";
  return d;
}

SlicerCliParameter &
AddDeviceParameter(SlicerCliParameterGroup & group, std::string & device, std::string description)
{
  return group.AddStringEnumeration("device", device, { "cpu", "cuda" }, "cpu")
    .LongFlag("device")
    .Label("Device")
    .Description(std::move(description));
}

SlicerCliParameter &
AddThreadsParameter(SlicerCliParameterGroup & group, int & threads)
{
  return group.AddInteger("threads", threads, 0)
    .LongFlag("threads")
    .Label("CPU threads")
    .Range(0, 256, 1)
    .Description("Threads on the CPU; 0 uses every core.");
}

int
RunSlicerCliModule(const SlicerCliModule & module, int argc, char ** argv)
{
  CLI::App app{ module.description.title + " (Slicer CLI module). " + module.description.description +
                " Run with --xml for its SlicerExecutionModel description." };
  app.name(module.name);
  bool xml = false;
  std::string returnParameterFile;
  std::string processInformationAddress;
  app.add_flag("--xml", xml, "Print the module's SlicerExecutionModel XML and exit");
  module.description.AddOptions(app);
  app.add_option("--returnparameterfile",
                 returnParameterFile,
                 "File for the output scalars (written by Slicer's convention: name = value)");
  // Slicer passes the address of its in-process progress structure; an executable reports progress
  // on stdout instead.
  app.add_option("--processinformationaddress", processInformationAddress, "Slicer's process information (unused)");
  try
  {
    app.parse(argc, argv);
  }
  catch (const CLI::ParseError & e)
  {
    return app.exit(e);
  }
  if (xml)
  {
    std::fputs(module.description.Xml().c_str(), stdout);
    return 0;
  }
  try
  {
    if (!returnParameterFile.empty())
    {
      RequireFolderOf(returnParameterFile, "return-parameter");
    }
    const auto outputs = module.run();
    for (const auto & output : outputs)
    {
      // Slicer reads only the declared ones: an undeclared result is the module's mistake.
      if (!module.description.HasResult(output.first))
      {
        throw std::logic_error("the run reported " + output.first + ", which the module does not declare");
      }
    }
    if (!returnParameterFile.empty())
    {
      AtomicFile file(returnParameterFile);
      for (const auto & [name, value] : outputs)
      {
        file.Stream() << name << " = " << value << '\n';
      }
      file.Commit();
    }
    return 0;
  }
  catch (const Error & e)
  {
    std::fprintf(stderr, "%s: %s\n", module.name.c_str(), e.what());
    return 1;
  }
  catch (const std::exception & e)
  {
    std::fprintf(stderr, "%s: unexpected error: %s\n", module.name.c_str(), e.what());
    return 1;
  }
}

} // namespace recontrast::cli
