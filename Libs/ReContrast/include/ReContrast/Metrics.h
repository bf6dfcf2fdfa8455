/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Evaluation metrics of anomaly detection: image and pixel ROC AUC, average precision, AUPRO.
 *
 *=========================================================================*/
#ifndef ReContrast_Metrics_h
#define ReContrast_Metrics_h

#include "ReContrast/ReContrastExport.h"

#include <cstddef>
#include <cstdint>
#include <vector>

/** Evaluation metrics of unsupervised anomaly detection, torch-free.
 *
 * Conventions shared by every function:
 * - A higher score means "more anomalous". Labels are 0 (normal) or 1 (anomalous); in masks any
 *   non-zero byte is anomalous.
 * - Maps and masks are row-major, `height * width` values per image, and every image of one call
 *   has the same size.
 * - Invalid input (mismatched lengths, empty input, a missing class where the metric needs it,
 *   NaN or infinite scores, labels other than 0 and 1, null pointers) throws recontrast::Error
 *   with a one-sentence message. scikit-learn warns and returns NaN, or raises, in these cases.
 * - The reference values are those of scikit-learn 1.2 / scikit-image 0.19 / numpy 1.24; the
 *   golden file Libs/ReContrast/test/data/metrics_golden.json is written by
 *   Testing/Python/metrics_oracle.py and checked by MetricsTest. */
