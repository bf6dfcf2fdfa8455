#ifndef ReContrast_CLI_SlicerCliModule_h
#define ReContrast_CLI_SlicerCliModule_h

#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace recontrast::cli
{

/** What every Slicer CLI module of the project shares: the SlicerExecutionModel options Slicer
 * passes (--xml, --returnparameterfile, --processinformationaddress) and the error convention (one
 * sentence on stderr, exit code 1). */
struct SlicerCliModule
{
  std::string name;        ///< The executable's name, used in messages.
  std::string description; ///< For --help.
  const char * xml = nullptr;
  /** Adds the module's own options to the parser. */
  std::function<void(CLI::App &)> addOptions;
  /** Runs the module; returns the output scalars to write to the return-parameter file. Throws
   * recontrast::Error with one sentence on bad input. */
  std::function<std::vector<std::pair<std::string, std::string>>()> run;
};

/** Parses the command line and runs the module; returns the process exit code. */
int RunSlicerCliModule(const SlicerCliModule & module, int argc, char ** argv);

} // namespace recontrast::cli

#endif
