/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The DICOM series reader (DCMTK): one folder, one volume, the same rules for training and inference.
 *
 *=========================================================================*/
#ifndef ReContrast_DicomSeriesReader_h
#define ReContrast_DicomSeriesReader_h

#include "ReContrast/ReContrastDICOMExport.h"
#include "itkImage.h"
#include "itkReContrastSeriesFolderReader.h"

#include <array>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace recontrast::dicom
{

/** One slice of a volume as it is stored in the archive: the file, the instance, and for an
 * enhanced multi-frame image the frame. DICOM results reference these. */
struct SourceImage
{
  std::string file;
  std::string sopClassUid;
  std::string sopInstanceUid;
  unsigned int frameNumber = 0; ///< 1-based frame in a multi-frame instance; 0 for a single-frame one.
  /** Its Image Position (Patient), LPS mm, when it has one. The volume's grid is regular (spacing =
   * the mean distance); real positions may deviate from it slightly, and results that reference
   * this image are placed where it is. */
  std::array<double, 3> position{};
  bool hasPosition = false;
};

/** A DICOM series read as a volume, with what a derived object (Parametric Map, SEG) needs to
 * reference it and to join its study. */
struct Series
{
  using VolumeType = itk::Image<float, 3>;

  VolumeType::Pointer volume; ///< Modality values (Rescale Slope/Intercept applied), sorted along the slice normal.
  std::string studyInstanceUid;
  std::string seriesInstanceUid;
  std::string frameOfReferenceUid;
  std::string modality;
  std::string seriesDescription;
  std::string seriesNumber;
  std::vector<SourceImage> slices; ///< slices[k] is slice k of the volume (index along its third axis).
  std::vector<std::string> notes;  ///< Files skipped and other series found, one sentence each.
};

struct SeriesReadOptions
{
  /** The series to read. Empty: the largest image stack in the folder (the other series are named in
   * the notes). Parametric Maps and Segmentations are skipped unless they are asked for by UID. */
  std::string seriesInstanceUid;
};

/** Reads the DICOM files directly inside `folder` as one volume with the scan's geometry.
 *
 * Files are grouped by Series Instance UID and, within a series, by orientation and matrix size;
 * slices are sorted by their position along the slice normal (never by file name or Instance
 * Number). Compressed transfer syntaxes that DCMTK decodes (JPEG, JPEG-LS, RLE, deflate) are
 * read, and so are enhanced multi-frame images (per-frame and shared functional groups).
 *
 * Refused with one sentence (recontrast::Error) naming the file or the series: a folder without
 * DICOM images; a file that is damaged or truncated, lacks its pixel data, or uses a transfer
 * syntax that cannot be decoded; colour images; two slices at one position (several volumes in
 * one series); unevenly spaced slices (a missing slice is named as such); a tilted gantry.
 * Files that are not DICOM, or DICOM objects that are not images, are skipped with a note. */
ReContrastDICOM_EXPORT Series ReadSeries(const std::string & folder, const SeriesReadOptions & options = {});

/** The application's one reader of DICOM series folders: ReadSeries with one set of options, for
 * inference (Read, with what DICOM results need) and, through the ITK layer's interface, for
 * training and evaluation (ReadSeriesFolder), so a series is read by the same rules everywhere.
 * Each note of a folder goes to the note handler once per reader (training reads a series more
 * than once). Safe to use from several threads at once. */
class ReContrastDICOM_EXPORT SeriesFolderReader : public itk::ReContrastSeriesFolderReader
{
public:
  using NoteHandler = std::function<void(const std::string & folder, const std::string & note)>;

  explicit SeriesFolderReader(SeriesReadOptions options = {}, NoteHandler onNote = {});

  /** Throws recontrast::Error naming the folder. */
  Series Read(const std::string & folder) const;

  /** Read's volume; throws itk::ExceptionObject naming the folder, as the ITK layer expects. */
  VolumeType::Pointer ReadSeriesFolder(const std::string & folder) const override;

private:
  SeriesReadOptions m_Options;
  NoteHandler m_OnNote;
  mutable std::mutex m_Mutex;
  mutable std::set<std::string> m_Said;
};


} // namespace recontrast::dicom

#endif
