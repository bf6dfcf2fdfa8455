/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast infer`: anomaly maps, reports and pictures of scans.
 *
 *=========================================================================*/
#include "Commands.h"
#include "OptionChecks.h"

#include "BatchRun.h"
#include "Inference.h"
#include "ProgressReporter.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrast/WeightsDownload.h"
#include "itkReContrastExceptionText.h"
#include "itkReContrastScanSampleSource.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <filesystem>
#include <algorithm>

namespace recontrast::cli
{

namespace
{
namespace fs = std::filesystem;

// An output folder of a batch: made when missing, as long as the folder holding it exists.
void
PrepareOutputFolder(const std::string & path, const char * what)
{
  if (fs::is_directory(path))
  {
    return;
  }
  if (fs::exists(path))
  {
    throw Error(fmt::format("The {} '{}' must be a folder when the input is a folder or a list.", what, path));
  }
  fs::path folder = fs::path(path).lexically_normal();
  if (folder.filename().empty())
  {
    folder = folder.parent_path(); // "out/" names the folder "out"
  }
  if (folder.has_parent_path() && !fs::is_directory(folder.parent_path()))
  {
    throw Error(fmt::format(
      "Cannot create the {} '{}': the folder '{}' does not exist.", what, path, folder.parent_path().string()));
  }
  std::error_code error;
  fs::create_directories(path, error);
  if (error)
  {
    throw Error(fmt::format("Cannot create the {} '{}': {}.", what, path, error.message()));
  }
}

// The scans of a folder or list, or none when the input is one scan (a file or one DICOM series).
// The run's own output folders are not scans, even when they are inside the input folder (a task of a
// sharded batch that starts after another made them must see the same list).
std::vector<std::string>
BatchInputs(const std::string & input, const std::vector<std::string> & outputFolders)
{
  std::vector<std::string> scans;
  try
  {
    scans = itk::ReContrastScanSampleSource::ListScans(input);
  }
  catch (const itk::ExceptionObject & e)
  {
    throw Error(itk::ReContrastExceptionText(e));
  }
  std::error_code error;
  if (scans.size() == 1 && fs::equivalent(scans.front(), input, error))
  {
    return {};
  }
  std::vector<fs::path> excluded;
  for (const std::string & folder : outputFolders)
  {
    if (!folder.empty())
    {
      excluded.push_back(fs::weakly_canonical(folder, error));
    }
  }
  std::vector<std::string> kept;
  for (const std::string & scan : scans)
  {
    const fs::path path = fs::weakly_canonical(scan, error);
    const bool inside = std::any_of(excluded.begin(), excluded.end(), [&](const fs::path & folder) {
      const auto [end, unused] = std::mismatch(folder.begin(), folder.end(), path.begin(), path.end());
      return end == folder.end();
    });
    if (!inside)
    {
      kept.push_back(scan);
    }
  }
  return kept;
}
} // namespace

InferCommand::InferCommand(CLI::App & app)
  : m_Command(app.add_subcommand("infer", "Compute the anomaly map of a scan or picture with a model."))
{
  auto * c = m_Command;
  c->add_option("--model", m_Model, "Model file")->required()->check(CLI::ExistingFile);
  c->add_option("--input",
                m_Input,
                "Scan (NIfTI, NRRD, MetaImage, PNG, JPEG, ...), a DICOM folder, a folder of scans, or a "
                "text file listing scans (one per line)")
    ->check(CLI::ExistingPath);
  c->add_option("--output",
                m_Output,
                "Anomaly map with the input's geometry (format by extension: .nii.gz, .nrrd, .mha, ...); a "
                "folder when the input is a folder or a list")
    ->required();
  c->add_option("--format", m_Format, "File type of the maps written into an output folder: nii.gz, nii, nrrd, mha")
    ->capture_default_str()
    ->check(CLI::IsMember({ "nii.gz", "nii", "nrrd", "mha" }));
  c->add_option("--overlay",
                m_Overlay,
                "PNG picture: the heat map on the scan (a montage of the most anomalous slices for volumes); a "
                "folder for folders and lists");
  c->add_option("--report", m_Report, "JSON report: score, per-slice scores, regions, settings");
  c->add_option(
    "--labels", m_Labels, "Label map of the anomalous regions (needs a threshold); a folder for folders and lists");
  c->add_option("--map",
                m_Map,
                "Units of the map: calibrated (standard deviations above the normal scores at each slice's "
                "position; needs a calibrated model, raw otherwise) or raw (the method's own map)")
    ->capture_default_str()
    ->check(CLI::IsMember({ "calibrated", "raw" }));
  c->add_option("--threshold",
                m_Threshold,
                "Map value above which voxels are anomalous, in the map's units (default: the model's "
                "recommended threshold when it is calibrated: 3 standard deviations, or the raw equivalent)")
    ->check(FiniteNumber());
  c->add_option("--device", m_Device, "cpu, cuda or cuda:N")->capture_default_str();
  c->add_option("--threads", m_Threads, "CPU threads (0: every core)")
    ->capture_default_str()
    ->check(WholeNumber(0, 1024));
  c->add_option("--batch-size", m_BatchSize, "Slices per forward pass")
    ->capture_default_str()
    ->check(WholeNumber(1, 4096));
  c->add_option("--intensity", m_Intensity, "Override the model's intensity preset");
  c->add_option("--precision",
                m_Precision,
                "Inference path: fp32 (optimised, the same maps as exact to ~1e-6), bf16 (faster on CPUs with "
                "bfloat16 instructions and on recent GPUs), fp16 (GPUs only) - both fall back to fp32 elsewhere, "
                "with a warning - or exact (the paper-faithful reference)")
    ->capture_default_str()
    ->check(CLI::IsMember(recontrast::PrecisionNames()));
  c->add_option("--dicom-output",
                m_DicomOutput,
                "Folder for DICOM results of a DICOM series input: anomaly_map.dcm (Parametric Map) and, with a "
                "threshold, anomaly_regions.dcm (Segmentation), in the scan's study; for folders and lists, one "
                "sub-folder per scan");
  c->add_option("--pacs",
                m_Pacs,
                "Retrieve the study from this PACS (AET@host:port; C-FIND and C-GET) instead of --input; --output is "
                "then a folder with one sub-folder per CT or MR series")
    ->excludes("--input");
  c->add_option("--study", m_Study, "With --pacs: the Study Instance UID to retrieve and score");
  c->add_option("--aet", m_AETitle, "With --pacs: this side's AE title")->capture_default_str();
  c->add_flag(
    "--send-results", m_SendResults, "With --pacs: send the Parametric Map and SEG back to the PACS (C-STORE)");
  c->add_option("--shard",
                m_Shard,
                "For a folder or list: score only part I of N (I/N, 1 <= I <= N; scans I, I+N, I+2N, ... of the "
                "list), or all; default: the Slurm array task's part when run in a Slurm array job. Scans whose "
                "outputs exist for this model and settings are skipped; each scan gets a <name>.status.json "
                "beside its map (join them with `recontrast report-merge`)");
  c->add_flag("--rescore", m_Rescore, "For a folder or list: score every scan again, even those already done");
  c->add_option("--series",
                m_Series,
                "Series Instance UID to read from a DICOM folder that holds several series (default: the "
                "largest)");
}

int
InferCommand::Run() const
{
  if (!m_Pacs.empty())
  {
    return RunFromPacs();
  }
  if (m_Input.empty())
  {
    throw Error("Give the scan to score with --input (or a PACS and study with --pacs and --study).");
  }
  if (!m_Study.empty() || m_SendResults)
  {
    throw Error("--study and --send-results need --pacs.");
  }
  const std::vector<std::string> batch = BatchInputs(m_Input, { m_Output, m_Labels, m_Overlay, m_DicomOutput });
  if (batch.empty() && !m_Shard.empty() && m_Shard != "all")
  {
    throw Error("--shard needs a folder or a list of scans as --input.");
  }
  const Shard shard = batch.empty() ? Shard{} : ShardOf(m_Shard); // before the model is loaded
  RequireDistinctPaths(m_Input,
                       { { "anomaly map", m_Output },
                         { "label map", m_Labels },
                         { "overlay", m_Overlay },
                         { "report", m_Report },
                         { "DICOM output", m_DicomOutput } });
  if (batch.empty())
  {
    RequireFolderOf(m_Output, "anomaly map");
    for (const std::string * path : { &m_Overlay, &m_Labels })
    {
      if (!path->empty())
      {
        RequireFolderOf(*path, "output");
      }
    }
    if (!m_DicomOutput.empty() && !fs::is_directory(m_Input))
    {
      throw Error(fmt::format("DICOM results need a DICOM series folder as input; '{}' is a file.", m_Input));
    }
  }
  else
  {
    PrepareOutputFolder(m_Output, "output");
    if (!m_Overlay.empty())
    {
      PrepareOutputFolder(m_Overlay, "overlay folder");
    }
    if (!m_Labels.empty())
    {
      PrepareOutputFolder(m_Labels, "label folder");
    }
  }
  if (!m_DicomOutput.empty())
  {
    if (fs::exists(m_DicomOutput) && !fs::is_directory(m_DicomOutput))
    {
      throw Error(fmt::format("The DICOM output '{}' must be a folder.", m_DicomOutput));
    }
    fs::path folder = fs::path(m_DicomOutput).lexically_normal();
    RequireFolderOf((folder.filename().empty() ? folder.parent_path() : folder).string(), "DICOM output folder");
  }
  if (!m_Report.empty())
  {
    RequireFolderOf(m_Report, "report");
  }

  ScanInference::Options options;
  options.model = m_Model;
  options.predictor.device = m_Device;
  options.predictor.threads = m_Threads;
  options.predictor.batchSize = m_BatchSize;
  options.predictor.precision = PrecisionFromString(m_Precision);
  options.intensity = m_Intensity;
  options.threshold = m_Threshold;
  options.calibratedMap = m_Map == "calibrated";
  options.series = m_Series;
  options.progress = batch.empty() ? ProgressReporter::Style::Console : ProgressReporter::Style::Silent;
  const ScanInference inference(options);
  if (!m_Labels.empty() && inference.Threshold() < 0.0)
  {
    throw Error("A label map needs a threshold: give --threshold (the model has no calibration to recommend one).");
  }

  nlohmann::json report;
  int status = 0;
  if (batch.empty())
  {
    report = inference.Run(InferenceJob{ m_Input, m_Output, m_Labels, m_Overlay, m_DicomOutput });
    report["output"] = m_Output;
  }
  else
  {
    // One model, many scans: a scan that fails is reported and the others go on; the exit code says so.
    // A shard takes its part of the whole list; a scan already done for this model and these settings
    // (its status file says so and its outputs exist) is skipped, so a re-submitted job finishes only
    // what is missing.
    const std::vector<BatchScan> scans = NameBatch(batch);
    const std::string modelSha256 = weights::Sha256OfFile(m_Model);
    const nlohmann::json settings = inference.Settings();
    report["inputs"] = nlohmann::json::array();
    report["skipped"] = nlohmann::json::array();
    report["failures"] = nlohmann::json::array();
    report["shard"] = { { "index", shard.index }, { "count", shard.count } };
    std::vector<const BatchScan *> mine;
    for (size_t i = 0; i < scans.size(); ++i)
    {
      if (shard.Owns(i))
      {
        mine.push_back(&scans[i]);
      }
    }
    if (!shard.Whole())
    {
      std::fprintf(stderr,
                   "recontrast: shard %d of %d (%s): %zu of the %zu scans\n",
                   shard.index,
                   shard.count,
                   shard.origin.c_str(),
                   mine.size(),
                   scans.size());
    }
    ProgressReporter progress("anomaly maps");
    for (size_t i = 0; i < mine.size(); ++i)
    {
      const BatchScan & scan = *mine[i];
      InferenceJob job{ scan.input, (fs::path(m_Output) / (scan.stem + "_anomaly." + m_Format)).string(), "", "", "" };
      if (!m_Labels.empty())
      {
        job.labels = (fs::path(m_Labels) / (scan.stem + "_labels." + m_Format)).string();
      }
      if (!m_Overlay.empty())
      {
        job.overlay = (fs::path(m_Overlay) / (scan.stem + ".png")).string();
      }
      if (!m_DicomOutput.empty())
      {
        job.dicomOutput = (fs::path(m_DicomOutput) / scan.stem).string();
      }
      const std::string statusPath = StatusPath(m_Output, scan.stem);
      const nlohmann::json fingerprint =
        ScanFingerprint(scan.input, modelSha256, settings, { job.output, job.labels, job.overlay, job.dicomOutput });
      nlohmann::json scanStatus{ { "scan", AbsolutePath(scan.input) },
                                 { "stem", scan.stem },
                                 { "fingerprint", fingerprint },
                                 { "shard", fmt::format("{}/{}", shard.index, shard.count) } };
      nlohmann::json done;
      if (!m_Rescore && AlreadyDone(statusPath, fingerprint, &done))
      {
        report["skipped"].push_back({ { "input", scan.input },
                                      { "score", done.value("score", nlohmann::json()) },
                                      { "calibrated_score", done.value("calibrated_score", nlohmann::json()) },
                                      { "status_file", statusPath } });
      }
      else
      {
        try
        {
          nlohmann::json entry = inference.Run(job);
          entry["output"] = job.output;
          std::vector<std::string> outputs;
          for (const std::string & path : { job.output, job.labels, job.overlay })
          {
            if (!path.empty())
            {
              outputs.push_back(path);
            }
          }
          if (entry.contains("dicom"))
          {
            for (const char * key : { "parametric_map", "segmentation" })
            {
              if (entry["dicom"].contains(key))
              {
                outputs.push_back(entry["dicom"][key].get<std::string>());
              }
            }
          }
          scanStatus["status"] = "done";
          scanStatus["outputs"] = outputs;
          scanStatus["score"] = entry["score"];
          scanStatus["calibrated_score"] = entry.value("calibrated_score", nlohmann::json());
          scanStatus["regions"] = entry["regions"];
          WriteStatus(statusPath, scanStatus);
          report["inputs"].push_back(entry);
        }
        catch (const Error & e)
        {
          std::fprintf(stderr, "recontrast: %s\n", e.what());
          report["failures"].push_back({ { "input", scan.input }, { "error", e.what() } });
          scanStatus["status"] = "failed";
          scanStatus["error"] = e.what();
          scanStatus["outputs"] = nlohmann::json::array();
          WriteStatus(statusPath, scanStatus);
          status = 1;
        }
      }
      progress.Update(static_cast<double>(i + 1) / static_cast<double>(mine.size()),
                      fmt::format("{}/{}", i + 1, mine.size()));
    }
    progress.Finish();
  }
  report["model"] = m_Model;
  report["settings"] = inference.Settings();
  // The shards of one batch each keep their own report ("run.json" -> "run.shard-2-of-3.json").
  std::string reportPath = m_Report;
  if (!reportPath.empty() && report.contains("shard") && report["shard"]["count"].get<int>() > 1)
  {
    const fs::path path(m_Report);
    reportPath = (path.parent_path() / fmt::format("{}.shard-{}-of-{}{}",
                                                   path.stem().string(),
                                                   report["shard"]["index"].get<int>(),
                                                   report["shard"]["count"].get<int>(),
                                                   path.extension().string()))
                   .string();
  }
  if (!reportPath.empty())
  {
    try
    {
      AtomicFile file(reportPath);
      file.Stream() << report.dump(2) << '\n';
      file.Commit();
    }
    catch (const Error &)
    {
      if (batch.empty())
      {
        RemoveOutputs({ m_Output, m_Labels, m_Overlay }, report); // all of the scan's outputs or none
      }
      throw;
    }
  }
  if (batch.empty())
  {
    std::printf("recontrast: score %.4f; anomaly map %s", report["score"].get<double>(), m_Output.c_str());
  }
  else
  {
    const size_t skipped = report["skipped"].size();
    const size_t taken = report["inputs"].size() + skipped + report["failures"].size();
    std::printf("recontrast: %zu of %zu scans scored", report["inputs"].size(), taken - skipped);
    if (skipped > 0)
    {
      std::printf(" (%zu already done, skipped)", skipped);
    }
    if (taken != batch.size())
    {
      std::printf(" in shard %d of %d (%zu scans in all)",
                  report["shard"]["index"].get<int>(),
                  report["shard"]["count"].get<int>(),
                  batch.size());
    }
    std::printf("; anomaly maps and status files in %s", m_Output.c_str());
  }
  if (!m_Overlay.empty())
  {
    std::printf("; overlay %s", m_Overlay.c_str());
  }
  if (!m_DicomOutput.empty())
  {
    std::printf("; DICOM results in %s", m_DicomOutput.c_str());
  }
  if (!m_Report.empty())
  {
    std::printf("; report %s", reportPath.c_str());
  }
  std::printf("\n");
  return status;
}

} // namespace recontrast::cli
