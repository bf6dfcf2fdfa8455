/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast find`: a patient's studies, or a study's series, asked of a PACS with C-FIND.
 *
 *=========================================================================*/
#include "Commands.h"

#include "ReContrast/DicomNetwork.h"
#include "ReContrast/Error.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace recontrast::cli
{

FindCommand::FindCommand(CLI::App & app)
  : m_Command(app.add_subcommand("find", "List a patient's studies (or a study's series) in a PACS, with C-FIND."))
{
  auto * c = m_Command;
  c->add_option("--pacs", m_Pacs, "The PACS: AET@host:port")->required();
  c->add_option("--patient", m_Patient, "Patient ID: list the patient's studies");
  c->add_option("--study", m_Study, "Study Instance UID: list the study's series");
  c->add_option("--aet", m_AETitle, "This side's AE title")->capture_default_str();
  c->add_flag("--json", m_Json, "JSON instead of a table");
}

int
FindCommand::Run() const
{
  const dicom::DicomPeer pacs = dicom::ParseDicomPeer(m_Pacs, "--pacs");
  dicom::RequireAETitle(m_AETitle, "--aet");
  if (m_Patient.empty() == m_Study.empty())
  {
    throw Error("Give either --patient (a patient's studies) or --study (a study's series).");
  }
  nlohmann::json list = nlohmann::json::array();
  if (!m_Patient.empty())
  {
    const std::vector<dicom::StudyMatch> studies = dicom::FindStudies(m_AETitle, pacs, m_Patient);
    for (const dicom::StudyMatch & s : studies)
    {
      list.push_back({ { "study_instance_uid", s.studyInstanceUid },
                       { "patient_id", s.patientId },
                       { "patient_name", s.patientName },
                       { "study_date", s.studyDate },
                       { "study_description", s.studyDescription },
                       { "accession_number", s.accessionNumber },
                       { "modalities", s.modalitiesInStudy } });
      if (!m_Json)
      {
        std::printf("%-8s  %-10s  %-24s  %s\n",
                    s.studyDate.c_str(),
                    s.modalitiesInStudy.c_str(),
                    s.studyDescription.c_str(),
                    s.studyInstanceUid.c_str());
      }
    }
  }
  else
  {
    for (const dicom::SeriesMatch & s : dicom::FindSeries(m_AETitle, pacs, m_Study))
    {
      list.push_back({ { "series_instance_uid", s.seriesInstanceUid },
                       { "modality", s.modality },
                       { "series_description", s.seriesDescription },
                       { "series_number", s.seriesNumber },
                       { "instances", s.instances },
                       { "sop_classes", s.sopClasses } });
      if (!m_Json)
      {
        std::printf("%-4s  %-4s  %5d  %-24s  %s\n",
                    s.seriesNumber.c_str(),
                    s.modality.c_str(),
                    s.instances,
                    s.seriesDescription.c_str(),
                    s.seriesInstanceUid.c_str());
      }
    }
  }
  if (m_Json)
  {
    std::printf("%s\n", list.dump(1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  }
  return 0;
}

} // namespace recontrast::cli
