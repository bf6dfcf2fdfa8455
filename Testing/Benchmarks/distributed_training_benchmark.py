#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Data-parallel training on this machine (Documentation/Scaling.md, Benchmarks.md "Data-parallel
training"): training throughput of 2 processes x 1 thread (torchrun) against 1 process x 2 threads,
in images per second over the training iterations alone (the reports' loop_seconds), the share of a
step spent waiting for the gradient sums after backward and in the sums of the whole batch's
statistics (BatchNorm, hard mining), and the gradient sums without overlap (one bucket, summed after
backward) against buckets summed while backward runs. All runs in one invocation, one after another.

Usage: distributed_training_benchmark.py <build folder> <work folder> [backbone size batch iterations] ...
(default: resnet18 128 8 12 and wide_resnet50_2 256 16 4; the paper's configuration is the second)
"""
import json
import os
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "CLI"))
import test_inputs  # noqa: E402

BUILD, WORK = (os.path.abspath(a) for a in sys.argv[1:3])
RECONTRAST = os.path.join(BUILD, "bin", "recontrast")
CONFIGS = [sys.argv[i:i + 4] for i in range(3, len(sys.argv), 4)] or [["resnet18", "128", "8", "12"],
                                                                       ["wide_resnet50_2", "256", "16", "4"]]


def train(name, backbone, size, batch, iterations, processes, threads, bucket_mb=None):
    out = os.path.join(WORK, name + ".rcm")
    argv = [RECONTRAST, "train", "--data", DATA, "--out", out, "--backbone", backbone, "--image-size", size,
            "--batch-size", batch, "--iterations", iterations, "--threads", str(threads),
            "--calibration-fraction", "0", "--seed", "3"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    if bucket_mb:
        env["RECONTRAST_GRADIENT_BUCKET_MB"] = str(bucket_mb)
    if processes > 1:
        argv = ["/usr/bin/python3", "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes),
                "--redirects", "1", "--tee", "1", "--log_dir", os.path.join(WORK, name + "-logs"),
                "--no_python", *argv]
    else:
        argv += ["--distributed", "off"]
    started = time.time()
    subprocess.run(argv, check=True, capture_output=True, env=env)
    wall = time.time() - started
    report = json.load(open(os.path.join(WORK, name + ".training.json")))["distributed"]
    images = int(batch) * int(iterations)
    return {"images_per_second": images / report["loop_seconds"], "wall": wall, **report}


def main():
    global DATA
    shutil.rmtree(WORK, ignore_errors=True)
    DATA = os.path.join(WORK, "data")
    os.makedirs(DATA)
    for i in range(4):
        test_inputs.nifti(os.path.join(DATA, f"normal{i}.nii"), test_inputs.volume(seed=20 + i, shape=(24, 128, 128)))
    for backbone, size, batch, iterations in CONFIGS:
        tag = f"{backbone}-{size}"
        one = train(f"{tag}-1x2", backbone, size, batch, iterations, 1, 2)
        two = train(f"{tag}-2x1", backbone, size, batch, iterations, 2, 1)
        flat = train(f"{tag}-2x1-one-bucket", backbone, size, batch, iterations, 2, 1, bucket_mb=100000)
        print(f"{backbone} at {size} px, batch {batch}, {iterations} iterations:")
        print(f"  1 process x 2 threads:  {one['images_per_second']:.2f} images/s")
        print(f"  2 processes x 1 thread: {two['images_per_second']:.2f} images/s "
              f"({two['images_per_second'] / one['images_per_second']:.2f}x), {two['gradient_buckets']} buckets; "
              f"waiting for gradient sums after backward {100 * two['gradient_sum_seconds'] / two['loop_seconds']:.1f} %"
              f" of the loop, batch statistics sums {100 * two['batch_statistics_seconds'] / two['loop_seconds']:.1f} %")
        print(f"  2 processes, one bucket summed after backward: {flat['images_per_second']:.2f} images/s; waiting "
              f"{100 * flat['gradient_sum_seconds'] / flat['loop_seconds']:.1f} % of the loop "
              f"({flat['gradient_sum_seconds'] / max(two['gradient_sum_seconds'], 1e-9):.1f}x the bucketed wait)")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
