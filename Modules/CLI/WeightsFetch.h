/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Encoder weights for `recontrast weights`, `recontrast train --encoder-weights imagenet` and the
 *  Slicer training module: a catalogue download shown with the project's progress reports.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_WeightsFetch_h
#define ReContrast_CLI_WeightsFetch_h

#include "ProgressReporter.h"

#include "ReContrast/WeightsCatalogue.h"

#include <functional>
#include <string>

namespace recontrast::cli
{

/** Fetches `entry` into `cacheFolder` (or finds it there, verified), reporting progress in `style`;
 * `keepGoing` false cancels (the part received stays for a resume). Returns the cached path. */
std::string FetchWeightsWithProgress(
  const weights::WeightsEntry & entry, const std::string & cacheFolder, ProgressReporter::Style style,
  const std::function<bool()> & keepGoing = [] { return true; });

/** The file `train` starts the encoder from: `request` itself unless it is "imagenet", which names
 * the backbone's catalogue weights in the cache (fetched first when `fetchWhenMissing`, otherwise
 * an Error saying how to fetch them). */
std::string ResolveEncoderWeights(const std::string & request, const std::string & backbone, bool fetchWhenMissing,
                                  ProgressReporter::Style style, const std::function<bool()> & keepGoing);

} // namespace recontrast::cli

#endif
