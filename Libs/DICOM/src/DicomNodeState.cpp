/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The DICOM node's durable state.
 *
 *=========================================================================*/
#include "ReContrast/DicomNodeState.h"

#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace recontrast::dicom
{

namespace
{

constexpr const char * StageNames[] = { "receiving", "scoring", "sending", "done", "failed" };

SeriesStage
StageFromString(const std::string & text, const std::string & file)
{
  for (size_t i = 0; i < std::size(StageNames); ++i)
  {
    if (text == StageNames[i])
    {
      return static_cast<SeriesStage>(i);
    }
  }
  throw Error(fmt::format("The series record '{}' has an unknown stage '{}'.", file, text));
}

nlohmann::json
ToJson(const SeriesRecord & r)
{
  return { { "series_instance_uid", r.seriesInstanceUid },
           { "study_instance_uid", r.studyInstanceUid },
           { "modality", r.modality },
           { "body_part_examined", r.bodyPartExamined },
           { "series_description", r.seriesDescription },
           { "calling_ae_title", r.callingAETitle },
           { "stage", ToString(r.stage) },
           { "instances", r.instances },
           { "first_received", r.firstReceived },
           { "last_received", r.lastReceived },
           { "released", r.released },
           { "model", r.model },
           { "reason", r.reason },
           { "score", r.score },
           { "calibrated_score", r.calibratedScore },
           { "calibrated", r.calibrated },
           { "results", r.results },
           { "sent", r.sent },
           { "send_attempts", r.sendAttempts },
           { "next_send_attempt", r.nextSendAttempt },
           { "scored_at", r.scoredAt },
           { "score_seconds", r.scoreSeconds },
           { "done_at", r.doneAt } };
}

SeriesRecord
FromJson(const nlohmann::json & j, const std::string & file)
{
  SeriesRecord r;
  r.seriesInstanceUid = j.at("series_instance_uid").get<std::string>();
  r.studyInstanceUid = j.at("study_instance_uid").get<std::string>();
  r.modality = j.value("modality", "");
  r.bodyPartExamined = j.value("body_part_examined", "");
  r.seriesDescription = j.value("series_description", "");
  r.callingAETitle = j.value("calling_ae_title", "");
  r.stage = StageFromString(j.at("stage").get<std::string>(), file);
  r.instances = j.at("instances").get<std::vector<std::string>>();
  r.firstReceived = j.value("first_received", 0.0);
  r.lastReceived = j.value("last_received", 0.0);
  r.released = j.value("released", false);
  r.model = j.value("model", "");
  r.reason = j.value("reason", "");
  r.score = j.value("score", 0.0);
  r.calibratedScore = j.value("calibrated_score", 0.0);
  r.calibrated = j.value("calibrated", false);
  r.results = j.value("results", std::vector<std::string>{});
  r.sent = j.value("sent", std::vector<std::string>{});
  r.sendAttempts = j.value("send_attempts", 0);
  r.nextSendAttempt = j.value("next_send_attempt", 0.0);
  r.scoredAt = j.value("scored_at", 0.0);
  r.scoreSeconds = j.value("score_seconds", 0.0);
  r.doneAt = j.value("done_at", 0.0);
  return r;
}

// The SOP Instance UIDs of the instance files present in a series' incoming folder.
std::vector<std::string>
InstancesIn(const fs::path & folder)
{
  std::vector<std::string> instances;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
  {
    if (it->path().extension() == ".dcm")
    {
      instances.push_back(it->path().stem().string());
    }
  }
  std::sort(instances.begin(), instances.end());
  return instances;
}

std::uint64_t
BytesUnder(const fs::path & folder)
{
  std::uint64_t bytes = 0;
  std::error_code error;
  for (fs::recursive_directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
  {
    std::error_code ignored;
    if (it->is_regular_file(ignored))
    {
      bytes += it->file_size(ignored);
    }
  }
  return bytes;
}

} // namespace

const char *
ToString(SeriesStage stage)
{
  return StageNames[static_cast<size_t>(stage)];
}

std::vector<SeriesRecord>
NodeState::ReadRecords(const std::string & workFolder)
{
  const fs::path folder = fs::path(workFolder) / "series";
  if (!fs::is_directory(folder))
  {
    throw Error(fmt::format("'{}' is not a node's work folder (it has no series records).", workFolder));
  }
  std::vector<SeriesRecord> records;
  std::error_code error;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
  {
    const std::string name = it->path().filename().string();
    if (it->path().extension() != ".json" || name.front() == '.')
    {
      continue; // an AtomicFile's temporary file (being written, or left by a killed node)
    }
    try
    {
      std::ifstream in(it->path());
      records.push_back(FromJson(nlohmann::json::parse(in), it->path().string()));
    }
    catch (const nlohmann::json::exception & e)
    {
      throw Error(fmt::format("The series record '{}' cannot be read: {}.", it->path().string(), e.what()));
    }
  }
  if (error)
  {
    throw Error(fmt::format("Cannot read the series records in '{}': {}.", folder.string(), error.message()));
  }
  std::sort(records.begin(), records.end(), [](const SeriesRecord & a, const SeriesRecord & b) {
    return a.firstReceived < b.firstReceived;
  });
  return records;
}

NodeState::NodeState(std::string workFolder)
  : m_WorkFolder(std::move(workFolder))
{
  const fs::path root(m_WorkFolder);
  std::error_code error;
  for (const char * folder : { "series", "incoming", "results" })
  {
    fs::create_directories(root / folder, error);
    if (error)
    {
      throw Error(fmt::format("Cannot use the work folder '{}': {}.", m_WorkFolder, error.message()));
    }
  }
  m_Lock = ::open((root / "node.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (m_Lock < 0 || ::flock(m_Lock, LOCK_EX | LOCK_NB) != 0)
  {
    if (m_Lock >= 0)
    {
      ::close(m_Lock);
    }
    throw Error(fmt::format("The work folder '{}' is in use by another node.", m_WorkFolder));
  }
  for (SeriesRecord & record : ReadRecords(m_WorkFolder))
  {
    if (record.stage == SeriesStage::Receiving || record.stage == SeriesStage::Scoring)
    {
      // What was kept is what counts: the files are renamed into place before they are recorded.
      record.instances = InstancesIn(IncomingFolderOf(record.seriesInstanceUid));
      if (record.stage == SeriesStage::Scoring)
      {
        record.stage = SeriesStage::Receiving;
        record.released = true; // complete: scored again at once
      }
      Save(record);
    }
    m_Records[record.seriesInstanceUid] = record;
  }
  // A series folder without a record: its first instance was kept but never acknowledged (the node
  // stopped in between); the sender did not count it as stored, so it is dropped.
  for (fs::directory_iterator it(root / "incoming", error), end; !error && it != end; it.increment(error))
  {
    const std::string name = it->path().filename().string();
    if (name != ".partial" && m_Records.count(name) == 0)
    {
      std::error_code ignored;
      fs::remove_all(it->path(), ignored);
    }
  }
  std::error_code ignored;
  fs::remove_all(root / "incoming" / ".partial", ignored);
}

NodeState::~NodeState()
{
  if (m_Lock >= 0)
  {
    ::close(m_Lock);
  }
}

std::string
NodeState::IncomingFolder() const
{
  return (fs::path(m_WorkFolder) / "incoming").string();
}

std::string
NodeState::IncomingFolderOf(const std::string & seriesInstanceUid) const
{
  return (fs::path(m_WorkFolder) / "incoming" / seriesInstanceUid).string();
}

std::string
NodeState::ResultsFolderOf(const std::string & seriesInstanceUid) const
{
  return (fs::path(m_WorkFolder) / "results" / seriesInstanceUid).string();
}

void
NodeState::Save(const SeriesRecord & record) const
{
  AtomicFile file((fs::path(m_WorkFolder) / "series" / (record.seriesInstanceUid + ".json")).string());
  // Descriptions arrive in the sender's character set: text that is not UTF-8 is kept readable
  // (replacement characters) rather than making the record unwritable.
  file.Stream() << ToJson(record).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  file.Commit();
}

SeriesRecord &
NodeState::At(const std::string & seriesInstanceUid)
{
  const auto found = m_Records.find(seriesInstanceUid);
  if (found == m_Records.end())
  {
    throw Error(fmt::format("The node has no record of the series {}.", seriesInstanceUid));
  }
  return found->second;
}

void
NodeState::RecordInstance(const ReceivedInstance & instance, double now)
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  const auto found = m_Records.find(instance.seriesInstanceUid);
  // The record changes in a copy, kept only once it is saved: a failed save leaves the state as it was.
  SeriesRecord record = found == m_Records.end() ? SeriesRecord{} : found->second;
  if (found == m_Records.end() || record.stage != SeriesStage::Receiving)
  {
    // A new series, or one sent again after it was scored: it starts over.
    const std::vector<std::string> kept =
      found == m_Records.end() ? std::vector<std::string>{} : InstancesIn(IncomingFolderOf(instance.seriesInstanceUid));
    record = SeriesRecord{};
    record.seriesInstanceUid = instance.seriesInstanceUid;
    record.instances = kept;
    record.firstReceived = now;
    std::error_code ignored;
    fs::remove_all(ResultsFolderOf(instance.seriesInstanceUid), ignored);
  }
  record.studyInstanceUid = instance.studyInstanceUid;
  record.modality = instance.modality;
  record.bodyPartExamined = instance.bodyPartExamined;
  record.seriesDescription = instance.seriesDescription;
  record.callingAETitle = instance.callingAETitle;
  record.lastReceived = now;
  record.released = false;
  if (std::find(record.instances.begin(), record.instances.end(), instance.sopInstanceUid) == record.instances.end())
  {
    record.instances.push_back(instance.sopInstanceUid);
  }
  Save(record);
  m_Records[instance.seriesInstanceUid] = record;
}

void
NodeState::RecordRelease(const std::vector<std::string> & series)
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  for (const std::string & uid : series)
  {
    const auto found = m_Records.find(uid);
    if (found != m_Records.end() && found->second.stage == SeriesStage::Receiving)
    {
      found->second.released = true;
      Save(found->second);
    }
  }
}

std::vector<std::string>
NodeState::SeriesToScore(double now, double quietSeconds, bool completeOnRelease) const
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  std::vector<std::pair<double, std::string>> ready;
  for (const auto & [uid, record] : m_Records)
  {
    if (record.stage == SeriesStage::Receiving && !record.instances.empty() &&
        ((completeOnRelease && record.released) || now - record.lastReceived >= quietSeconds))
    {
      ready.emplace_back(record.lastReceived, uid);
    }
  }
  std::sort(ready.begin(), ready.end());
  std::vector<std::string> series;
  for (const auto & entry : ready)
  {
    series.push_back(entry.second);
  }
  return series;
}

void
NodeState::MarkScoring(const std::string & seriesInstanceUid, const std::string & model)
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  SeriesRecord & record = At(seriesInstanceUid);
  record.stage = SeriesStage::Scoring;
  record.model = model;
  record.reason.clear();
  Save(record);
}

