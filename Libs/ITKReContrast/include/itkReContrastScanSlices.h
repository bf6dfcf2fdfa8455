/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The slices of one scan as the model sees them: pre- and post-processing of training and inference.
 *
 *=========================================================================*/
#ifndef itkReContrastScanSlices_h
#define itkReContrastScanSlices_h

#include "itkIntTypes.h"
#include "itkReContrastIntensityPreset.h"
#include "itkReContrastSliceResampler.h"
#include "ReContrastITKExport.h"

#include <array>
#include <memory>
#include <mutex>
#include <vector>

namespace itk
{

/** \class ReContrastScanSlices
 * \brief The slices of one scan as the model sees them: the pre- and post-processing that
 * training (ReContrastScanSampleSource) and inference (ReContrastAnomalyImageFilter) share.
 *
 * Holds the scan's intensities (1 channel, or 3 for RGB pictures) in image buffer order (axis 0
 * fastest), its foreground, the fitted intensity preset and the slice geometry. A 2-D image is a
 * scan with one slice. Slices whose foreground covers less than the minimum fraction are not usable.
 *
 * \ingroup ITKReContrast
 */
class ReContrastITK_EXPORT ReContrastScanSlices
{
public:
  struct Settings
  {
    /** An MR preset that arrives fitted keeps its bounds: the caller fitted it on the whole scan of
     * which these slices are a slab, and checked that scan's values (ReContrastAnomalyImageFilter).
     * Otherwise it is fitted here, which also rejects NaN and infinite values. */
    ReContrastIntensityPreset preset = ReContrastIntensityPreset::FromString("mr");
    /** 2.5-D: previous, current and next slice as the three channels (grey scans only). */
    bool context = false;
    double minimumForegroundFraction = 0.05;
    /** How each slice fills the model's square: aspect kept (scans) or stretched (pictures, as the
     * paper resizes them). */
    ReContrastSliceResampler::Fit fit = ReContrastSliceResampler::Fit::PreserveAspect;
  };

  /** The index axes that span a slice cut along sliceAxis: (u, v), u varying fastest in the slice. */
  static std::array<unsigned int, 2> PlaneAxes(unsigned int sliceAxis)
  {
    return { { sliceAxis == 0 ? 1u : 0u, sliceAxis == 2 ? 1u : 2u } };
  }

  /** The slices along sliceAxis of a scan of the given size whose foreground (one byte per voxel,
   * image buffer order; nullptr = everything) covers at least minimumForegroundFraction of the slice
   * and at least one voxel, in increasing order. */
  static std::vector<SizeValueType> UsableSlices(const unsigned char * foreground,
                                                 const std::array<SizeValueType, 3> & size, unsigned int sliceAxis,
                                                 double minimumForegroundFraction);

  /** Where slice k lies along the slice axis among a scan's usable slices (increasing): 0 at the
   * first, 1 at the last, 0.5 when there is one; NaN for a scan of one slice (a 2-D picture), which
   * has no position. Training's calibration and the filter's calibrated maps share it. */
  static double SlicePosition(const std::vector<SizeValueType> & usable, SizeValueType k, SizeValueType numberOfSlices);

  /** @param values    voxels x components floats, image buffer order
   *  @param size      size along the three index axes (2-D: third = 1)
   *  @param spacing   spacing along the three index axes
   *  @param sliceAxis index axis along which slices are cut (2 for 2-D images)
   *  @param foreground one byte per voxel, non-zero = foreground; empty = everything */
  ReContrastScanSlices(std::vector<float> values, unsigned int components, const std::array<SizeValueType, 3> & size,
                       const std::array<double, 3> & spacing, unsigned int sliceAxis,
                       std::vector<unsigned char> foreground, const Settings & settings);

  SizeValueType GetNumberOfSlices() const { return m_Size[m_Axis]; }
  /** Slices with enough foreground, in increasing order. */
  const std::vector<SizeValueType> & GetUsableSlices() const { return m_Usable; }
  const ReContrastIntensityPreset & GetFittedPreset() const { return m_Preset; }
  unsigned int GetSliceAxis() const { return m_Axis; }

  /** Writes the model input of slice k: three planes of modelSize x modelSize in [0, 1]. Thread-safe. */
  void MakeModelInput(SizeValueType k, unsigned int modelSize, float * out) const;

  /** The geometry between a slice and the model's modelSize x modelSize input (which part of the
   * square shows the slice), as MakeModelInput and WriteSliceMap use it. */
  ReContrastSliceResampler GetSliceResampler(unsigned int modelSize) const { return Resampler(modelSize); }
  /** Resamples a modelSize x modelSize map of slice k onto the slice grid and writes it into a
   * whole-scan buffer (one float per voxel, image buffer order); voxels outside the foreground get 0. */
  void WriteSliceMap(SizeValueType k, const float * squareMap, unsigned int modelSize, float * scanMap) const;
  /** As WriteSliceMap, when these slices are the slab of a larger scan that starts at slice
   * slabStart along the slice axis: scanMap is that scan's buffer and scanSize its size. */
  void WriteSliceMap(SizeValueType k, const float * squareMap, unsigned int modelSize, float * scanMap,
                     const std::array<SizeValueType, 3> & scanSize, SizeValueType slabStart) const;

private:
  SizeValueType Offset(SizeValueType x, SizeValueType y, SizeValueType k) const
  {
    return x * m_Stride[m_U] + y * m_Stride[m_V] + k * m_Stride[m_Axis];
  }
  const ReContrastSliceResampler & Resampler(unsigned int modelSize) const;

  std::vector<float> m_Values;
  unsigned int m_Components;
  std::array<SizeValueType, 3> m_Size;
  std::array<double, 3> m_Spacing;
  std::array<SizeValueType, 3> m_Stride;
  unsigned int m_Axis;
  unsigned int m_U;
  unsigned int m_V;
  std::vector<unsigned char> m_Foreground;
  Settings m_Settings;
  ReContrastIntensityPreset m_Preset;
  std::vector<SizeValueType> m_Usable;
  mutable std::mutex m_ResamplerMutex;
  mutable std::unique_ptr<ReContrastSliceResampler> m_Resampler;
  mutable unsigned int m_ResamplerSize = 0;
};

} // namespace itk

#endif
