#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Writes the golden values that MetricsTest checks the C++ evaluation metrics against.

The expected values come from scikit-learn (roc_auc_score, roc_curve, average_precision_score,
precision_recall_curve, auc), scikit-image (measure.label) and numpy; the two AUPRO variants are
re-implemented here from their definitions (see Libs/ReContrast/include/ReContrast/Metrics.h).

Usage (from the repository root; needs numpy, scikit-learn and scikit-image):
    /usr/bin/python3 Testing/Python/metrics_oracle.py [output.json]
The default output is Data/Baselines/metrics_golden.json.
"""

import json
import math
import os
import statistics
import sys

import numpy as np
import sklearn
import skimage
from skimage import measure
from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

SEED = 20240611
NUM_THRESHOLDS_OFFICIAL = 200
OFFICIAL_FPR_LIMIT = 0.3


# --------------------------------------------------------------------------------------------
# Reference implementations
# --------------------------------------------------------------------------------------------


def f1_max(labels, scores):
    """ReContrast's medical evaluation: F1 = 2PR / (P + R + 1e-7) maximised over the PR curve."""
    precision, recall, thresholds = precision_recall_curve(labels, scores)
    f1 = 2 * precision * recall / (precision + recall + 1e-7)
    f1 = f1[:-1]  # the appended (precision 1, recall 0) point has no threshold
    best = int(np.argmax(f1))
    return float(f1[best]), float(thresholds[best])


def official_pro_auc(mask, amap):
    """The RD4AD / ReContrast compute_pro called with the masks and maps of one image (H x W).

    Thresholds np.arange(min, max, (max - min) / 200) over this map; at each threshold the PRO
    is the mean over the 8-connected regions of the mask of the fraction of the region above the
    threshold, the FPR is the fraction of normal pixels above it; rows with FPR < 0.3 are kept,
    their FPR divided by its maximum and sklearn.metrics.auc(fpr, pro) returned.
    """
    min_th = amap.min()
    max_th = amap.max()
    delta = (max_th - min_th) / NUM_THRESHOLDS_OFFICIAL
    regions = measure.regionprops(measure.label(mask))
    normal = mask == 0
    rows = []
    for th in np.arange(min_th, max_th, delta):
        above = amap > th
        pros = [above[r.coords[:, 0], r.coords[:, 1]].sum() / r.area for r in regions]
        fpr = np.logical_and(normal, above).sum() / normal.sum()
        rows.append((statistics.mean(pros), fpr))
    kept = [(pro, fpr) for pro, fpr in rows if fpr < OFFICIAL_FPR_LIMIT]
    pros = np.array([pro for pro, _ in kept], dtype=np.float64)
    fprs = np.array([fpr for _, fpr in kept], dtype=np.float64)
    fprs = fprs / fprs.max()
    return float(auc(fprs, pros)), len(rows)


def pro_curve_per_dataset(maps, masks):
    """PRO over FPR at every distinct threshold of the pooled maps (MVTec AD definition).

    Returns x = [0, fpr_1 .. fpr_n, 1] and y = [0, pro_1 .. pro_n, 1] where threshold t_k runs over
    the distinct map values in decreasing order and a pixel is positive when its score >= t_k.
    """
    scores = []
    fp_increments = []
    pro_increments = []
    num_regions = 0
    num_normal = 0
    for amap, mask in zip(maps, masks):
        labelled = measure.label(mask, connectivity=2)
        sizes = np.bincount(labelled.ravel())
        increment = np.zeros(labelled.shape, dtype=np.float64)
        inside = labelled > 0
        increment[inside] = 1.0 / sizes[labelled[inside]]
        num_regions += int(labelled.max())
        num_normal += int((~inside).sum())
        scores.append(amap.ravel())
        fp_increments.append((~inside).ravel().astype(np.float64))
        pro_increments.append(increment.ravel())
    scores = np.concatenate(scores)
    order = np.argsort(-scores, kind="stable")
    sorted_scores = scores[order]
    fprs = np.cumsum(np.concatenate(fp_increments)[order]) / num_normal
    pros = np.cumsum(np.concatenate(pro_increments)[order]) / num_regions
    last_of_group = np.append(np.diff(sorted_scores) != 0, True)
    x = np.concatenate(([0.0], fprs[last_of_group], [1.0]))
    y = np.concatenate(([0.0], pros[last_of_group], [1.0]))
    return x, y


