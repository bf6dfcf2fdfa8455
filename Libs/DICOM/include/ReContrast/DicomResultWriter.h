/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  DICOM results of a scan: the anomaly map as a Parametric Map and the regions as a SEG.
 *
 *=========================================================================*/
#ifndef ReContrast_DicomResultWriter_h
#define ReContrast_DicomResultWriter_h

#include "ReContrast/DicomSeriesReader.h"
#include "ReContrast/ReContrastDICOMExport.h"
#include "itkImage.h"

#include <string>

namespace recontrast::dicom
{

/** What the derived objects say about where they come from. */
struct ResultDescription
{
  std::string algorithmName = "ReContrast";
  std::string algorithmVersion; ///< The software version.
  std::string modelDescription; ///< One line about the model (backbone, training data); goes into Content Description.
  int seriesNumber = 0;         ///< 0: a number derived from the source series (source + 1000, + 1001 for SEG).
  /** The map is calibrated: its values are standard deviations above the normal scores (UCUM "{SD}"),
   * not raw scores without unit. */
  bool calibrated = false;
};

using MapVolumeType = itk::Image<float, 3>;
using LabelVolumeType = itk::Image<unsigned short, 3>;

/** Writes the anomaly map as a DICOM Parametric Map (float32 frames, one per slice of the source
 * series) in a new series of the source's study: same patient, study and Frame of Reference, each
 * frame derived from the source image it lies on, a Real World Value Mapping that says the values
 * are anomaly scores without unit. `map` must have the source volume's grid.
 * Written atomically (temporary file, then rename); throws recontrast::Error on failure. */
ReContrastDICOM_EXPORT void WriteParametricMap(const MapVolumeType * map, const Series & source,
                                               const ResultDescription & description, const std::string & path);

/** Writes the anomalous regions (every non-zero label) as a binary DICOM Segmentation with one
 * segment, "Anomaly", in a new series of the source's study, each frame derived from its source
 * image. `labels` must have the source volume's grid. Atomic; throws recontrast::Error. */
ReContrastDICOM_EXPORT void WriteSegmentation(const LabelVolumeType * labels, const Series & source,
                                              const ResultDescription & description, const std::string & path);

} // namespace recontrast::dicom

#endif
