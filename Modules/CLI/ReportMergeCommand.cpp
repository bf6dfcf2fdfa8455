/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast report-merge`: one table of a batch's scans, whichever shards scored them.
 *
 *=========================================================================*/
#include "Commands.h"

#include "BatchRun.h"
#include "Inference.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "itkReContrastExceptionText.h"
#include "itkReContrastScanSampleSource.h"

#include <cstdio>
#include <map>

namespace recontrast::cli
{

ReportMergeCommand::ReportMergeCommand(CLI::App & app)
  : m_Command(app.add_subcommand("report-merge",
                                 "Join the status files of a batch's shards into one table of scans (CSV and JSON)."))
{
  auto * c = m_Command;
  c->add_option("--from", m_Folders, "Output folder(s) of `recontrast infer` on a folder or list (repeatable)")
    ->required()
    ->check(CLI::ExistingDirectory);
  c->add_option("--input", m_Input, "The batch's folder or list of scans: scans without a status are listed as missing")
    ->check(CLI::ExistingPath);
  c->add_option("--csv", m_Csv, "Table to write as CSV");
  c->add_option("--json", m_Json, "Table to write as JSON");
}

int
ReportMergeCommand::Run() const
{
  if (m_Csv.empty() && m_Json.empty())
  {
    throw Error("Give the table to write with --csv, --json or both.");
  }
  for (const std::string * path : { &m_Csv, &m_Json })
  {
    if (!path->empty())
    {
      RequireFolderOf(*path, "table");
    }
  }
  std::vector<std::string> expected;
  if (!m_Input.empty())
  {
    try
    {
      expected = itk::ReContrastScanSampleSource::ListScans(m_Input);
    }
    catch (const itk::ExceptionObject & e)
    {
      throw Error(itk::ReContrastExceptionText(e));
    }
  }
  size_t leftOut = 0;
  const nlohmann::json table = MergeStatuses(m_Folders, expected, &leftOut);
  std::map<std::string, int> counts;
  for (const auto & row : table)
  {
    ++counts[row["status"].get<std::string>()];
  }
  if (!m_Json.empty())
  {
    AtomicFile file(m_Json);
    file.Stream() << nlohmann::json{ { "scans", table } }.dump(2) << '\n';
    file.Commit();
  }
  if (!m_Csv.empty())
  {
    AtomicFile file(m_Csv);
    file.Stream() << TableAsCsv(table);
    file.Commit();
  }
  std::printf("recontrast: %zu scans: %d done, %d failed, %d missing",
              table.size(),
              counts["done"],
              counts["failed"],
              counts["missing"]);
  if (leftOut > 0)
  {
    std::printf(" (%zu status file(s) of scans not in %s left out)", leftOut, m_Input.c_str());
  }
  for (const std::string * path : { &m_Csv, &m_Json })
  {
    if (!path->empty())
    {
      std::printf("; table %s", path->c_str());
    }
  }
  std::printf("\n");
  return counts["failed"] > 0 || counts["missing"] > 0 ? 1 : 0;
}

} // namespace recontrast::cli
