/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  What the fuzz targets share: the readers take paths, so each input becomes a file in a private
 *  folder in memory (/dev/shm where it exists).
 *
 *=========================================================================*/
#ifndef ReContrast_FuzzSupport_h
#define ReContrast_FuzzSupport_h

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace recontrast::fuzz
{

/** A folder of this process for the inputs, emptied on every call. */
inline std::filesystem::path
FreshFolder()
{
  namespace fs = std::filesystem;
  static const fs::path folder = [] {
    const fs::path base = fs::is_directory("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
    return base / ("recontrast-fuzz-" + std::to_string(::getpid()));
  }();
  std::error_code ignored;
  fs::remove_all(folder, ignored);
  fs::create_directories(folder);
  return folder;
}

inline std::string
WriteFile(const std::filesystem::path & path, const uint8_t * data, size_t size)
{
  std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(data), static_cast<std::streamsize>(size));
  return path.string();
}

} // namespace recontrast::fuzz

#endif
