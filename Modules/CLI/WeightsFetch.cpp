/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *=========================================================================*/
#include "WeightsFetch.h"

#include "ReContrast/Error.h"
#include "ReContrast/WeightsDownload.h"

#include <fmt/format.h>

#include <chrono>
#include <filesystem>

namespace recontrast::cli
{

std::string
FetchWeightsWithProgress(const weights::WeightsEntry & entry, const std::string & cacheFolder,
                         ProgressReporter::Style style, const std::function<bool()> & keepGoing)
{
  if (std::filesystem::exists(weights::CachedPath(entry, cacheFolder)))
  {
    // Already there and verified: no progress report (a damaged file is downloaded again below).
    try
    {
      return weights::VerifiedCachedWeights(entry, cacheFolder);
    }
    catch (const Error &)
    {}
  }
  ProgressReporter progress("downloading " + entry.fileName, style);
  auto last = std::chrono::steady_clock::time_point{};
  const std::string path = weights::FetchWeights(entry, cacheFolder, [&](const weights::DownloadProgress & p) {
    // libcurl reports many times a second; a few updates a second are enough to watch.
    const auto now = std::chrono::steady_clock::now();
    if (p.total > 0 && (now - last > std::chrono::milliseconds(250) || p.received == p.total))
    {
      last = now;
      progress.Update(static_cast<double>(p.received) / static_cast<double>(p.total),
                      fmt::format("{:.1f} of {:.1f} MB", p.received / 1e6, p.total / 1e6));
    }
    return keepGoing();
  });
  progress.Finish("recontrast: " + entry.fileName + " verified and kept in " + cacheFolder);
  return path;
}

std::string
ResolveEncoderWeights(const std::string & request, const std::string & backbone, bool fetchWhenMissing,
                      ProgressReporter::Style style, const std::function<bool()> & keepGoing)
{
  if (request != "imagenet")
  {
    return request;
  }
  const weights::WeightsCatalogue catalogue = weights::WeightsCatalogue::Active();
  const weights::WeightsEntry & entry = catalogue.Get(backbone);
  const std::string folder = weights::DefaultCacheFolder();
  return fetchWhenMissing ? FetchWeightsWithProgress(entry, folder, style, keepGoing)
                          : weights::VerifiedCachedWeights(entry, folder);
}

} // namespace recontrast::cli
