/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast weights`: list, fetch and import the catalogue's encoder weights.
 *
 *=========================================================================*/
#include "Commands.h"
#include "WeightsFetch.h"

#include "ReContrast/WeightsCatalogue.h"
#include "ReContrast/WeightsDownload.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>

namespace recontrast::cli
{

WeightsCommand::WeightsCommand(CLI::App & app)
  : m_Command(app.add_subcommand("weights",
                                 "The ImageNet encoder weights that `train --encoder-weights imagenet` starts from: "
                                 "list them, fetch them (verified, resumable) or import a downloaded file."))
{
  m_Command->require_subcommand(1);
  m_List = m_Command->add_subcommand("list", "The catalogue's weights and whether each is in the cache.");
  m_List->add_flag("--json", m_Json, "Print JSON");
  m_Fetch = m_Command->add_subcommand(
    "fetch", "Download weights into the cache (SHA-256 checked; an interrupted download resumes).");
  m_Fetch->add_option("name", m_Names, "Backbone names (see `recontrast weights list`), or all")->required();
  m_Import = m_Command->add_subcommand(
    "import", "Bring a weights file downloaded elsewhere into the cache (it must match a catalogue entry).");
  m_Import->add_option("file", m_File, "The downloaded .pth file")->required()->check(CLI::ExistingFile);
  m_Import->add_option("--name", m_Name, "The entry it must be (default: found by its SHA-256)");
  for (CLI::App * command : { m_List, m_Fetch, m_Import })
  {
    command->add_option("--cache",
                        m_Cache,
                        "Cache folder (default: $RECONTRAST_WEIGHTS_CACHE, else "
                        "$XDG_CACHE_HOME/recontrast/weights, else ~/.cache/recontrast/weights)");
  }
}

int
WeightsCommand::Run() const
{
  if (m_List->parsed())
  {
    return this->List();
  }
  if (m_Fetch->parsed())
  {
    return this->Fetch();
  }
  return this->Import();
}

namespace
{
std::string
CacheFolder(const std::string & given)
{
  return given.empty() ? weights::DefaultCacheFolder() : given;
}
} // namespace

int
WeightsCommand::List() const
{
  const auto catalogue = weights::WeightsCatalogue::Active();
  const std::string folder = CacheFolder(m_Cache);
  nlohmann::json entries = nlohmann::json::array();
  for (const auto & entry : catalogue.Entries())
  {
    const std::string path = weights::CachedPath(entry, folder);
    // Listing only looks: the SHA-256 is checked when the file is fetched and when training uses it.
    const bool cached = std::filesystem::is_regular_file(path);
    entries.push_back({ { "name", entry.name },
                        { "file", entry.fileName },
                        { "url", entry.url },
                        { "sha256", entry.sha256 },
                        { "cached", cached },
                        { "path", cached ? path : "" },
                        { "bytes", cached ? std::filesystem::file_size(path) : 0 } });
  }
  if (m_Json)
  {
    const nlohmann::json out = { { "catalogue", catalogue.Source() }, { "cache", folder }, { "weights", entries } };
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("catalogue: %s\ncache: %s\n", catalogue.Source().c_str(), folder.c_str());
  for (const auto & e : entries)
  {
    std::printf("%-16s %-30s %s\n",
                e["name"].get<std::string>().c_str(),
                e["file"].get<std::string>().c_str(),
                e["cached"].get<bool>() ? fmt::format("cached ({:.1f} MB)", e["bytes"].get<double>() / 1e6).c_str()
                                        : "not fetched");
  }
  return 0;
}

int
WeightsCommand::Fetch() const
{
  const auto catalogue = weights::WeightsCatalogue::Active();
  const std::string folder = CacheFolder(m_Cache);
  std::vector<const weights::WeightsEntry *> wanted;
  for (const std::string & name : m_Names)
  {
    if (name == "all")
    {
      for (const auto & entry : catalogue.Entries())
      {
        wanted.push_back(&entry);
      }
    }
    else
    {
      wanted.push_back(&catalogue.Get(name)); // an unknown name stops before any download
    }
  }
  for (const auto * entry : wanted)
  {
    std::printf("%s\n", FetchWeightsWithProgress(*entry, folder, ProgressReporter::Style::Console).c_str());
  }
  return 0;
}

int
WeightsCommand::Import() const
{
  const auto catalogue = weights::WeightsCatalogue::Active();
  const std::string folder = CacheFolder(m_Cache);
  const weights::WeightsEntry entry = weights::ImportWeights(m_File, catalogue, folder, m_Name);
  std::printf("%s\n", weights::CachedPath(entry, folder).c_str());
  std::fprintf(stderr,
               "recontrast: %s is the published %s weights; kept in %s\n",
               m_File.c_str(),
               entry.name.c_str(),
               folder.c_str());
  return 0;
}

} // namespace recontrast::cli
