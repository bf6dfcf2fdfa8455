/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Fetching catalogue weights into the cache (libcurl: resumable, the proxy variables honoured, with
 *  progress), bringing in a file downloaded elsewhere, and finding verified weights in the cache.
 *
 *=========================================================================*/
#ifndef ReContrast_WeightsDownload_h
#define ReContrast_WeightsDownload_h

#include "ReContrast/ReContrastWeightsExport.h"
#include "ReContrast/WeightsCatalogue.h"

#include <cstdint>
#include <functional>
#include <string>

namespace recontrast::weights
{

/** How far a download is. */
struct DownloadProgress
{
  std::uint64_t received = 0;    ///< Bytes of the file on disk so far (a resumed part included).
  std::uint64_t total = 0;       ///< The file's size, 0 while unknown.
  std::uint64_t resumedFrom = 0; ///< Bytes that were already there when this download started.
};

/** Called as data arrives; returning false cancels (the part received is kept for a resume). */
using DownloadProgressFunction = std::function<bool(const DownloadProgress &)>;

/** The SHA-256 of a file in lower-case hexadecimal; throws Error when it cannot be read. */
ReContrastWeights_EXPORT std::string Sha256OfFile(const std::string & path);

/** Downloads `entry` into `cacheFolder` (created when missing) and returns its path there.
 *
 * The file grows as <file>.part, which a later call resumes (an HTTP range request; a server that
 * ignores ranges sends it again from the start). Complete, its SHA-256 is checked against the
 * published one: a mismatch removes the part and throws. Only a verified file is renamed into
 * place. libcurl honours http_proxy, https_proxy, all_proxy and no_proxy. Throws Error with one
 * sentence (what failed and what to do), Cancelled when `progress` returned false. Returns at once
 * when the file is already cached and verified. */
ReContrastWeights_EXPORT std::string FetchWeights(const WeightsEntry & entry, const std::string & cacheFolder,
                                                  const DownloadProgressFunction & progress = {});

/** Brings a weights file downloaded elsewhere into the cache: its SHA-256 must match a catalogue
 * entry (`name`'s when given); copied, verified, then renamed into place. Returns the entry. */
ReContrastWeights_EXPORT WeightsEntry ImportWeights(const std::string & file, const WeightsCatalogue & catalogue,
                                                    const std::string & cacheFolder, const std::string & name = "");

/** The path of `entry` in the cache after checking its SHA-256; throws Error saying how to fetch or
 * import it when it is missing or damaged. */
ReContrastWeights_EXPORT std::string VerifiedCachedWeights(const WeightsEntry & entry, const std::string & cacheFolder);

} // namespace recontrast::weights

#endif
