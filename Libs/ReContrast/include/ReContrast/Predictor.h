/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  A loaded model on a device, reused for many images: anomaly maps and scores.
 *
 *=========================================================================*/
#ifndef ReContrast_Predictor_h
#define ReContrast_Predictor_h

#include "ReContrast/ModelDescription.h"
#include "ReContrast/ReContrastExport.h"

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

namespace recontrast
{

/** How an image score is made from its smoothed anomaly map (Documentation/Engine.md, Method 7). */
enum class ScoreReduction
{
  Max,     ///< The official industrial and OCT/APTOS score.
  Mean,    ///< The official ISIC score.
  TopKMean ///< Mean of the highest `topFraction` of the pixels (the stable MVTec variant uses 1 %).
};

RECONTRAST_EXPORT std::string ToString(ScoreReduction reduction);
RECONTRAST_EXPORT ScoreReduction ScoreReductionFromString(const std::string & name);

/** The numerical path of inference. */
enum class Precision
{
  Exact,    ///< The paper-faithful float32 forward, as the official code computes it (the reference).
  Fp32,     ///< Optimised float32: BatchNorm folded, deconvolutions as 1x1 conv + pixel shuffle, kept heads only.
  BFloat16, ///< The optimised graph in bfloat16 (CPUs with AVX-512 BF16 or AMX, CUDA); maps compared in float32.
  Float16   ///< The optimised graph in float16 (CUDA only: CPUs have no fast half-precision convolutions).
};

RECONTRAST_EXPORT std::string ToString(Precision precision);
/** "exact", "fp32", "bf16" or "fp16"; throws Error otherwise. */
RECONTRAST_EXPORT Precision PrecisionFromString(const std::string & name);
/** Every precision's name, for command-line choices. */
RECONTRAST_EXPORT std::vector<std::string> PrecisionNames();
/** Whether `precision` runs natively on `device` ("cpu", "cuda", "cuda:N"): exact and fp32 always;
 * bf16 on GPUs with fast bf16 convolutions and on CPUs with AVX-512 BF16 or AMX; fp16 on GPUs. Throws Error for a
 * device that is unknown or absent. */
RECONTRAST_EXPORT bool PrecisionAvailable(Precision precision, const std::string & device);

struct RECONTRAST_EXPORT PredictorOptions
{
  std::string device = "cpu"; ///< "cpu" or "cuda" (or "cuda:N").
  int threads = 0;            ///< Intra-op threads on the CPU; 0 uses every core.
  int batchSize = 4;          ///< Images per forward pass.
  ScoreReduction reduction = ScoreReduction::Max;
  double topFraction = 0.01;   ///< For TopKMean.
  double smoothingSigma = 4.0; ///< Gaussian sigma in pixels of the model input; 0 disables smoothing.
  Precision precision = Precision::Exact;
  /** When the precision is not available on the device (bf16 on a CPU without bf16 instructions):
   * false falls back to fp32 and says so in Predictor::Notes(); true throws Error. */
  bool strictPrecision = false;
};

/** The result for one image: its anomaly map at the model's input size and its score. */
struct RECONTRAST_EXPORT Prediction
{
  std::vector<float> map; ///< imageSize x imageSize, row-major; the smoothed sum of the model's pair maps.
  double score = 0.0;
};

/** Loads a model once and scores many images (nnU-Net's predictor style).
 *
 * Images are given as float RGB planes in [0, 1] at the model's input size (3 x S x S per image,
 * row-major); the predictor applies the model's normalisation. Not thread-safe: one predictor per
 * thread, or serialise the calls. */
class RECONTRAST_EXPORT Predictor
{
public:
  /** Throws Error when the file is not a usable model or the device is not available. */
  explicit Predictor(const std::string & modelPath, const PredictorOptions & options = PredictorOptions());
  ~Predictor();
  Predictor(const Predictor &) = delete;
  Predictor & operator=(const Predictor &) = delete;

  const ModelDescription & Description() const;
  const PredictorOptions & Options() const;
  int ImageSize() const;

  /** The precision in use (the requested one, or fp32 after a fallback). */
  Precision EffectivePrecision() const;

  /** Sentences about choices made for the caller (a precision fallback); empty when none. */
  const std::vector<std::string> & Notes() const;

  /** Scores `count` images. Throws Error on non-finite input values. */
  std::vector<Prediction> Predict(const float * images, size_t count);

  /** Makes an image score from a smoothed map with the predictor's reduction. */
  double Score(const std::vector<float> & map) const;

  /** Internal state; defined in the engine's sources. */
  struct Impl;

private:
  std::unique_ptr<Impl> m_Impl;
};

} // namespace recontrast

#endif
