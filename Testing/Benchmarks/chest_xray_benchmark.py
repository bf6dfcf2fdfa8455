#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Image AUROC on real chest X-rays: PneumoniaMNIST (28 x 28, normal against pneumonia) from the
optional data folder, as an MVTec-style folder that `recontrast train` and `recontrast eval` read.

Split (../shared/data/pneumoniamnist_28px/SOURCE.md): the unique normal training pictures of the
balanced copy for training; the official test split (234 normal, 390 pneumonia) for evaluation.
For each seed: train (resnet18, --image-size, --iterations, batch 8, random encoder) with the default
10 % held out for calibration and with none (`--calibration-fraction 0`, the paper's setting), then
eval; printed: image AUROC of both. Pictures have no slice position, so their calibration is the
global one, a monotone map of the score: the AUROC of the calibrated scores equals the raw scores'.

Usage: chest_xray_benchmark.py <build folder> <work folder> [--image-size N] [--iterations N] [seed ...]
(default 64 px, 150 iterations, seeds 111 1 2)
"""
import hashlib
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "shared", "data",
                    "pneumoniamnist_28px")


def write_pictures(folder, images):
    os.makedirs(folder, exist_ok=True)
    for i, picture in enumerate(images):
        Image.fromarray(picture).save(os.path.join(folder, f"{i:04d}.png"))


def make_dataset(root):
    if os.path.exists(os.path.join(root, "done")):
        return
    balanced = np.load(os.path.join(DATA, "pneumoniamnist_balanced_aksufatih.npz"))
    official = np.load(os.path.join(DATA, "pneumoniamnist_varun19424.npz"))
    seen, normals = set(), []
    for picture, label in zip(balanced["train_images"], balanced["train_labels"][:, 0]):
        digest = hashlib.md5(picture.tobytes()).hexdigest()
        if label == 0 and digest not in seen:
            seen.add(digest)
            normals.append(picture)
    test, labels = official["test_images"], official["test_labels"][:, 0]
    write_pictures(os.path.join(root, "train", "good"), normals)
    write_pictures(os.path.join(root, "test", "good"), test[labels == 0])
    write_pictures(os.path.join(root, "test", "pneumonia"), test[labels == 1])
    open(os.path.join(root, "done"), "w").write(f"{len(normals)} {int((labels == 0).sum())} {int((labels == 1).sum())}\n")


def main():
    build, work = sys.argv[1:3]
    if not os.path.isdir(DATA):
        print(f"SKIP: {DATA} is not here")
        return 0
    rest = sys.argv[3:]
    image_size, iterations = "64", "150"
    while rest and rest[0].startswith("--"):
        if rest[0] == "--image-size":
            image_size = rest[1]
        elif rest[0] == "--iterations":
            iterations = rest[1]
        else:
            sys.exit(f"unknown option {rest[0]}")
        rest = rest[2:]
    seeds = [int(s) for s in rest] or [111, 1, 2]
    recontrast = os.path.join(build, "bin", "recontrast")
    dataset = os.path.join(work, "pneumoniamnist")
    make_dataset(dataset)
    print("pictures (train normal, test normal, test pneumonia):", open(os.path.join(dataset, "done")).read().strip())
    print(f"resnet18, {image_size} px, {iterations} iterations of 8")
    print("seed  held out  image AUROC")
    for seed in seeds:
        for fraction in ("0.1", "0"):
            model = os.path.join(work, f"cxr-{seed}-{fraction}.rcm")
            subprocess.run([recontrast, "train", "--data", dataset, "--out", model, "--backbone", "resnet18",
                            "--image-size", image_size, "--iterations", iterations, "--batch-size", "8",
                            "--calibration-fraction", fraction, "--seed", str(seed)], check=True,
                           capture_output=True)
            report = os.path.join(work, f"cxr-{seed}-{fraction}.json")
            subprocess.run([recontrast, "eval", "--model", model, "--data", dataset, "--report", report], check=True,
                           capture_output=True)
            auroc = json.load(open(report))["image_auroc"]
            print(f"{seed:<5} {float(fraction) * 100:>5.0f} %   {auroc:.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
