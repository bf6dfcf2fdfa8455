#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Global against position-aware calibration on the demo (Utilities/demo.sh's training and lesion, and
a second, dark lesion elsewhere), over several seeds. Also the same brain without a lesion, ranked
the same way: where its "lesion slices" rank as high as the lesion scan's, the rank is noise.

For each seed the demo model is trained as the demo trains it (resnet18, 64 px, 150 iterations of 8
slices, 10 % held out) with that seed; each lesion scan is scored twice by the same model:
- global: `--map raw`, slices ranked by raw score (the global calibration is a monotone map of it),
  regions above the global recommended threshold (normal mean + 3 SD);
- position-aware: the default calibrated map (pixel by pixel against the model's map profile), slices
  ranked by calibrated score, regions above 3 SD.
Printed per seed, lesion and calibration: the rank of the best lesion slice, whether the most
anomalous slice lies in the lesion, the lesion's calibrated score (the best lesion slice's), and the
largest region's Dice with the lesion, its centroid's distance from the lesion centre and the share of the
lesion's voxels inside it.

Usage: demo_calibration_benchmark.py <build folder> <work folder> [--image-size N] [--iterations N]
                                     [--map-pairs all|frozen] [seed ...]
(default: the demo's 64 px, 150 iterations and frozen map pairs, seeds 111 1 2)
"""
import gzip
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "CLI"))
from test_support import read_nifti  # noqa: E402

BRAIN = "/usr/share/mricron/templates/ch2bet.nii.gz"
# Utilities/demo.sh's lesion, and a second one: darker than the tissue around it, in the other
# hemisphere and lower down.
DEMO_LESION = {"centre": ("60", "120", "90"), "radius": "9", "contrast": "1.8"}
SECOND_LESION = {"centre": ("118", "100", "62"), "radius": "9", "contrast": "0.45"}


def run(argv):
    subprocess.run(argv, check=True, capture_output=True, text=True)


def spacing_of(nifti_path):
    raw = open(nifti_path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    return np.abs(np.frombuffer(raw[80:92], dtype="<f4")).astype(float)  # pixdim[1..3], x y z


def measure(report_path, labels_path, mask_path, calibrated, global_calibration):
    report = json.load(open(report_path))
    mask = read_nifti(mask_path) > 0
    labels = read_nifti(labels_path)
    axis = report["slice_axis"]
    in_lesion = set(int(i) for i in np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != 2 - axis)))[0])
    scores = report["calibrated_slice_scores" if calibrated else "slice_scores"]
    scored = report["scored_slices"]
    ranked = sorted(((s, k) for k, s in enumerate(scores) if scored[k] and s is not None), reverse=True)
    rank = next(i for i, (_, k) in enumerate(ranked) if k in in_lesion) + 1
    # The lesion's calibrated score: its best slice's, in the units of this calibration.
    if calibrated:
        lesion_calibrated = max(report["calibrated_slice_scores"][k] for k in in_lesion if scored[k])
    else:
        mean, std = global_calibration
        lesion_calibrated = max((report["slice_scores"][k] - mean) / std for k in in_lesion if scored[k])
    dice, distance, covered = 0.0, float("nan"), 0.0
    if report["regions"]:
        largest = max(report["regions"], key=lambda r: r["voxels"])
        region = labels == largest["label"]
        dice = 2.0 * float((region & mask).sum()) / float(region.sum() + mask.sum())
        covered = float((region & mask).sum()) / float(mask.sum())
        # Centroids in index space (z, y, x) and the voxel size: the distance in millimetres.
        spacing = spacing_of(mask_path)[::-1]
        offset = (np.array(np.nonzero(region)).mean(axis=1) - np.array(np.nonzero(mask)).mean(axis=1)) * spacing
        distance = float(np.linalg.norm(offset))
    return {"rank": rank, "slices": len(ranked), "top_in_lesion": ranked[0][1] in in_lesion,
            "lesion_calibrated": lesion_calibrated, "regions": len(report["regions"]), "dice": dice,
            "distance_mm": distance, "covered": covered}


def main():
    build, work = sys.argv[1:3]
    rest = sys.argv[3:]
    image_size, iterations, map_pairs = "64", "150", "frozen"
    while rest and rest[0].startswith("--"):
        if rest[0] == "--image-size":
            image_size = rest[1]
        elif rest[0] == "--iterations":
            iterations = rest[1]
        elif rest[0] == "--map-pairs":
            map_pairs = rest[1]
        else:
            sys.exit(f"unknown option {rest[0]}")
        rest = rest[2:]
    seeds = [int(s) for s in rest] or [111, 1, 2]
    recontrast = os.path.join(build, "bin", "recontrast")
    add_lesion = os.path.join(build, "bin", "recontrast-add-lesion")
    os.makedirs(work, exist_ok=True)
    lesions = {}
    for name, lesion in (("demo", DEMO_LESION), ("second", SECOND_LESION)):
        scan, mask = os.path.join(work, name + ".nii.gz"), os.path.join(work, name + "-mask.nii.gz")
        run([add_lesion, "--input", BRAIN, "--output", scan, "--mask", mask, "--centre", *lesion["centre"],
             "--radius", lesion["radius"], "--contrast", lesion["contrast"]])
        lesions[name] = (scan, mask)
    # The control: the brain itself, its "lesion" slices those of the demo's lesion.
    lesions["none"] = (BRAIN, lesions["demo"][1])
    print("seed  lesion  calibration     rank  top-in-lesion  lesion-calibrated  regions  Dice   centre-distance  "
          "lesion-in-largest")
    for seed in seeds:
        model = os.path.join(work, f"demo-{seed}-{image_size}px-{iterations}-{map_pairs}.rcm")
        if not os.path.exists(model):
            run([recontrast, "train", "--data", BRAIN, "--out", model, "--backbone", "resnet18", "--image-size",
                 image_size, "--iterations", iterations, "--batch-size", "8", "--calibration-fraction", "0.1",
                 "--seed", str(seed), "--map-pairs", map_pairs])
        info = json.loads(subprocess.run([recontrast, "info", model, "--json"], check=True, capture_output=True,
                                         text=True).stdout)["calibration"]
        for name, (scan, mask) in lesions.items():
            for calibrated in (False, True):
                stem = os.path.join(work, f"{name}-{seed}-{'position' if calibrated else 'global'}")
                run([recontrast, "infer", "--model", model, "--input", scan, "--output", stem + ".nii.gz",
                     "--labels", stem + "-labels.nii.gz", "--report", stem + ".json",
                     "--map", "calibrated" if calibrated else "raw"])
                r = measure(stem + ".json", stem + "-labels.nii.gz", mask, calibrated, (info["mean"], info["std"]))
                print(f"{seed:<5} {name:<7} {'position-aware' if calibrated else 'global':<15} {r['rank']:>4}/"
                      f"{r['slices']:<4} {str(r['top_in_lesion']):<14} {r['lesion_calibrated']:>10.2f}        "
                      f"{r['regions']:>5}   {r['dice']:.3f}  {r['distance_mm']:>5.1f}            {r['covered']:.2f}")


if __name__ == "__main__":
    main()
