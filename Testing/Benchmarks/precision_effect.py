#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The effect of the inference precision on detection: one model, one real test set, evaluated with
`recontrast eval --precision exact|fp32|bf16` in the same run.

Usage (from the repository root, after building; needs the magnetic tile defect dataset, by default
from the optional data folder's default location, see RECONTRAST_SHARED_DATA_DIR in
Documentation/DeveloperGuide.md, or from --tiles <folder>):
    /usr/bin/python3 Testing/Benchmarks/precision_effect.py --build build [--iterations 200] [--tiles <folder>]

It builds an MVTec-style layout from the magnetic tile defect images (train/good: defect-free tiles;
test: other defect-free tiles and every defect class, with masks), trains a resnet18 model at 128 px
on it (ImageNet weights are not available offline, so the encoder starts from random weights and
the absolute AUROC is far below the paper's; what is measured here is how much the precision
changes it), then prints image AUROC, pixel AUROC and eval time per precision, and the differences
to fp32.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TILES = os.path.join(HERE, "..", "..", "..", "shared", "data", "magnetic_tile_defects")


def build_layout(tiles, root, train_count, test_good, per_class):
    free = sorted(f for f in os.listdir(os.path.join(tiles, "MT_Free", "Imgs")) if f.endswith(".jpg"))
    folders = {"train/good": free[:train_count], "test/good": free[train_count:train_count + test_good]}
    for sub, names in folders.items():
        os.makedirs(os.path.join(root, sub))
        for name in names:
            os.symlink(os.path.join(tiles, "MT_Free", "Imgs", name), os.path.join(root, sub, name))
    for source in sorted(os.listdir(tiles)):
        if not source.startswith("MT_") or source == "MT_Free":
            continue
        label = source[3:].lower()
        images = sorted(f for f in os.listdir(os.path.join(tiles, source, "Imgs")) if f.endswith(".jpg"))
        os.makedirs(os.path.join(root, "test", label))
        os.makedirs(os.path.join(root, "ground_truth", label))
        for name in images[:per_class]:
            os.symlink(os.path.join(tiles, source, "Imgs", name), os.path.join(root, "test", label, name))
            os.symlink(os.path.join(tiles, source, "Imgs", name[:-4] + ".png"),
                       os.path.join(root, "ground_truth", label, name[:-4] + "_mask.png"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--tiles", default=DEFAULT_TILES)
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--image-size", type=int, default=128)
    parser.add_argument("--train-count", type=int, default=200)
    parser.add_argument("--test-good", type=int, default=60)
    parser.add_argument("--per-class", type=int, default=30)
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(args.tiles, "MT_Free")):
        print(f"SKIP: {args.tiles} is absent")
        return
    recontrast = os.path.join(os.path.abspath(args.build), "bin", "recontrast")
    with tempfile.TemporaryDirectory(prefix="recontrast-precision-") as work:
        data = os.path.join(work, "tiles")
        build_layout(os.path.abspath(args.tiles), data, args.train_count, args.test_good, args.per_class)
        model = os.path.join(work, "model.rcm")
        start = time.perf_counter()
        subprocess.run([recontrast, "train", "--data", data, "--out", model, "--backbone", "resnet18",
                        "--image-size", str(args.image_size), "--iterations", str(args.iterations),
                        "--batch-size", "8", "--calibration-fraction", "0"],
                       check=True, capture_output=True)
        print(f"trained resnet18 at {args.image_size} px for {args.iterations} iterations on "
              f"{args.train_count} defect-free tiles in {time.perf_counter() - start:.0f} s")
        results = {}
        for precision in ("exact", "fp32", "bf16"):
            report = os.path.join(work, precision + ".json")
            start = time.perf_counter()
            subprocess.run([recontrast, "eval", "--model", model, "--data", data, "--report", report,
                            "--precision", precision, "--batch-size", "8"], check=True, capture_output=True)
            seconds = time.perf_counter() - start
            r = json.load(open(report))
            results[precision] = (r["image_auroc"], r["pixel_auroc"], seconds, r["settings"]["precision"],
                                  r["counts"])
    counts = results["fp32"][4]
    print(f"test set: {json.dumps(counts)}")
    print(f"{'precision':<10}{'ran as':>8}{'image AUROC':>13}{'pixel AUROC':>13}{'vs fp32 (points)':>18}{'eval time':>11}")
    for precision, (image, pixel, seconds, ran, _) in results.items():
        delta = 100.0 * (image - results["fp32"][0])
        print(f"{precision:<10}{ran:>8}{100 * image:>12.2f}%{100 * pixel:>12.2f}%{delta:>+18.2f}{seconds:>10.1f}s")


if __name__ == "__main__":
    sys.exit(main())
