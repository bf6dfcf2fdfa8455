/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Progress on the console (a bar) or for Slicer (filter-progress tags).
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_ProgressReporter_h
#define ReContrast_CLI_ProgressReporter_h

#include <chrono>
#include <string>

namespace recontrast::cli
{

/** Shows progress of a long job: a redrawn bar with ETA on a terminal, one plain line every few
 * seconds otherwise (logs of batch pipelines), Slicer's execution-model tags for CLI modules, or
 * nothing (a step inside a larger job that reports its own progress). */
class ProgressReporter
{
public:
  enum class Style
  {
    Console, ///< stderr: a bar on a terminal, plain lines otherwise.
    Slicer,  ///< stdout: <filter-start>, <filter-progress> and <filter-end>, which Slicer reads.
    Silent
  };

  explicit ProgressReporter(std::string task, Style style = Style::Console);
  ~ProgressReporter();
  ProgressReporter(const ProgressReporter &) = delete;
  ProgressReporter & operator=(const ProgressReporter &) = delete;

  /** fraction in [0, 1]; detail: e.g. "loss 0.4312". */
  void Update(double fraction, const std::string & detail = "");
  /** Ends the report (a newline after a bar, <filter-end> for Slicer). */
  void Finish(const std::string & message = "");

private:
  std::string m_Task;
  Style m_Style;
  bool m_Terminal;
  bool m_Finished = false;
  bool m_PrintedEnd = false;
  std::chrono::steady_clock::time_point m_Start;
  std::chrono::steady_clock::time_point m_LastLine;
};

} // namespace recontrast::cli

#endif
