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

#include "Inference.h"
#include "ProgressReporter.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "itkReContrastExceptionText.h"
#include "itkReContrastScanSampleSource.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <filesystem>
#include <set>

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

// The scans of a folder or list, or none when the input is one scan (a file or one DICOM series).
std::vector<std::string>
BatchInputs(const std::string & input)
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
  return scans;
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
  const std::vector<std::string> batch = BatchInputs(m_Input);
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
    report["inputs"] = nlohmann::json::array();
    report["failures"] = nlohmann::json::array();
    std::set<std::string> used;
    ProgressReporter progress("anomaly maps");
    for (size_t i = 0; i < batch.size(); ++i)
    {
      std::string stem = StemOf(batch[i]);
      for (int n = 2; used.count(stem); ++n)
      {
        stem = fmt::format("{}_{}", StemOf(batch[i]), n);
      }
      used.insert(stem);
      InferenceJob job{ batch[i], (fs::path(m_Output) / (stem + "_anomaly." + m_Format)).string(), "", "", "" };
      if (!m_Labels.empty())
      {
        job.labels = (fs::path(m_Labels) / (stem + "_labels." + m_Format)).string();
      }
      if (!m_Overlay.empty())
      {
        job.overlay = (fs::path(m_Overlay) / (stem + ".png")).string();
      }
      if (!m_DicomOutput.empty())
      {
        job.dicomOutput = (fs::path(m_DicomOutput) / stem).string();
      }
      try
      {
        nlohmann::json entry = inference.Run(job);
        entry["output"] = job.output;
        report["inputs"].push_back(entry);
      }
      catch (const Error & e)
      {
        std::fprintf(stderr, "recontrast: %s\n", e.what());
        report["failures"].push_back({ { "input", batch[i] }, { "error", e.what() } });
        status = 1;
      }
      progress.Update(static_cast<double>(i + 1) / static_cast<double>(batch.size()),
                      fmt::format("{}/{}", i + 1, batch.size()));
    }
    progress.Finish();
  }
  report["model"] = m_Model;
  report["settings"] = inference.Settings();
  if (!m_Report.empty())
  {
    try
    {
      AtomicFile file(m_Report);
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
    std::printf("recontrast: %zu of %zu scans scored; anomaly maps in %s",
                report["inputs"].size(),
                batch.size(),
                m_Output.c_str());
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
    std::printf("; report %s", m_Report.c_str());
  }
  std::printf("\n");
  return status;
}

} // namespace recontrast::cli
