/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Files that appear whole or not at all: a temporary name, then a rename.
 *
 *=========================================================================*/
#ifndef ReContrast_AtomicFile_h
#define ReContrast_AtomicFile_h

#include "ReContrast/ReContrastCoreExport.h"

#include <fstream>
#include <string>

namespace recontrast
{

/** Writes a file so that it appears complete or not at all: the content goes to a temporary file
 * in the same folder, which Commit() renames over the target. Destroyed without Commit(), it removes
 * the temporary file, so an error or a cancel never leaves a half-written result.
 *
 * The temporary name keeps the target's file name at its end (".partial-<host>-<pid>-<n>-<name>"), so
 * writers that choose the format by extension (ITK) can write to TemporaryPath() themselves; two
 * writers of one target never share it, and what a killed writer of this host left is removed when
 * the name is written again. Commit() flushes the file to the disk before the rename. */
class RECONTRAST_CORE_EXPORT AtomicFile
{
public:
  enum class Mode
  {
    Stream,  ///< Open Stream() for writing.
    PathOnly ///< Only reserve TemporaryPath(); another writer creates the file.
  };

  /** Throws Error when the folder of `path` does not exist or (Stream mode) is not writable. */
  explicit AtomicFile(std::string path, Mode mode = Mode::Stream);
  ~AtomicFile();
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile & operator=(const AtomicFile &) = delete;

  std::ofstream & Stream() { return m_Stream; }
  /** Where the content goes until Commit(). */
  const std::string & TemporaryPath() const { return m_TemporaryPath; }
  /** Renames the temporary file over the target; throws Error when writing or renaming failed. */
  void Commit();

private:
  std::string m_Path;
  std::string m_TemporaryPath;
  std::ofstream m_Stream;
  bool m_Committed = false;
};

} // namespace recontrast

#endif
