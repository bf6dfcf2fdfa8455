/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  What the project's Slicer CLI modules share: their description's common fields and parameters,
 *  and one way to run (Slicer's options, return parameters, the error convention).
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_SlicerCliModule_h
#define ReContrast_CLI_SlicerCliModule_h

#include "SlicerCliDescription.h"

#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace recontrast::cli
{

/** One Slicer CLI module: its description, whose parameters are bound to the module's variables,
 * and its run. */
struct SlicerCliModule
{
  std::string name; ///< The executable's name, used in messages.
  SlicerCliDescription description;
  /** Runs the module; returns the output scalars (each declared as a result in the description) to
   * write to the return-parameter file. Throws recontrast::Error with one sentence on bad input. */
  std::function<std::vector<std::pair<std::string, std::string>>()> run;
};

/** A description with what every module of the project says alike: the project's version,
 * license, contributor and acknowledgements. */
SlicerCliDescription ProjectModuleDescription(std::string category, std::string title, std::string description);

/** The device parameter (--device): Slicer offers the CPU and CUDA (`recontrast` also takes cuda:N). */
SlicerCliParameter & AddDeviceParameter(SlicerCliParameterGroup & group, std::string & device, std::string description);

/** The CPU threads parameter (--threads, 0: every core). */
SlicerCliParameter & AddThreadsParameter(SlicerCliParameterGroup & group, int & threads);

/** Parses the command line (the description's options and the SlicerExecutionModel options Slicer
 * passes: --xml, --returnparameterfile, --processinformationaddress) and runs the module; returns
 * the process exit code. Errors are one sentence on stderr and exit code 1. */
int RunSlicerCliModule(const SlicerCliModule & module, int argc, char ** argv);

} // namespace recontrast::cli

#endif
