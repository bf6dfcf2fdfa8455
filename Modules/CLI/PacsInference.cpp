/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast infer --pacs AET@host:port --study UID`: the study's CT and MR series retrieved with
 *  C-GET, scored one by one, their results written and (with --send-results) sent back.
 *
 *=========================================================================*/
#include "Commands.h"
#include "Inference.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/DicomNetwork.h"
#include "ReContrast/Error.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

namespace fs = std::filesystem;

namespace recontrast::cli
{

int
InferCommand::RunFromPacs() const
{
  if (m_Study.empty())
  {
    throw Error("--pacs needs --study: the Study Instance UID to score (`recontrast find` lists a patient's studies).");
  }
  const dicom::DicomPeer pacs = dicom::ParseDicomPeer(m_Pacs, "--pacs");
  dicom::RequireAETitle(m_AETitle, "--aet");
  if (!m_Labels.empty() || !m_Overlay.empty() || !m_DicomOutput.empty() || !m_Series.empty())
  {
    throw Error("With --pacs, each series' files go into its sub-folder of --output; --labels, --overlay, "
                "--dicom-output and --series do not apply.");
  }
  if (fs::exists(m_Output) && !fs::is_directory(m_Output))
  {
    throw Error(fmt::format("With --pacs, --output must be a folder; '{}' is a file.", m_Output));
  }
  if (!m_Report.empty())
  {
    RequireFolderOf(m_Report, "report");
  }
  std::error_code error;
  fs::create_directories(m_Output, error);
  if (error)
  {
    throw Error(fmt::format("Cannot create the output folder '{}': {}.", m_Output, error.message()));
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
  options.progress = ProgressReporter::Style::Silent;
  const ScanInference inference(options);

  nlohmann::json report{ { "pacs", pacs.ToString() }, { "study_instance_uid", m_Study } };
  report["series"] = nlohmann::json::array();
  report["failures"] = nlohmann::json::array();
  int status = 0;
  size_t scored = 0;
  for (const dicom::SeriesMatch & series : dicom::FindSeries(m_AETitle, pacs, m_Study))
  {
    // Image series only: derived objects (earlier results share the source's modality), reports and
    // other classes are not scored.
    const std::vector<std::string> & images = dicom::AcceptedStorageClasses();
    const bool scannable =
      !series.sopClasses.empty() &&
      std::all_of(series.sopClasses.begin(), series.sopClasses.end(), [&images](const std::string & c) {
        return std::find(images.begin(), images.end(), c) != images.end();
      });
    if (!scannable)
    {
      report["skipped"].push_back({ { "series_instance_uid", series.seriesInstanceUid },
                                    { "modality", series.modality },
                                    { "sop_classes", series.sopClasses } });
      continue;
    }
    if (!dicom::IsValidUid(series.seriesInstanceUid))
    {
      // The UID names a folder here: what the PACS answered must not reach outside --output.
      report["failures"].push_back({ { "series_instance_uid", series.seriesInstanceUid },
                                     { "error", "the PACS answered an invalid Series Instance UID" } });
      status = 1;
      continue;
    }
    const fs::path folder = fs::path(m_Output) / series.seriesInstanceUid;
    const fs::path instances = folder / "instances";
    try
    {
      fs::remove_all(instances);
      fs::create_directories(instances);
      const size_t retrieved =
        dicom::RetrieveSeries(m_AETitle, pacs, m_Study, series.seriesInstanceUid, instances.string());
      std::fprintf(stderr,
                   "recontrast: series %s (%s, %s): %zu instance(s) retrieved\n",
                   series.seriesInstanceUid.c_str(),
                   series.modality.c_str(),
                   series.seriesDescription.c_str(),
                   retrieved);
      InferenceJob job;
      job.input = instances.string();
      job.output = (folder / ("anomaly." + m_Format)).string();
      job.dicomOutput = (folder / "dicom").string();
      nlohmann::json entry = inference.Run(job);
      entry["series_instance_uid"] = series.seriesInstanceUid;
      entry["modality"] = series.modality;
      entry["output"] = job.output;
      fs::remove_all(instances); // the PACS keeps the images; only the results stay here
      if (m_SendResults)
      {
        std::vector<std::string> files;
        for (const char * key : { "parametric_map", "segmentation" })
        {
          if (entry["dicom"].contains(key))
          {
            files.push_back(entry["dicom"][key].get<std::string>());
          }
        }
        for (const std::string & outcome : dicom::StoreFiles(m_AETitle, pacs, files))
        {
          if (!outcome.empty())
          {
            throw Error(
              fmt::format("The results of the series {} were not all stored: {}.", series.seriesInstanceUid, outcome));
          }
        }
        entry["sent_to"] = pacs.ToString();
      }
      report["series"].push_back(entry);
      ++scored;
    }
    catch (const Error & e)
    {
      fs::remove_all(instances, error);
      std::fprintf(stderr, "recontrast: %s\n", e.what());
      report["failures"].push_back({ { "series_instance_uid", series.seriesInstanceUid }, { "error", e.what() } });
      status = 1;
    }
    catch (const fs::filesystem_error & e)
    {
      std::fprintf(stderr, "recontrast: %s\n", e.what());
      report["failures"].push_back({ { "series_instance_uid", series.seriesInstanceUid }, { "error", e.what() } });
      status = 1;
    }
  }
  if (scored == 0 && report["failures"].empty())
  {
    throw Error(fmt::format("The study {} at {} has no CT or MR image series to score.", m_Study, pacs.ToString()));
  }
  report["model"] = m_Model;
  report["settings"] = inference.Settings();
  if (!m_Report.empty())
  {
    AtomicFile file(m_Report);
    file.Stream() << report.dump(2) << '\n';
    file.Commit();
  }
  std::printf("recontrast: %zu series of study %s scored; results in %s%s\n",
              scored,
              m_Study.c_str(),
              m_Output.c_str(),
              m_SendResults ? fmt::format(" and sent to {}", pacs.ToString()).c_str() : "");
  return status;
}

} // namespace recontrast::cli
