/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The settings of `recontrast serve`: a JSON configuration file, overridden by options, checked
 *  whole at start-up.
 *
 *=========================================================================*/
#ifndef ReContrast_CLI_ServeConfig_h
#define ReContrast_CLI_ServeConfig_h

#include "ReContrast/DicomNetwork.h"

#include <cstdint>
#include <regex>
#include <string>
#include <vector>

namespace recontrast::cli
{

/** Which model scores a series: the first rule whose conditions all hold (an empty condition holds
 * for every series). */
struct ModelRule
{
  std::string model;
  std::string modality; ///< Equal to the series' Modality (case-insensitive).
  std::string bodyPart; ///< Equal to its Body Part Examined (case-insensitive).
  std::string
    seriesDescription; ///< A regular expression found in its Series Description (ECMAScript, case-insensitive).
  std::regex descriptionPattern;

  bool Matches(const std::string & modality, const std::string & bodyPart, const std::string & description) const;
};

struct ServeConfig
{
  std::string aeTitle = "RECONTRAST";
  std::uint16_t port = 11112;
  dicom::DicomPeer destination;
  std::string workFolder;
  std::vector<std::string> acceptedCallingAETitles;
  std::vector<ModelRule> models;
  double quietSeconds = 30.0;
  bool completeOnRelease = false;
  unsigned int maxAssociations = 4;
  std::uint64_t diskLimitBytes = 0; ///< 0: no limit.
  double retryInitialSeconds = 5.0;
  double retryMaxSeconds = 300.0;
  unsigned int timeoutSeconds = 30;
  int threads = 0;

  /** The rule for a series; null when none matches. */
  const ModelRule * RuleFor(const std::string & modality, const std::string & bodyPart,
                            const std::string & description) const;
};

/** Reads a configuration file (JSON; keys as in Documentation/PACS.md). Throws recontrast::Error with
 * one sentence naming the file and the setting that is wrong, unknown settings included. Relative
 * model paths are taken from the file's folder. */
ServeConfig ReadServeConfig(const std::string & path);

/** Checks what a node needs before it starts (work folder, destination, at least one model, models
 * readable, sensible numbers); throws recontrast::Error naming the setting. */
void CheckServeConfig(const ServeConfig & config);

} // namespace recontrast::cli

#endif