namespace recontrast::metrics
{

/** Area under the ROC curve; equals sklearn.metrics.roc_auc_score(labels, scores).
 *
 * Ties are handled as scikit-learn does (tied scores form one point of the curve, so the
 * trapezoid between two points counts a tied normal/anomalous pair as one half). It is computed
 * as the exact Mann-Whitney count (pairs ranked correctly + half the tied pairs) / (P * N), which
 * is the same number as scikit-learn's trapezoid, up to the last bit of rounding.
 * Needs at least one label of each class. */
RECONTRAST_EXPORT double RocAuc(const std::vector<double> & scores, const std::vector<int> & labels);

/** A ROC curve: point i says that predicting "anomalous" for score >= thresholds[i] gives the
 * false-positive rate fpr[i] and the true-positive rate tpr[i]. */
struct RocCurve
{
  std::vector<double> fpr;
  std::vector<double> tpr;
  /** Decreasing. thresholds[0] is +infinity (the point (0, 0), nothing predicted anomalous), as
   * in scikit-learn >= 1.3; scikit-learn 1.2 puts max(scores) + 1 there instead. The others are
   * the distinct scores. */
  std::vector<double> thresholds;
};

/** The ROC curve of sklearn.metrics.roc_curve(labels, scores, drop_intermediate=...): one point
 * per distinct score, in decreasing score order, preceded by (0, 0).
 *
 * With dropIntermediate true, the points collinear with both neighbours are removed exactly as
 * scikit-learn's default does (a point is kept when the second difference of the false- or of
 * the true-positive counts is non-zero there; the first and last points are always kept; nothing
 * is dropped when there are at most two distinct scores). Needs at least one label of each
 * class. */
RECONTRAST_EXPORT RocCurve ComputeRocCurve(const std::vector<double> & scores, const std::vector<int> & labels,
                                           bool dropIntermediate = false);

/** Average precision; equals sklearn.metrics.average_precision_score(labels, scores):
 * sum over the distinct thresholds t_k (decreasing) of (R_k - R_{k-1}) * P_k, the step integral of
 * the precision-recall curve without interpolation, with R_0 = 0.
 * Needs at least one anomalous label (all-anomalous input gives 1). */
RECONTRAST_EXPORT double AveragePrecision(const std::vector<double> & scores, const std::vector<int> & labels);

/** Largest F1 over the precision-recall curve, as in ReContrast's official medical evaluation:
 * precision, recall, thresholds = sklearn.metrics.precision_recall_curve(labels, scores);
 * f1 = 2 * precision * recall / (precision + recall + 1e-7); maximum over all thresholds (the
 * final (precision 1, recall 0) point, which has no threshold, is left out).
 *
 * When bestThreshold is not null it receives the threshold of the maximum (scores >= it are
 * predicted anomalous); on a tie, the lowest such threshold, as numpy's argmax over the curve.
 * Because of the 1e-7, the value is slightly below sklearn.metrics.f1_score at that threshold.
 * Needs at least one anomalous label. */
RECONTRAST_EXPORT double F1Max(const std::vector<double> & scores, const std::vector<int> & labels,
                               double * bestThreshold = nullptr);

/** Pixel-level AUROC: roc_auc_score over every pixel of every image pooled together (the value
 * sklearn gives on the flattened masks and maps), a pixel being anomalous where its mask byte is
 * non-zero. maps[i] and masks[i] each point to pixelsPerImage values.
 *
 * Uses 4 bytes of extra memory per pixel (the scores are sorted as float, once) and
 * O(n log n) time (one sort). Needs anomalous and normal pixels. */
RECONTRAST_EXPORT double PixelRocAuc(const std::vector<const float *> & maps,
                                     const std::vector<const std::uint8_t *> & masks, std::size_t pixelsPerImage);

/** PixelRocAuc of pixels already pooled into one contiguous block of `count` scores and mask
 * bytes. */
RECONTRAST_EXPORT double PooledPixelRocAuc(const float * scores, const std::uint8_t * mask, std::size_t count);

/** The values of numpy.arange(start, stop, step) in float64, bit for bit: the length is
 * ceil((stop - start) / step) (none when that is <= 0) and value i is start + i * d with
 * d = (start + step) - start, which is how numpy fills a float64 range. This is why
 * arange(min, max, (max - min) / 200) holds 200 or 201 values depending on rounding.
 * step must be finite and non-zero. */
RECONTRAST_EXPORT std::vector<double> NumpyArange(double start, double stop, double step);

/** Labels the 8-connected regions of a binary mask (non-zero = foreground), like
 * skimage.measure.label(mask, connectivity=2), its default for 2-D images.
 *
 * labels receives height * width values: 0 for background, 1..n for the regions, numbered in
 * the raster order of their first pixel (the numbering scikit-image produces). Returns n. */
RECONTRAST_EXPORT std::size_t LabelRegions8(const std::uint8_t * mask, std::size_t height, std::size_t width,
                                            std::vector<std::uint32_t> & labels);

/** compute_pro of the official RD4AD / ReContrast evaluation code, for one image.
 *
 * With the map promoted to float64: delta = (max - min) / 200, thresholds
 * NumpyArange(min, max, delta) (200 or 201 of them). For each threshold th, pixels with
 * map > th are predicted anomalous; PRO = mean over the 8-connected regions of the mask of
 * |predicted & region| / |region|; FPR = |predicted & normal| / |normal|. The (FPR, PRO) rows
 * with FPR < 0.3 are kept, their FPR is divided by the largest kept FPR, and the result is
 * sklearn.metrics.auc(fpr, pro) over the kept rows in threshold order (a trapezoid; the FPR
 * decreases). This equals the official code run on the float64 map (RD4AD and ReContrast build
 * float64 maps), called as compute_pro(mask[None], map[None]).
 *
 * Throws where the official code fails or returns NaN: a mask without anomalous or without
 * normal pixels, a constant map, fewer than two thresholds with FPR < 0.3, or no threshold with
 * FPR strictly between 0 and 0.3 (the division by the largest FPR is then 0 / 0). */
RECONTRAST_EXPORT double OfficialProAuc(const float * map, const std::uint8_t * mask, std::size_t height,
                                        std::size_t width);

/** The AUPRO that ReContrast (and RD4AD) report: OfficialProAuc of every anomalous image (one
 * whose mask has a non-zero pixel), averaged over those images. Images without anomalous
 * pixels are skipped. Needs at least one anomalous image.
 *
 * It is a per-image score with thresholds specific to each image and an FPR limit of 0.3
 * rescaled to 1, so it is not comparable with AuproPerDataset. */
RECONTRAST_EXPORT double AuproPerImageOfficial(const std::vector<const float *> & maps,
                                               const std::vector<const std::uint8_t *> & masks, std::size_t height,
                                               std::size_t width);

/** The per-dataset AUPRO of the MVTec AD evaluation (Bergmann et al., IJCV 2021), normalised
 * area under the PRO curve up to fprLimit (0.3 by default).
 *
 * All images are pooled. The thresholds are every distinct score of the pooled maps; at a
 * threshold t, pixels with score >= t are predicted anomalous and
 * - FPR(t) = predicted normal pixels / all normal pixels (of all images),
 * - PRO(t) = mean over all 8-connected mask regions of all images of the fraction of the region
 *   predicted anomalous.
 * The curve is (0, 0), then (FPR, PRO) at each threshold in decreasing order, then (1, 1). The
 * area under it, by trapezoids, from FPR 0 to fprLimit (PRO interpolated linearly at exactly
 * fprLimit when no point lies there) is divided by fprLimit, so a perfect map scores 1.
 * The MVTec AD script does the same with the FPR accumulated in float32; here everything is
 * float64, so the two can differ by about 1e-7.
 *
 * Needs anomalous and normal pixels, and 0 < fprLimit <= 1. Memory: 8 bytes per pixel. */
RECONTRAST_EXPORT double AuproPerDataset(const std::vector<const float *> & maps,
                                         const std::vector<const std::uint8_t *> & masks, std::size_t height,
                                         std::size_t width, double fprLimit = 0.3);

} // namespace recontrast::metrics

#endif
