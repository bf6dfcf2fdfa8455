/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The DICOM node's durable state: one record per series (received, scored, sent, failed and why),
 *  which is also its outgoing queue, kept in a work folder so that a restart (kill -9 included)
 *  loses nothing and sends nothing twice.
 *
 *=========================================================================*/
#ifndef ReContrast_DicomNodeState_h
#define ReContrast_DicomNodeState_h

#include "ReContrast/DicomNetwork.h"
#include "ReContrast/ReContrastDICOMExport.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace recontrast::dicom
{

enum class SeriesStage
{
  Receiving, ///< Instances arriving; complete after the quiet period or when its association is released.
  Scoring,   ///< Being scored (a restart scores it again).
  Sending,   ///< Results written, waiting to be stored at the destination (the outgoing queue).
  Done,      ///< Every result stored at the destination.
  Failed     ///< Not scored or not sendable; `reason` says why.
};

ReContrastDICOM_EXPORT const char * ToString(SeriesStage stage);

struct SeriesRecord
{
  std::string seriesInstanceUid;
  std::string studyInstanceUid;
  std::string modality;
  std::string bodyPartExamined;
  std::string seriesDescription;
  std::string callingAETitle;
  SeriesStage stage = SeriesStage::Receiving;
  std::vector<std::string> instances; ///< SOP Instance UIDs received (each once).
  double firstReceived = 0.0;         ///< Seconds since the epoch.
  double lastReceived = 0.0;
  bool released = false; ///< Its association was released after its last instance.
  std::string model;     ///< The model that scored it.
  std::string reason;    ///< Why it failed, or the last sending error.
  double score = 0.0;
  double calibratedScore = 0.0;
  bool calibrated = false;
  std::vector<std::string> results; ///< Result files, in the series' results folder.
  std::vector<std::string> sent;    ///< Those the destination has stored.
  int sendAttempts = 0;
  double nextSendAttempt = 0.0;
  double scoredAt = 0.0;
  double scoreSeconds = 0.0;
  double doneAt = 0.0;
};

/** The records of a work folder: `series/<uid>.json` (each written atomically on every change),
 * `incoming/<uid>/` (the instances, from the storage server) and `results/<uid>/`. Thread-safe. */
class ReContrastDICOM_EXPORT NodeState
{
public:
  /** Creates the folders when missing and loads the records. A series found being scored (the node
   * stopped or died meanwhile) is complete again, to be scored anew; its instance list is taken
   * from the files present. One node at a time: the folder is locked while this object lives.
   * Throws recontrast::Error when the folder cannot be used or another node holds it. */
  explicit NodeState(std::string workFolder);
  ~NodeState();
  NodeState(const NodeState &) = delete;
  NodeState & operator=(const NodeState &) = delete;

  /** The records of a work folder as they are on disk, oldest first, without taking the folder
   * (what `recontrast serve --status` shows while the node runs). */
  static std::vector<SeriesRecord> ReadRecords(const std::string & workFolder);

  const std::string & WorkFolder() const { return m_WorkFolder; }
  std::string IncomingFolder() const;
  std::string IncomingFolderOf(const std::string & seriesInstanceUid) const;
  std::string ResultsFolderOf(const std::string & seriesInstanceUid) const;

  /** Records an instance the storage server has kept (before the sender is told it succeeded). An
   * instance of a series already scored starts that series again. */
  void RecordInstance(const ReceivedInstance & instance, double now);

  /** The association that brought these series was released (not aborted). */
  void RecordRelease(const std::vector<std::string> & series);

  /** Series receiving with no instance for `quietSeconds`, or released when `completeOnRelease`. */
  std::vector<std::string> SeriesToScore(double now, double quietSeconds, bool completeOnRelease) const;

  void MarkScoring(const std::string & seriesInstanceUid, const std::string & model);
  void MarkScored(const std::string & seriesInstanceUid, const std::vector<std::string> & results, double score,
                  double calibratedScore, bool calibrated, double now, double seconds);
  void MarkFailed(const std::string & seriesInstanceUid, const std::string & reason, double now);

  /** Series with results still to send whose next attempt is due. */
  std::vector<std::string> SeriesToSend(double now) const;
  void MarkSent(const std::string & seriesInstanceUid, const std::string & file, double now);
  /** A failed attempt: the next one after `retrySeconds`. */
  void MarkSendFailed(const std::string & seriesInstanceUid, const std::string & reason, double now,
                      double retrySeconds);

  SeriesRecord Record(const std::string & seriesInstanceUid) const;
  /** Every record, oldest first. */
  std::vector<SeriesRecord> Records() const;

  /** Bytes under incoming/ and results/. */
  std::uint64_t DiskUsage() const;
  /** Removes the received instances of finished series (done or failed), oldest first, until the
   * disk usage is at most `limitBytes`; returns the series cleaned. Their records stay. */
  std::vector<std::string> FreeDisk(std::uint64_t limitBytes);

private:
  void Save(const SeriesRecord & record) const;
  SeriesRecord & At(const std::string & seriesInstanceUid);

  std::string m_WorkFolder;
  int m_Lock = -1;
  mutable std::mutex m_Mutex;
  std::map<std::string, SeriesRecord> m_Records;
};

} // namespace recontrast::dicom

#endif
