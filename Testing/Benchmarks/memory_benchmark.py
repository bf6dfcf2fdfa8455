#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Peak memory of `recontrast infer` on 512 x 512 x N volumes (16-bit, as CT arrives), against the
bytes of the input and of the map it writes. Prints one line per volume depth.

Usage: memory_benchmark.py <bin-dir> <model.rcm> [depths, default 150 300 600]
Example (Documentation/Benchmarks.md): memory_benchmark.py build/bin model.rcm 150 300 600
"""
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np


def write_nifti(path, depth):
    header = bytearray(348)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, 3, 512, 512, depth, 1, 1, 1, 1)
    struct.pack_into("<h", header, 70, 4)  # int16
    struct.pack_into("<h", header, 72, 16)
    struct.pack_into("<8f", header, 76, 1.0, 0.7, 0.7, 1.0, 1, 1, 1, 1)
    struct.pack_into("<f", header, 108, 352)
    struct.pack_into("<h", header, 252, 1)
    header[344:348] = b"n+1\0"
    z, y, x = np.ogrid[:depth, :512, :512]
    with open(path, "wb") as f:
        f.write(bytes(header) + b"\0" * 4)
        for k in range(depth):
            inside = ((y - 256) ** 2 + (x - 256) ** 2) < 200 ** 2
            f.write(np.where(inside, 1000 + (x + y + k) % 200, -1000).astype("<i2").tobytes())


def peak_rss(argv):
    """Peak resident memory (bytes) of a child process."""
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    if status != 0:
        raise SystemExit(f"{argv[1]} failed ({status})")
    return usage.ru_maxrss * 1024


def main():
    bin_dir, model = sys.argv[1:3]
    depths = [int(d) for d in sys.argv[3:]] or [150, 300, 600]
    recontrast = os.path.join(bin_dir, "recontrast")
    with tempfile.TemporaryDirectory() as work:
        first = None
        for depth in depths:
            scan = os.path.join(work, f"ct{depth}.nii")
            write_nifti(scan, depth)
            peak = peak_rss([recontrast, "infer", "--model", model, "--input", scan, "--output",
                             os.path.join(work, "map.nii"), "--threads", "2"])
            voxels = 512 * 512 * depth
            if first is None:
                first = (depth, peak)  # the fixed part (model, libraries) comes from the slope below
            input_bytes, map_bytes = 2 * voxels, 4 * voxels
            print(f"512 x 512 x {depth}: peak {peak / 2**30:.2f} GB; input {input_bytes / 2**30:.2f} GB, "
                  f"map {map_bytes / 2**30:.2f} GB")
            os.remove(scan)
        if len(depths) > 1:
            slope = (peak - first[1]) / (512 * 512 * (depth - first[0]))
            print(f"growth per voxel: {slope:.1f} bytes (the input is 2, the map 4); "
                  f"fixed part about {(first[1] - slope * 512 * 512 * first[0]) / 2**30:.2f} GB")


if __name__ == "__main__":
    main()
