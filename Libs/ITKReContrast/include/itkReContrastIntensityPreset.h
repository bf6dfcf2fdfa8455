/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Intensity presets: how a scan's intensities are mapped to the model's [0, 1] range.
 *
 *=========================================================================*/
#ifndef itkReContrastIntensityPreset_h
#define itkReContrastIntensityPreset_h

#include "itkMacro.h"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include "ReContrastITKExport.h"

namespace itk
{

/** \class ReContrastIntensityPresetEnums
 * \brief Enums of ReContrastIntensityPreset.
 * \ingroup ITKReContrast
 */
class ReContrastIntensityPresetEnums
{
public:
  /** \brief The kinds of intensity mapping. */
  enum class Kind : uint8_t
  {
    /** Robust percentiles of the scan's foreground intensities, fitted per scan. */
    MR,
    /** A named CT window (centre and width in Hounsfield units). */
    CT,
    /** An explicit [lower, upper] window. */
    Window,
    /** Values already in [0, 1]. */
    Unit,
    /** 8-bit grey or RGB pictures: [0, 255] scaled by 1/255. */
    Bytes
  };
};

extern ReContrastITK_EXPORT std::ostream & operator<<(std::ostream & out,
                                                      const ReContrastIntensityPresetEnums::Kind value);

/** \class ReContrastIntensityPreset
 * \brief Maps a scan's intensities to the model's input range [0, 1].
 *
 * Every kind maps a value v to (v - lower) / (upper - lower), clamped to [0, 1 + headroom]; the kinds
 * differ in where lower and upper come from. The headroom is 0 except for MR:
 *
 * - MR: the lower and upper percentiles (default 0.5 % and 99.5 %) of the foreground voxels of the
 *   whole scan, computed by Fit(). One mapping per scan, never per slice, so that slices stay
 *   comparable. Percentiles are exact order statistics with linear interpolation between the two
 *   neighbouring ranks, as numpy.percentile computes them by default. Values above the upper
 *   percentile keep rising up to one more range (headroom 1, up to 2): a lesion brighter than any
 *   normal tissue (the top 0.5 % of a scan's voxels are only some 3000 of a brain's) stays brighter
 *   instead of being flattened to the brightest white matter. Headroom 0 clips at the upper
 *   percentile, as model files made before the headroom did.
 * - CT: a named window, lower = centre - width / 2 and upper = centre + width / 2, in HU:
 *
 *   | name        | centre | width |
 *   |-------------|--------|-------|
 *   | brain       |     40 |    80 |
 *   | subdural    |     75 |   215 |
 *   | soft-tissue |     40 |   400 |
 *   | mediastinum |     50 |   350 |
 *   | liver       |     60 |   160 |
 *   | lung        |   -600 |  1500 |
 *   | bone        |    400 |  1800 |
 *
 * - Window: explicit lower and upper values.
 * - Unit: values already in [0, 1] (lower 0, upper 1).
 * - Bytes: 8-bit grey or RGB pictures (lower 0, upper 255, i.e. a scale of 1/255).
 *
 * Text forms (FromString, ToString; case and surrounding blanks are ignored when parsing):
 * "mr", "mr:<lower %>:<upper %>" (e.g. "mr:1:99"), "mr:<lower %>:<upper %>:<headroom>" (e.g.
 * "mr:0.5:99.5:0", clipped), "ct-<window name>" (e.g. "ct-brain"), "window:<lower>:<upper>" (e.g.
 * "window:-100:300"), "unit", "bytes". ToString gives the canonical form, which FromString reads back
 * to an equal preset ("mr" for the default percentiles and headroom). Numbers always use '.' as the
 * decimal separator, whatever the process locale. Model files record ToModelProperty()'s form, and
 * FromModelProperty() reads a model file's form (an MR form without a headroom is an older file's,
 * clipped).
 *
 * Fit() must be called once per scan before Apply(); it also rejects scans with NaN or infinite
 * values. Fitted bounds are scan state: ToString() describes the preset, not the fitted bounds.
 *
 * \ingroup ITKReContrast
 */
class ReContrastITK_EXPORT ReContrastIntensityPreset
{
public:
  using KindEnum = ReContrastIntensityPresetEnums::Kind;

  /** The default preset: MR with the 0.5 % and 99.5 % percentiles. */
  ReContrastIntensityPreset();

  static ReContrastIntensityPreset MR(double lowerPercentile = 0.5, double upperPercentile = 99.5,
                                      double headroom = DefaultMRHeadroom);

  /** How far above the upper percentile an MR preset keeps values (in ranges); see the class text. */
  static constexpr double DefaultMRHeadroom = 1.0;
  /** windowName is one of GetCTWindowNames(), e.g. "brain". */
  static ReContrastIntensityPreset CT(const std::string & windowName);
  static ReContrastIntensityPreset Window(double lower, double upper);
  static ReContrastIntensityPreset Unit();
  static ReContrastIntensityPreset Bytes();

  /** Parses a text form (see the class description); throws ExceptionObject listing the accepted forms. */
  static ReContrastIntensityPreset FromString(const std::string & text);

  /** The canonical text form. */
  std::string ToString() const;

  /** The form a model file records: ToString(), with the MR headroom always written out. */
  std::string ToModelProperty() const;

