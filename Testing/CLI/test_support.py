# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""What the end-to-end robustness tests share: checks that are counted and reported, the tiny
training they all run, and reading the MetaImage maps that `recontrast infer` writes."""
import os
import re
import subprocess
import sys
import zlib

import numpy as np

import test_inputs


class Checks:
    """Prints each check as it is made and remembers the failed ones."""

    def __init__(self):
        self.failures = []

    def __call__(self, condition, what):
        print(("ok   " if condition else "FAIL ") + what)
        if not condition:
            self.failures.append(what)
        return condition

    def finish(self, passed_message):
        """Exits with 1 after listing the failed checks, or prints `passed_message`."""
        if self.failures:
            print(f"FAILED {len(self.failures)} check(s):")
            for failure in self.failures:
                print("  " + failure)
            sys.exit(1)
        print(passed_message)


def tiny_training(recontrast, data, out, iterations, seed, threads, extra=()):
    """The arguments of a training small enough for a test: resnet18, 32 px, batches of 4."""
    return [recontrast, "train", "--data", data, "--out", out, "--backbone", "resnet18", "--image-size", "32",
            "--iterations", str(iterations), "--batch-size", "4", "--seed", str(seed), "--threads", str(threads),
            *extra]


def training_data_and_scan(work):
    """One normal NIfTI volume to train on (in work/data) and another, larger, to score."""
    data = os.path.join(work, "data")
    os.makedirs(data, exist_ok=True)
    test_inputs.nifti(os.path.join(data, "normal.nii.gz"), test_inputs.volume(seed=2), gz=True)
    scan = test_inputs.nifti(os.path.join(work, "scan.nii"), test_inputs.volume(seed=3, shape=(24, 96, 96)))
    return data, scan


def run(argv, **kwargs):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kwargs)


def read_mha(path):
    """The voxels of a float MetaImage with its data inside (what infer writes), z-y-x ordered."""
    raw = open(path, "rb").read()
    header, _, body = raw.partition(b"ElementDataFile = LOCAL\n")
    text = header.decode()
    sizes = [int(v) for v in re.search(r"DimSize = (.*)", text).group(1).split()]
    if re.search(r"CompressedData = True", text):
        body = zlib.decompress(body)
    return np.frombuffer(body, dtype="<f4").reshape(sizes[::-1])


def read_nifti(path):
    """The voxels of a NIfTI-1 file (as the executables write them), x fastest, as a z-y-x array."""
    import gzip
    raw = open(path, "rb").read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    dims = np.frombuffer(raw[40:56], dtype="<i2")
    datatype = int(np.frombuffer(raw[70:72], dtype="<i2")[0])
    offset = int(np.frombuffer(raw[108:112], dtype="<f4")[0])
    types = {2: "u1", 4: "<i2", 8: "<i4", 16: "<f4", 64: "<f8", 256: "i1", 512: "<u2"}
    shape = tuple(int(d) for d in dims[1:1 + int(dims[0])])
    return np.frombuffer(raw[offset:], dtype=types[datatype], count=int(np.prod(shape))).reshape(shape[::-1])

