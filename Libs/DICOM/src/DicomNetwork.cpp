/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The Storage SCP and the C-STORE / C-ECHO requests of the DICOM node, on DCMTK's dcmnet.
 *
 *=========================================================================*/
#include "ReContrast/DicomNetwork.h"

#include "DcmtkSetup.h"
#include "ReContrast/Error.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/diutil.h"
#include "dcmtk/dcmnet/dimse.h"
#include "dcmtk/dcmnet/scppool.h"
#include "dcmtk/dcmnet/scpthrd.h"
#include "dcmtk/dcmnet/scu.h"

#include <spdlog/fmt/fmt.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <pthread.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <mutex>
#include <set>
#include <thread>

namespace fs = std::filesystem;

namespace recontrast::dicom
{

using detail::StringOf;
using detail::TextOf;

std::string
DicomPeer::ToString() const
{
  return fmt::format("{}@{}:{}", aeTitle, host, port);
}

void
RequireAETitle(const std::string & title, const std::string & what)
{
  const bool printable = std::all_of(title.begin(), title.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f && c != '\\';
  });
  if (title.empty() || title.size() > 16 || !printable || title.find_first_not_of(' ') == std::string::npos)
  {
    throw Error(fmt::format("{} '{}' is not an AE title (1 to 16 printable characters, no backslash).", what, title));
  }
}

DicomPeer
ParseDicomPeer(const std::string & text, const std::string & what)
{
  const size_t at = text.find('@');
  const size_t colon = text.rfind(':');
  if (at == std::string::npos || colon == std::string::npos || colon < at)
  {
    throw Error(fmt::format("{} '{}' is not of the form AET@host:port.", what, text));
  }
  DicomPeer peer;
  peer.aeTitle = text.substr(0, at);
  peer.host = text.substr(at + 1, colon - at - 1);
  const std::string port = text.substr(colon + 1);
  RequireAETitle(peer.aeTitle, "The AE title in " + what);
  if (peer.host.empty())
  {
    throw Error(fmt::format("{} '{}' names no host.", what, text));
  }
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) || std::stoi(port) < 1 ||
      std::stoi(port) > 65535)
  {
    throw Error(fmt::format("{} '{}' has no port between 1 and 65535.", what, text));
  }
  peer.port = static_cast<std::uint16_t>(std::stoi(port));
  return peer;
}

bool
IsValidUid(const std::string & text)
{
  return !text.empty() && text.size() <= 64 &&
         std::all_of(
           text.begin(), text.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; }) &&
         text.find("..") == std::string::npos && text.front() != '.' && text.back() != '.';
}

const std::vector<std::string> &
AcceptedStorageClasses()
{
  static const std::vector<std::string> classes{
    UID_CTImageStorage, UID_EnhancedCTImageStorage, UID_LegacyConvertedEnhancedCTImageStorage,
    UID_MRImageStorage, UID_EnhancedMRImageStorage, UID_LegacyConvertedEnhancedMRImageStorage
  };
  return classes;
}

namespace
{

// What the series reader decodes (DcmtkSetup registers the JPEG, JPEG-LS and RLE decoders).
OFList<OFString>
DecodableTransferSyntaxes()
{
  OFList<OFString> syntaxes;
  for (const char * uid : { UID_LittleEndianExplicitTransferSyntax,
                            UID_LittleEndianImplicitTransferSyntax,
                            UID_BigEndianExplicitTransferSyntax,
                            UID_DeflatedExplicitVRLittleEndianTransferSyntax,
                            UID_JPEGProcess1TransferSyntax,
                            UID_JPEGProcess2_4TransferSyntax,
                            UID_JPEGProcess14TransferSyntax,
                            UID_JPEGProcess14SV1TransferSyntax,
                            UID_JPEGLSLosslessTransferSyntax,
                            UID_JPEGLSLossyTransferSyntax,
                            UID_RLELosslessTransferSyntax })
  {
    syntaxes.push_back(uid);
  }
  return syntaxes;
}


} // namespace

