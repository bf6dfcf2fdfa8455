/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Progress on the console (a bar) or for Slicer (filter-progress tags).
 *
 *=========================================================================*/
#include "ProgressReporter.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cstdio>
#include <unistd.h>

namespace recontrast::cli
{

namespace
{
std::string
Duration(double seconds)
{
  const long total = static_cast<long>(seconds + 0.5);
  return total >= 3600 ? fmt::format("{}h{:02}m", total / 3600, (total / 60) % 60)
                       : fmt::format("{}m{:02}s", total / 60, total % 60);
}
} // namespace

ProgressReporter::ProgressReporter(std::string task, Style style)
  : m_Task(std::move(task))
  , m_Style(style)
  , m_Terminal(style == Style::Console && isatty(fileno(stderr)) != 0)
  , m_Start(std::chrono::steady_clock::now())
  , m_LastLine(m_Start)
{
  if (m_Style == Style::Slicer)
  {
    std::printf(
      "<filter-start><filter-name>ReContrast</filter-name><filter-comment>%s</filter-comment></filter-start>\n",
      m_Task.c_str());
    std::fflush(stdout);
  }
}

ProgressReporter::~ProgressReporter()
{
  if (m_Terminal && !m_Finished)
  {
    std::fputc('\n', stderr);
  }
}

void
ProgressReporter::Update(double fraction, const std::string & detail)
{
  fraction = std::clamp(fraction, 0.0, 1.0);
  if (m_Style == Style::Silent || m_Finished)
  {
    return;
  }
  if (m_Style == Style::Slicer)
  {
    std::printf("<filter-progress>%.4f</filter-progress>\n", fraction);
    std::fflush(stdout);
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - m_Start).count();
  const std::string eta = fraction > 0.0 ? Duration(elapsed * (1.0 - fraction) / fraction) : "--";
  if (m_Terminal)
  {
    constexpr int width = 30;
    const int filled = static_cast<int>(fraction * width + 0.5);
    std::fprintf(stderr,
                 "\r%s [%s%s] %3.0f%%  %s  ETA %s   ",
                 m_Task.c_str(),
                 std::string(static_cast<size_t>(filled), '#').c_str(),
                 std::string(static_cast<size_t>(width - filled), '.').c_str(),
                 100.0 * fraction,
                 detail.c_str(),
                 eta.c_str());
    std::fflush(stderr);
  }
  // A line every 5 s, and one at 100 % (once: pipelines report their end more than once).
  else if ((std::chrono::duration<double>(now - m_LastLine).count() >= 5.0 || fraction >= 1.0) &&
           !(fraction >= 1.0 && m_PrintedEnd))
  {
    m_PrintedEnd = fraction >= 1.0;
    std::fprintf(stderr,
                 "%s: %.0f%% %s (elapsed %s, ETA %s)\n",
                 m_Task.c_str(),
                 100.0 * fraction,
                 detail.c_str(),
                 Duration(elapsed).c_str(),
                 eta.c_str());
    m_LastLine = now;
  }
}

void
ProgressReporter::Finish(const std::string & message)
{
  if (m_Finished)
  {
    return;
  }
  m_Finished = true;
  if (m_Style == Style::Slicer)
  {
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - m_Start).count();
    std::printf("<filter-end><filter-name>ReContrast</filter-name><filter-time>%.2f</filter-time></filter-end>\n",
                elapsed);
    std::fflush(stdout);
    return;
  }
  if (m_Terminal)
  {
    std::fputc('\n', stderr);
  }
  if (!message.empty() && m_Style == Style::Console)
  {
    std::fprintf(stderr, "%s\n", message.c_str());
  }
}

} // namespace recontrast::cli