void
NodeState::MarkScored(const std::string & seriesInstanceUid, const std::vector<std::string> & results, double score,
                      double calibratedScore, bool calibrated, double now, double seconds)
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  SeriesRecord & record = At(seriesInstanceUid);
  if (record.stage != SeriesStage::Scoring)
  {
    return; // instances arrived while it was scored: it is receiving again and will be scored anew
  }
  record.stage = results.empty() ? SeriesStage::Done : SeriesStage::Sending;
  record.results = results;
  record.sent.clear();
  record.score = score;
  record.calibratedScore = calibratedScore;
  record.calibrated = calibrated;
  record.scoredAt = now;
  record.scoreSeconds = seconds;
  record.sendAttempts = 0;
  record.nextSendAttempt = now;
  if (results.empty())
  {
    record.doneAt = now;
  }
  Save(record);
}

void
NodeState::MarkFailed(const std::string & seriesInstanceUid, const std::string & reason, double now)
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  SeriesRecord & record = At(seriesInstanceUid);
  if (record.stage == SeriesStage::Receiving)
  {
    return; // instances arrived meanwhile: it will be scored anew
  }
  record.stage = SeriesStage::Failed;
  record.reason = reason;
  record.doneAt = now;
  Save(record);
}

std::vector<std::string>
NodeState::SeriesToSend(double now) const
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  std::vector<std::pair<double, std::string>> due;
  for (const auto & [uid, record] : m_Records)
  {
    if (record.stage == SeriesStage::Sending && record.nextSendAttempt <= now)
    {
      due.emplace_back(record.scoredAt, uid);
    }
  }
  std::sort(due.begin(), due.end());
  std::vector<std::string> series;
  for (const auto & entry : due)
  {
    series.push_back(entry.second);
  }
  return series;
}