struct StorageServer::Impl
{
  StorageServerOptions options;
  InstanceHandler onInstance;
  AssociationHandler onAssociationEnd;
  EventHandler onEvent;
  std::unique_ptr<DcmBaseSCPPool> pool;
  std::thread listener;
  std::atomic<unsigned long> partialCounter{ 0 };
  std::atomic<bool> listenerEnded{ false };
  std::string listenerError; // written by the listener thread before listenerEnded

  void Say(const std::string & line) const
  {
    if (onEvent)
    {
      onEvent(line);
    }
  }
};

namespace
{

// One association: C-ECHO and C-STORE; each stored instance goes through the server's handler.
class NodeStorageSCP : public DcmThreadSCP
{
public:
  explicit NodeStorageSCP(StorageServer::Impl & server)
    : m_Server(server)
  {}

protected:
  OFBool checkCalledAETitleAccepted(const OFString & calledAE) override
  {
    if (std::string(calledAE.c_str()) == m_Server.options.aeTitle)
    {
      return OFTrue;
    }
    m_Server.Say(fmt::format(
      "association refused: called AE title '{}' is not this node's '{}'", calledAE.c_str(), m_Server.options.aeTitle));
    return OFFalse;
  }

  OFBool checkCallingAETitleAccepted(const OFString & callingAE) override
  {
    const std::vector<std::string> & accepted = m_Server.options.acceptedCallingAETitles;
    if (accepted.empty() || std::find(accepted.begin(), accepted.end(), callingAE.c_str()) != accepted.end())
    {
      return OFTrue;
    }
    m_Server.Say(fmt::format("association refused: calling AE title '{}' is not accepted", callingAE.c_str()));
    return OFFalse;
  }

  void notifyAssociationAcknowledge() override
  {
    m_Series.clear();
    m_Released = false;
    m_Server.Say(fmt::format("association accepted from '{}'", getPeerAETitle().c_str()));
  }

  void notifyReleaseRequest() override { m_Released = true; }

  void notifyAssociationTermination() override
  {
    if (!m_Series.empty() && m_Server.onAssociationEnd)
    {
      m_Server.onAssociationEnd(m_CallingAETitle, m_Series, m_Released);
    }
    m_Series.clear();
  }

  OFCondition handleIncomingCommand(T_DIMSE_Message * message, const DcmPresentationContextInfo & context) override
  {
    if (message->CommandField != DIMSE_C_STORE_RQ)
    {
      return DcmThreadSCP::handleIncomingCommand(message, context);
    }
    m_CallingAETitle = getPeerAETitle().c_str();
    T_DIMSE_C_StoreRQ & request = message->msg.CStoreRQ;
    const std::string partial = (fs::path(m_Server.options.incomingFolder) / ".partial" /
                                 fmt::format("{}-{}.dcm", ::getpid(), m_Server.partialCounter.fetch_add(1)))
                                  .string();
    OFCondition condition = receiveSTORERequest(request, context.presentationContextID, OFString(partial.c_str()));
    if (condition.bad())
    {
      std::error_code ignored;
      fs::remove(partial, ignored);
      m_Server.Say(fmt::format("instance from '{}' not received: {}", m_CallingAETitle, TextOf(condition)));
      return condition;
    }
    Uint16 status = STATUS_Success;
    std::string reason;
    std::string kept;
    try
    {
      ReceivedInstance instance = Keep(partial, request);
      kept = instance.file;
      if (m_Server.onInstance)
      {
        m_Server.onInstance(instance);
      }
      if (std::find(m_Series.begin(), m_Series.end(), instance.seriesInstanceUid) == m_Series.end())
      {
        m_Series.push_back(instance.seriesInstanceUid);
      }
    }
    catch (const std::exception & e)
    {
      // Not acknowledged, so not kept: the sender will send it again.
      std::error_code ignored;
      fs::remove(partial, ignored);
      if (!kept.empty() && !m_KeptExisted) // an earlier copy of the instance was acknowledged: it stays
      {
        fs::remove(kept, ignored);
      }
      status = STATUS_STORE_Error_CannotUnderstand;
      reason = e.what();
      m_Server.Say(
        fmt::format("instance {} from '{}' refused: {}", request.AffectedSOPInstanceUID, m_CallingAETitle, reason));
    }
    return sendSTOREResponse(context.presentationContextID, request, status);
  }

private:
  // Checks the received file and renames it into <incoming>/<series>/<instance>.dcm.
  static void SyncToDisk(const std::string & path)
  {
    const int descriptor = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (descriptor >= 0)
    {
      ::fsync(descriptor);
      ::close(descriptor);
    }
  }

