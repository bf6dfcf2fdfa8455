/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast serve`: configuration, wiring and signals of the DICOM node.
 *
 *=========================================================================*/
#include "Commands.h"
#include "DicomNode.h"
#include "OptionChecks.h"
#include "ServeConfig.h"

#include "ReContrast/Error.h"

#include <atomic>
#include <csignal>

namespace recontrast::cli
{

namespace
{

std::atomic<bool> g_StopRequested{ false };

extern "C" void
RequestStop(int)
{
  g_StopRequested = true;
}

} // namespace

ServeCommand::ServeCommand(CLI::App & app)
  : m_Command(app.add_subcommand("serve",
                                 "Run a DICOM node: receive series (C-STORE), score them, send the Parametric Map "
                                 "and SEG back to the destination."))
{
  auto * c = m_Command;
  c->add_option("--config", m_Config, "JSON configuration file (Documentation/PACS.md); options override it")
    ->check(CLI::ExistingFile);
  c->add_option("--model",
                m_Models,
                "Model that scores every series (replaces the rules of --config, which choose a model per series)")
    ->check(CLI::ExistingFile);
  c->add_option("--aet", m_AETitle, "The node's AE title (default RECONTRAST)");
  c->add_option("--port", m_Port, "The node's DICOM port (default 11112)")->check(WholeNumber(1, 65535));
  c->add_option(
    "--destination", m_Destination, "Where results go: AET@host:port (normally the PACS that sent the series)");
  c->add_option("--work", m_Work, "Work folder: received instances, results, one record per series");
  c->add_option("--status", m_Status, "Print the series records of this work folder and exit");
  c->add_flag("--json", m_Json, "With --status: JSON instead of a table");
}

int
ServeCommand::Run() const
{
  if (!m_Status.empty())
  {
    PrintDicomNodeStatus(m_Status, m_Json);
    return 0;
  }
  ServeConfig config = m_Config.empty() ? ServeConfig{} : ReadServeConfig(m_Config);
  if (!m_Models.empty())
  {
    config.models.clear();
    for (const std::string & model : m_Models)
    {
      ModelRule rule;
      rule.model = model;
      config.models.push_back(rule);
    }
  }
  if (!m_AETitle.empty())
  {
    config.aeTitle = m_AETitle;
  }
  if (m_Port > 0)
  {
    config.port = static_cast<std::uint16_t>(m_Port);
  }
  if (!m_Destination.empty())
  {
    config.destination = dicom::ParseDicomPeer(m_Destination, "--destination");
  }
  if (!m_Work.empty())
  {
    config.workFolder = m_Work;
  }
  CheckServeConfig(config);

  // SIGTERM and SIGINT: finish the series in hand, then stop.
  std::signal(SIGTERM, RequestStop);
  std::signal(SIGINT, RequestStop);
  RunDicomNode(config, []() { return g_StopRequested.load(); });
  return 0;
}

} // namespace recontrast::cli
