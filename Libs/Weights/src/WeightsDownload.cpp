/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Downloads with libcurl into <file>.part, held under an exclusive lock so that two processes
 *  (two Slicer sessions, a script and Slicer) never write one part; verified, then renamed.
 *
 *=========================================================================*/
#include "ReContrast/WeightsDownload.h"

#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"

#include <curl/curl.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>

namespace recontrast::weights
{
namespace
{
namespace fs = std::filesystem;

void
InitialiseCurl()
{
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The proxy libcurl will use for `url` (it reads these variables itself), for messages.
std::string
ProxyFor(const std::string & url)
{
  const bool https = url.rfind("https://", 0) == 0;
  // libcurl reads only the lower-case http_proxy (HTTP_PROXY can be set by a CGI request's header).
  const char * httpsNames[] = { "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY" };
  const char * httpNames[] = { "http_proxy", "all_proxy", "ALL_PROXY" };
  const auto look = [](const auto & names) -> std::string {
    for (const char * name : names)
    {
      const char * value = std::getenv(name);
      if (value != nullptr && value[0] != '\0')
      {
        return std::string(value) + " (from " + name + ")";
      }
    }
    return "";
  };
  return https ? look(httpsNames) : look(httpNames);
}

std::uint64_t
FileSize(int descriptor)
{
  struct stat status
  {};
  return ::fstat(descriptor, &status) == 0 ? static_cast<std::uint64_t>(status.st_size) : 0;
}

struct Transfer
{
  int descriptor = -1;
  std::uint64_t offset = 0;
  const DownloadProgressFunction * progress = nullptr;
  int writeErrno = 0;
};

size_t
WriteData(char * data, size_t size, size_t count, void * user)
{
  auto * transfer = static_cast<Transfer *>(user);
  const size_t total = size * count;
  size_t done = 0;
  while (done < total)
  {
    const ssize_t n = ::write(transfer->descriptor, data + done, total - done);
    if (n < 0 && errno == EINTR)
    {
      continue;
    }
    if (n <= 0)
    {
      transfer->writeErrno = n < 0 ? errno : EIO;
      return 0; // libcurl stops with CURLE_WRITE_ERROR
    }
    done += static_cast<size_t>(n);
  }
  return total;
}

int
ReportProgress(void * user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t)
{
  const auto * transfer = static_cast<const Transfer *>(user);
  if (transfer->progress == nullptr || !*transfer->progress)
  {
    return 0;
  }
  DownloadProgress p;
  p.resumedFrom = transfer->offset;
  p.received = transfer->offset + static_cast<std::uint64_t>(now);
  // With a range request libcurl's total is what remains.
  p.total = total > 0 ? transfer->offset + static_cast<std::uint64_t>(total) : 0;
  return (*transfer->progress)(p) ? 0 : 1;
}

enum class Outcome
{
  Complete,
  RangesUnsupported, ///< The server answered a resume with the whole file: start again from zero.
  NothingLeft        ///< HTTP 416 to a resume: the part may already be the whole file.
};

// Which words a failure gets: what failed and what the user can do.
std::string
NetworkAdvice(const WeightsEntry & entry, std::uint64_t kept)
{
  std::string advice = "check the network connection and the proxy variables (https_proxy, http_proxy, no_proxy)";
  if (kept > 0)
  {
    advice += "; the " + std::to_string(kept) + " bytes received are kept and the same command resumes from there";
  }
  return advice + ", or download " + entry.url +
         " on another computer and bring it in with `recontrast weights import " + entry.fileName + "`.";
}

Outcome
Download(const WeightsEntry & entry, int descriptor, const std::string & partPath,
         const DownloadProgressFunction & progress)
{
  InitialiseCurl();
  std::unique_ptr<CURL, void (*)(CURL *)> curl(curl_easy_init(), &curl_easy_cleanup);
  if (!curl)
  {
    throw Error("libcurl could not start a download.");
  }
  Transfer transfer;
  transfer.descriptor = descriptor;
  transfer.offset = FileSize(descriptor);
  transfer.progress = &progress;
  char message[CURL_ERROR_SIZE] = {};
  CURL * c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, entry.url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "recontrast-weights");
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, message);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A connection that stalls (a cut cable, a proxy that holds it) ends after a minute without data.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &WriteData);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, &ReportProgress);
  curl_easy_setopt(c, CURLOPT_XFERINFODATA, &transfer);
  if (transfer.offset > 0)
  {
    curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(transfer.offset));
  }

  const CURLcode code = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  const std::string detail = message[0] != '\0' ? message : curl_easy_strerror(code);
  const std::string proxy = ProxyFor(entry.url);
  const std::string through = proxy.empty() ? "" : " through the proxy " + proxy;
  switch (code)
  {
    case CURLE_OK:
      return Outcome::Complete;
    case CURLE_RANGE_ERROR:
      return Outcome::RangesUnsupported;
    case CURLE_HTTP_RETURNED_ERROR:
      if (status == 416 && transfer.offset > 0)
      {
        return Outcome::NothingLeft;
      }
      throw Error("Could not download " + entry.fileName + " from " + entry.url + through +
                  ": the server answered HTTP " + std::to_string(status) + "; " +
                  NetworkAdvice(entry, FileSize(descriptor)));
    case CURLE_ABORTED_BY_CALLBACK:
      throw Cancelled("The download of " + entry.fileName + " was cancelled; the " +
                      std::to_string(FileSize(descriptor)) + " bytes received are kept in " + partPath +
                      " and the next fetch resumes from there.");
    case CURLE_WRITE_ERROR:
      throw Error("Writing " + partPath + " failed (" +
                  (transfer.writeErrno != 0 ? std::string(std::strerror(transfer.writeErrno)) : detail) +
                  "); free some disk space or choose another cache folder.");
    default:
      throw Error("Could not download " + entry.fileName + " from " + entry.url + through + " (" + detail + "); " +
                  NetworkAdvice(entry, FileSize(descriptor)));
  }
}