  ReceivedInstance Keep(const std::string & partial, const T_DIMSE_C_StoreRQ & request) const
  {
    DcmFileFormat file;
    const OFCondition loaded = file.loadFile(partial.c_str());
    if (loaded.bad())
    {
      throw Error(fmt::format("it cannot be read as DICOM ({})", TextOf(loaded)));
    }
    DcmDataset & dataset = *file.getDataset();
    ReceivedInstance instance;
    instance.callingAETitle = m_CallingAETitle;
    instance.studyInstanceUid = StringOf(&dataset, DCM_StudyInstanceUID);
    instance.seriesInstanceUid = StringOf(&dataset, DCM_SeriesInstanceUID);
    instance.sopInstanceUid = StringOf(&dataset, DCM_SOPInstanceUID);
    instance.sopClassUid = StringOf(&dataset, DCM_SOPClassUID);
    instance.modality = StringOf(&dataset, DCM_Modality);
    instance.bodyPartExamined = StringOf(&dataset, DCM_BodyPartExamined);
    instance.seriesDescription = StringOf(&dataset, DCM_SeriesDescription);
    if (instance.sopInstanceUid != request.AffectedSOPInstanceUID ||
        instance.sopClassUid != request.AffectedSOPClassUID)
    {
      throw Error("its SOP Instance or Class UID differs from the request's");
    }
    const std::vector<std::string> & accepted = AcceptedStorageClasses();
    if (std::find(accepted.begin(), accepted.end(), instance.sopClassUid) == accepted.end())
    {
      throw Error(fmt::format("its SOP class {} is not one the node scores", instance.sopClassUid));
    }
    if (!IsValidUid(instance.seriesInstanceUid) || !IsValidUid(instance.sopInstanceUid) ||
        !IsValidUid(instance.studyInstanceUid))
    {
      throw Error("it lacks a valid Study, Series or SOP Instance UID");
    }
    if (!dataset.tagExists(DCM_PixelData))
    {
      throw Error("it has no pixel data");
    }
    const fs::path folder = fs::path(m_Server.options.incomingFolder) / instance.seriesInstanceUid;
    std::error_code error;
    fs::create_directories(folder, error);
    const fs::path target = folder / (instance.sopInstanceUid + ".dcm");
    m_KeptExisted = fs::exists(target);
    // On disk before it is acknowledged: the file's data, then its name in the folder.
    SyncToDisk(partial);
    if (!error)
    {
      fs::rename(partial, target, error);
    }
    if (!error)
    {
      SyncToDisk(folder.string());
    }
    if (error)
    {
      throw Error(fmt::format("it cannot be stored in '{}' ({})", folder.string(), error.message()));
    }
    instance.file = target.string();
    return instance;
  }

