/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  DICOM networking with DCMTK's dcmnet: a Storage SCP that keeps each received instance as a
 *  file, and the C-STORE / C-ECHO requests of a node that sends its results back.
 *
 *=========================================================================*/
#ifndef ReContrast_DicomNetwork_h
#define ReContrast_DicomNetwork_h

#include "ReContrast/ReContrastDICOMExport.h"

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace recontrast::dicom
{

/** An application entity on the network. */
struct DicomPeer
{
  std::string aeTitle;
  std::string host;
  std::uint16_t port = 0;

  /** AET@host:port */
  std::string ToString() const;
};

/** Parses "AET@host:port"; throws recontrast::Error naming what is wrong (`what` names the option). */
ReContrastDICOM_EXPORT DicomPeer ParseDicomPeer(const std::string & text, const std::string & what);

/** Throws recontrast::Error unless `title` is a valid AE title (1-16 characters of the default
 * repertoire, no backslash, not only spaces). */
ReContrastDICOM_EXPORT void RequireAETitle(const std::string & title, const std::string & what);

/** One instance the storage server has kept: the file is complete and in its final place. */
struct ReceivedInstance
{
  std::string file;
  std::string callingAETitle;
  std::string studyInstanceUid;
  std::string seriesInstanceUid;
  std::string sopInstanceUid;
  std::string sopClassUid;
  std::string modality;
  std::string bodyPartExamined;
  std::string seriesDescription;
};

struct StorageServerOptions
{
  std::string aeTitle;
  std::uint16_t port = 0;
  /** Calling AE titles accepted at association; empty: any. */
  std::vector<std::string> acceptedCallingAETitles;
  /** Associations served at once; more are refused (local limit exceeded). */
  unsigned int maxAssociations = 4;
  /** Instances are written to <folder>/<Series Instance UID>/<SOP Instance UID>.dcm (through a
   * temporary file in <folder>/.partial, renamed into place when complete and checked). */
  std::string incomingFolder;
  /** Network timeouts (association, message), seconds. */
  unsigned int timeoutSeconds = 30;
};

/** True for a well-formed UID (digits and single dots, at most 64 characters): safe as a file or
 * folder name, whatever a peer on the network sent. */
ReContrastDICOM_EXPORT bool IsValidUid(const std::string & text);

/** The storage SOP classes the server accepts: CT, MR, enhanced CT and enhanced MR images. */
ReContrastDICOM_EXPORT const std::vector<std::string> & AcceptedStorageClasses();

/** A Storage SCP (C-STORE, C-ECHO) serving several associations at once from a pool of threads.
 * Each instance is received into a temporary file, checked (its UIDs present and matching the
 * request, pixel data present), renamed into place, handed to the instance handler, and only then
 * answered with success; a handler that throws makes the request fail with its message. */
class ReContrastDICOM_EXPORT StorageServer
{
public:
  using InstanceHandler = std::function<void(const ReceivedInstance &)>;
  /** Called when an association ends, with the series it brought (each once). */
  using AssociationHandler =
    std::function<void(const std::string & callingAETitle, const std::vector<std::string> & series, bool released)>;
  /** One line per event: associations accepted or refused, instances refused and why. */
  using EventHandler = std::function<void(const std::string & line)>;

  StorageServer(StorageServerOptions options, InstanceHandler onInstance, AssociationHandler onAssociationEnd,
                EventHandler onEvent);
  ~StorageServer();
  StorageServer(const StorageServer &) = delete;
  StorageServer & operator=(const StorageServer &) = delete;

  /** Opens the port and listens in a background thread; throws recontrast::Error when the port
   * cannot be opened. */
  void Start();

  /** Stops accepting associations and waits for those being served. */
  void Stop();

  /** The server's state, shared with its DCMTK workers (defined in the implementation). */
  struct Impl;

private:
  std::unique_ptr<Impl> m_Impl;
};

/** Sends files with C-STORE over one association. Returns, per file, an empty string when the
 * destination stored it, or why not. Throws recontrast::Error when no association can be made (the
 * destination down, refused, or no presentation context accepted). */
ReContrastDICOM_EXPORT std::vector<std::string> StoreFiles(const std::string & callingAETitle,
                                                           const DicomPeer & destination,
                                                           const std::vector<std::string> & files,
                                                           unsigned int timeoutSeconds = 30);

/** C-ECHO; throws recontrast::Error when the peer does not answer with success. */
ReContrastDICOM_EXPORT void Echo(const std::string & callingAETitle, const DicomPeer & peer,
                                 unsigned int timeoutSeconds = 10);

/** A study found with C-FIND. */
struct StudyMatch
{
  std::string studyInstanceUid;
  std::string patientId;
  std::string patientName;
  std::string studyDate;
  std::string studyDescription;
  std::string accessionNumber;
  std::string modalitiesInStudy;
};

/** A series found with C-FIND. */
struct SeriesMatch
{
  std::string seriesInstanceUid;
  std::string modality;
  std::string seriesDescription;
  std::string seriesNumber;
  int instances = 0;                   ///< Number of Series Related Instances, when the peer says (0 otherwise).
  std::vector<std::string> sopClasses; ///< The SOP classes of its instances (an image-level C-FIND).
};

/** The studies of a patient (C-FIND, Study Root, study level). Throws recontrast::Error. */
ReContrastDICOM_EXPORT std::vector<StudyMatch> FindStudies(const std::string & callingAETitle, const DicomPeer & peer,
                                                           const std::string & patientId,
                                                           unsigned int timeoutSeconds = 30);

/** The series of a study (C-FIND, Study Root, series level, then image level for each series' SOP
 * classes). Throws recontrast::Error. */
ReContrastDICOM_EXPORT std::vector<SeriesMatch> FindSeries(const std::string & callingAETitle, const DicomPeer & peer,
                                                           const std::string & studyInstanceUid,
                                                           unsigned int timeoutSeconds = 30);

/** Retrieves one series with C-GET (the instances come back on the same association, so the peer
 * needs no route to this host) into `folder`, which must exist. Returns the number of instances
 * stored; throws recontrast::Error when the retrieval fails or some instances did not arrive. */
ReContrastDICOM_EXPORT size_t RetrieveSeries(const std::string & callingAETitle, const DicomPeer & peer,
                                             const std::string & studyInstanceUid,
                                             const std::string & seriesInstanceUid, const std::string & folder,
                                             unsigned int timeoutSeconds = 30);

} // namespace recontrast::dicom

#endif