void
NodeState::MarkSent(const std::string & seriesInstanceUid, const std::string & file, double now)
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  SeriesRecord & record = At(seriesInstanceUid);
  if (record.stage != SeriesStage::Sending)
  {
    return;
  }
  if (std::find(record.sent.begin(), record.sent.end(), file) == record.sent.end())
  {
    record.sent.push_back(file);
  }
  if (std::all_of(record.results.begin(), record.results.end(), [&record](const std::string & result) {
        return std::find(record.sent.begin(), record.sent.end(), result) != record.sent.end();
      }))
  {
    record.stage = SeriesStage::Done;
    record.reason.clear();
    record.doneAt = now;
  }
  Save(record);
}

void
NodeState::MarkSendFailed(const std::string & seriesInstanceUid, const std::string & reason, double now,
                          double retrySeconds)
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  SeriesRecord & record = At(seriesInstanceUid);
  if (record.stage != SeriesStage::Sending)
  {
    return;
  }
  ++record.sendAttempts;
  record.reason = reason;
  record.nextSendAttempt = now + retrySeconds;
  Save(record);
}

SeriesRecord
NodeState::Record(const std::string & seriesInstanceUid) const
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  const auto found = m_Records.find(seriesInstanceUid);
  if (found == m_Records.end())
  {
    throw Error(fmt::format("The node has no record of the series {}.", seriesInstanceUid));
  }
  return found->second;
}

