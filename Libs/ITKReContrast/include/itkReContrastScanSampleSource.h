/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Training samples from sets of scans, and how the ITK layer reads a scan.
 *
 *=========================================================================*/
#ifndef itkReContrastScanSampleSource_h
#define itkReContrastScanSampleSource_h

#include "itkReContrastScanSlices.h"
#include "itkReContrastSeriesFolderReader.h"
#include "ReContrast/SampleSource.h"
#include "ReContrastITKExport.h"

#include "itkImage.h"
#include "itkImageIOBase.h"

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace itk
{

/** \class ReContrastScanSampleSource
 * \brief Training samples for the engine's trainer: the usable slices of a set of normal scans
 * (volumes and 2-D pictures in any format ITK reads), pre-processed exactly as the anomaly filter
 * does it.
 *
 * Construction reads every scan once to find its usable slices (enough foreground); afterwards
 * scans are read again on demand and kept in a small cache, so a large set never has to fit in
 * memory. Load() is safe to call from the trainer's loader threads.
 *
 * \ingroup ITKReContrast
 */
class ReContrastITK_EXPORT ReContrastScanSampleSource : public recontrast::SampleSource
{
public:
  struct Settings
  {
    ReContrastScanSlices::Settings slices;
    int sliceAxis = -1;        ///< -1: the axis closest to axial (3-D); 2-D pictures have one slice.
    bool automaticMask = true; ///< Body/air mask for 3-D scans (2-D pictures: every pixel).
    size_t cachedScans = 4;
    /** Reads the DICOM series folders among the scans: the application's one DICOM reader, the same
     * it uses for inference. Without it, a folder is refused with a sentence saying so. */
    std::shared_ptr<const ReContrastSeriesFolderReader> seriesReader;
  };

  /** Throws itk::ExceptionObject naming the file when a scan cannot be read or has no usable slice. */
  ReContrastScanSampleSource(std::vector<std::string> files, const Settings & settings);

  size_t Size() const override;
  void Load(size_t index, int imageSize, float * out) const override;
  std::string Summary() const override;
  double Position(size_t index) const override;

  /** The scans of a training-data argument: a folder (every readable image file in it, sorted), a
   * text file listing one path per line (relative to the list's folder; # starts a comment), or an
   * MVTec-style folder (its train/good/ is used). Throws when nothing is found. */
  static std::vector<std::string> ListScans(const std::string & folderOrList);

private:
  std::shared_ptr<const ReContrastScanSlices> Scan(size_t file) const;

  std::vector<std::string> m_Files;
  Settings m_Settings;
  std::vector<std::pair<size_t, SizeValueType>> m_Samples; ///< (file, slice)
  std::vector<double> m_Positions;                         ///< Of each sample along its scan's slice axis.
  mutable std::mutex m_Mutex;
  mutable std::list<std::pair<size_t, std::shared_ptr<const ReContrastScanSlices>>> m_Cache;
};

/** Reads a scan (any ITK-readable file: NIfTI, NRRD, MetaImage, PNG, JPEG, ...; or a folder of
 * DICOM files, read by settings.seriesReader) into the shared slice representation. */
ReContrastITK_EXPORT std::shared_ptr<const ReContrastScanSlices> ReContrastReadScanSlices(
  const std::string & path, const ReContrastScanSampleSource::Settings & settings);

} // namespace itk

#endif
