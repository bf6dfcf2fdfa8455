/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Files that appear whole or not at all: a temporary name, then a rename.
 *
 *=========================================================================*/
#include "ReContrast/AtomicFile.h"

#include "ReContrast/Error.h"

#include <filesystem>
#include <random>

namespace recontrast
{

AtomicFile::AtomicFile(std::string path, Mode mode)
  : m_Path(std::move(path))
{
  namespace fs = std::filesystem;
  const fs::path target(m_Path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code error;
  if (!fs::is_directory(folder, error))
  {
    throw Error("Cannot write '" + m_Path + "': the folder '" + folder.string() + "' does not exist.");
  }
  std::random_device random;
  m_TemporaryPath = (folder / (".partial-" + std::to_string(random()) + "-" + target.filename().string())).string();
  if (mode == Mode::PathOnly)
  {
    return;
  }
  m_Stream.open(m_TemporaryPath, std::ios::binary | std::ios::trunc);
  if (!m_Stream)
  {
    throw Error("Cannot write '" + m_Path + "': the folder '" + folder.string() + "' is not writable.");
  }
}

AtomicFile::~AtomicFile()
{
  if (!m_Committed)
  {
    m_Stream.close();
    std::error_code ignored;
    std::filesystem::remove(m_TemporaryPath, ignored);
  }
}

void
AtomicFile::Commit()
{
  bool written = true;
  if (m_Stream.is_open())
  {
    m_Stream.flush();
    written = static_cast<bool>(m_Stream);
    m_Stream.close();
  }
  if (!written)
  {
    throw Error("Writing '" + m_Path + "' failed (disk full?); nothing was written.");
  }
  std::error_code error;
  std::filesystem::rename(m_TemporaryPath, m_Path, error);
  if (error)
  {
    throw Error("Cannot write '" + m_Path + "': " + error.message() + ".");
  }
  m_Committed = true;
}

} // namespace recontrast
