/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The DICOM node's pieces: its durable state (records, recovery after a kill, the outgoing queue)
 *  and its networking, a real Storage SCP and SCU talking over loopback with DCMTK.
 *
 *=========================================================================*/
#include "DicomTestData.h"
#include "ReContrast/DicomNetwork.h"
#include "ReContrast/DicomNodeState.h"
#include "ReContrast/Error.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcmetinf.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmnet/scu.h"

#include <gtest/gtest.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <mutex>
#include <thread>

namespace recontrast::dicom::test
{
namespace
{

ReceivedInstance
Instance(const std::string & series, const std::string & sop)
{
  ReceivedInstance instance;
  instance.seriesInstanceUid = series;
  instance.studyInstanceUid = "1.2.3";
  instance.sopInstanceUid = sop;
  instance.modality = "MR";
  instance.callingAETitle = "PACS";
  return instance;
}

// Puts an instance file where the storage server would (before it records it).
void
Keep(const NodeState & state, const std::string & series, const std::string & sop)
{
  fs::create_directories(state.IncomingFolderOf(series));
  std::ofstream(fs::path(state.IncomingFolderOf(series)) / (sop + ".dcm")) << "instance";
}

std::uint16_t
FreePort()
{
  const int probe = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  ::bind(probe, reinterpret_cast<sockaddr *>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  ::getsockname(probe, reinterpret_cast<sockaddr *>(&address), &length);
  ::close(probe);
  return ntohs(address.sin_port);
}

} // namespace

TEST(DicomNodeState, SeriesIsCompleteAfterTheQuietPeriodOrWhenItsAssociationIsReleased)
{
  ScratchFolder work;
  NodeState state(work.String());
  Keep(state, "1.1", "1.1.1");
  state.RecordInstance(Instance("1.1", "1.1.1"), 100.0);
  Keep(state, "1.1", "1.1.2");
  state.RecordInstance(Instance("1.1", "1.1.2"), 101.0);
  state.RecordInstance(Instance("1.1", "1.1.2"), 102.0); // sent twice: counted once
  EXPECT_EQ(state.Record("1.1").instances.size(), 2u);
  EXPECT_TRUE(state.SeriesToScore(105.0, 5.0, false).empty());
  EXPECT_EQ(state.SeriesToScore(107.0, 5.0, false), std::vector<std::string>{ "1.1" });
  state.RecordRelease({ "1.1" });
  EXPECT_EQ(state.SeriesToScore(103.0, 5.0, true), std::vector<std::string>{ "1.1" });
  EXPECT_TRUE(state.SeriesToScore(103.0, 5.0, false).empty());
}

TEST(DicomNodeState, SeriesStoppedWhileScoredIsScoredAgainAfterARestart)
{
  ScratchFolder work;
  {
    NodeState state(work.String());
    Keep(state, "2.1", "2.1.1");
    state.RecordInstance(Instance("2.1", "2.1.1"), 100.0);
    Keep(state, "2.1", "2.1.2"); // kept, never recorded: the node died before it answered
    state.MarkScoring("2.1", "model.rcm");
    // Another series whose folder has no record: its first instance was never acknowledged.
    Keep(state, "2.2", "2.2.1");
  } // the node dies here
  NodeState restarted(work.String());
  const SeriesRecord record = restarted.Record("2.1");
  EXPECT_EQ(record.stage, SeriesStage::Receiving);
  EXPECT_EQ(record.instances.size(), 2u) << "what is on disk counts";
  EXPECT_EQ(restarted.SeriesToScore(100.5, 30.0, true), std::vector<std::string>{ "2.1" });
  EXPECT_FALSE(fs::exists(restarted.IncomingFolderOf("2.2")));
  EXPECT_THROW(restarted.Record("2.2"), Error);
}

TEST(DicomNodeState, ResultsStayQueuedUntilEachIsStoredAndNothingIsSentTwice)
{
  ScratchFolder work;
  {
    NodeState state(work.String());
    Keep(state, "3.1", "3.1.1");
    state.RecordInstance(Instance("3.1", "3.1.1"), 100.0);
    state.MarkScoring("3.1", "model.rcm");
    state.MarkScored("3.1", { "map.dcm", "seg.dcm" }, 1.5, 4.2, true, 110.0, 3.0);
    EXPECT_EQ(state.SeriesToSend(110.0), std::vector<std::string>{ "3.1" });
    state.MarkSendFailed("3.1", "destination down", 111.0, 5.0);
    EXPECT_TRUE(state.SeriesToSend(112.0).empty()) << "the retry waits";
    EXPECT_EQ(state.SeriesToSend(116.0), std::vector<std::string>{ "3.1" });
    state.MarkSent("3.1", "map.dcm", 116.0);
  } // restarted between the two results
  NodeState state(work.String());
  SeriesRecord record = state.Record("3.1");
  EXPECT_EQ(record.stage, SeriesStage::Sending);
  EXPECT_EQ(record.sent, std::vector<std::string>{ "map.dcm" });
  EXPECT_EQ(record.sendAttempts, 1);
  EXPECT_DOUBLE_EQ(record.calibratedScore, 4.2);
  state.MarkSent("3.1", "seg.dcm", 120.0);
  record = state.Record("3.1");
  EXPECT_EQ(record.stage, SeriesStage::Done);
  EXPECT_TRUE(state.SeriesToSend(1000.0).empty());
}

TEST(DicomNodeState, FailuresKeepTheirReasonAndNewInstancesStartASeriesOver)
{
  ScratchFolder work;
  NodeState state(work.String());
  Keep(state, "4.1", "4.1.1");
  state.RecordInstance(Instance("4.1", "4.1.1"), 100.0);
  state.MarkScoring("4.1", "");
  state.MarkFailed("4.1", "no model rule matches modality 'MR'", 101.0);
  EXPECT_EQ(state.Record("4.1").stage, SeriesStage::Failed);
  EXPECT_EQ(state.Record("4.1").reason, "no model rule matches modality 'MR'");
  EXPECT_EQ(NodeState::ReadRecords(work.String()).front().reason, "no model rule matches modality 'MR'");
  Keep(state, "4.1", "4.1.2");
  state.RecordInstance(Instance("4.1", "4.1.2"), 200.0);
  EXPECT_EQ(state.Record("4.1").stage, SeriesStage::Receiving);
  EXPECT_EQ(state.Record("4.1").instances.size(), 2u);
  EXPECT_TRUE(state.Record("4.1").reason.empty());
}

TEST(DicomNodeState, OneNodePerWorkFolderAndTheDiskLimitRemovesFinishedSeriesFirst)
{
  ScratchFolder work;
  NodeState state(work.String());
  EXPECT_THROW(NodeState second(work.String()), Error);
  EXPECT_NO_THROW(NodeState::ReadRecords(work.String()));
  for (const std::string series : { "5.1", "5.2", "5.3" })
  {
    Keep(state, series, series + ".1");
    state.RecordInstance(Instance(series, series + ".1"), 100.0);
  }
  state.MarkScoring("5.1", "m");
  state.MarkScored("5.1", {}, 1.0, 0.0, false, 110.0, 1.0); // no results: done
  state.MarkScoring("5.2", "m");
  state.MarkFailed("5.2", "unreadable", 105.0);
  EXPECT_EQ(state.FreeDisk(1000000), std::vector<std::string>{});
  EXPECT_EQ(state.FreeDisk(0), (std::vector<std::string>{ "5.2", "5.1" })); // failed earlier, then done
  EXPECT_TRUE(fs::exists(state.IncomingFolderOf("5.3"))) << "a series still receiving is kept";
}

TEST(DicomNodeState, LeftoverTemporaryRecordsAndDescriptionsInOtherCharacterSetsDoNotStopTheNode)
{
  ScratchFolder work;
  {
    NodeState state(work.String());
    ReceivedInstance instance = Instance("6.1", "6.1.1");
    instance.seriesDescription = std::string("Sch") + static_cast<char>(0xe4) + "del T1"; // Latin-1, not UTF-8
    Keep(state, "6.1", "6.1.1");
    state.RecordInstance(instance, 100.0);
  }
  // A record being written when the node was killed: a truncated temporary file beside the records.
  std::ofstream(work.Path() / "series" / ".partial-host-1-0-6.1.json") << "{\"series_instance_uid\": \"6.";
  NodeState restarted(work.String());
  EXPECT_EQ(restarted.Record("6.1").instances.size(), 1u);
  EXPECT_EQ(NodeState::ReadRecords(work.String()).size(), 1u);
}

class DicomNetworkTest : public ::testing::Test
{
protected:
  void SetUp() override
  {
    if (!fs::is_regular_file(PydicomFiles() / "MR_small.dcm"))
    {
      GTEST_SKIP() << "pydicom's test files are absent (" << PydicomFiles() << ")";
    }
    m_Port = FreePort();
    StorageServerOptions options;
    options.aeTitle = "NODE";
    options.port = m_Port;
    options.acceptedCallingAETitles = { "PACS" };
    options.incomingFolder = (m_Work.Path() / "incoming").string();
    options.timeoutSeconds = 10;
    m_Server = std::make_unique<StorageServer>(
      options,
      [this](const ReceivedInstance & instance) {
        std::lock_guard<std::mutex> lock(m_Mutex);
        m_Received.push_back(instance);
      },
      [this](const std::string &, const std::vector<std::string> & series, bool released) {
        std::lock_guard<std::mutex> lock(m_Mutex);
        m_Ended.push_back({ series, released });
      },
      [this](const std::string & line) {
        std::lock_guard<std::mutex> lock(m_Mutex);
        m_Events.push_back(line);
      });
    m_Server->Start();
  }

