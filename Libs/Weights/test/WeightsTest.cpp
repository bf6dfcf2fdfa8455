/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The weights catalogue, the cache folder rule, SHA-256 checks and import into the cache. The
 *  downloads themselves are tested end to end against a real HTTP server (Testing/CLI,
 *  WeightsDownload).
 *
 *=========================================================================*/
#include "ReContrast/Error.h"
#include "ReContrast/ModelConfig.h"
#include "ReContrast/WeightsCatalogue.h"
#include "ReContrast/WeightsDownload.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace
{
namespace fs = std::filesystem;
using namespace recontrast::weights;
using ::testing::HasSubstr;

class WeightsTest : public ::testing::Test
{
protected:
  void SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("recontrast-weights-" + std::to_string(::getpid()) + "-" +
                                            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }
  void TearDown() override { fs::remove_all(m_Folder); }

  std::string Path(const std::string & name) const { return (m_Folder / name).string(); }

  std::string Write(const std::string & name, const std::string & content) const
  {
    std::ofstream(Path(name), std::ios::binary) << content;
    return Path(name);
  }

  // The message of the Error that `f` throws.
  template <typename F>
  static std::string Message(F f)
  {
    try
    {
      f();
    }
    catch (const recontrast::Error & e)
    {
      return e.what();
    }
    return "(nothing thrown)";
  }

  fs::path m_Folder;
};

// The FIPS 180-2 example: SHA-256("abc").
constexpr const char * AbcDigest = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

TEST_F(WeightsTest, Sha256OfAFileIsTheStandardDigest)
{
  EXPECT_EQ(Sha256OfFile(Write("abc", "abc")), AbcDigest);
  EXPECT_THAT(Message([&] { Sha256OfFile(Path("missing")); }), HasSubstr("Cannot read"));
}

TEST_F(WeightsTest, PublishedDigestsMatchAsLeadingDigitsCaseIgnored)
{
  EXPECT_TRUE(DigestMatches("ba7816bf", AbcDigest));
  EXPECT_TRUE(DigestMatches("BA7816BF8F01", AbcDigest));
  EXPECT_TRUE(DigestMatches(AbcDigest, AbcDigest));
  EXPECT_FALSE(DigestMatches("ba7816be", AbcDigest));
  EXPECT_FALSE(DigestMatches("", AbcDigest));
  EXPECT_FALSE(DigestMatches(std::string(AbcDigest) + "00", AbcDigest));
}

TEST_F(WeightsTest, TheBuiltInCatalogueHasTorchvisionWeightsForEveryBackbone)
{
  const WeightsCatalogue catalogue = WeightsCatalogue::BuiltIn();
  for (const std::string & backbone : recontrast::BackboneNames())
  {
    const WeightsEntry & entry = catalogue.Get(backbone);
    EXPECT_EQ(entry.url, "https://download.pytorch.org/models/" + entry.fileName);
    // torchvision's naming: <backbone>-<first 8 digits of the SHA-256>.pth.
    EXPECT_EQ(entry.fileName, backbone + "-" + entry.sha256 + ".pth");
    EXPECT_EQ(entry.sha256.size(), 8u);
  }
  // The paper's encoder: torchvision's IMAGENET1K_V1 wide_resnet50_2.
  EXPECT_EQ(catalogue.Get("wide_resnet50_2").fileName, "wide_resnet50_2-95faca4d.pth");
  EXPECT_THAT(Message([&] { catalogue.Get("vgg16"); }), HasSubstr("it has resnet18, resnet34"));
}

TEST_F(WeightsTest, ACatalogueFileReplacesTheBuiltInTable)
{
  const std::string path = Write("catalogue.json", R"({"weights": [{"name": "resnet18", "file": "r18.pth",
    "url": "http://127.0.0.1:8080/r18.pth", "sha256": "ba7816bf8f01cfea"}]})");
  const WeightsCatalogue catalogue = WeightsCatalogue::FromFile(path);
  ASSERT_EQ(catalogue.Entries().size(), 1u);
  EXPECT_EQ(catalogue.Source(), path);
  EXPECT_EQ(catalogue.Get("resnet18").url, "http://127.0.0.1:8080/r18.pth");
  EXPECT_EQ(catalogue.FindByDigest(AbcDigest), &catalogue.Entries()[0]);
  EXPECT_EQ(catalogue.FindByDigest(std::string(64, '0')), nullptr);

  ::setenv("RECONTRAST_WEIGHTS_CATALOGUE", path.c_str(), 1);
  EXPECT_EQ(WeightsCatalogue::Active().Source(), path);
  ::unsetenv("RECONTRAST_WEIGHTS_CATALOGUE");
  EXPECT_EQ(WeightsCatalogue::Active().Source(), "built-in");
}