  StorageServer::Impl & m_Server;
  std::string m_CallingAETitle;
  std::vector<std::string> m_Series;
  bool m_Released = false;
  mutable bool m_KeptExisted = false;
};

// DCMTK's pool of SCP threads, with workers that know the server they serve.
class NodeSCPPool : public DcmBaseSCPPool
{
public:
  explicit NodeSCPPool(StorageServer::Impl & server)
    : m_Server(server)
  {}

private:
  class Worker
    : public DcmBaseSCPWorker
    , private NodeStorageSCP
  {
  public:
    Worker(NodeSCPPool & pool, StorageServer::Impl & server)
      : DcmBaseSCPWorker(pool)
      , NodeStorageSCP(server)
    {}

    // DCMTK 3.6.7's pool deletes a finished worker from its own thread and never joins that thread
    // (fixed in later DCMTK): detached here, its stack is freed when it exits instead of leaking one
    // thread per association. A worker deleted by another thread (the pool shutting down) was joined.
    ~Worker() override
    {
      const pthread_t own = static_cast<pthread_t>(threadID());
      if (pthread_equal(pthread_self(), own))
      {
        pthread_detach(own);
      }
    }

    OFCondition setSharedConfig(const DcmSharedSCPConfig & config) override
    {
      return NodeStorageSCP::setSharedConfig(config);
    }
    OFBool busy() override { return NodeStorageSCP::isConnected(); }

  protected:
    OFCondition workerListen(T_ASC_Association * const association) override
    {
      return NodeStorageSCP::run(association);
    }
  };

  DcmBaseSCPWorker * createSCPWorker() override { return new Worker(*this, m_Server); }

  StorageServer::Impl & m_Server;
};

// The pool opens its port inside its listening thread; this finds a port in use before that, so
// that Start can say so in one sentence.
void
RequirePortFree(std::uint16_t port)
{
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  if (probe < 0)
  {
    return;
  }
  int yes = 1;
  ::setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = htons(port);
  const bool bound = ::bind(probe, reinterpret_cast<sockaddr *>(&address), sizeof(address)) == 0;
  const int reason = errno;
  ::close(probe);
  if (!bound)
  {
    throw Error(fmt::format("The DICOM port {} cannot be opened: {}.", port, std::strerror(reason)));
  }
}

// True when a socket listens on the port. Read from the kernel's socket tables rather than by
// connecting, which the pool would take for an association request.
bool
AcceptsConnections(std::uint16_t port)
{
  const std::string local = fmt::format(":{:04X} ", port);
  for (const char * table : { "/proc/net/tcp", "/proc/net/tcp6" })
  {
    std::ifstream in(table);
    std::string line;
    while (std::getline(in, line))
    {
      // sl local_address rem_address st ...: st 0A is LISTEN.
      std::istringstream fields(line);
      std::string slot, localAddress, remoteAddress, state;
      fields >> slot >> localAddress >> remoteAddress >> state;
      if (state == "0A" && (localAddress + " ").find(local) != std::string::npos)
      {
        return true;
      }
    }
  }
  return false;
}

} // namespace

StorageServer::StorageServer(StorageServerOptions options, InstanceHandler onInstance,
                             AssociationHandler onAssociationEnd, EventHandler onEvent)
  : m_Impl(std::make_unique<Impl>())
{
  RequireAETitle(options.aeTitle, "The node's AE title");
  for (const std::string & title : options.acceptedCallingAETitles)
  {
    RequireAETitle(title, "An accepted calling AE title");
  }
  if (options.port == 0)
  {
    throw Error("The DICOM port must be between 1 and 65535.");
  }
  if (options.maxAssociations == 0)
  {
    throw Error("The node must accept at least one association at a time.");
  }
  m_Impl->options = std::move(options);
  m_Impl->onInstance = std::move(onInstance);
  m_Impl->onAssociationEnd = std::move(onAssociationEnd);
  m_Impl->onEvent = std::move(onEvent);
}

StorageServer::~StorageServer()
{
  Stop();
}

