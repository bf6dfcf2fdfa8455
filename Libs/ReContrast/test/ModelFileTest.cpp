/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The model file: round trip, content-based detection, and every way a file can be wrong.
 *
 *=========================================================================*/
#include "ModelFile.h"
#include "NetworkState.h"
#include "PythonOracle.h"
#include "ReContrast/Error.h"
#include "ReContrastNetwork.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <fstream>

namespace
{
using recontrast::testing::TemporaryDirectory;

recontrast::ModelFileContents
TinyModel(recontrast::Backbone backbone = recontrast::Backbone::ResNet18)
{
  torch::manual_seed(1);
  recontrast::ReContrastNetwork network(backbone);
  recontrast::ModelFileContents contents;
  contents.kind = "model";
  contents.description.config.backbone = backbone;
  contents.description.config.imageSize = 64;
  contents.description.training.iterations = 12;
  contents.description.training.dataSummary = "unit test";
  contents.description.calibration.valid = true;
  contents.description.calibration.mean = 1.5;
  contents.description.calibration.std = 0.25;
  contents.description.properties["intensity_preset"] = "mr";
  contents.tensors = recontrast::StateOf(*network);
  return contents;
}

std::string
ReadAll(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void
WriteAll(const std::string & path, const std::string & bytes)
{
  std::ofstream(path, std::ios::binary) << bytes;
}

std::string
ErrorOf(const std::function<void()> & action)
{
  try
  {
    action();
  }
  catch (const recontrast::Error & e)
  {
    return e.what();
  }
  return "";
}

TEST(ModelFile, RoundTripKeepsEveryTensorAndTheDescription)
{
  TemporaryDirectory directory;
  const std::string path = (directory.Path() / "model.rcm").string();
  const auto written = TinyModel();
  recontrast::WriteModelFile(path, written);
  EXPECT_TRUE(recontrast::IsModelFile(path));

  const auto read = recontrast::ReadModelFile(path);
  ASSERT_EQ(read.tensors.size(), written.tensors.size());
  std::map<std::string, torch::Tensor> byName(read.tensors.begin(), read.tensors.end());
  for (const auto & [name, tensor] : written.tensors)
  {
    ASSERT_TRUE(byName.count(name)) << name;
    EXPECT_TRUE(torch::equal(byName[name], tensor)) << name;
  }
  EXPECT_EQ(read.description.config.backbone, recontrast::Backbone::ResNet18);
  EXPECT_EQ(read.description.config.imageSize, 64);
  EXPECT_EQ(read.description.training.dataSummary, "unit test");
  EXPECT_DOUBLE_EQ(read.description.calibration.std, 0.25);
  EXPECT_EQ(read.description.properties.at("intensity_preset"), "mr");

  const auto description = recontrast::ReadModelDescription(path);
  EXPECT_EQ(description.training.iterations, 12);
}

TEST(ModelFile, PositionAwareCalibrationRoundTripsAndOlderDescriptionsReadAsGlobal)
{
  TemporaryDirectory directory;
  const std::string path = (directory.Path() / "model.rcm").string();
  auto written = TinyModel();
  written.description.calibration.positions = { { 0.25, 1.75, 0.5, 12 }, { 0.75, 1.25, 0.125, 9 } };
  written.description.calibration.positionLevel = 0.375;
  written.description.calibration.positionScale = 1.5;
  recontrast::WriteModelFile(path, written);
  const recontrast::ScoreCalibration read = recontrast::ReadModelDescription(path).calibration;
  ASSERT_EQ(read.positions.size(), 2u);
  EXPECT_DOUBLE_EQ(read.positions[1].position, 0.75);
  EXPECT_DOUBLE_EQ(read.positions[1].mean, 1.25);
  EXPECT_DOUBLE_EQ(read.positions[1].std, 0.125);
  EXPECT_EQ(read.positions[0].samples, 12);
  EXPECT_DOUBLE_EQ(read.positionLevel, 0.375);
  EXPECT_DOUBLE_EQ(read.positionScale, 1.5);

  // A description written before the position profile existed: the global form only.
  nlohmann::json older = nlohmann::json::parse(recontrast::DescriptionToJson(written.description));
  for (const char * key : { "positions", "position_level", "position_scale" })
  {
    older["calibration"].erase(key);
  }
  const recontrast::ModelDescription global = recontrast::DescriptionFromJson(older.dump(), "older.rcm");
  EXPECT_TRUE(global.calibration.valid);
  EXPECT_TRUE(global.calibration.positions.empty());
  EXPECT_DOUBLE_EQ(global.calibration.NormalAt(0.1).first, 1.5);

  // A profile that training cannot have made is refused with one sentence.
  nlohmann::json damaged = nlohmann::json::parse(recontrast::DescriptionToJson(written.description));
  damaged["calibration"]["positions"][1]["position"] = 0.1; // not increasing
  EXPECT_NE(
    ErrorOf([&] { recontrast::DescriptionFromJson(damaged.dump(), "damaged.rcm"); }).find("damaged score calibration"),
    std::string::npos);
  damaged = nlohmann::json::parse(recontrast::DescriptionToJson(written.description));
  damaged["calibration"]["position_scale"] = -1.0;
  EXPECT_NE(
    ErrorOf([&] { recontrast::DescriptionFromJson(damaged.dump(), "damaged.rcm"); }).find("damaged score calibration"),
    std::string::npos);
}

TEST(ModelFile, MapProfileAndMapPairsRoundTripAndOlderFilesReadAsBefore)
{
  TemporaryDirectory directory;
  const std::string path = (directory.Path() / "model.rcm").string();
  auto written = TinyModel();
  written.description.config.mapPairs = recontrast::MapPairs::Frozen;
  recontrast::ScoreCalibration & c = written.description.calibration;
  c.positions = { { 0.25, 1.75, 0.5, 12 }, { 0.75, 1.25, 0.125, 9 } };
  c.mapGrid = 16;
  c.mapMean.assign(2 * 256, 0.5f);
  c.mapMean[300] = 0.75f;
  c.mapStd.assign(2 * 256, 0.125f);
  c.mapLevel = 2.5;
  c.mapScale = 0.75;
  recontrast::WriteModelFile(path, written);
  const recontrast::ModelDescription read = recontrast::ReadModelDescription(path);
  EXPECT_EQ(read.config.mapPairs, recontrast::MapPairs::Frozen);
  ASSERT_TRUE(read.calibration.HasMapProfile());
  EXPECT_EQ(read.calibration.mapMean, c.mapMean);
  EXPECT_EQ(read.calibration.mapStd, c.mapStd);
  EXPECT_DOUBLE_EQ(read.calibration.mapLevel, 2.5);
  EXPECT_DOUBLE_EQ(read.calibration.mapScale, 0.75);

  // Files from before either choice: the paper's six pairs, maps calibrated per slice.
  nlohmann::json older = nlohmann::json::parse(recontrast::DescriptionToJson(written.description));
  older["config"].erase("map_pairs");
  older["calibration"].erase("map_profile");
  const recontrast::ModelDescription before = recontrast::DescriptionFromJson(older.dump(), "older.rcm");
  EXPECT_EQ(before.config.mapPairs, recontrast::MapPairs::All);
  EXPECT_FALSE(before.calibration.HasMapProfile());
  EXPECT_EQ(before.calibration.positions.size(), 2u);

  // A profile of the wrong size or with a zero spread is refused with one sentence.
  nlohmann::json damaged = nlohmann::json::parse(recontrast::DescriptionToJson(written.description));
  damaged["calibration"]["map_profile"]["grid"] = 8;
  EXPECT_NE(ErrorOf([&] { recontrast::DescriptionFromJson(damaged.dump(), "damaged.rcm"); }).find("map profile"),
            std::string::npos);
  damaged = nlohmann::json::parse(recontrast::DescriptionToJson(written.description));
  damaged["calibration"]["map_profile"]["std"][3] = 0.0;
  EXPECT_NE(ErrorOf([&] { recontrast::DescriptionFromJson(damaged.dump(), "damaged.rcm"); }).find("map profile"),
            std::string::npos);
  damaged = nlohmann::json::parse(recontrast::DescriptionToJson(written.description));
  damaged["config"]["map_pairs"] = "some";
  EXPECT_FALSE(ErrorOf([&] { recontrast::DescriptionFromJson(damaged.dump(), "damaged.rcm"); }).empty());
}

TEST(ModelFile, DetectionIsByContentNotByName)
{
  TemporaryDirectory directory;
  const std::string model = (directory.Path() / "weights.pth").string();
  recontrast::WriteModelFile(model, TinyModel());
  EXPECT_TRUE(recontrast::IsModelFile(model));
  const std::string text = (directory.Path() / "model.rcm").string();
  WriteAll(text, "this is not a model\n");
  EXPECT_FALSE(recontrast::IsModelFile(text));
  EXPECT_NE(ErrorOf([&] { recontrast::ReadModelFile(text); }).find("is not a ReContrast model file"),
            std::string::npos);
}

TEST(ModelFile, DamagedTruncatedAndOtherVersionsAreRefusedClearly)
{
  TemporaryDirectory directory;
  const std::string path = (directory.Path() / "model.rcm").string();
  recontrast::WriteModelFile(path, TinyModel());
  const std::string bytes = ReadAll(path);

  const std::string damaged = (directory.Path() / "damaged.rcm").string();
  std::string flipped = bytes;
  flipped[flipped.size() - 100] ^= 0x5a;
  WriteAll(damaged, flipped);
  EXPECT_NE(ErrorOf([&] { recontrast::ReadModelFile(damaged); }).find("damaged (checksum mismatch)"),
            std::string::npos);

  const std::string truncated = (directory.Path() / "truncated.rcm").string();
  WriteAll(truncated, bytes.substr(0, bytes.size() / 2));
  EXPECT_NE(ErrorOf([&] { recontrast::ReadModelFile(truncated); }).find("truncated"), std::string::npos);

  const std::string future = (directory.Path() / "future.rcm").string();
  std::string newer = bytes;
  const auto at = newer.find("\"format_version\":\"1\"");
  ASSERT_NE(at, std::string::npos);
  newer.replace(at, 20, "\"format_version\":\"9\"");
  WriteAll(future, newer);
  EXPECT_NE(ErrorOf([&] { recontrast::ReadModelFile(future); }).find("format version 9"), std::string::npos);

  EXPECT_NE(
    ErrorOf([&] { recontrast::ReadModelFile((directory.Path() / "missing.rcm").string()); }).find("Cannot open"),
    std::string::npos);
}

TEST(ModelFile, WritingIntoAMissingFolderFailsAndLeavesNothing)
{
  TemporaryDirectory directory;
  const auto path = directory.Path() / "no-such-folder" / "model.rcm";
  EXPECT_NE(ErrorOf([&] { recontrast::WriteModelFile(path.string(), TinyModel()); }).find("does not exist"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_TRUE(std::filesystem::is_empty(directory.Path()));
}

TEST(ModelFile, WeightsOfAnotherBackboneAreRefused)
{
  TemporaryDirectory directory;
  const std::string path = (directory.Path() / "model.rcm").string();
  auto contents = TinyModel(recontrast::Backbone::ResNet18);
  contents.description.config.backbone = recontrast::Backbone::ResNet34;
  recontrast::WriteModelFile(path, contents);
  const std::string message = ErrorOf([&] { recontrast::NetworkFromModelFile(recontrast::ReadModelFile(path), path); });
  EXPECT_NE(message.find("another"), std::string::npos) << message;
}

} // namespace
