/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The settings of `recontrast serve`.
 *
 *=========================================================================*/
#include "ServeConfig.h"

#include "ReContrast/Error.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>

namespace fs = std::filesystem;

namespace recontrast::cli
{

namespace
{

bool
EqualIgnoringCase(const std::string & a, const std::string & b)
{
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

// Reads one setting of the expected JSON type; the message names the file and the setting.
template <typename T>
T
Setting(const nlohmann::json & value, const std::string & file, const std::string & key)
{
  try
  {
    return value.get<T>();
  }
  catch (const nlohmann::json::exception &)
  {
    throw Error(fmt::format("The setting '{}' in '{}' has the wrong type ({}).", key, file, value.type_name()));
  }
}

double
NonNegative(const nlohmann::json & value, const std::string & file, const std::string & key)
{
  const double number = Setting<double>(value, file, key);
  if (!std::isfinite(number) || number < 0.0)
  {
    throw Error(fmt::format("The setting '{}' in '{}' must be a number of at least 0.", key, file));
  }
  return number;
}

} // namespace

bool
ModelRule::Matches(const std::string & seriesModality, const std::string & seriesBodyPart,
                   const std::string & description) const
{
  return (modality.empty() || EqualIgnoringCase(modality, seriesModality)) &&
         (bodyPart.empty() || EqualIgnoringCase(bodyPart, seriesBodyPart)) &&
         (seriesDescription.empty() || std::regex_search(description, descriptionPattern));
}

const ModelRule *
ServeConfig::RuleFor(const std::string & modality, const std::string & bodyPart, const std::string & description) const
{
  for (const ModelRule & rule : models)
  {
    if (rule.Matches(modality, bodyPart, description))
    {
      return &rule;
    }
  }
  return nullptr;
}

ServeConfig
ReadServeConfig(const std::string & path)
{
  std::ifstream in(path);
  if (!in)
  {
    throw Error(fmt::format("Cannot read the configuration file '{}'.", path));
  }
  nlohmann::json j;
  try
  {
    j = nlohmann::json::parse(in);
  }
  catch (const nlohmann::json::exception & e)
  {
    throw Error(fmt::format("The configuration file '{}' is not valid JSON ({}).", path, e.what()));
  }
  if (!j.is_object())
  {
    throw Error(fmt::format("The configuration file '{}' must hold one JSON object.", path));
  }
  const fs::path folder = fs::absolute(fs::path(path)).parent_path();
  ServeConfig c;
  for (const auto & [key, value] : j.items())
  {
    if (key == "ae_title")
    {
      c.aeTitle = Setting<std::string>(value, path, key);
    }
    else if (key == "port")
    {
      const int port = Setting<int>(value, path, key);
      if (port < 1 || port > 65535)
      {
        throw Error(fmt::format("The setting 'port' in '{}' must be between 1 and 65535.", path));
      }
      c.port = static_cast<std::uint16_t>(port);
    }
    else if (key == "destination")
    {
      c.destination = dicom::ParseDicomPeer(Setting<std::string>(value, path, key), "The destination in " + path);
    }
    else if (key == "work_folder")
    {
      const fs::path work(Setting<std::string>(value, path, key));
      c.workFolder = (work.is_relative() ? folder / work : work).string();
    }
    else if (key == "accepted_calling_ae_titles")
    {
      c.acceptedCallingAETitles = Setting<std::vector<std::string>>(value, path, key);
    }
    else if (key == "quiet_period_seconds")
    {
      c.quietSeconds = NonNegative(value, path, key);
    }
    else if (key == "complete_on_release")
    {
      c.completeOnRelease = Setting<bool>(value, path, key);
    }
    else if (key == "max_associations")
    {
      const int count = Setting<int>(value, path, key);
      if (count < 1 || count > 64)
      {
        throw Error(fmt::format("The setting 'max_associations' in '{}' must be between 1 and 64.", path));
      }
      c.maxAssociations = static_cast<unsigned int>(count);
    }
    else if (key == "disk_limit_mb")
    {
      c.diskLimitBytes = static_cast<std::uint64_t>(NonNegative(value, path, key) * 1024.0 * 1024.0);
    }
    else if (key == "retry_initial_seconds")
    {
      c.retryInitialSeconds = NonNegative(value, path, key);
      if (c.retryInitialSeconds < 0.1)
      {
        throw Error(fmt::format("The setting 'retry_initial_seconds' in '{}' must be at least 0.1.", path));
      }
    }
    else if (key == "retry_max_seconds")
    {
      c.retryMaxSeconds = NonNegative(value, path, key);
    }
    else if (key == "timeout_seconds")
    {
      const int seconds = Setting<int>(value, path, key);
      if (seconds < 1 || seconds > 3600)
      {
        throw Error(fmt::format("The setting 'timeout_seconds' in '{}' must be between 1 and 3600.", path));
      }
      c.timeoutSeconds = static_cast<unsigned int>(seconds);
    }
    else if (key == "threads")
    {
      c.threads = static_cast<int>(NonNegative(value, path, key));
    }
    else if (key == "models")
    {
      if (!value.is_array())
      {
        throw Error(fmt::format("The setting 'models' in '{}' must be a list of rules.", path));
      }
      for (const auto & entry : value)
      {
        if (!entry.is_object())
        {
          throw Error(fmt::format("Each rule of 'models' in '{}' must be an object.", path));
        }
        ModelRule rule;
        for (const auto & [ruleKey, ruleValue] : entry.items())
        {
          const std::string name = "models." + ruleKey;
          if (ruleKey == "model")
          {
            const fs::path model(Setting<std::string>(ruleValue, path, name));
            rule.model = (model.is_relative() ? folder / model : model).string();
          }
          else if (ruleKey == "modality")
          {
            rule.modality = Setting<std::string>(ruleValue, path, name);
          }
          else if (ruleKey == "body_part")
          {
            rule.bodyPart = Setting<std::string>(ruleValue, path, name);
          }
          else if (ruleKey == "series_description")
          {
            rule.seriesDescription = Setting<std::string>(ruleValue, path, name);
            try
            {
              rule.descriptionPattern = std::regex(rule.seriesDescription, std::regex::ECMAScript | std::regex::icase);
            }
            catch (const std::regex_error &)
            {
              throw Error(fmt::format("The series_description '{}' of a rule in '{}' is not a regular expression.",
                                      rule.seriesDescription,
                                      path));
            }
          }
          else
          {
            throw Error(fmt::format("A rule of 'models' in '{}' has an unknown setting '{}' (known: model, "
                                    "modality, body_part, series_description).",
                                    path,
                                    ruleKey));
          }
        }
        if (rule.model.empty())
        {
          throw Error(fmt::format("A rule of 'models' in '{}' names no model.", path));
        }
        c.models.push_back(rule);
      }
    }
    else
    {
      throw Error(fmt::format("The configuration file '{}' has an unknown setting '{}'.", path, key));
    }
  }
  return c;
}

void
CheckServeConfig(const ServeConfig & c)
{
  dicom::RequireAETitle(c.aeTitle, "The node's AE title");
  for (const std::string & title : c.acceptedCallingAETitles)
  {
    dicom::RequireAETitle(title, "An accepted calling AE title");
  }
  if (c.workFolder.empty())
  {
    throw Error("The node needs a work folder: give --work or 'work_folder'.");
  }
  if (c.destination.aeTitle.empty())
  {
    throw Error("The node needs a destination for its results: give --destination AET@host:port or 'destination'.");
  }
  if (c.models.empty())
  {
    throw Error("The node needs a model: give --model or 'models' rules.");
  }
  for (const ModelRule & rule : c.models)
  {
    if (!fs::is_regular_file(rule.model))
    {
      throw Error(fmt::format("The model '{}' does not exist.", rule.model));
    }
  }
  if (c.retryMaxSeconds < c.retryInitialSeconds)
  {
    throw Error("The setting 'retry_max_seconds' must be at least 'retry_initial_seconds'.");
  }
}

} // namespace recontrast::cli
