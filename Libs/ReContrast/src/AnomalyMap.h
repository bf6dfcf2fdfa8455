/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The unsmoothed anomaly maps of a batch from its encoder and decoder features.
 *
 *=========================================================================*/
#ifndef ReContrast_AnomalyMap_h
#define ReContrast_AnomalyMap_h

#include "ReContrast/ModelConfig.h"

#include <torch/types.h>

#include <vector>

namespace recontrast
{

/** The unsmoothed anomaly maps of a batch (official cal_anomaly_map with amap_mode 'a';
 * Documentation/Engine.md, Method 7): for each pair, 1 - channel cosine (eps 1e-8), bilinear
 * up-sampling with align_corners=True to outputSize x outputSize, summed in float64. `pairs`: all six
 * (the paper), or the three frozen ones, which the lists hold first. Returns [B, S, S] float64 on the CPU. */
torch::Tensor RawAnomalyMaps(const std::vector<torch::Tensor> & encoder, const std::vector<torch::Tensor> & decoder,
                             int64_t outputSize, MapPairs pairs = MapPairs::All);

/** Radius of scipy.ndimage.gaussian_filter's kernel: int(truncate * sigma + 0.5), truncate 4. */
int GaussianRadius(double sigma);

/** scipy.ndimage.gaussian_filter(map, sigma) with scipy's defaults (mode 'reflect', truncate 4.0)
 * on one row-major height x width float64 image, in place. */
void GaussianSmooth(double * image, int64_t height, int64_t width, double sigma);

} // namespace recontrast

#endif