TEST_F(WeightsTest, ABadCatalogueFileGetsOneSentenceNamingTheProblem)
{
  const auto load = [&](const std::string & text) {
    return Message([&] { WeightsCatalogue::FromFile(Write("bad.json", text)); });
  };
  const std::string good = R"("name": "resnet18", "file": "r.pth", "url": "https://example.org/r.pth")";
  EXPECT_THAT(Message([&] { WeightsCatalogue::FromFile(Path("none.json")); }), HasSubstr("cannot be read"));
  EXPECT_THAT(load("{"), HasSubstr("is not valid JSON"));
  EXPECT_THAT(load(R"({"entries": []})"), HasSubstr("needs a \"weights\" list"));
  EXPECT_THAT(load(R"({"weights": [{"name": "resnet18"}]})"), HasSubstr("Entry 1 of the weights catalogue"));
  EXPECT_THAT(load(R"({"weights": [{)" + good + R"(, "sha256": "xyz"}]})"), HasSubstr("8 to 64 hexadecimal"));
  EXPECT_THAT(
    load(R"({"weights": [{"name": "a", "file": "../r.pth", "url": "https://e.org/r", "sha256": "abcdef01"}]})"),
    HasSubstr("plain file name"));
  EXPECT_THAT(load(R"({"weights": [{"name": "a", "file": "r.pth", "url": "file:///r.pth", "sha256": "abcdef01"}]})"),
              HasSubstr("http:// or https://"));
  EXPECT_THAT(
    load(R"({"weights": [{)" + good + R"(, "sha256": "abcdef01"}, {)" + good + R"(, "sha256": "abcdef01"}]})"),
    HasSubstr("repeats the name resnet18"));
}

TEST_F(WeightsTest, TheCacheFolderFollowsTheXdgRule)
{
  const char * names[] = { "RECONTRAST_WEIGHTS_CACHE", "XDG_CACHE_HOME", "HOME" };
  std::string saved[3];
  for (int i = 0; i < 3; ++i)
  {
    saved[i] = std::getenv(names[i]) ? std::getenv(names[i]) : "";
  }
  ::unsetenv("RECONTRAST_WEIGHTS_CACHE");
  ::setenv("HOME", "/home/someone", 1);
  ::unsetenv("XDG_CACHE_HOME");
  EXPECT_EQ(DefaultCacheFolder(), "/home/someone/.cache/recontrast/weights");
  ::setenv("XDG_CACHE_HOME", "relative/ignored", 1);
  EXPECT_EQ(DefaultCacheFolder(), "/home/someone/.cache/recontrast/weights");
  ::setenv("XDG_CACHE_HOME", "/var/cache/me", 1);
  EXPECT_EQ(DefaultCacheFolder(), "/var/cache/me/recontrast/weights");
  ::setenv("RECONTRAST_WEIGHTS_CACHE", "/shared/weights", 1);
  EXPECT_EQ(DefaultCacheFolder(), "/shared/weights");
  for (int i = 0; i < 3; ++i)
  {
    saved[i].empty() ? ::unsetenv(names[i]) : ::setenv(names[i], saved[i].c_str(), 1);
  }
}

TEST_F(WeightsTest, ImportAcceptsOnlyTheCataloguesFilesAndVerifiesTheCache)
{
  const WeightsCatalogue catalogue = WeightsCatalogue::FromFile(Write("catalogue.json", R"({"weights": [
    {"name": "resnet18", "file": "resnet18-ba7816bf.pth", "url": "http://127.0.0.1:1/x", "sha256": "ba7816bf"},
    {"name": "resnet34", "file": "resnet34-00000000.pth", "url": "http://127.0.0.1:1/y", "sha256": "00000000"}]})"));
  const std::string cache = Path("cache/nested");
  const WeightsEntry & entry = catalogue.Get("resnet18");
  EXPECT_THAT(Message([&] { VerifiedCachedWeights(entry, cache); }),
              HasSubstr("not in the weights cache " + cache + "; fetch them with `recontrast weights fetch resnet18`"));

  const std::string download = Write("downloaded.pth", "abc");
  EXPECT_EQ(ImportWeights(download, catalogue, cache).name, "resnet18");
  EXPECT_EQ(VerifiedCachedWeights(entry, cache), CachedPath(entry, cache));
  EXPECT_EQ(Sha256OfFile(CachedPath(entry, cache)), AbcDigest);
  // Nothing but the file itself is left in the cache.
  EXPECT_EQ(std::distance(fs::directory_iterator(cache), fs::directory_iterator()), 1);

  EXPECT_THAT(Message([&] { ImportWeights(download, catalogue, cache, "resnet34"); }),
              HasSubstr("is not the published resnet34 weights"));
  EXPECT_THAT(Message([&] { ImportWeights(Write("other.pth", "abd"), catalogue, cache); }),
              HasSubstr("is none of the catalogue's weights"));

  std::ofstream(CachedPath(entry, cache), std::ios::binary) << "abd";
  EXPECT_THAT(Message([&] { VerifiedCachedWeights(entry, cache); }), HasSubstr("does not match its published SHA-256"));
}

TEST_F(WeightsTest, AnUnreachableServerGivesOneSentenceAndLeavesNoFile)
{
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  const WeightsEntry entry{
    "resnet18", "resnet18-ba7816bf.pth", "http://127.0.0.1:1/resnet18-ba7816bf.pth", "ba7816bf"
  };
  ::unsetenv("http_proxy");
  ::unsetenv("all_proxy");
  ::unsetenv("ALL_PROXY");
  const std::string message = Message([&] { FetchWeights(entry, Path("cache")); });
  EXPECT_THAT(message, HasSubstr("Could not download resnet18-ba7816bf.pth from http://127.0.0.1:1/"));
  EXPECT_THAT(message, HasSubstr("recontrast weights import resnet18-ba7816bf.pth"));
  EXPECT_TRUE(fs::is_empty(Path("cache")));
}

} // namespace
