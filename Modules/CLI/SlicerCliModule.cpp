#include "SlicerCliModule.h"

#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "Inference.h"

#include <cstdio>
#include <exception>

namespace recontrast::cli
{

int
RunSlicerCliModule(const SlicerCliModule & module, int argc, char ** argv)
{
  CLI::App app{ module.description + " Run with --xml for its SlicerExecutionModel description." };
  app.name(module.name);
  bool xml = false;
  std::string returnParameterFile;
  std::string processInformationAddress;
  app.add_flag("--xml", xml, "Print the module's SlicerExecutionModel XML and exit");
  module.addOptions(app);
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
    std::fputs(module.xml, stdout);
    return 0;
  }
  try
  {
    if (!returnParameterFile.empty())
    {
      RequireFolderOf(returnParameterFile, "return-parameter");
    }
    const auto outputs = module.run();
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
