/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Smoothing of anomaly maps and their scores.
 *
 *=========================================================================*/
#ifndef ReContrast_Inference_h
#define ReContrast_Inference_h

#include "ReContrast/Predictor.h"
#include "ReContrastNetwork.h"

#include <vector>

namespace recontrast
{

/** Copies `count` RGB images in [0, 1] (3 x S x S floats each) into a normalised [count, 3, S, S]
 * tensor on `device`. Throws Error on non-finite values. */
torch::Tensor NormalizedBatch(const float * images, size_t count, const ModelConfig & config,
                              const torch::Device & device);

/** The element type of the graph for a reduced precision (bf16, fp16). */
torch::ScalarType ReducedPrecisionType(Precision precision);

/** The eval-mode forward and the unsmoothed maps ([B, S, S] float64, CPU) of a normalised batch,
 * summed over the model's map pairs. */
torch::Tensor RawMapsOf(ReContrastNetwork & network, const torch::Tensor & batch, Precision precision, MapPairs pairs);

/** Smooths each raw map and scores it (Documentation/Engine.md, Method 7). */
std::vector<Prediction> FinishPredictions(const torch::Tensor & rawMaps, const PredictorOptions & options);

/** The score of one smoothed map (row-major, `count` pixels) with the given reduction. */
double ReduceScore(const double * map, size_t count, ScoreReduction reduction, double topFraction);

} // namespace recontrast

#endif
