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

#ifdef _WIN32
#  include <process.h>
#else
#  include <fcntl.h>
#  include <signal.h>
#  include <unistd.h>
#endif

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <filesystem>
#include <random>

namespace recontrast
{
namespace
{
namespace fs = std::filesystem;

long
ProcessId()
{
#ifdef _WIN32
  return static_cast<long>(::_getpid());
#else
  return static_cast<long>(::getpid());
#endif
}

std::string
HostName()
{
#ifdef _WIN32
  return "host";
#else
  char name[256] = {};
  if (gethostname(name, sizeof(name) - 1) != 0 || name[0] == '\0')
  {
    return "host";
  }
  std::string host(name);
  for (char & c : host)
  {
    c = (c == '-' || c == '/') ? '_' : c;
  }
  return host;
#endif
}

// Flushes a file or folder to the disk; false when the system reports that it could not.
bool
Sync(const std::string & path, bool folder)
{
#ifdef _WIN32
  (void)path;
  (void)folder;
  return true; // not flushed on Windows (FlushFileBuffers needs the writer's own handle)
#else
  const int descriptor = ::open(path.c_str(), folder ? (O_RDONLY | O_DIRECTORY) : O_RDONLY);
  if (descriptor < 0)
  {
    return false;
  }
  const bool synced = ::fsync(descriptor) == 0 || (folder && errno == EINVAL);
  ::close(descriptor);
  return synced;
#endif
}

// ".partial-<host>-<pid>-<n>-<name>" files of `name` that a process of this host left when it died
// (killed, power cut): nothing else removes them.
void
RemoveStalePartials(const fs::path & folder, const std::string & name, const std::string & host)
{
#ifdef _WIN32
  (void)folder;
  (void)name;
  (void)host; // no portable liveness check of another process here
#else
  std::error_code error;
  const std::string prefix = ".partial-" + host + "-";
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error))
  {
    // Exactly ".partial-<host>-<pid>-<n>-<name>": another target's temporaries are not touched,
    // even when one name ends with the other.
    const std::string entry = it->path().filename().string();
    if (entry.rfind(prefix, 0) != 0)
    {
      continue;
    }
    const std::string rest = entry.substr(prefix.size());
    const size_t pidEnd = rest.find('-');
    const size_t numberEnd = pidEnd == std::string::npos ? std::string::npos : rest.find('-', pidEnd + 1);
    if (numberEnd == std::string::npos || pidEnd == 0 || rest.compare(numberEnd + 1, std::string::npos, name) != 0 ||
        !std::all_of(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(numberEnd), [](char c) {
          return c == '-' || std::isdigit(static_cast<unsigned char>(c));
        }))
    {
      continue;
    }
    pid_t pid = 0;
    try
    {
      pid = static_cast<pid_t>(std::stol(rest.substr(0, pidEnd)));
    }
    catch (const std::exception &)
    {
      continue;
    }
    if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH)
    {
      std::error_code ignored;
      fs::remove(it->path(), ignored);
    }
  }
#endif
}
} // namespace

AtomicFile::AtomicFile(std::string path, Mode mode)
  : m_Path(std::move(path))
{
  const fs::path target(m_Path);
  const fs::path folder = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code error;
  if (!fs::is_directory(folder, error))
  {
    throw Error("Cannot write '" + m_Path + "': the folder '" + folder.string() + "' does not exist.");
  }
  if (fs::is_directory(target, error))
  {
    throw Error("Cannot write '" + m_Path + "': it is a folder.");
  }
  const std::string host = HostName();
  RemoveStalePartials(folder, target.filename().string(), host);
  // The host and process in the name: two writers never share a temporary file, and a dead
  // writer's leftovers are recognised.
  std::random_device random;
  m_TemporaryPath = (folder / (".partial-" + host + "-" + std::to_string(ProcessId()) + "-" + std::to_string(random()) +
                               "-" + target.filename().string()))
                      .string();
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
  // On the disk before the rename: after a crash the target is the old file or the whole new one.
  if (!written || !fs::is_regular_file(m_TemporaryPath) || !Sync(m_TemporaryPath, false))
  {
    throw Error("Writing '" + m_Path + "' failed (is the disk full?); nothing was written.");
  }
  std::error_code error;
  fs::rename(m_TemporaryPath, m_Path, error);
  if (error)
  {
    throw Error("Cannot write '" + m_Path + "': " + error.message() + ".");
  }
  m_Committed = true;
  const fs::path folder = fs::path(m_Path).has_parent_path() ? fs::path(m_Path).parent_path() : fs::path(".");
  Sync(folder.string(), true);
}

} // namespace recontrast
