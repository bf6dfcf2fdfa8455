#ifndef ReContrast_AtomicFile_h
#define ReContrast_AtomicFile_h

#include <fstream>
#include <string>

namespace recontrast
{

/** Writes a file so that it appears complete or not at all: the content goes to a temporary file
 * in the same folder, which Commit() renames over the target. Destroyed without Commit(), it removes
 * the temporary file, so an error or a cancel never leaves a half-written result. */
class AtomicFile
{
public:
  /** Throws Error when the folder of `path` does not exist or is not writable. */
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile &) = delete;
  AtomicFile & operator=(const AtomicFile &) = delete;

  std::ofstream & Stream() { return m_Stream; }
  void Commit();

private:
  std::string m_Path;
  std::string m_TemporaryPath;
  std::ofstream m_Stream;
  bool m_Committed = false;
};

} // namespace recontrast

#endif
