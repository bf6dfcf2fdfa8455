/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The DICOM node's configuration file: every setting read, every mistake one sentence, rules
 *  chosen in order.
 *
 *=========================================================================*/
#include "ServeConfig.h"

#include "ReContrast/Error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace fs = std::filesystem;

namespace recontrast::cli
{
namespace
{

class ServeConfigFile : public ::testing::Test
{
protected:
  void SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("recontrast-serve-config-" + std::to_string(std::random_device{}()));
    fs::create_directories(m_Folder);
    std::ofstream(m_Folder / "brain.rcm") << "model";
  }
  void TearDown() override { fs::remove_all(m_Folder); }

  std::string Write(const std::string & text)
  {
    const fs::path path = m_Folder / "node.json";
    std::ofstream(path) << text;
    return path.string();
  }

  std::string ErrorOf(const std::string & text)
  {
    try
    {
      CheckServeConfig(ReadServeConfig(Write(text)));
    }
    catch (const Error & e)
    {
      return e.what();
    }
    return "";
  }

  fs::path m_Folder;
};

TEST_F(ServeConfigFile, ReadsEverySettingAndResolvesPathsFromTheFilesFolder)
{
  const ServeConfig c = ReadServeConfig(Write(R"({
    "ae_title": "AI_NODE", "port": 11113, "destination": "PACS@10.0.0.5:104", "work_folder": "work",
    "accepted_calling_ae_titles": ["PACS", "CT1"], "quiet_period_seconds": 12.5, "complete_on_release": true,
    "max_associations": 8, "disk_limit_mb": 2, "retry_initial_seconds": 1, "retry_max_seconds": 60,
    "timeout_seconds": 20, "threads": 2,
    "models": [{"model": "brain.rcm", "modality": "MR", "body_part": "BRAIN", "series_description": "t1|mprage"},
               {"model": "brain.rcm"}]})"));
  EXPECT_EQ(c.aeTitle, "AI_NODE");
  EXPECT_EQ(c.port, 11113);
  EXPECT_EQ(c.destination.ToString(), "PACS@10.0.0.5:104");
  EXPECT_EQ(fs::path(c.workFolder), m_Folder / "work");
  EXPECT_EQ(c.acceptedCallingAETitles, (std::vector<std::string>{ "PACS", "CT1" }));
  EXPECT_DOUBLE_EQ(c.quietSeconds, 12.5);
  EXPECT_TRUE(c.completeOnRelease);
  EXPECT_EQ(c.maxAssociations, 8u);
  EXPECT_EQ(c.diskLimitBytes, 2u * 1024u * 1024u);
  EXPECT_DOUBLE_EQ(c.retryInitialSeconds, 1.0);
  EXPECT_DOUBLE_EQ(c.retryMaxSeconds, 60.0);
  EXPECT_EQ(c.timeoutSeconds, 20u);
  EXPECT_EQ(c.threads, 2);
  ASSERT_EQ(c.models.size(), 2u);
  EXPECT_EQ(fs::path(c.models[0].model), m_Folder / "brain.rcm");
  EXPECT_NO_THROW(CheckServeConfig(c));
}

TEST_F(ServeConfigFile, RulesAreTriedInOrderCaseInsensitively)
{
  std::ofstream(m_Folder / "ct.rcm") << "model";
  const ServeConfig c = ReadServeConfig(Write(R"({"models": [
    {"model": "brain.rcm", "modality": "MR", "series_description": "t1|mprage"},
    {"model": "ct.rcm", "modality": "ct", "body_part": "chest"}]})"));
  ASSERT_NE(c.RuleFor("MR", "HEAD", "Sag MPRAGE 1mm"), nullptr);
  EXPECT_EQ(fs::path(c.RuleFor("MR", "HEAD", "Sag MPRAGE 1mm")->model).filename(), "brain.rcm");
  EXPECT_EQ(c.RuleFor("MR", "HEAD", "T2 FLAIR"), nullptr);
  ASSERT_NE(c.RuleFor("CT", "CHEST", ""), nullptr);
  EXPECT_EQ(fs::path(c.RuleFor("CT", "CHEST", "")->model).filename(), "ct.rcm");
  EXPECT_EQ(c.RuleFor("CT", "ABDOMEN", ""), nullptr);
}

TEST_F(ServeConfigFile, EachMistakeIsOneSentenceNamingTheSetting)
{
  const std::string base = R"("work_folder": "w", "destination": "PACS@host:104", )";
  const std::vector<std::pair<std::string, std::string>> cases{
    { "{" + base + R"("models": [{"model": "brain.rcm"}], "quiet_period": 3})", "unknown setting 'quiet_period'" },
    { "{" + base + R"("models": [{"model": "brain.rcm"}], "port": "104"})", "'port'" },
    { "{" + base + R"("models": [{"model": "brain.rcm"}], "port": 70000})", "between 1 and 65535" },
    { "{" + base + R"("models": [{"model": "brain.rcm"}], "quiet_period_seconds": -1})", "'quiet_period_seconds'" },
    { "{" + base + R"("models": [{"model": "brain.rcm", "series_description": "(unclosed"}]})",
      "is not a regular expression" },
    { "{" + base + R"("models": [{"model": "brain.rcm", "bodypart": "HEAD"}]})", "unknown setting 'bodypart'" },
    { "{" + base + R"("models": [{"modality": "MR"}]})", "names no model" },
    { "{" + base + R"("models": [{"model": "missing.rcm"}]})", "does not exist" },
    { "{" + base + R"("models": []})", "needs a model" },
    { R"({"destination": "PACS@host:104", "models": [{"model": "brain.rcm"}]})", "needs a work folder" },
    { R"({"work_folder": "w", "models": [{"model": "brain.rcm"}]})", "needs a destination" },
    { "{" + base + R"("models": [{"model": "brain.rcm"}], "destination": "PACS@host"})", "AET@host:port" },
    { "{" + base + R"("models": [{"model": "brain.rcm"}], "ae_title": "A TITLE THAT IS TOO LONG"})", "AE title" },
    { "{" + base + R"("models": [{"model": "brain.rcm"}], "retry_initial_seconds": 10, "retry_max_seconds": 5})",
      "retry_max_seconds" },
    { "[1, 2]", "one JSON object" },
    { "{ not json", "not valid JSON" },
  };
  for (const auto & [text, expected] : cases)
  {
    const std::string message = ErrorOf(text);
    EXPECT_NE(message.find(expected), std::string::npos) << text << "\n  gave: " << message;
    EXPECT_EQ(std::count(message.begin(), message.end(), '\n'), 0) << message;
  }
}

} // namespace
} // namespace recontrast::cli
