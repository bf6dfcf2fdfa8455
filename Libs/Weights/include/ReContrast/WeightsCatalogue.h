/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The catalogue of encoder weights one command away: for each backbone, the torchvision ImageNet
 *  weights the paper starts from (IMAGENET1K_V1, what torchvision's pretrained=True loads), their
 *  official URL and published SHA-256, and the cache folder they are kept in once fetched.
 *
 *=========================================================================*/
#ifndef ReContrast_WeightsCatalogue_h
#define ReContrast_WeightsCatalogue_h

#include "ReContrast/ReContrastWeightsExport.h"

#include <string>
#include <vector>

namespace recontrast::weights
{

/** One downloadable weights file. */
struct WeightsEntry
{
  std::string name;     ///< The backbone it initialises, e.g. "resnet18" (the engine's backbone names).
  std::string fileName; ///< Its name in the cache, e.g. "resnet18-f37072fd.pth".
  std::string url;      ///< Where it is downloaded from.
  /** The published SHA-256 in hexadecimal: all 64 digits, or a leading part of them. torchvision
   * publishes the first 8 digits in the file name (what torch.hub's check_hash verifies). */
  std::string sha256;
};

/** True when `actual` (a full SHA-256 in hexadecimal) begins with `published`, case ignored. */
ReContrastWeights_EXPORT bool DigestMatches(const std::string & published, const std::string & actual);

/** The catalogue in use: the built-in table, or a JSON file (a site mirror, or a test's server). */
class ReContrastWeights_EXPORT WeightsCatalogue
{
public:
  /** The torchvision ImageNet weights of the backbones the engine supports. */
  static WeightsCatalogue BuiltIn();

  /** Reads {"weights": [{"name", "file", "url", "sha256"}, ...]}; throws Error with one sentence
   * naming what is wrong. */
  static WeightsCatalogue FromFile(const std::string & path);

  /** The file named by RECONTRAST_WEIGHTS_CATALOGUE when that variable is set, else BuiltIn(). */
  static WeightsCatalogue Active();

  const std::vector<WeightsEntry> & Entries() const { return m_Entries; }

  /** "built-in" or the catalogue file's path, for messages. */
  const std::string & Source() const { return m_Source; }

  /** The entry of that name, or nullptr. */
  const WeightsEntry * Find(const std::string & name) const;

  /** The entry of that name; throws Error listing the names there are. */
  const WeightsEntry & Get(const std::string & name) const;

  /** The entry whose published digest the full SHA-256 `actual` matches, or nullptr. */
  const WeightsEntry * FindByDigest(const std::string & actual) const;

private:
  std::vector<WeightsEntry> m_Entries;
  std::string m_Source;
};

/** Where fetched weights are kept: $RECONTRAST_WEIGHTS_CACHE, else $XDG_CACHE_HOME/recontrast/weights,
 * else ~/.cache/recontrast/weights. Throws Error when none of these variables gives a folder. */
ReContrastWeights_EXPORT std::string DefaultCacheFolder();

/** The entry's path inside `cacheFolder` (whether or not it is there). */
ReContrastWeights_EXPORT std::string CachedPath(const WeightsEntry & entry, const std::string & cacheFolder);

} // namespace recontrast::weights

#endif