void
StorageServer::Start()
{
  if (m_Impl->pool)
  {
    return;
  }
  detail::EnsureDcmtkReady();
  const StorageServerOptions & o = m_Impl->options;
  std::error_code error;
  fs::create_directories(fs::path(o.incomingFolder) / ".partial", error);
  if (error)
  {
    throw Error(fmt::format("Cannot create the incoming folder '{}': {}.", o.incomingFolder, error.message()));
  }
  RequirePortFree(o.port);
  m_Impl->listenerEnded = false;
  m_Impl->listenerError.clear();
  auto pool = std::make_unique<NodeSCPPool>(*m_Impl);
  DcmSCPConfig & config = pool->getConfig();
  config.setAETitle(o.aeTitle.c_str());
  config.setPort(o.port);
  config.setACSETimeout(o.timeoutSeconds);
  config.setDIMSETimeout(o.timeoutSeconds);
  config.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  // Non-blocking accept with a short timeout: the listening loop looks at its stop flag each second.
  config.setConnectionBlockingMode(DUL_NOBLOCK);
  config.setConnectionTimeout(1);
  config.setHostLookupEnabled(OFFalse);
  const OFList<OFString> syntaxes = DecodableTransferSyntaxes();
  OFList<OFString> echoSyntaxes;
  echoSyntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  echoSyntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  OFCondition condition = config.addPresentationContext(UID_VerificationSOPClass, echoSyntaxes);
  for (const std::string & sopClass : AcceptedStorageClasses())
  {
    if (condition.good())
    {
      condition = config.addPresentationContext(sopClass.c_str(), syntaxes);
    }
  }
  if (condition.bad())
  {
    throw Error(fmt::format("The node's presentation contexts cannot be set up: {}.", TextOf(condition)));
  }
  pool->setMaxThreads(static_cast<Uint16>(std::min(o.maxAssociations, 64u)));
  DcmBaseSCPPool * listening = pool.get();
  m_Impl->pool = std::move(pool);
  Impl * impl = m_Impl.get();
  m_Impl->listener = std::thread([listening, impl]() {
    const OFCondition result = listening->listen();
    if (result.bad())
    {
      impl->listenerError = TextOf(result);
      impl->Say(fmt::format("the DICOM listener stopped: {}", impl->listenerError));
    }
    impl->listenerEnded = true;
  });
  // The pool opens its port inside its thread: wait until it accepts connections, so that a caller
  // may send as soon as Start returns.
  for (int attempt = 0; attempt < 200; ++attempt)
  {
    if (AcceptsConnections(o.port))
    {
      return;
    }
    if (m_Impl->listenerEnded)
    {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string reason = m_Impl->listenerEnded ? m_Impl->listenerError : "it did not open within 10 s";
  Stop();
  throw Error(fmt::format("The DICOM port {} cannot be opened: {}.", o.port, reason));
}

void
StorageServer::Stop()
{
  if (!m_Impl || !m_Impl->pool)
  {
    return;
  }
  m_Impl->pool->stopAfterCurrentAssociations();
  if (m_Impl->listener.joinable())
  {
    m_Impl->listener.join();
  }
  m_Impl->pool.reset();
}

namespace
{

// An SCU with its network and association, released or aborted when it goes.
void
Connect(DcmSCU & scu, const std::string & callingAETitle, const DicomPeer & peer, unsigned int timeoutSeconds)
{
  scu.setAETitle(callingAETitle.c_str());
  scu.setPeerAETitle(peer.aeTitle.c_str());
  scu.setPeerHostName(peer.host.c_str());
  scu.setPeerPort(peer.port);
  scu.setACSETimeout(timeoutSeconds);
  scu.setDIMSETimeout(timeoutSeconds);
  scu.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
  scu.setConnectionTimeout(static_cast<Sint32>(timeoutSeconds));
  OFCondition condition = scu.initNetwork();
  if (condition.good())
  {
    condition = scu.negotiateAssociation();
  }
  if (condition.bad())
  {
    throw Error(fmt::format("No association with {}: {}.", peer.ToString(), TextOf(condition)));
  }
}

} // namespace

std::vector<std::string>
StoreFiles(const std::string & callingAETitle, const DicomPeer & destination, const std::vector<std::string> & files,
           unsigned int timeoutSeconds)
{
  detail::EnsureDcmtkReady();
  // Each file's SOP class and transfer syntax, proposed as they are (no conversion).
  struct Entry
  {
    std::string sopClass;
    std::string transferSyntax;
    std::string failure;
  };
  std::vector<Entry> entries(files.size());
  std::set<std::pair<std::string, std::string>> contexts;
  for (size_t i = 0; i < files.size(); ++i)
  {
    DcmFileFormat file;
    const OFCondition loaded = file.loadFile(files[i].c_str(), EXS_Unknown, EGL_noChange, 4096);
    OFString sopClass;
    OFString transferSyntax;
    if (loaded.bad() || file.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass).bad() ||
        file.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, transferSyntax).bad())
    {
      entries[i].failure = fmt::format("'{}' cannot be read as a DICOM file", files[i]);
      continue;
    }
    entries[i].sopClass = sopClass.c_str();
    entries[i].transferSyntax = transferSyntax.c_str();
    contexts.insert({ entries[i].sopClass, entries[i].transferSyntax });
  }
  std::vector<std::string> results(files.size());
  if (contexts.empty())
  {
    for (size_t i = 0; i < files.size(); ++i)
    {
      results[i] = entries[i].failure;
    }
    return results;
  }
  DcmSCU scu;
  for (const auto & [sopClass, transferSyntax] : contexts)
  {
    OFList<OFString> syntaxes;
    syntaxes.push_back(transferSyntax.c_str());
    scu.addPresentationContext(sopClass.c_str(), syntaxes);
  }
  Connect(scu, callingAETitle, destination, timeoutSeconds);
  for (size_t i = 0; i < files.size(); ++i)
  {
    if (!entries[i].failure.empty())
    {
      results[i] = entries[i].failure;
      continue;
    }
    const T_ASC_PresentationContextID context =
      scu.findPresentationContextID(entries[i].sopClass.c_str(), entries[i].transferSyntax.c_str());
    if (context == 0)
    {
      results[i] = fmt::format("{} did not accept SOP class {} in transfer syntax {}",
                               destination.ToString(),
                               entries[i].sopClass,
                               entries[i].transferSyntax);
      continue;
    }
    Uint16 status = 0;
    const OFCondition sent = scu.sendSTORERequest(context, files[i].c_str(), nullptr, status);
    if (sent.bad())
    {
      results[i] = fmt::format("C-STORE to {} failed: {}", destination.ToString(), TextOf(sent));
      // The association is gone: the remaining files fail the same way.
      for (size_t j = i + 1; j < files.size(); ++j)
      {
        results[j] = results[i];
      }
      scu.closeAssociation(DCMSCU_ABORT_ASSOCIATION);
      return results;
    }
    // Success, or a warning (0xB000-0xBFFF): the destination kept the instance.
    if (status != STATUS_Success && (status & 0xf000) != 0xb000)
    {
      results[i] = fmt::format("{} answered C-STORE with status 0x{:04x}", destination.ToString(), status);
    }
  }
  scu.releaseAssociation();
  return results;
}

