#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The demo finds its lesion: Utilities/demo.sh itself (its training, its sample scan) run into a
folder of this test, then the demo model on a second, different lesion (dark, in the other hemisphere
and lower) and on the brain without a lesion.

Checked, on the calibrated slice scores (position-aware, what the overlay orders by) and the regions
(connected voxels of the calibrated map at or above 3, calibrated pixel by pixel with the model's map
profile):
- the demo lesion's slice is the most anomalous slice of the demo scan, by a clear calibrated score,
  and the largest region overlaps the lesion;
- the second lesion's slice is the most anomalous of its scan;
- the same slices of the brain without a lesion score far lower (the rank is the lesion's, not the
  position's).
The bars and what seeds 111 (the demo's), 1 and 2 gave are in Documentation/Benchmarks.md ("The demo
finds its lesion"). The second lesion's region is not checked: it overlapped the lesion for seeds 111
and 1, while for seed 2 that lesion stayed below 3 (2.46), so no region was found (reported there).

Usage: demo_detection.py <build folder> <source folder> <work folder>"""
import json
import os
import shutil
import subprocess
import sys

import numpy as np

import test_support

BRAIN = "/usr/share/mricron/templates/ch2bet.nii.gz"
SECOND_LESION = ["--centre", "118", "100", "62", "--radius", "9", "--contrast", "0.45"]
# Measured over seeds 111, 1, 2 (2 threads): demo lesion rank 1 at 15.5-16.9 SD, the largest region
# overlapping it (Dice 0.04-0.06); second lesion rank 1 at 2.46-7.17 SD; the control's demo-lesion slices
# 1.17-1.64 SD.
DEMO_LESION_MIN_SD = 8.0
SECOND_LESION_MAX_RANK = 1
SECOND_LESION_MIN_SD = 1.5
CONTROL_GAP_SD = 6.0


def lesion_ranking(report_path, mask_path):
    """The rank of the lesion's best slice by calibrated score, that score, and the top slice."""
    report = json.load(open(report_path))
    mask = test_support.read_nifti(mask_path) > 0
    axis = report["slice_axis"]  # index axis (x y z); the arrays read here are z y x
    other = tuple(a for a in range(3) if a != 2 - axis)
    lesion = set(int(i) for i in np.nonzero(mask.any(axis=other))[0])
    scores = report["calibrated_slice_scores"]
    scored = [k for k, s in enumerate(scores) if report["scored_slices"][k] and s is not None]
    ranked = sorted(scored, key=lambda k: scores[k], reverse=True)
    rank = next(i for i, k in enumerate(ranked) if k in lesion) + 1
    return rank, max(scores[k] for k in lesion if k in scored), ranked[0], lesion


def largest_region_overlap(report_path, labels_path, mask_path):
    """The voxels the largest region shares with the lesion, and how many regions there are."""
    regions = json.load(open(report_path))["regions"]
    if not regions:
        return 0, 0
    largest = max(regions, key=lambda r: r["voxels"])
    labels = test_support.read_nifti(labels_path)
    mask = test_support.read_nifti(mask_path) > 0
    return int(((labels == largest["label"]) & mask).sum()), len(regions)


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    build, source, work = sys.argv[1:4]
    if not os.path.exists(BRAIN):
        print(f"SKIP: the demo's brain {BRAIN} is missing (Debian's mricron-data)")
        return 0
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    check = test_support.Checks()
    demo = subprocess.run(["sh", os.path.join(source, "Utilities", "demo.sh"), build], capture_output=True, text=True,
                          timeout=1200, env=dict(os.environ, RECONTRAST_DEMO_DIR=work))
    if not check(demo.returncode == 0, "Utilities/demo.sh ran: " + demo.stderr.strip()[-400:]):
        check.finish("")
    check(os.path.exists(os.path.join(work, "overlay.png")), "the demo wrote its overlay")

    rank, sd, top, _ = lesion_ranking(os.path.join(work, "report.json"), os.path.join(work, "lesion-mask.nii.gz"))
    print(f"demo lesion: rank {rank}, calibrated {sd:.2f} SD, most anomalous slice {top}")
    check(rank == 1, "the demo lesion's slice is the most anomalous slice")
    check(sd >= DEMO_LESION_MIN_SD, f"its calibrated score {sd:.2f} >= {DEMO_LESION_MIN_SD}")
    shared, regions = largest_region_overlap(os.path.join(work, "report.json"),
                                             os.path.join(work, "anomaly-regions.nii.gz"),
                                             os.path.join(work, "lesion-mask.nii.gz"))
    print(f"demo lesion: {regions} regions, the largest shares {shared} voxels with the lesion")
    check(shared > 0, "the largest anomalous region overlaps the demo lesion")

    recontrast = os.path.join(build, "bin", "recontrast")
    model = os.path.join(work, "demo-model.rcm")
    second, second_mask = os.path.join(work, "second.nii.gz"), os.path.join(work, "second-mask.nii.gz")
    test_support.run([os.path.join(build, "bin", "recontrast-add-lesion"), "--input", BRAIN, "--output", second,
                      "--mask", second_mask, *SECOND_LESION], check=True)
    for scan, name in ((second, "second"), (BRAIN, "control")):
        result = test_support.run([recontrast, "infer", "--model", model, "--input", scan, "--output",
                                   os.path.join(work, name + "-map.nii.gz"), "--report",
                                   os.path.join(work, name + ".json"), "--labels",
                                   os.path.join(work, name + "-labels.nii.gz")])
        check(result.returncode == 0, f"infer on the {name} scan: " + result.stderr.strip()[-300:])
    rank2, sd2, top2, _ = lesion_ranking(os.path.join(work, "second.json"), second_mask)
    print(f"second lesion: rank {rank2}, calibrated {sd2:.2f} SD, most anomalous slice {top2}")
    check(rank2 <= SECOND_LESION_MAX_RANK, f"the second lesion's slice ranks {rank2} <= {SECOND_LESION_MAX_RANK}")
    check(sd2 >= SECOND_LESION_MIN_SD, f"its calibrated score {sd2:.2f} >= {SECOND_LESION_MIN_SD}")
    shared2, regions2 = largest_region_overlap(os.path.join(work, "second.json"),
                                               os.path.join(work, "second-labels.nii.gz"), second_mask)
    print(f"second lesion: {regions2} regions, the largest shares {shared2} voxels with the lesion (not checked)")

    control_rank, control_sd, _, _ = lesion_ranking(os.path.join(work, "control.json"),
                                                    os.path.join(work, "lesion-mask.nii.gz"))
    print(f"control (no lesion), the demo lesion's slices: rank {control_rank}, calibrated {control_sd:.2f} SD")
    check(sd - control_sd >= CONTROL_GAP_SD,
          f"the lesion lifts its slices {sd - control_sd:.2f} SD above the same slices without it (>= {CONTROL_GAP_SD})")
    check.finish("demo detection passed")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
