#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Start-up benchmark: how long a small job waits for the model, from launch to the first slice scored
with a WRN50-2 model file (the target: Documentation/Benchmarks.md).

Usage (from the repository root, after building):
    /usr/bin/python3 Testing/Benchmarks/startup_benchmark.py --build build [--runs 5]

Makes a WRN50-2 model file (torchvision's architecture with random weights, through
`recontrast import --torchvision`), then runs the Slicer CLI module ReContrastAnomalyDetection
on one 256 x 256 picture with batch size 1, reading its progress tags as they come:
  * start-up: launch until <filter-start> (process start, libraries, model file read and checked,
    network built, picture read and prepared);
  * first slice: launch until the first <filter-progress> after the slice is scored;
  * total: launch until exit (also the map written).
The reference, measured in the same run, is the model's own time for that slice (first slice - start-up),
so the ratio start-up / model time says whether loading dominates a one-slice job.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

from benchmark_models import import_torchvision_model


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    module = os.path.join(build, "lib", "ReContrast", "cli-modules", "ReContrastAnomalyDetection")
    recontrast = os.path.join(build, "bin", "recontrast")
    for path in (module, recontrast):
        if not os.path.exists(path):
            sys.exit(f"startup_benchmark: '{path}' is missing; build the project first.")
    import numpy
    from PIL import Image

    with tempfile.TemporaryDirectory() as work:
        model = import_torchvision_model(recontrast, "wide_resnet50_2", work)
        picture = os.path.join(work, "picture.png")
        Image.fromarray((numpy.random.default_rng(0).random((256, 256)) * 255).astype("uint8")).save(picture)
        print(f"model file: {os.path.getsize(model) / 1e6:.0f} MB (wide_resnet50_2, 256 px)")

        rows = []
        for run in range(args.runs + 1):
            start = time.perf_counter()
            process = subprocess.Popen([module, "--model", model, "--batchSize", "1", picture,
                                        os.path.join(work, "map.nrrd")], stdout=subprocess.PIPE, text=True)
            marks = {}
            for line in process.stdout:
                now = time.perf_counter() - start
                if line.startswith("<filter-start>"):
                    marks.setdefault("startup", now)
                elif line.startswith("<filter-progress>"):
                    marks.setdefault("first", now)
            if process.wait() != 0:
                sys.exit("startup_benchmark: the module failed")
            marks["total"] = time.perf_counter() - start
            if run > 0:  # the first run warms the page cache
                rows.append(marks)
        startup = statistics.median(r["startup"] for r in rows)
        first = statistics.median(r["first"] for r in rows)
        total = statistics.median(r["total"] for r in rows)
        model_time = statistics.median(r["first"] - r["startup"] for r in rows)
        print(f"medians of {len(rows)} runs after one warm-up:")
        print(f"  start-up (launch -> model ready, picture prepared): {startup:.2f} s")
        print(f"  first slice scored:                                 {first:.2f} s")
        print(f"  whole job (map written, exit):                      {total:.2f} s")
        print(f"  model time of the slice (reference):                {model_time:.2f} s")
        print(f"  ratio start-up / model time: {startup / model_time:.2f}")


if __name__ == "__main__":
    main()
