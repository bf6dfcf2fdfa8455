#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Determinism of the real executables on a tiny model:
- the same seed, data and thread count give bit-identical models (their maps of a scan are
  byte-for-byte equal) and inference run twice gives byte-identical maps;
- other thread counts give results within the tolerances below. LibTorch sums in another order with
  more threads: inference of one model differs by float rounding; training follows another rounding
  path for every iteration, so its models differ a little more.

Usage: determinism.py <bin-dir> <work-dir>
"""
import filecmp
import json
import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    import test_support
except ImportError as missing:
    print(f"SKIP: {sys.executable} lacks {missing.name} (Utilities/install-dependencies.sh installs it)")
    sys.exit(0)

BIN, WORK = (os.path.abspath(a) for a in sys.argv[1:3])
RECONTRAST = os.path.join(BIN, "recontrast")

# Measured on this project's CI machine (x86-64 with AVX-512, 2 cores), seeds 7, 1 and 2
# (RECONTRAST_TEST_SEED), as fractions of the map's range (Documentation/Benchmarks.md, "Determinism"):
# - inference of one model, 1 against 2 threads: at most 6.7e-8;
INFERENCE_TOLERANCE = 1e-5
# - training with 1 against 2 threads (8 iterations), then inference: at most 9.9e-3.
TRAINING_TOLERANCE = 0.05


SEED = int(os.environ.get("RECONTRAST_TEST_SEED", "7"))


def train(data, out, threads):
    subprocess.run(test_support.tiny_training(RECONTRAST, data, out, 8, SEED, threads), check=True,
                   capture_output=True)


def infer(model, scan, out, threads):
    # The method's own maps (the tolerances were measured on them); calibration is a fixed affine
    # map per slice on top, the same for the same model.
    subprocess.run([RECONTRAST, "infer", "--model", model, "--input", scan, "--output", out, "--report",
                    out + ".json", "--threads", str(threads), "--map", "raw"], check=True, capture_output=True)
    return test_support.read_mha(out), json.load(open(out + ".json"))["slice_scores"]


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    data, scan = test_support.training_data_and_scan(WORK)
    check = test_support.Checks()
    for threads in (1, 2):
        a, b = (os.path.join(WORK, f"model-{threads}{x}.rcm") for x in "ab")
        train(data, a, threads)
        train(data, b, threads)
        map_a, _ = infer(a, scan, os.path.join(WORK, f"map-{threads}a.mha"), threads)
        infer(b, scan, os.path.join(WORK, f"map-{threads}b.mha"), threads)
        infer(a, scan, os.path.join(WORK, f"map-{threads}a-again.mha"), threads)
        check(filecmp.cmp(os.path.join(WORK, f"map-{threads}a.mha"), os.path.join(WORK, f"map-{threads}b.mha"), False),
              f"{threads} thread(s): two trainings with the same seed give models with byte-identical maps")
        check(filecmp.cmp(os.path.join(WORK, f"map-{threads}a.mha"), os.path.join(WORK, f"map-{threads}a-again.mha"),
                          False), f"{threads} thread(s): inference run twice gives byte-identical maps")

    one, scores_one = infer(os.path.join(WORK, "model-1a.rcm"), scan, os.path.join(WORK, "x1.mha"), 1)
    two, _ = infer(os.path.join(WORK, "model-1a.rcm"), scan, os.path.join(WORK, "x2.mha"), 2)
    span = float(one.max() - one.min())
    inference = float(np.abs(one - two).max()) / span
    check(inference <= INFERENCE_TOLERANCE,
          f"one model, 1 against 2 inference threads: largest map difference {inference:.2e} of the range "
          f"(tolerance {INFERENCE_TOLERANCE:.0e})")
    trained_two, scores_two = infer(os.path.join(WORK, "model-2a.rcm"), scan, os.path.join(WORK, "y2.mha"), 1)
    training = float(np.abs(one - trained_two).max()) / span
    check(training <= TRAINING_TOLERANCE,
          f"trained with 1 against 2 threads: largest map difference {training:.2e} of the range "
          f"(tolerance {TRAINING_TOLERANCE:.0e})")
    ranks_one = np.argsort(np.argsort(-np.array(scores_one)))
    ranks_two = np.argsort(np.argsort(-np.array(scores_two)))
    scored = np.array(scores_one) > 0
    shift = int(np.abs(ranks_one - ranks_two)[scored].max()) if scored.any() else 0
    print(f"     slice ranking of the two models: largest shift {shift} place(s)")
    check.finish("determinism passed")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
