/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The ITK layer's interface to a reader of DICOM series folders.
 *
 *=========================================================================*/
#ifndef itkReContrastSeriesFolderReader_h
#define itkReContrastSeriesFolderReader_h

#include "itkImage.h"

#include <string>

namespace itk
{

/** \class ReContrastSeriesFolderReader
 * \brief Reads a folder holding one DICOM series as a volume of modality values.
 *
 * The ITK layer owns this interface and never reads DICOM series itself: the application gives it
 * the one reader it also uses for inference (the project's DCMTK reader in Libs/DICOM), so that a
 * series is grouped, sorted, rescaled and refused by the same rules for training and inference.
 * Implementations throw ExceptionObject with one sentence naming the folder when they cannot read it,
 * and are safe to call from several threads at once (the training loader threads read scans).
 *
 * \ingroup ITKReContrast
 */
class ReContrastSeriesFolderReader
{
public:
  using VolumeType = Image<float, 3>;

  virtual ~ReContrastSeriesFolderReader() = default;

  virtual VolumeType::Pointer ReadSeriesFolder(const std::string & folder) const = 0;
};

} // namespace itk

#endif
