#ifndef ReContrast_CLI_ProgressReporter_h
#define ReContrast_CLI_ProgressReporter_h

#include <chrono>
#include <string>

namespace recontrast::cli
{

/** Shows progress of a long job: a redrawn bar with ETA on a terminal, one plain line every few
 * seconds otherwise (logs of batch pipelines), and Slicer's <filter-progress> tags when asked. */
class ProgressReporter
{
public:
  explicit ProgressReporter(std::string task, bool slicerTags = false);
  ~ProgressReporter();

  /** fraction in [0, 1]; detail: e.g. "loss 0.4312". */
  void Update(double fraction, const std::string & detail = "");
  /** Ends the bar (a newline on a terminal). */
  void Finish(const std::string & message = "");

private:
  std::string m_Task;
  bool m_Terminal;
  bool m_SlicerTags;
  bool m_Finished = false;
  std::chrono::steady_clock::time_point m_Start;
  std::chrono::steady_clock::time_point m_LastLine;
};

} // namespace recontrast::cli

#endif