void
Echo(const std::string & callingAETitle, const DicomPeer & peer, unsigned int timeoutSeconds)
{
  detail::EnsureDcmtkReady();
  DcmSCU scu;
  OFList<OFString> syntaxes;
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_VerificationSOPClass, syntaxes);
  Connect(scu, callingAETitle, peer, timeoutSeconds);
  const OFCondition answered = scu.sendECHORequest(0);
  scu.releaseAssociation();
  if (answered.bad())
  {
    throw Error(fmt::format("{} did not answer C-ECHO: {}.", peer.ToString(), TextOf(answered)));
  }
}

namespace
{

// A C-FIND at one level of the Study Root model: the matches' datasets, or an Error.
std::vector<std::unique_ptr<DcmDataset>>
Find(const std::string & callingAETitle, const DicomPeer & peer, DcmDataset & query, unsigned int timeoutSeconds)
{
  detail::EnsureDcmtkReady();
  DcmSCU scu;
  OFList<OFString> syntaxes;
  syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_FINDStudyRootQueryRetrieveInformationModel, syntaxes);
  Connect(scu, callingAETitle, peer, timeoutSeconds);
  const T_ASC_PresentationContextID context =
    scu.findAnyPresentationContextID(UID_FINDStudyRootQueryRetrieveInformationModel, "");
  if (context == 0)
  {
    scu.releaseAssociation();
    throw Error(fmt::format("{} does not offer C-FIND (Study Root).", peer.ToString()));
  }
  OFList<QRResponse *> responses;
  const OFCondition found = scu.sendFINDRequest(context, &query, &responses);
  std::vector<std::unique_ptr<DcmDataset>> matches;
  Uint16 finalStatus = STATUS_Success;
  for (QRResponse * response : responses)
  {
    if (response->m_dataset && DICOM_PENDING_STATUS(response->m_status))
    {
      matches.emplace_back(response->m_dataset);
      response->m_dataset = nullptr;
    }
    else if (!DICOM_PENDING_STATUS(response->m_status))
    {
      finalStatus = response->m_status;
    }
    delete response;
  }
  scu.releaseAssociation();
  if (found.bad())
  {
    throw Error(fmt::format("C-FIND at {} failed: {}.", peer.ToString(), TextOf(found)));
  }
  if (finalStatus != STATUS_Success)
  {
    throw Error(fmt::format("{} answered C-FIND with status 0x{:04x}.", peer.ToString(), finalStatus));
  }
  return matches;
}

} // namespace