  DicomPeer Node() const { return DicomPeer{ "NODE", "127.0.0.1", m_Port }; }

  bool EventMentions(const std::string & text)
  {
    std::lock_guard<std::mutex> lock(m_Mutex);
    for (const std::string & line : m_Events)
    {
      if (line.find(text) != std::string::npos)
      {
        return true;
      }
    }
    return false;
  }

  ScratchFolder m_Work;
  std::uint16_t m_Port = 0;
  std::unique_ptr<StorageServer> m_Server;
  std::mutex m_Mutex;
  std::vector<ReceivedInstance> m_Received;
  std::vector<std::pair<std::vector<std::string>, bool>> m_Ended;
  std::vector<std::string> m_Events;
};

TEST_F(DicomNetworkTest, StoresInstancesAsTheyWereSentAndSaysWhichSeriesAnAssociationBrought)
{
  EXPECT_NO_THROW(Echo("PACS", Node()));
  const std::vector<std::string> outcome = StoreFiles(
    "PACS", Node(), { (PydicomFiles() / "MR_small.dcm").string(), (PydicomFiles() / "CT_small.dcm").string() });
  EXPECT_EQ(outcome, (std::vector<std::string>{ "", "" }));
  m_Server->Stop(); // waits for the association to end
  ASSERT_EQ(m_Received.size(), 2u);
  const ReceivedInstance & mr = m_Received[0];
  EXPECT_EQ(mr.modality, "MR");
  EXPECT_EQ(mr.callingAETitle, "PACS");
  EXPECT_EQ(fs::path(mr.file), m_Work.Path() / "incoming" / mr.seriesInstanceUid / (mr.sopInstanceUid + ".dcm"));
  DcmFileFormat sent;
  DcmFileFormat kept;
  ASSERT_TRUE(sent.loadFile((PydicomFiles() / "MR_small.dcm").c_str()).good());
  ASSERT_TRUE(kept.loadFile(mr.file.c_str()).good());
  const Uint16 * sentPixels = nullptr;
  const Uint16 * keptPixels = nullptr;
  unsigned long count = 0;
  ASSERT_TRUE(sent.getDataset()->findAndGetUint16Array(DCM_PixelData, sentPixels, &count).good());
  ASSERT_TRUE(kept.getDataset()->findAndGetUint16Array(DCM_PixelData, keptPixels).good());
  EXPECT_TRUE(std::equal(sentPixels, sentPixels + count, keptPixels));
  ASSERT_EQ(m_Ended.size(), 1u);
  EXPECT_EQ(m_Ended[0].first.size(), 2u);
  EXPECT_TRUE(m_Ended[0].second) << "released";
  EXPECT_TRUE(fs::is_empty(m_Work.Path() / "incoming" / ".partial"));
}

TEST_F(DicomNetworkTest, RefusesUnknownCallersUnsupportedClassesAndInstancesWithoutPixelsAndKeepsServing)
{
  // An unknown calling AE title: refused at association.
  try
  {
    StoreFiles("STRANGER", Node(), { (PydicomFiles() / "MR_small.dcm").string() });
    ADD_FAILURE() << "an unknown calling AE title was accepted";
  }
  catch (const Error & e)
  {
    EXPECT_NE(std::string(e.what()).find("No association with NODE@127.0.0.1"), std::string::npos) << e.what();
  }
  // A class the node does not score (an RT Plan): no presentation context, no association.
  EXPECT_THROW(StoreFiles("PACS", Node(), { (PydicomFiles() / "rtplan.dcm").string() }), Error);
  // An MR instance without pixel data: refused with a failure status, the association goes on.
  DcmFileFormat file;
  ASSERT_TRUE(file.loadFile((PydicomFiles() / "MR_small.dcm").c_str()).good());
  file.getDataset()->findAndDeleteElement(DCM_PixelData);
  file.getDataset()->putAndInsertString(DCM_SOPInstanceUID, "1.2.826.0.1.3680043.8.498.1");
  file.getMetaInfo()->putAndInsertString(DCM_MediaStorageSOPInstanceUID, "1.2.826.0.1.3680043.8.498.1");
  const std::string pixelless = (m_Work.Path() / "pixelless.dcm").string();
  ASSERT_TRUE(file.saveFile(pixelless.c_str(), EXS_LittleEndianExplicit).good());
  const std::vector<std::string> outcome =
    StoreFiles("PACS", Node(), { pixelless, (PydicomFiles() / "MR_small.dcm").string() });
  ASSERT_EQ(outcome.size(), 2u);
  EXPECT_NE(outcome[0].find("status 0xc000"), std::string::npos) << outcome[0];
  EXPECT_EQ(outcome[1], "");
  m_Server->Stop();
  EXPECT_EQ(m_Received.size(), 1u);
  EXPECT_TRUE(EventMentions("calling AE title 'STRANGER' is not accepted"));
  EXPECT_TRUE(EventMentions("refused: it has no pixel data"));
  EXPECT_FALSE(fs::exists(m_Work.Path() / "incoming" / "1.2.826.0.1.3680043.8.498.1.dcm"));
}

TEST_F(DicomNetworkTest, AssociationsBeyondTheLimitAreRefusedUntilOneEnds)
{
  // The fixture's server serves 4 at once: hold 4 open, the fifth is refused, then served again.
  std::vector<std::unique_ptr<DcmSCU>> held;
  for (int i = 0; i < 4; ++i)
  {
    auto scu = std::make_unique<DcmSCU>();
    OFList<OFString> syntaxes;
    syntaxes.push_back(UID_LittleEndianImplicitTransferSyntax);
    scu->addPresentationContext(UID_VerificationSOPClass, syntaxes);
    scu->setAETitle("PACS");
    scu->setPeerAETitle("NODE");
    scu->setPeerHostName("127.0.0.1");
    scu->setPeerPort(m_Port);
    ASSERT_TRUE(scu->initNetwork().good());
    ASSERT_TRUE(scu->negotiateAssociation().good()) << "association " << i;
    held.push_back(std::move(scu));
  }
  EXPECT_THROW(Echo("PACS", Node(), 5), Error);
  held.back()->releaseAssociation();
  held.pop_back();
  // The pool notices the ended association when its worker finishes; give it a moment.
  bool served = false;
  for (int attempt = 0; attempt < 50 && !served; ++attempt)
  {
    try
    {
      Echo("PACS", Node(), 5);
      served = true;
    }
    catch (const Error &)
    {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  EXPECT_TRUE(served);
  for (auto & scu : held)
  {
    scu->releaseAssociation();
  }
}

TEST(DicomNetwork, PeersAndAETitlesAreCheckedWithOneSentence)
{
  const DicomPeer peer = ParseDicomPeer("ORTHANC@pacs.example.org:4242", "--destination");
  EXPECT_EQ(peer.aeTitle, "ORTHANC");
  EXPECT_EQ(peer.host, "pacs.example.org");
  EXPECT_EQ(peer.port, 4242);
  EXPECT_EQ(peer.ToString(), "ORTHANC@pacs.example.org:4242");
  for (const char * bad : { "ORTHANC",
                            "ORTHANC@host",
                            "@host:4242",
                            "ORTHANC@:4242",
                            "ORTHANC@host:0",
                            "ORTHANC@host:70000",
                            "A_TITLE_LONGER_THAN_16@host:4242",
                            "ORTHANC@host:42x" })
  {
    EXPECT_THROW(ParseDicomPeer(bad, "--destination"), Error) << bad;
  }
  EXPECT_THROW(RequireAETitle("BACK\\SLASH", "AE"), Error);
  EXPECT_THROW(RequireAETitle("   ", "AE"), Error);
  EXPECT_NO_THROW(RequireAETitle("RECONTRAST", "AE"));
}

TEST(DicomNetwork, APortInUseIsSaidInOneSentence)
{
  const int holder = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_ANY);
  address.sin_port = 0;
  ASSERT_EQ(::bind(holder, reinterpret_cast<sockaddr *>(&address), sizeof(address)), 0);
  ::listen(holder, 1);
  socklen_t length = sizeof(address);
  ::getsockname(holder, reinterpret_cast<sockaddr *>(&address), &length);
  ScratchFolder work;
  StorageServerOptions options;
  options.aeTitle = "NODE";
  options.port = ntohs(address.sin_port);
  options.incomingFolder = work.String();
  StorageServer server(options, {}, {}, {});
  try
  {
    server.Start();
    ADD_FAILURE() << "a port in use was opened";
  }
  catch (const Error & e)
  {
    EXPECT_NE(std::string(e.what()).find("cannot be opened"), std::string::npos) << e.what();
  }
  ::close(holder);
}

} // namespace recontrast::dicom::test
