/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Running the PyTorch reference (Testing/Python) from the tests.
 *
 *=========================================================================*/
#ifndef ReContrast_PythonOracle_h
#define ReContrast_PythonOracle_h

// Runs the project's PyTorch reference scripts (Testing/Python) for white-box fidelity tests.
// The interpreter comes from $RECONTRAST_PYTHON (set by CMake to a Python with torch); tests skip
// when it is empty.

#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>

namespace recontrast::testing
{

inline std::string
PythonInterpreter()
{
  const char * python = std::getenv("RECONTRAST_PYTHON");
  return python ? python : "";
}

inline std::filesystem::path
SourceDirectory()
{
  if (const char * source = std::getenv("RECONTRAST_SOURCE_DIR"))
  {
    return source;
  }
  return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path().parent_path();
}

/** A fresh directory under the system's temporary folder, removed with the object. */
class TemporaryDirectory
{
public:
  TemporaryDirectory()
  {
    std::random_device random;
    m_Path = std::filesystem::temp_directory_path() / ("recontrast-test-" + std::to_string(random()));
    std::filesystem::create_directories(m_Path);
  }
  ~TemporaryDirectory()
  {
    std::error_code ignored;
    std::filesystem::remove_all(m_Path, ignored);
  }
  TemporaryDirectory(const TemporaryDirectory &) = delete;
  TemporaryDirectory & operator=(const TemporaryDirectory &) = delete;
  const std::filesystem::path & Path() const { return m_Path; }

private:
  std::filesystem::path m_Path;
};

/** Runs `Testing/Python/<script> <arguments>` with the oracle interpreter; returns its exit code. */
inline int
RunPythonScript(const std::string & script, const std::string & arguments)
{
  const std::string command = "\"" + PythonInterpreter() + "\" \"" +
                              (SourceDirectory() / "Testing" / "Python" / script).string() + "\" " + arguments;
  return std::system(command.c_str());
}

} // namespace recontrast::testing

#endif
