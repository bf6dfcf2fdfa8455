/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Where the trainer gets its images: the interface the ITK layer implements.
 *
 *=========================================================================*/
#ifndef ReContrast_SampleSource_h
#define ReContrast_SampleSource_h

#include "ReContrast/ReContrastExport.h"

#include <cstddef>
#include <string>

namespace recontrast
{

/** Where training images come from. The ITK layer (slices of volumes) and folders of 2-D images
 * implement it; the engine's data loader calls Load() from several worker threads at once. */
class RECONTRAST_EXPORT SampleSource
{
public:
  virtual ~SampleSource();

  /** Number of samples. */
  virtual size_t Size() const = 0;

  /** Writes sample `index` as three float planes (R, G, B) of imageSize x imageSize pixels in [0, 1]
   * into `out`. Must be safe to call concurrently. Throws Error naming the file on failure. */
  virtual void Load(size_t index, int imageSize, float * out) const = 0;

  /** One line saying what the samples are (recorded in the model file). */
  virtual std::string Summary() const = 0;

  /** Where sample `index` lies along its scan's slice axis, from 0 (the first slice of the scan's
   * foreground) to 1 (the last); NaN (the default) for samples without a position, such as
   * pictures. Calibration uses it to tell "unusual for this position" from "position rarely seen". */
  virtual double Position(size_t index) const;
};

} // namespace recontrast

#endif