void
CreateFolder(const std::string & folder)
{
  std::error_code error;
  fs::create_directories(folder, error);
  if (error || !fs::is_directory(folder))
  {
    throw Error("Cannot create the weights cache folder " + folder + " (" +
                (error ? error.message() : std::string("a file of that name is in the way")) + ").");
  }
}

bool
IsVerified(const WeightsEntry & entry, const std::string & path)
{
  return fs::is_regular_file(path) && DigestMatches(entry.sha256, Sha256OfFile(path));
}

class Descriptor
{
public:
  explicit Descriptor(int d)
    : m_Descriptor(d)
  {}
  ~Descriptor()
  {
    if (m_Descriptor >= 0)
    {
      ::close(m_Descriptor);
    }
  }
  Descriptor(const Descriptor &) = delete;
  Descriptor & operator=(const Descriptor &) = delete;
  int Get() const { return m_Descriptor; }

private:
  int m_Descriptor;
};
} // namespace

std::string
FetchWeights(const WeightsEntry & entry, const std::string & cacheFolder, const DownloadProgressFunction & progress)
{
  CreateFolder(cacheFolder);
  const std::string path = CachedPath(entry, cacheFolder);
  if (IsVerified(entry, path))
  {
    return path;
  }
  const std::string part = path + ".part";
  const Descriptor descriptor(::open(part.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644));
  if (descriptor.Get() < 0)
  {
    throw Error("Cannot write " + part + " (" + std::strerror(errno) + ").");
  }
  if (::flock(descriptor.Get(), LOCK_EX | LOCK_NB) != 0)
  {
    throw Error("Another process is downloading " + entry.fileName + " into " + cacheFolder +
                "; wait until it has finished, then run the command again.");
  }
  // Under the lock: another process may have finished it meanwhile.
  if (IsVerified(entry, path))
  {
    ::unlink(part.c_str());
    return path;
  }
  try
  {
    if (Download(entry, descriptor.Get(), part, progress) == Outcome::RangesUnsupported)
    {
      if (::ftruncate(descriptor.Get(), 0) != 0)
      {
        throw Error("Cannot restart " + part + " (" + std::strerror(errno) + ").");
      }
      Download(entry, descriptor.Get(), part, progress);
    }
  }
  catch (const Error &)
  {
    // A part with data waits for the resume; an empty one is clutter.
    if (FileSize(descriptor.Get()) == 0)
    {
      ::unlink(part.c_str());
    }
    throw;
  }
  if (::fsync(descriptor.Get()) != 0)
  {
    throw Error("Cannot flush " + part + " to the disk (" + std::strerror(errno) + ").");
  }
  const std::string digest = Sha256OfFile(part);
  if (!DigestMatches(entry.sha256, digest))
  {
    ::unlink(part.c_str());
    throw Error("The download of " + entry.fileName + " does not match its published SHA-256 (expected " +
                entry.sha256 + (entry.sha256.size() < digest.size() ? "..." : "") + ", got " + digest +
                ") and was removed; the server or a proxy altered it, so check where it came from before trying " +
                "again.");
  }
  std::error_code error;
  fs::rename(part, path, error);
  if (error)
  {
    throw Error("Cannot move the verified " + part + " into place (" + error.message() + ").");
  }
  return path;
}

