/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Batch inference over many scans: which scans are this task's, what is already done, and the
 *  table of all of them.
 *
 *=========================================================================*/
#include "BatchRun.h"

#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace recontrast::cli
{

namespace
{
namespace fs = std::filesystem;

int
WholeNumber(const std::string & text, const std::string & what)
{
  char * end = nullptr;
  errno = 0;
  const long value = std::strtol(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || *end != '\0' || value < 0 || value > 10000000)
  {
    throw Error(fmt::format("{} must be a whole number; it is '{}'.", what, text));
  }
  return static_cast<int>(value);
}

// The name of a scan without its image extensions ("brain.nii.gz" -> "brain"; a DICOM folder: its name).
std::string
StemOf(const std::string & scan)
{
  fs::path path = fs::path(scan).lexically_normal();
  if (path.filename().empty())
  {
    path = path.parent_path();
  }
  if (fs::is_directory(path))
  {
    return path.filename().string();
  }
  std::string name = path.filename().string();
  if (name.size() > 3 && name.compare(name.size() - 3, 3, ".gz") == 0)
  {
    name.resize(name.size() - 3);
  }
  const auto dot = name.rfind('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

// Size and modification time of a file; for a folder (a DICOM series) its files' count, total size
// and latest modification.
nlohmann::json
InputIdentity(const std::string & input)
{
  std::error_code error;
  const auto nanoseconds = [](fs::file_time_type t) {
    return static_cast<int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count());
  };
  if (fs::is_directory(input, error))
  {
    uint64_t files = 0;
    uint64_t bytes = 0;
    int64_t latest = 0;
    for (const auto & entry : fs::directory_iterator(input, error))
    {
      if (entry.is_regular_file(error))
      {
        ++files;
        bytes += entry.file_size(error);
        latest = std::max(latest, nanoseconds(entry.last_write_time(error)));
      }
    }
    return { { "path", input }, { "files", files }, { "bytes", bytes }, { "modified_ns", latest } };
  }
  return { { "path", input },
           { "bytes", fs::file_size(input, error) },
           { "modified_ns", nanoseconds(fs::last_write_time(input, error)) } };
}

std::string
UtcNow()
{
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}
} // namespace

Shard
ShardOf(const std::string & option, const std::function<const char *(const char *)> & lookup)
{
  const auto get = [&](const char * name) -> const char * { return lookup ? lookup(name) : std::getenv(name); };
  Shard shard;
  if (option == "all")
  {
    return shard;
  }
  if (!option.empty())
  {
    const auto slash = option.find('/');
    if (slash == std::string::npos)
    {
      throw Error(fmt::format("--shard must be I/N (the I-th of N parts, 1 <= I <= N) or all; got '{}'.", option));
    }
    shard.index = WholeNumber(option.substr(0, slash), "The shard number of --shard");
    shard.count = WholeNumber(option.substr(slash + 1), "The number of shards of --shard");
    shard.origin = "--shard " + option;
  }
  else if (const char * id = get("SLURM_ARRAY_TASK_ID"); id && get("SLURM_ARRAY_TASK_COUNT"))
  {
    const int task = WholeNumber(id, "SLURM_ARRAY_TASK_ID");
    if (const char * step = get("SLURM_ARRAY_TASK_STEP"); step && std::string(step) != "1")
    {
      throw Error(fmt::format("The Slurm array has a step of {} between task ids: submit it as --array=<first>-<last> "
                              "(consecutive ids), or give --shard.",
                              step));
    }
    const int minimum =
      get("SLURM_ARRAY_TASK_MIN") ? WholeNumber(get("SLURM_ARRAY_TASK_MIN"), "SLURM_ARRAY_TASK_MIN") : 0;
    shard.count = WholeNumber(get("SLURM_ARRAY_TASK_COUNT"), "SLURM_ARRAY_TASK_COUNT");
    shard.index = task - minimum + 1;
    shard.origin = fmt::format("Slurm array task {}", task);
    if (shard.index < 1 || shard.index > shard.count)
    {
      throw Error(fmt::format("The Slurm array task {} is not one of {} consecutive tasks from {}: submit the array as "
                              "--array=<first>-<last> (no steps or lists), or give --shard.",
                              task,
                              shard.count,
                              minimum));
    }
    return shard;
  }
  else
  {
    return shard;
  }
  if (shard.count < 1 || shard.index < 1 || shard.index > shard.count)
  {
    throw Error(fmt::format("--shard {} is not a part of the batch: I must be between 1 and N.", option));
  }
  return shard;
}

std::vector<BatchScan>
NameBatch(const std::vector<std::string> & scans)
{
  std::vector<BatchScan> named;
  std::set<std::string> used;
  for (const std::string & scan : scans)
  {
    std::string stem = StemOf(scan);
    for (int n = 2; used.count(stem); ++n)
    {
      stem = fmt::format("{}_{}", StemOf(scan), n);
    }
    used.insert(stem);
    named.push_back({ scan, stem });
  }
  return named;
}

std::string
AbsolutePath(const std::string & path)
{
  return fs::absolute(path).lexically_normal().string();
}

std::string
StatusPath(const std::string & folder, const std::string & stem)
{
  return (fs::path(folder) / (stem + ".status.json")).string();
}

nlohmann::json
ScanFingerprint(const std::string & input, const std::string & modelSha256, const nlohmann::json & settings,
                const std::vector<std::string> & outputs)
{
  nlohmann::json kept = settings;
  kept.erase("device");
  nlohmann::json written = nlohmann::json::array();
  for (const std::string & output : outputs)
  {
    if (!output.empty())
    {
      written.push_back(AbsolutePath(output));
    }
  }
  return {
    { "input", InputIdentity(input) }, { "model_sha256", modelSha256 }, { "settings", kept }, { "outputs", written }
  };
}

bool
AlreadyDone(const std::string & statusPath, const nlohmann::json & fingerprint, nlohmann::json * stored)
{
  std::ifstream file(statusPath);
  if (!file)
  {
    return false;
  }
  const nlohmann::json status = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (!status.is_object() || status.value("status", nlohmann::json()) != "done" ||
      status.value("fingerprint", nlohmann::json()) != fingerprint ||
      !status.value("outputs", nlohmann::json()).is_array())
  {
    return false;
  }
  std::error_code error;
  for (const auto & output : status["outputs"])
  {
    if (!output.is_string() || !fs::exists(output.get<std::string>(), error))
    {
      return false;
    }
  }
  if (stored)
  {
    *stored = status;
  }
  return true;
}

void
WriteStatus(const std::string & statusPath, const nlohmann::json & status)
{
  nlohmann::json written = status;
  written["finished_at"] = UtcNow();
  AtomicFile file(statusPath);
  file.Stream() << written.dump(2) << '\n';
  file.Commit();
}

nlohmann::json
MergeStatuses(const std::vector<std::string> & folders, const std::vector<std::string> & expected, size_t * leftOut)
{
  std::map<std::string, nlohmann::json> rows; // by scan
  std::map<std::string, std::string> seenIn;
  std::string model;
  std::string modelFile;
  for (const std::string & folder : folders)
  {
    if (!fs::is_directory(folder))
    {
      throw Error(fmt::format("'{}' is not a folder of a batch's outputs.", folder));
    }
    std::vector<fs::path> files;
    for (const auto & entry : fs::directory_iterator(folder))
    {
      const std::string name = entry.path().filename().string();
      if (entry.is_regular_file() && name.size() > 12 && name.compare(name.size() - 12, 12, ".status.json") == 0)
      {
        files.push_back(entry.path());
      }
    }
    std::sort(files.begin(), files.end());
    for (const fs::path & path : files)
    {
      std::ifstream file(path);
      const nlohmann::json status = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
      const auto text = [&](const char * key) {
        return status.contains(key) && status[key].is_string() ? status[key].get<std::string>() : std::string();
      };
      const nlohmann::json fingerprint =
        status.is_object() ? status.value("fingerprint", nlohmann::json()) : nlohmann::json();
      if (!status.is_object() || text("scan").empty() || text("status").empty() || !fingerprint.is_object() ||
          !fingerprint.value("model_sha256", nlohmann::json()).is_string())
      {
        throw Error(fmt::format("The status file '{}' is not one that `recontrast infer` writes.", path.string()));
      }
      const std::string scan = text("scan");
      const std::string sha = fingerprint["model_sha256"].get<std::string>();
      if (model.empty())
      {
        model = sha;
        modelFile = path.string();
      }
      else if (sha != model)
      {
        throw Error(fmt::format("The status files '{}' and '{}' were made with different models; merge the outputs "
                                "of one batch.",
                                modelFile,
                                path.string()));
      }
      if (seenIn.count(scan))
      {
        throw Error(fmt::format("The scan '{}' has a status in both '{}' and '{}'; merge the outputs of one batch.",
                                scan,
                                seenIn[scan],
                                path.string()));
      }
      seenIn[scan] = path.string();
      nlohmann::json largest;
      double largestSize = -1.0;
      const nlohmann::json regions =
        status.contains("regions") && status["regions"].is_array() ? status["regions"] : nlohmann::json::array();
      for (const auto & region : regions)
      {
        for (const char * key : { "volume_mm3", "area_mm2" })
        {
          if (region.contains(key) && region[key].is_number() && region[key].get<double>() > largestSize)
          {
            largestSize = region[key].get<double>();
            largest = region[key];
          }
        }
      }
      rows[scan] = { { "scan", scan },
                     { "stem", text("stem") },
                     { "status", text("status") },
                     { "score", status.value("score", nlohmann::json()) },
                     { "calibrated_score", status.value("calibrated_score", nlohmann::json()) },
                     { "regions", regions.size() },
                     { "largest_region", largest },
                     { "shard", text("shard") },
                     { "error", text("error") } };
    }
  }
  // With the batch's list, scans without a status are "missing" rows, and a status of a scan the list
  // does not hold (an earlier list, another batch in the same folder) is left out and counted.
  std::set<std::string> listed;
  for (const std::string & entry : expected)
  {
    const std::string scan = AbsolutePath(entry);
    listed.insert(scan);
    if (!rows.count(scan))
    {
      rows[scan] = { { "scan", scan },
                     { "stem", "" },
                     { "status", "missing" },
                     { "score", nullptr },
                     { "calibrated_score", nullptr },
                     { "regions", 0 },
                     { "largest_region", nullptr },
                     { "shard", "" },
                     { "error", "" } };
    }
  }
  nlohmann::json table = nlohmann::json::array();
  size_t unlisted = 0;
  for (auto & [scan, row] : rows)
  {
    if (!expected.empty() && !listed.count(scan))
    {
      ++unlisted;
      continue;
    }
    table.push_back(std::move(row));
  }
  if (leftOut)
  {
    *leftOut = unlisted;
  }
  return table;
}

std::string
TableAsCsv(const nlohmann::json & rows)
{
  static const char * const columns[] = { "scan",    "stem",           "status", "score", "calibrated_score",
                                          "regions", "largest_region", "shard",  "error" };
  const auto quoted = [](const std::string & text) {
    if (text.find_first_of(",\"\n\r") == std::string::npos)
    {
      return text;
    }
    std::string out = "\"";
    for (char c : text)
    {
      out += c == '"' ? std::string("\"\"") : std::string(1, c);
    }
    return out + "\"";
  };
  std::string csv;
  for (const char * column : columns)
  {
    csv += std::string(column == columns[0] ? "" : ",") + column;
  }
  csv += "\n";
  for (const auto & row : rows)
  {
    bool first = true;
    for (const char * column : columns)
    {
      const nlohmann::json & value = row.at(column);
      std::string text;
      if (value.is_string())
      {
        text = value.get<std::string>();
      }
      else if (value.is_number_float())
      {
        text = fmt::format("{:.6g}", value.get<double>());
      }
      else if (!value.is_null())
      {
        text = value.dump();
      }
      csv += (first ? "" : ",") + quoted(text);
      first = false;
    }
    csv += "\n";
  }
  return csv;
}

} // namespace recontrast::cli