def aupro_per_dataset(maps, masks, limit):
    """Area under the PRO curve for FPR in [0, limit], end point interpolated, divided by limit."""
    x, y = pro_curve_per_dataset(maps, masks)
    inside = x <= limit
    xs = list(x[inside])
    ys = list(y[inside])
    if xs[-1] < limit:
        nxt = int(np.argmax(x > limit))
        x0, y0, x1, y1 = x[nxt - 1], y[nxt - 1], x[nxt], y[nxt]
        xs.append(limit)
        ys.append(y0 + (y1 - y0) * (limit - x0) / (x1 - x0))
    return float(np.trapz(ys, xs) / limit)


# --------------------------------------------------------------------------------------------
# Inputs
# --------------------------------------------------------------------------------------------


def binary_cases(rng):
    cases = []

    n = 60
    labels = (rng.random(n) < 0.4).astype(int)
    scores = np.round(rng.normal(size=n) + 0.8 * labels, 1)  # rounding gives many ties
    cases.append(("rounded_ties", scores, labels))

    n = 40
    labels = (rng.random(n) < 0.5).astype(int)
    scores = rng.normal(size=n) + 1.2 * labels
    cases.append(("continuous", scores, labels))

    n = 45
    labels = (rng.random(n) < 0.5).astype(int)
    scores = np.clip(np.round(rng.normal(size=n) * 0.8 + labels), 0, 2)  # only three values
    cases.append(("three_levels", scores, labels))

    n = 50
    labels = np.zeros(n, dtype=int)
    labels[rng.choice(n, 3, replace=False)] = 1
    scores = np.round(rng.random(n) + 0.3 * labels, 2)
    cases.append(("imbalanced", scores, labels))

    labels = np.array([0, 1, 1, 0, 1, 0, 0, 1])
    scores = np.array([0.1, 0.9, 0.8, 0.3, 0.7, 0.2, 0.4, 0.75])
    cases.append(("separable", scores, labels))

    result = []
    for name, scores, labels in cases:
        scores = [float(s) for s in scores]
        labels = [int(v) for v in labels]
        fpr, tpr, thr = roc_curve(labels, scores, drop_intermediate=False)
        fpr_d, tpr_d, thr_d = roc_curve(labels, scores, drop_intermediate=True)
        best_f1, best_threshold = f1_max(labels, scores)
        result.append(
            {
                "name": name,
                "scores": scores,
                "labels": labels,
                "roc_auc": float(roc_auc_score(labels, scores)),
                "average_precision": float(average_precision_score(labels, scores)),
                "f1_max": best_f1,
                "f1_best_threshold": best_threshold,
                # thresholds[0] is sklearn's "above every score" sentinel; its value changed between
                # versions (max + 1, then +inf), so only the finite thresholds are stored.
                "roc_curve": {"fpr": list(fpr), "tpr": list(tpr), "finite_thresholds": list(thr[1:])},
                "roc_curve_drop_intermediate": {
                    "fpr": list(fpr_d),
                    "tpr": list(tpr_d),
                    "finite_thresholds": list(thr_d[1:]),
                },
            }
        )
    return result


def blob(height, width, cy, cx, sigma):
    yy, xx = np.mgrid[0:height, 0:width]
    return np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2.0 * sigma**2))