  /** Reads a model file's "intensity" property: FromString(), except that an MR form without a
   * headroom (written before the headroom existed) means headroom 0, as those models were trained. */
  static ReContrastIntensityPreset FromModelProperty(const std::string & text);

  /** One sentence listing the accepted text forms, for messages and command-line help. */
  static std::string GetAcceptedForms();

  /** The names of the CT windows, in the order of the table above. */
  static std::vector<std::string> GetCTWindowNames();

  KindEnum GetKind() const { return m_Kind; }

  /** The CT window name (CT only; empty for the other kinds). */
  const std::string & GetCTWindowName() const { return m_CTWindowName; }

  /** The percentiles, in percent (MR only; 0 and 100 for the other kinds). */
  double GetLowerPercentile() const { return m_LowerPercentile; }
  double GetUpperPercentile() const { return m_UpperPercentile; }

  /** Values above the upper bound rise up to 1 + headroom (MR only; 0 for the other kinds). */
  double GetHeadroom() const { return m_Headroom; }

  /** True for MR, whose bounds come from the scan. */
  bool RequiresFit() const { return m_Kind == KindEnum::MR; }

  /** True when Apply() can be used: always for the fixed kinds, after Fit() for MR. */
  bool IsFitted() const { return m_Fitted; }

  /** Prepares the preset for one scan.
   *
   * values: the scan's intensities (count of them); foreground: count flags, non-zero for the voxels
   * whose intensities MR uses, or nullptr to use every voxel. Every kind checks that all values are
   * finite; MR then computes its percentiles of the foreground values. Throws ExceptionObject with one
   * sentence when a value is NaN or infinite, when the foreground is empty, or when the foreground has
   * no spread (all voxels equal, or both percentiles equal).
   */
  void Fit(const float * values, const unsigned char * foreground, size_t count);

  /** Fit() from intensities the caller has already selected (an MR preset's foreground values),
   * taken over rather than copied; the same checks and sentences. */
  void Fit(std::vector<float> selectedValues);

  /** Receives some of a scan's selected values. */
  using ValueChunkFunction = std::function<void(const float * values, size_t count)>;

  /** Fit() without a copy of the values, for scans too large to copy: `visit` hands every selected
   * value (an MR preset's foreground values) to its argument, in pieces, the same values each time it
   * is called; it is called once for the fixed kinds and twice for MR. The percentiles are exact and
   * equal to Fit()'s; the same checks and sentences. */
  void FitStreamed(const std::function<void(const ValueChunkFunction &)> & visit, bool scanHasVoxels = true);

  /** Throws Fit()'s sentence when nonFinite of count values are NaN or infinite (nothing when 0),
   * for callers that check a scan's values without passing all of them to Fit(). */
  static void RejectNonFinite(size_t nonFinite, size_t count);

  /** (value - lower) / (upper - lower) clamped to [0, 1 + headroom]; NaN maps to 0. Throws if an MR preset is
   * not fitted. */
  float Apply(float value) const
  {
    if (!m_Fitted)
    {
      ThrowNotFitted();
    }
    return Map(value);
  }

  /** Apply() over a buffer; output may equal values. */
  void Apply(const float * values, float * output, size_t count) const;

  /** The value mapped to 0 (NaN for an MR preset that is not fitted). */
  double GetLower() const { return m_Lower; }

  /** The value mapped to 1 (NaN for an MR preset that is not fitted). */
  double GetUpper() const { return m_Upper; }

  /** Same kind, parameters and, where fitted, the same bounds. */
  bool operator==(const ReContrastIntensityPreset & other) const;
  bool operator!=(const ReContrastIntensityPreset & other) const { return !(*this == other); }

  void Print(std::ostream & os) const;

private:
  ReContrastIntensityPreset(KindEnum kind, double lower, double upper);

  float Map(float value) const
  {
    const double t = (static_cast<double>(value) - m_Lower) * m_Scale;
    // Written so that NaN falls into the first branch.
    if (!(t > 0.0))
    {
      return 0.0f;
    }
    if (t >= m_Ceiling)
    {
      return static_cast<float>(m_Ceiling);
    }
    return static_cast<float>(t);
  }

  void SetBounds(double lower, double upper);

  /** The MR percentiles of the selected foreground values; scanHasVoxels picks the empty-case sentence. */
  void FitSelected(std::vector<float> selected, bool scanHasVoxels);
  /** The checks of a fit over `count` values from `minimum` to `maximum`, before the percentiles. */
  void CheckSpread(size_t count, float minimum, float maximum, bool scanHasVoxels) const;
  /** Sets the fitted bounds, or throws when the percentiles coincide. */
  void SetFittedBounds(double lower, double upper);

  [[noreturn]] static void ThrowNotFitted();

  KindEnum m_Kind{ KindEnum::MR };
  std::string m_CTWindowName;
  double m_LowerPercentile{ 0.5 };
  double m_UpperPercentile{ 99.5 };
  double m_Headroom{ 0.0 };
  double m_Ceiling{ 1.0 }; ///< 1 + m_Headroom
  double m_Lower;
  double m_Upper;
  double m_Scale;
  bool m_Fitted{ false };
};

ReContrastITK_EXPORT std::ostream & operator<<(std::ostream & os, const ReContrastIntensityPreset & preset);

} // end namespace itk

#endif // itkReContrastIntensityPreset_h
