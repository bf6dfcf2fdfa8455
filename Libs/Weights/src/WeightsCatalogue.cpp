/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *=========================================================================*/
#include "ReContrast/WeightsCatalogue.h"

#include "ReContrast/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace recontrast::weights
{
namespace
{
std::string
Lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool
IsHex(const std::string & text)
{
  return std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isxdigit(c) != 0; });
}

std::string
Environment(const char * name)
{
  const char * value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

// Checks one entry of a catalogue file; `where` names it in the sentence.
void
CheckEntry(const WeightsEntry & e, const std::string & where)
{
  if (e.name.empty())
  {
    throw Error(where + " has no name.");
  }
  if (e.fileName.empty() || e.fileName.find_first_of("/\\") != std::string::npos || e.fileName == "." ||
      e.fileName == "..")
  {
    throw Error(where + " needs a plain file name (no folders) as \"file\".");
  }
  if (e.url.rfind("http://", 0) != 0 && e.url.rfind("https://", 0) != 0)
  {
    throw Error(where + " needs an http:// or https:// \"url\".");
  }
  if (e.sha256.size() < 8 || e.sha256.size() > 64 || !IsHex(e.sha256))
  {
    throw Error(where + " needs \"sha256\": 8 to 64 hexadecimal digits of the file's SHA-256.");
  }
}
} // namespace

bool
DigestMatches(const std::string & published, const std::string & actual)
{
  return !published.empty() && published.size() <= actual.size() &&
         Lower(actual).compare(0, published.size(), Lower(published)) == 0;
}

WeightsCatalogue
WeightsCatalogue::BuiltIn()
{
  // torchvision's IMAGENET1K_V1 weights (torchvision/models/resnet.py), the ones pretrained=True
  // loads and the official ReContrast code starts from. torchvision publishes the first 8 digits of
  // each file's SHA-256 in its name.
  WeightsCatalogue catalogue;
  catalogue.m_Source = "built-in";
  const char * base = "https://download.pytorch.org/models/";
  for (const auto & [name, digest] : { std::pair<const char *, const char *>{ "resnet18", "f37072fd" },
                                       { "resnet34", "b627a593" },
                                       { "resnet50", "0676ba61" },
                                       { "wide_resnet50_2", "95faca4d" } })
  {
    const std::string file = std::string(name) + "-" + digest + ".pth";
    catalogue.m_Entries.push_back({ name, file, base + file, digest });
  }
  return catalogue;
}

WeightsCatalogue
WeightsCatalogue::FromFile(const std::string & path)
{
  std::ifstream in(path);
  if (!in)
  {
    throw Error("The weights catalogue " + path + " cannot be read.");
  }
  nlohmann::json json;
  try
  {
    json = nlohmann::json::parse(in);
  }
  catch (const nlohmann::json::exception &)
  {
    throw Error("The weights catalogue " + path + " is not valid JSON.");
  }
  if (!json.is_object() || !json.contains("weights") || !json["weights"].is_array())
  {
    throw Error("The weights catalogue " + path + " needs a \"weights\" list.");
  }
  WeightsCatalogue catalogue;
  catalogue.m_Source = path;
  for (size_t i = 0; i < json["weights"].size(); ++i)
  {
    const auto & item = json["weights"][i];
    const std::string where = "Entry " + std::to_string(i + 1) + " of the weights catalogue " + path;
    const auto text = [&](const char * key) {
      if (!item.is_object() || !item.contains(key) || !item[key].is_string())
      {
        throw Error(where + " needs a text \"" + key + "\".");
      }
      return item[key].get<std::string>();
    };
    WeightsEntry entry{ text("name"), text("file"), text("url"), text("sha256") };
    CheckEntry(entry, where);
    if (catalogue.Find(entry.name) != nullptr)
    {
      throw Error(where + " repeats the name " + entry.name + ".");
    }
    catalogue.m_Entries.push_back(entry);
  }
  return catalogue;
}

WeightsCatalogue
WeightsCatalogue::Active()
{
  const std::string path = Environment("RECONTRAST_WEIGHTS_CATALOGUE");
  return path.empty() ? BuiltIn() : FromFile(path);
}

const WeightsEntry *
WeightsCatalogue::Find(const std::string & name) const
{
  const auto found =
    std::find_if(m_Entries.begin(), m_Entries.end(), [&name](const WeightsEntry & e) { return e.name == name; });
  return found == m_Entries.end() ? nullptr : &*found;
}

const WeightsEntry &
WeightsCatalogue::Get(const std::string & name) const
{
  if (const WeightsEntry * entry = this->Find(name))
  {
    return *entry;
  }
  std::string names;
  for (const auto & e : m_Entries)
  {
    names += (names.empty() ? "" : ", ") + e.name;
  }
  throw Error("No weights named \"" + name + "\" in the " + (m_Source == "built-in" ? "built-in" : m_Source) +
              " catalogue; it has " + (names.empty() ? "none" : names) + ".");
}

const WeightsEntry *
WeightsCatalogue::FindByDigest(const std::string & actual) const
{
  const auto found = std::find_if(
    m_Entries.begin(), m_Entries.end(), [&actual](const WeightsEntry & e) { return DigestMatches(e.sha256, actual); });
  return found == m_Entries.end() ? nullptr : &*found;
}

std::string
DefaultCacheFolder()
{
  namespace fs = std::filesystem;
  if (const std::string own = Environment("RECONTRAST_WEIGHTS_CACHE"); !own.empty())
  {
    return own;
  }
  // The XDG base directory rule: a relative XDG_CACHE_HOME is invalid and ignored.
  if (const std::string xdg = Environment("XDG_CACHE_HOME"); !xdg.empty() && fs::path(xdg).is_absolute())
  {
    return (fs::path(xdg) / "recontrast" / "weights").string();
  }
  if (const std::string home = Environment("HOME"); !home.empty())
  {
    return (fs::path(home) / ".cache" / "recontrast" / "weights").string();
  }
  throw Error("No folder for the weights cache: set RECONTRAST_WEIGHTS_CACHE, XDG_CACHE_HOME or HOME.");
}

std::string
CachedPath(const WeightsEntry & entry, const std::string & cacheFolder)
{
  return (std::filesystem::path(cacheFolder) / entry.fileName).string();
}

} // namespace recontrast::weights