def draw_regions(height, width, shapes):
    mask = np.zeros((height, width), dtype=np.uint8)
    yy, xx = np.mgrid[0:height, 0:width]
    for shape in shapes:
        kind = shape[0]
        if kind == "rect":
            _, y0, y1, x0, x1 = shape
            mask[y0:y1, x0:x1] = 1
        elif kind == "ellipse":
            _, cy, cx, ry, rx = shape
            mask[((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1.0] = 1
        elif kind == "pixel":
            _, y, x = shape
            mask[y, x] = 1
        elif kind == "diagonal":  # a staircase connected only through corners
            _, y, x, length = shape
            for i in range(length):
                mask[y + i, x + i] = 1
    return mask


def anomaly_map(rng, mask, extra_blobs):
    """A smooth map that is high on (most of) the mask, with false alarms and noise, rounded."""
    height, width = mask.shape
    amap = 0.25 * rng.random((height, width))
    labelled = measure.label(mask, connectivity=2)
    for region in measure.regionprops(labelled):
        cy, cx = region.centroid
        amap += rng.uniform(0.4, 1.2) * blob(height, width, cy, cx, 1.0 + math.sqrt(region.area) / 2)
    for cy, cx, sigma, amplitude in extra_blobs:
        amap += amplitude * blob(height, width, cy, cx, sigma)
    return np.rint(amap * 1000.0).astype(np.int64)  # in thousandths: rounding makes tied pixel scores


def to_float32(milli):
    """The map the C++ test builds from the stored thousandths: float(k / 1000.0)."""
    return (milli / 1000.0).astype(np.float32)


def official_threshold_count(milli):
    amap = to_float32(milli).astype(np.float64)
    low, high = amap.min(), amap.max()
    return len(np.arange(low, high, (high - low) / NUM_THRESHOLDS_OFFICIAL))


def force_201_thresholds(milli):
    """Lowers the minimum of the map until np.arange yields 201 thresholds instead of 200, so that
    the golden values cover the extra threshold that floating-point rounding can add."""
    lowest = np.unravel_index(np.argmin(milli), milli.shape)
    for _ in range(1000):
        if official_threshold_count(milli) == NUM_THRESHOLDS_OFFICIAL + 1:
            return milli
        milli[lowest] -= 1
    raise RuntimeError("no map minimum gives 201 thresholds")


def image_group(rng, height, width, layouts):
    maps = []
    masks = []
    for shapes, extra_blobs in layouts:
        mask = draw_regions(height, width, shapes)
        masks.append(mask)
        maps.append(anomaly_map(rng, mask, extra_blobs))
    maps[0] = force_201_thresholds(maps[0])
    return maps, masks


def encode_mask(mask):
    return ["".join(str(int(v)) for v in row) for row in mask]


def encode_labels(labelled):
    """One character per pixel, the label in base 36 (0 is background)."""
    assert labelled.max() < 36
    return ["".join(np.base_repr(int(v), 36) for v in row) for row in labelled]


def group_record(name, maps_milli, masks):
    height, width = masks[0].shape
    maps64 = [to_float32(m).astype(np.float64) for m in maps_milli]
    per_image = []
    for amap, mask in zip(maps64, masks):
        if mask.max() == 0:
            per_image.append(None)
            continue
        value, num_thresholds = official_pro_auc(mask, amap)
        per_image.append({"pro_auc": value, "num_thresholds": num_thresholds})
    official = [item["pro_auc"] for item in per_image if item is not None]
    pooled_scores = np.concatenate([m.ravel() for m in maps64])
    pooled_labels = np.concatenate([m.ravel() for m in masks]).astype(int)
    return {
        "name": name,
        "height": int(height),
        "width": int(width),
        "maps_milli": [m.ravel().tolist() for m in maps_milli],
        "masks": [encode_mask(m) for m in masks],
        "region_labels": [encode_labels(measure.label(m, connectivity=2)) for m in masks],
        "pixel_roc_auc": float(roc_auc_score(pooled_labels, pooled_scores)),
        "official_per_image": per_image,
        "aupro_per_image_official": float(np.mean(official)),
        "aupro_per_dataset": {
            "0.3": aupro_per_dataset(maps64, masks, 0.3),
            "0.05": aupro_per_dataset(maps64, masks, 0.05),
            "1.0": aupro_per_dataset(maps64, masks, 1.0),
        },
    }


def labelling_case(rng):
    """A mask with shapes that stress an 8-connected labelling: U shapes joined late in the scan,
    corner-only contacts, one-pixel regions and regions touching the border."""
    height, width = 20, 28
    mask = (rng.random((height, width)) < 0.18).astype(np.uint8)
    mask[2:9, 3] = 1
    mask[2:9, 8] = 1
    mask[8, 3:9] = 1  # a U opened upwards: its two arms get joined only at the bottom
    mask[12, 12] = 1
    mask[13, 13] = 1
    mask[14, 12] = 1  # joined through corners only
    mask[0, :] = 0
    mask[0, 27] = 1
    return {
        "height": height,
        "width": width,
        "mask": encode_mask(mask),
        "labels": measure.label(mask, connectivity=2).ravel().tolist(),
        "num_regions": int(measure.label(mask, connectivity=2).max()),
    }


def arange_cases(rng):
    """np.arange(min, max, (max - min) / 200) gives 200 or 201 values depending on rounding."""
    cases = []
    found = {200: 0, 201: 0}
    while min(found.values()) < 3:
        start = float(np.float32(rng.normal()))
        stop = start + float(np.float32(abs(rng.normal()) * rng.choice([1e-3, 1.0, 100.0])))
        step = (stop - start) / NUM_THRESHOLDS_OFFICIAL
        values = np.arange(start, stop, step)
        if found[len(values)] >= 3:
            continue
        found[len(values)] += 1
        n = len(values)
        samples = sorted({0, 1, 2, n // 2, n - 2, n - 1})
        cases.append(
            {
                "start": start,
                "stop": stop,
                "step": step,
                "length": n,
                "sample_indices": samples,
                "sample_values": [float(values[i]) for i in samples],
            }
        )
    return cases


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    default_output = os.path.join(here, "..", "..", "Data", "Baselines", "metrics_golden.json")
    output = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else default_output)

    rng = np.random.default_rng(SEED)
    square = image_group(
        rng,
        32,
        32,
        [
            ([("rect", 3, 8, 4, 11), ("ellipse", 20, 22, 4, 5), ("pixel", 28, 3)], [(10, 25, 2.0, 0.5)]),
            ([("diagonal", 5, 5, 6), ("rect", 18, 27, 2, 6), ("ellipse", 25, 24, 3, 3)], []),
            ([], [(16, 16, 3.0, 0.6)]),  # a normal image with a false alarm
        ],
    )
    tall = image_group(
        rng,
        40,
        24,
        [
            ([("rect", 30, 36, 15, 22), ("ellipse", 10, 8, 6, 3), ("pixel", 0, 23)], [(22, 5, 2.5, 0.7)]),
            ([("rect", 2, 6, 2, 20), ("rect", 6, 12, 16, 20), ("diagonal", 20, 3, 5)], [(35, 12, 3.0, 0.4)]),
        ],
    )

    golden = {
        "generator": "Testing/Python/metrics_oracle.py",
        "versions": {"numpy": np.__version__, "scikit-learn": sklearn.__version__, "scikit-image": skimage.__version__},
        "seed": SEED,
        "binary": binary_cases(rng),
        "image_groups": [group_record("square_32x32", *square), group_record("tall_40x24", *tall)],
        "labelling": labelling_case(rng),
        "arange": arange_cases(rng),
    }
    os.makedirs(os.path.dirname(output), exist_ok=True)
    with open(output, "w", encoding="utf-8") as stream:
        json.dump(golden, stream, separators=(",", ":"))
        stream.write("\n")
    print(f"wrote {output} ({os.path.getsize(output)} bytes)")


if __name__ == "__main__":
    main()