WeightsEntry
ImportWeights(const std::string & file, const WeightsCatalogue & catalogue, const std::string & cacheFolder,
              const std::string & name)
{
  if (!fs::is_regular_file(file))
  {
    throw Error("The weights file " + file + " does not exist.");
  }
  const std::string digest = Sha256OfFile(file);
  const WeightsEntry * entry = name.empty() ? catalogue.FindByDigest(digest) : &catalogue.Get(name);
  if (entry == nullptr)
  {
    throw Error(file + " is none of the catalogue's weights (its SHA-256 is " + digest +
                "); other weights can be given to `recontrast train --encoder-weights` as a file.");
  }
  if (!DigestMatches(entry->sha256, digest))
  {
    throw Error(file + " is not the published " + entry->name + " weights (its SHA-256 " + digest +
                " does not begin with " + entry->sha256 +
                "); other weights can be given to `recontrast train --encoder-weights` as a file.");
  }
  CreateFolder(cacheFolder);
  const std::string path = CachedPath(*entry, cacheFolder);
  if (IsVerified(*entry, path))
  {
    return *entry;
  }
  AtomicFile target(path, AtomicFile::Mode::PathOnly);
  std::error_code error;
  fs::copy_file(file, target.TemporaryPath(), fs::copy_options::overwrite_existing, error);
  if (error)
  {
    throw Error("Cannot copy " + file + " into " + cacheFolder + " (" + error.message() + ").");
  }
  if (!DigestMatches(entry->sha256, Sha256OfFile(target.TemporaryPath())))
  {
    throw Error("The copy of " + file + " in " + cacheFolder + " differs from the original; check the disk.");
  }
  target.Commit();
  return *entry;
}

std::string
VerifiedCachedWeights(const WeightsEntry & entry, const std::string & cacheFolder)
{
  const std::string path = CachedPath(entry, cacheFolder);
  if (!fs::exists(path))
  {
    throw Error("The ImageNet weights of " + entry.name + " (" + entry.fileName + ") are not in the weights cache " +
                cacheFolder + "; fetch them with `recontrast weights fetch " + entry.name +
                "`, or bring in a copy downloaded elsewhere with `recontrast weights import <file>`.");
  }
  if (!IsVerified(entry, path))
  {
    throw Error("The cached " + path +
                " does not match its published SHA-256 (damaged or replaced); fetch it again "
                "with `recontrast weights fetch " +
                entry.name + "`.");
  }
  return path;
}

} // namespace recontrast::weights
