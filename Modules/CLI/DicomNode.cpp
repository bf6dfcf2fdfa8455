/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The anomaly-detection DICOM node behind `recontrast serve`.
 *
 *=========================================================================*/
#include "DicomNode.h"

#include "Inference.h"
#include "ReContrast/DicomNetwork.h"
#include "ReContrast/DicomNodeState.h"
#include "ReContrast/Error.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <thread>

namespace fs = std::filesystem;

namespace recontrast::cli
{

namespace
{

double
Now()
{
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

class Node
{
public:
  explicit Node(const ServeConfig & config)
    : m_Config(config)
    , m_State(config.workFolder)
  {
    // Every model once, at start-up: a model that cannot be loaded stops the node before it accepts
    // anything.
    for (const ModelRule & rule : config.models)
    {
      if (m_Models.count(rule.model) == 0)
      {
        ScanInference::Options options;
        options.model = rule.model;
        options.predictor.threads = config.threads;
        options.progress = ProgressReporter::Style::Silent;
        m_Models[rule.model] = std::make_unique<ScanInference>(options);
        spdlog::info("model loaded: {}", rule.model);
      }
    }
    dicom::StorageServerOptions server;
    server.aeTitle = config.aeTitle;
    server.port = config.port;
    server.acceptedCallingAETitles = config.acceptedCallingAETitles;
    server.maxAssociations = config.maxAssociations;
    server.incomingFolder = m_State.IncomingFolder();
    server.timeoutSeconds = config.timeoutSeconds;
    m_Server = std::make_unique<dicom::StorageServer>(
      server,
      [this](const dicom::ReceivedInstance & instance) { m_State.RecordInstance(instance, Now()); },
      [this](const std::string & callingAETitle, const std::vector<std::string> & series, bool released) {
        spdlog::info(
          "association from '{}' {}: {} series", callingAETitle, released ? "released" : "aborted", series.size());
        if (released)
        {
          m_State.RecordRelease(series);
        }
      },
      [](const std::string & line) { spdlog::info("{}", line); });
  }

  void Run(const std::function<bool()> & stopRequested)
  {
    m_Server->Start();
    spdlog::info("listening as '{}' on port {}; results go to {}; work folder {}",
                 m_Config.aeTitle,
                 m_Config.port,
                 m_Config.destination.ToString(),
                 m_Config.workFolder);
    for (const dicom::SeriesRecord & record : m_State.Records())
    {
      if (record.stage == dicom::SeriesStage::Sending)
      {
        spdlog::info("series {}: {} result(s) still to send",
                     record.seriesInstanceUid,
                     record.results.size() - record.sent.size());
      }
    }
    while (!stopRequested())
    {
      bool worked = false;
      for (const std::string & series : m_State.SeriesToScore(Now(), m_Config.quietSeconds, m_Config.completeOnRelease))
      {
        if (stopRequested())
        {
          break;
        }
        Score(series);
        worked = true;
      }
      for (const std::string & series : m_State.SeriesToSend(Now()))
      {
        if (stopRequested())
        {
          break;
        }
        Send(series);
        worked = true;
      }
      if (worked && m_Config.diskLimitBytes > 0)
      {
        for (const std::string & series : m_State.FreeDisk(m_Config.diskLimitBytes))
        {
          spdlog::info("series {}: received instances removed (disk limit)", series);
        }
      }
      if (!worked)
      {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    spdlog::info("stopping: no new associations, waiting for those in progress");
    m_Server->Stop();
    spdlog::info("stopped");
  }

private:
  void Score(const std::string & uid)
  {
    const dicom::SeriesRecord record = m_State.Record(uid);
    const ModelRule * rule = m_Config.RuleFor(record.modality, record.bodyPartExamined, record.seriesDescription);
    try
    {
      m_State.MarkScoring(uid, rule ? rule->model : "");
    }
    catch (const std::exception & e)
    {
      spdlog::warn("series {}: its record cannot be written: {}", uid, e.what());
      return;
    }
    if (!rule)
    {
      const std::string reason =
        fmt::format("no model rule matches modality '{}', body part '{}', series description '{}'",
                    record.modality,
                    record.bodyPartExamined,
                    record.seriesDescription);
      m_State.MarkFailed(uid, reason, Now());
      spdlog::warn("series {} failed: {}", uid, reason);
      return;
    }
    spdlog::info("series {} complete: {} instance(s) from '{}'; scoring with {}",
                 uid,
                 record.instances.size(),
                 record.callingAETitle,
                 rule->model);
    const fs::path results(m_State.ResultsFolderOf(uid));
    std::error_code ignored;
    fs::remove_all(results, ignored);
    const auto start = std::chrono::steady_clock::now();
    try
    {
      InferenceJob job;
      job.input = m_State.IncomingFolderOf(uid);
      job.dicomOutput = results.string();
      const nlohmann::json report = m_Models.at(rule->model)->Run(job);
      const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::vector<std::string> files;
      for (const char * key : { "parametric_map", "segmentation" })
      {
        if (report.contains("dicom") && report["dicom"].contains(key))
        {
          files.push_back(report["dicom"][key].get<std::string>());
        }
      }
      const bool calibrated = report.contains("calibrated_score") && report["calibrated_score"].is_number();
      const double score = report.value("score", 0.0);
      const double calibratedScore = calibrated ? report["calibrated_score"].get<double>() : 0.0;
      m_State.MarkScored(uid, files, score, calibratedScore, calibrated, Now(), seconds);
      spdlog::info("series {} scored in {:.1f} s: score {:.4f}{}, {} result(s) to send",
                   uid,
                   seconds,
                   score,
                   calibrated ? fmt::format(" ({:.2f} SD above normal)", calibratedScore) : std::string(),
                   files.size());
    }
    catch (const std::exception & e)
    {
      fs::remove_all(results, ignored);
      m_State.MarkFailed(uid, e.what(), Now());
      spdlog::warn("series {} failed: {}", uid, e.what());
    }
  }

  void Send(const std::string & uid)
  {
    const dicom::SeriesRecord record = m_State.Record(uid);
    std::vector<std::string> files;
    for (const std::string & file : record.results)
    {
      if (std::find(record.sent.begin(), record.sent.end(), file) == record.sent.end())
      {
        files.push_back(file);
      }
    }
    const double retry = std::min(m_Config.retryMaxSeconds,
                                  m_Config.retryInitialSeconds * std::pow(2.0, std::min(record.sendAttempts, 20)));
    const auto start = std::chrono::steady_clock::now();
    std::vector<std::string> outcomes;
    try
    {
      outcomes = dicom::StoreFiles(m_Config.aeTitle, m_Config.destination, files, m_Config.timeoutSeconds);
    }
    catch (const std::exception & e)
    {
      m_State.MarkSendFailed(uid, e.what(), Now(), retry);
      spdlog::warn(
        "series {}: sending failed (attempt {}), retry in {:.0f} s: {}", uid, record.sendAttempts + 1, retry, e.what());
      return;
    }
    std::string failure;
    for (size_t i = 0; i < files.size(); ++i)
    {
      if (outcomes[i].empty())
      {
        m_State.MarkSent(uid, files[i], Now());
      }
      else if (failure.empty())
      {
        failure = outcomes[i];
      }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (!failure.empty())
    {
      m_State.MarkSendFailed(uid, failure, Now(), retry);
      spdlog::warn("series {}: a result was not stored (attempt {}), retry in {:.0f} s: {}",
                   uid,
                   record.sendAttempts + 1,
                   retry,
                   failure);
      return;
    }
    spdlog::info("series {} sent: {} result(s) stored at {} in {:.2f} s",
                 uid,
                 files.size(),
                 m_Config.destination.ToString(),
                 seconds);
  }

  const ServeConfig & m_Config;
  dicom::NodeState m_State;
  std::map<std::string, std::unique_ptr<ScanInference>> m_Models;
  std::unique_ptr<dicom::StorageServer> m_Server;
};

std::string
TimeText(double seconds)
{
  if (seconds <= 0.0)
  {
    return "-";
  }
  const std::time_t time = static_cast<std::time_t>(seconds);
  char text[32];
  std::tm parts{};
  localtime_r(&time, &parts);
  std::strftime(text, sizeof(text), "%Y-%m-%d %H:%M:%S", &parts);
  return text;
}

} // namespace

void
RunDicomNode(const ServeConfig & config, const std::function<bool()> & stopRequested)
{
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %v");
  Node node(config);
  node.Run(stopRequested);
}

void
PrintDicomNodeStatus(const std::string & workFolder, bool json)
{
  const std::vector<dicom::SeriesRecord> records = dicom::NodeState::ReadRecords(workFolder);
  if (json)
  {
    nlohmann::json list = nlohmann::json::array();
    for (const dicom::SeriesRecord & r : records)
    {
      nlohmann::json entry{ { "series_instance_uid", r.seriesInstanceUid },
                            { "study_instance_uid", r.studyInstanceUid },
                            { "modality", r.modality },
                            { "stage", dicom::ToString(r.stage) },
                            { "instances", r.instances.size() },
                            { "received", r.lastReceived },
                            { "model", r.model },
                            { "results", r.results.size() },
                            { "sent", r.sent.size() },
                            { "send_attempts", r.sendAttempts },
                            { "reason", r.reason } };
      if (r.stage == dicom::SeriesStage::Sending || r.stage == dicom::SeriesStage::Done)
      {
        entry["score"] = r.score;
        entry["calibrated_score"] = r.calibrated ? nlohmann::json(r.calibratedScore) : nlohmann::json();
        entry["score_seconds"] = r.scoreSeconds;
      }
      list.push_back(entry);
    }
    std::printf("%s\n", list.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  std::printf(
    "%-19s  %-9s  %9s  %7s  %5s  %-s\n", "received", "stage", "instances", "score", "sent", "series / reason");
  for (const dicom::SeriesRecord & r : records)
  {
    const bool scored = r.stage == dicom::SeriesStage::Sending || r.stage == dicom::SeriesStage::Done;
    const std::string score = !scored        ? "-"
                              : r.calibrated ? fmt::format("{:.2f}", r.calibratedScore)
                                             : fmt::format("{:.4f}", r.score);
    std::printf("%-19s  %-9s  %9zu  %7s  %2zu/%-2zu  %s%s\n",
                TimeText(r.lastReceived).c_str(),
                dicom::ToString(r.stage),
                r.instances.size(),
                score.c_str(),
                r.sent.size(),
                r.results.size(),
                r.seriesInstanceUid.c_str(),
                r.reason.empty() ? "" : (": " + r.reason).c_str());
  }
}

} // namespace recontrast::cli