std::vector<StudyMatch>
FindStudies(const std::string & callingAETitle, const DicomPeer & peer, const std::string & patientId,
            unsigned int timeoutSeconds)
{
  DcmDataset query;
  query.putAndInsertString(DCM_QueryRetrieveLevel, "STUDY");
  query.putAndInsertString(DCM_PatientID, patientId.c_str());
  for (const DcmTagKey & key : { DCM_StudyInstanceUID,
                                 DCM_PatientName,
                                 DCM_StudyDate,
                                 DCM_StudyDescription,
                                 DCM_AccessionNumber,
                                 DCM_ModalitiesInStudy })
  {
    query.insertEmptyElement(key);
  }
  std::vector<StudyMatch> studies;
  for (const auto & match : Find(callingAETitle, peer, query, timeoutSeconds))
  {
    StudyMatch study;
    study.studyInstanceUid = StringOf(match.get(), DCM_StudyInstanceUID);
    study.patientId = StringOf(match.get(), DCM_PatientID);
    study.patientName = StringOf(match.get(), DCM_PatientName);
    study.studyDate = StringOf(match.get(), DCM_StudyDate);
    study.studyDescription = StringOf(match.get(), DCM_StudyDescription);
    study.accessionNumber = StringOf(match.get(), DCM_AccessionNumber);
    study.modalitiesInStudy = StringOf(match.get(), DCM_ModalitiesInStudy);
    studies.push_back(study);
  }
  std::sort(studies.begin(), studies.end(), [](const StudyMatch & a, const StudyMatch & b) {
    return a.studyDate < b.studyDate;
  });
  return studies;
}

std::vector<SeriesMatch>
FindSeries(const std::string & callingAETitle, const DicomPeer & peer, const std::string & studyInstanceUid,
           unsigned int timeoutSeconds)
{
  DcmDataset query;
  query.putAndInsertString(DCM_QueryRetrieveLevel, "SERIES");
  query.putAndInsertString(DCM_StudyInstanceUID, studyInstanceUid.c_str());
  for (const DcmTagKey & key : { DCM_SeriesInstanceUID,
                                 DCM_Modality,
                                 DCM_SeriesDescription,
                                 DCM_SeriesNumber,
                                 DCM_NumberOfSeriesRelatedInstances })
  {
    query.insertEmptyElement(key);
  }
  std::vector<SeriesMatch> series;
  for (const auto & match : Find(callingAETitle, peer, query, timeoutSeconds))
  {
    SeriesMatch entry;
    entry.seriesInstanceUid = StringOf(match.get(), DCM_SeriesInstanceUID);
    entry.modality = StringOf(match.get(), DCM_Modality);
    entry.seriesDescription = StringOf(match.get(), DCM_SeriesDescription);
    entry.seriesNumber = StringOf(match.get(), DCM_SeriesNumber);
    const std::string count = StringOf(match.get(), DCM_NumberOfSeriesRelatedInstances);
    entry.instances = count.empty() ? 0 : std::atoi(count.c_str());
    series.push_back(entry);
  }
  // What a series holds (images, or derived objects such as Parametric Maps that share the source's
  // modality) is told by its instances' SOP classes.
  for (SeriesMatch & entry : series)
  {
    DcmDataset instances;
    instances.putAndInsertString(DCM_QueryRetrieveLevel, "IMAGE");
    instances.putAndInsertString(DCM_StudyInstanceUID, studyInstanceUid.c_str());
    instances.putAndInsertString(DCM_SeriesInstanceUID, entry.seriesInstanceUid.c_str());
    instances.insertEmptyElement(DCM_SOPInstanceUID);
    instances.insertEmptyElement(DCM_SOPClassUID);
    std::set<std::string> classes;
    for (const auto & match : Find(callingAETitle, peer, instances, timeoutSeconds))
    {
      classes.insert(StringOf(match.get(), DCM_SOPClassUID));
    }
    entry.sopClasses.assign(classes.begin(), classes.end());
  }
  return series;
}