std::vector<SeriesRecord>
NodeState::Records() const
{
  std::lock_guard<std::mutex> lock(m_Mutex);
  std::vector<SeriesRecord> records;
  for (const auto & entry : m_Records)
  {
    records.push_back(entry.second);
  }
  std::sort(records.begin(), records.end(), [](const SeriesRecord & a, const SeriesRecord & b) {
    return a.firstReceived < b.firstReceived;
  });
  return records;
}

std::uint64_t
NodeState::DiskUsage() const
{
  return BytesUnder(fs::path(m_WorkFolder) / "incoming") + BytesUnder(fs::path(m_WorkFolder) / "results");
}

std::vector<std::string>
NodeState::FreeDisk(std::uint64_t limitBytes)
{
  std::vector<std::string> cleaned;
  std::uint64_t usage = DiskUsage();
  if (usage <= limitBytes)
  {
    return cleaned;
  }
  // Under the lock throughout: a finished series that is sent again meanwhile is receiving again,
  // and its new instances stay.
  std::lock_guard<std::mutex> lock(m_Mutex);
  std::vector<std::pair<double, std::string>> finished;
  for (const auto & [uid, record] : m_Records)
  {
    if ((record.stage == SeriesStage::Done || record.stage == SeriesStage::Failed) && fs::exists(IncomingFolderOf(uid)))
    {
      finished.emplace_back(record.doneAt, uid);
    }
  }
  std::sort(finished.begin(), finished.end());
  for (const auto & [doneAt, uid] : finished)
  {
    if (usage <= limitBytes)
    {
      break;
    }
    const std::uint64_t bytes = BytesUnder(IncomingFolderOf(uid));
    std::error_code ignored;
    fs::remove_all(IncomingFolderOf(uid), ignored);
    usage -= std::min(usage, bytes);
    cleaned.push_back(uid);
  }
  return cleaned;
}

} // namespace recontrast::dicom
