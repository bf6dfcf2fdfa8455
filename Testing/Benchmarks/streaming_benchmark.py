#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Streaming benchmark: a volume through the ITK layer against the model alone, and peak memory as
the number of slices grows.

Usage (from the repository root, after building):
    /usr/bin/python3 Testing/Benchmarks/streaming_benchmark.py --build build [--slices 50 150 450]

Makes a resnet18 model at 256 px (torchvision's architecture, random weights, through
`recontrast import --torchvision`) and synthetic 256 x 256 x N head-like volumes (int16 NIfTI), then
for each N, each in a fresh process (ReContrastStreamingBenchmark):
  * model: the Predictor alone on N prepared inputs in batches of 8 (the reference);
  * pipeline: read the NIfTI file, ReContrastAnomalyImageFilter (automatic body mask, MR intensity
    preset, aspect-preserving resampling, the model, inverse resampling), write the map (.nii.gz).
It prints seconds, the ratio pipeline / model (the target: <= 1.15) and the peak RSS of each.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

from benchmark_models import import_torchvision_model


def run(command):
    out = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build")
    parser.add_argument("--slices", type=int, nargs="+", default=[50, 150, 450])
    parser.add_argument("--backbone", default="resnet18")
    parser.add_argument("--precision", nargs="+", default=["exact"], choices=["exact", "fp32", "bf16", "fp16"],
                        help="the Predictor's path(s), each measured on the same volumes")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    tool = os.path.join(build, "bin", "ReContrastStreamingBenchmark")
    recontrast = os.path.join(build, "bin", "recontrast")
    for path in (tool, recontrast):
        if not os.path.exists(path):
            sys.exit(f"streaming_benchmark: '{path}' is missing; build the project with its tests first.")

    with tempfile.TemporaryDirectory() as work:
        model = import_torchvision_model(recontrast, args.backbone, work, image_size=256)
        print(f"{args.backbone}, 256 px, batch 8, every core; volumes 256 x 256 x N int16")
        print(f"{'precision':>9} {'slices':>6} {'model s':>8} {'pipeline s':>10} {'ratio':>6} {'model RSS MB':>12} "
              f"{'pipeline RSS MB':>15}  pipeline stages (read / filter / write s)  peak RSS after each (MB)")
        for slices in args.slices:
            volume = os.path.join(work, f"volume{slices}.nii.gz")
            subprocess.run([tool, "--model", model, "--mode", "make-volume", "--slices", str(slices),
                            "--volume", volume], check=True)
            for precision in args.precision:
                common = ["--slices", str(slices), "--precision", precision]
                reference = run([tool, "--model", model, "--mode", "model"] + common)
                pipeline = run([tool, "--model", model, "--mode", "pipeline", "--volume", volume,
                                "--map", os.path.join(work, "map.nii.gz")] + common)
                print(f"{precision:>9} {slices:>6} {reference['seconds']:>8.1f} {pipeline['seconds']:>10.1f} "
                      f"{pipeline['seconds'] / reference['seconds']:>6.2f} {reference['peak_rss_mb']:>12.0f} "
                      f"{pipeline['peak_rss_mb']:>15.0f}  {pipeline['stage_seconds']['read']:.1f} / "
                      f"{pipeline['stage_seconds']['filter']:.1f} / {pipeline['stage_seconds']['write']:.1f}  "
                      f"{pipeline['stage_peak_rss_mb']['read']:.0f} / {pipeline['stage_peak_rss_mb']['filter']:.0f} / "
                      f"{pipeline['stage_peak_rss_mb']['write']:.0f}",
                      flush=True)
            os.remove(volume)


if __name__ == "__main__":
    main()