size_t
RetrieveSeries(const std::string & callingAETitle, const DicomPeer & peer, const std::string & studyInstanceUid,
               const std::string & seriesInstanceUid, const std::string & folder, unsigned int timeoutSeconds)
{
  detail::EnsureDcmtkReady();
  DcmSCU scu;
  OFList<OFString> syntaxes;
  syntaxes.push_back(UID_LittleEndianExplicitTransferSyntax);
  syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
  scu.addPresentationContext(UID_GETStudyRootQueryRetrieveInformationModel, syntaxes);
  // The instances come back as C-STORE sub-operations on this association: this side takes the SCP
  // role for each storage class, in the syntaxes the reader decodes.
  const OFList<OFString> storageSyntaxes = DecodableTransferSyntaxes();
  for (const std::string & sopClass : AcceptedStorageClasses())
  {
    scu.addPresentationContext(sopClass.c_str(), storageSyntaxes, ASC_SC_ROLE_SCP);
  }
  scu.setStorageDir(folder.c_str());
  scu.setStorageMode(DCMSCU_STORAGE_DISK);
  Connect(scu, callingAETitle, peer, timeoutSeconds);
  const T_ASC_PresentationContextID context =
    scu.findAnyPresentationContextID(UID_GETStudyRootQueryRetrieveInformationModel, "");
  if (context == 0)
  {
    scu.releaseAssociation();
    throw Error(fmt::format("{} does not offer C-GET (Study Root).", peer.ToString()));
  }
  DcmDataset query;
  query.putAndInsertString(DCM_QueryRetrieveLevel, "SERIES");
  query.putAndInsertString(DCM_StudyInstanceUID, studyInstanceUid.c_str());
  query.putAndInsertString(DCM_SeriesInstanceUID, seriesInstanceUid.c_str());
  OFList<RetrieveResponse *> responses;
  const OFCondition got = scu.sendCGETRequest(context, &query, &responses);
  Uint16 status = STATUS_Success;
  Uint16 completed = 0;
  Uint16 failed = 0;
  for (RetrieveResponse * response : responses)
  {
    if (!DICOM_PENDING_STATUS(response->m_status))
    {
      status = response->m_status;
      completed = response->m_numberOfCompletedSubops;
      failed = response->m_numberOfFailedSubops;
    }
    delete response;
  }
  scu.releaseAssociation();
  if (got.bad())
  {
    throw Error(
      fmt::format("C-GET of the series {} from {} failed: {}.", seriesInstanceUid, peer.ToString(), TextOf(got)));
  }
  if (status != STATUS_Success || failed > 0)
  {
    throw Error(fmt::format("{} answered C-GET of the series {} with status 0x{:04x} ({} instance(s) sent, {} failed).",
                            peer.ToString(),
                            seriesInstanceUid,
                            status,
                            completed,
                            failed));
  }
  return completed;
}

} // namespace recontrast::dicom
