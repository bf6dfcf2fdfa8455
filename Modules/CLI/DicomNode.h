/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The anomaly-detection DICOM node behind `recontrast serve`: series in through the storage
 *  server, scored one at a time with models loaded once, results sent back from a durable queue.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_DicomNode_h
#define ReContrast_CLI_DicomNode_h

#include "ServeConfig.h"

#include <functional>
#include <string>

namespace recontrast::cli
{

/** Runs the node until `stopRequested` says so (checked between series and while idle: the series
 * being scored or sent is finished first). Logs one line per event on stdout. Throws
 * recontrast::Error when it cannot start (port, work folder, models). */
void RunDicomNode(const ServeConfig & config, const std::function<bool()> & stopRequested);

/** Prints the records of a node's work folder: a table, or JSON. */
void PrintDicomNodeStatus(const std::string & workFolder, bool json);

} // namespace recontrast::cli

#endif
