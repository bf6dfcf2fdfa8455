/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Files that appear whole or not at all, and what killed writers leave behind.
 *
 *=========================================================================*/
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#ifndef _WIN32
#  include <sys/wait.h>
#  include <unistd.h>
#endif

namespace
{
namespace fs = std::filesystem;
using recontrast::AtomicFile;

class AtomicFileTest : public ::testing::Test
{
protected:
  void SetUp() override
  {
    m_Folder = fs::temp_directory_path() /
               ("recontrast-atomic-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }
  void TearDown() override { fs::remove_all(m_Folder); }

  std::string Path(const std::string & name) const { return (m_Folder / name).string(); }

  std::set<std::string> Entries() const
  {
    std::set<std::string> names;
    for (const auto & entry : fs::directory_iterator(m_Folder))
    {
      names.insert(entry.path().filename().string());
    }
    return names;
  }

  static std::string Read(const std::string & path)
  {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }

  static void Write(const std::string & path, const std::string & text)
  {
    std::ofstream(path, std::ios::binary) << text;
  }

  fs::path m_Folder;
};

TEST_F(AtomicFileTest, CommitPublishesTheWholeFileAndNothingElse)
{
  Write(Path("result.txt"), "old");
  {
    AtomicFile file(Path("result.txt"));
    file.Stream() << "new content";
    // Until Commit() the target keeps its old content.
    EXPECT_EQ(Read(Path("result.txt")), "old");
    EXPECT_TRUE(fs::exists(file.TemporaryPath()));
    file.Commit();
  }
  EXPECT_EQ(Read(Path("result.txt")), "new content");
  EXPECT_EQ(Entries(), std::set<std::string>{ "result.txt" });
}

TEST_F(AtomicFileTest, WithoutCommitNothingIsPublishedOrLeftBehind)
{
  {
    AtomicFile file(Path("result.txt"));
    file.Stream() << "half";
  }
  EXPECT_TRUE(Entries().empty());
}

TEST_F(AtomicFileTest, TwoWritersOfOneTargetUseDifferentTemporaries)
{
  AtomicFile first(Path("result.txt"));
  AtomicFile second(Path("result.txt"));
  EXPECT_NE(first.TemporaryPath(), second.TemporaryPath());
  first.Stream() << "first";
  second.Stream() << "second";
  first.Commit();
  second.Commit();
  EXPECT_EQ(Read(Path("result.txt")), "second");
  EXPECT_EQ(Entries(), std::set<std::string>{ "result.txt" });
}

TEST_F(AtomicFileTest, FoldersThatAreMissingOrTargetsThatAreFoldersAreRefused)
{
  EXPECT_THROW(AtomicFile(Path("missing/result.txt")), recontrast::Error);
  fs::create_directories(Path("folder"));
  try
  {
    AtomicFile file(Path("folder"));
    FAIL() << "a folder was accepted as the target";
  }
  catch (const recontrast::Error & e)
  {
    EXPECT_NE(std::string(e.what()).find("it is a folder"), std::string::npos) << e.what();
  }
}

#ifndef _WIN32
std::string
HostName()
{
  char name[256] = {};
  gethostname(name, sizeof(name) - 1);
  std::string host(name[0] ? name : "host");
  for (char & c : host)
  {
    c = (c == '-' || c == '/') ? '_' : c;
  }
  return host;
}

// A process id that belonged to a process that has ended.
pid_t
DeadProcessId()
{
  const pid_t child = fork();
  if (child == 0)
  {
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return child;
}

TEST_F(AtomicFileTest, WritingANameAgainRemovesWhatDeadWritersOfThatNameLeft)
{
  const std::string prefix = ".partial-" + HostName() + "-";
  const std::string dead = std::to_string(DeadProcessId());
  const std::string alive = std::to_string(getpid());
  const std::string staleOfTarget = prefix + dead + "-17-map.nii.gz";
  const std::string aliveOfTarget = prefix + alive + "-18-map.nii.gz";           // a writer still running
  const std::string staleOfOther = prefix + dead + "-19-other-map.nii.gz";       // another target's name ends alike
  const std::string otherHost = ".partial-elsewhere-" + dead + "-20-map.nii.gz"; // liveness unknown here
  for (const std::string & name : { staleOfTarget, aliveOfTarget, staleOfOther, otherHost })
  {
    Write(Path(name), "left behind");
  }
  {
    AtomicFile file(Path("map.nii.gz"));
    file.Stream() << "map";
    file.Commit();
  }
  EXPECT_EQ(Entries(), (std::set<std::string>{ "map.nii.gz", aliveOfTarget, staleOfOther, otherHost }));
}
#endif

} // namespace
