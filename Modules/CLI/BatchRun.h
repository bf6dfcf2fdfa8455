/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Batch inference over many scans: which scans are this task's, what is already done, and the
 *  table of all of them (Documentation/Scaling.md).
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_BatchRun_h
#define ReContrast_CLI_BatchRun_h

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace recontrast::cli
{

/** One part of a batch: shard `index` (1..count) takes the scans at positions p of the whole list
 * with p mod count == index - 1, so the shards together take every scan once, whatever their number. */
struct Shard
{
  int index = 1;
  int count = 1;
  std::string origin; ///< How it was chosen, for messages ("--shard 2/3", "Slurm array task 5").

  bool Owns(size_t position) const { return static_cast<int>(position % static_cast<size_t>(count)) == index - 1; }
  bool Whole() const { return count == 1; }
};

/** The shard from --shard ("I/N" with 1 <= I <= N, or "all"); without it, from a Slurm array job
 * (SLURM_ARRAY_TASK_ID - SLURM_ARRAY_TASK_MIN + 1 of SLURM_ARRAY_TASK_COUNT), else the whole batch.
 * Throws Error with one sentence on a malformed value. `lookup` stands in for std::getenv (tests). */
Shard ShardOf(const std::string & option, const std::function<const char *(const char *)> & lookup = {});

/** A scan of a batch and the name of its outputs: its file or folder name without image extensions,
 * made unique over the whole list ("_2", "_3", ... in list order), so that every shard names a scan's
 * outputs alike. */
struct BatchScan
{
  std::string input;
  std::string stem;
};
std::vector<BatchScan> NameBatch(const std::vector<std::string> & scans);

/** `path` made absolute and normal, as status files and tables name scans (tasks may run elsewhere). */
std::string AbsolutePath(const std::string & path);

/** The status file of a scan: <folder>/<stem>.status.json. */
std::string StatusPath(const std::string & folder, const std::string & stem);

/** What makes a scan's outputs what this run would write: the input (path, size, modification time),
 * the model file's SHA-256, the settings of the run (device excluded: it changes no value beyond
 * rounding) and the files and folders it writes (`outputs`, empty ones ignored). */
nlohmann::json ScanFingerprint(const std::string & input, const std::string & modelSha256,
                               const nlohmann::json & settings, const std::vector<std::string> & outputs);

/** Whether `statusPath` records the scan as done with this fingerprint and every output it names
 * still exists (then `stored`, when given, receives the status); a missing, unreadable or different
 * status is "not done". */
bool AlreadyDone(const std::string & statusPath, const nlohmann::json & fingerprint, nlohmann::json * stored = nullptr);

/** Writes a scan's status atomically: {"scan", "stem", "status": "done"|"failed", "fingerprint",
 * "outputs", "score", "calibrated_score", "regions", "error", "shard", "finished_at"}. */
void WriteStatus(const std::string & statusPath, const nlohmann::json & status);

/** The table of a batch from the status files in `folders`: one row per scan (scan, stem, status,
 * score, calibrated score, regions, largest region, shard, error), sorted by scan; with `expected`
 * (the batch's scans), scans without a status are rows with status "missing", and statuses of scans
 * not in it are left out (their number in `leftOut`). A scan with two
 * statuses (two output folders), statuses made with different models, or a status file that is
 * not one `recontrast infer` writes are errors (one sentence naming the files). */
nlohmann::json MergeStatuses(const std::vector<std::string> & folders, const std::vector<std::string> & expected,
                             size_t * leftOut = nullptr);

/** The table as CSV (RFC 4180 quoting). */
std::string TableAsCsv(const nlohmann::json & rows);

} // namespace recontrast::cli

#endif
