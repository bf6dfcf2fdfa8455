#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Seed corpora of the fuzz targets, made as the tests make their inputs: PyTorch checkpoints in both
torch.save formats (Debian's python3-torch), small NIfTI/NRRD/MetaImage/PNG/JPEG files and a DICOM
series (Testing/CLI/test_inputs.py). The model-file seeds come from MakeFuzzSeeds.

Usage: make_fuzz_seeds.py <corpus-folder>
"""
import collections
import gzip
import os
import shutil
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "CLI"))
import test_inputs  # noqa: E402

corpus = sys.argv[1]
for name in ("checkpoint", "model", "dicom", "image"):
    os.makedirs(os.path.join(corpus, name), exist_ok=True)

# Checkpoints: a state_dict like the official code's and torchvision's, in both formats.
import torch  # noqa: E402
state = collections.OrderedDict([("encoder.conv1.weight", torch.arange(8, dtype=torch.float32).reshape(2, 1, 2, 2)),
                                 ("encoder.bn1.num_batches_tracked", torch.tensor(3)),
                                 ("decoder.bias", torch.ones(3, dtype=torch.float64))])
torch.save(state, os.path.join(corpus, "checkpoint", "zip.pth"))
torch.save(state, os.path.join(corpus, "checkpoint", "legacy.pth"), _use_new_zipfile_serialization=False)
torch.save({"model": state, "epoch": 2}, os.path.join(corpus, "checkpoint", "nested.pth"),
           _use_new_zipfile_serialization=False)

# Images: the first byte of each seed chooses the file name in FuzzImageFile (see its names[]).
small = test_inputs.volume(seed=1, shape=(4, 12, 12))
work = os.path.join(corpus, "tmp")
os.makedirs(work, exist_ok=True)


def seed(index, raw, name):
    with open(os.path.join(corpus, "image", name), "wb") as f:
        f.write(bytes([index]) + raw)


seed(0, open(test_inputs.nifti(os.path.join(work, "a.nii"), small), "rb").read(), "nifti")
seed(1, gzip.compress(open(os.path.join(work, "a.nii"), "rb").read()), "nifti-gz")
seed(2, b"NRRD0004\ntype: float\ndimension: 3\nsizes: 12 12 4\nspace: left-posterior-superior\n"
        b"space directions: (1,0,0) (0,1,0) (0,0,2)\nspace origin: (0,0,0)\nendian: little\nencoding: raw\n\n"
        + small.astype("<f4").tobytes(), "nrrd")
seed(3, b"ObjectType = Image\nNDims = 3\nDimSize = 12 12 4\nElementType = MET_FLOAT\nElementSpacing = 1 1 2\n"
        b"CompressedData = True\nElementDataFile = LOCAL\n" + zlib.compress(small.astype("<f4").tobytes()), "mha")
seed(4, open(test_inputs.png(os.path.join(work, "a.png"), 12, 10), "rb").read(), "png")
seed(4, open(test_inputs.png(os.path.join(work, "b.png"), 8, 8, palette=True), "rb").read(), "png-palette")
seed(5, open(test_inputs.jpeg(os.path.join(work, "a.jpg")), "rb").read(), "jpeg")

# DICOM: one slice alone, and a series of three cut into files at "RCFZ" (FuzzDicomSeries).
series = test_inputs.dicom_series(os.path.join(work, "series"), count=3)
slices = [open(os.path.join(series, f), "rb").read() for f in sorted(os.listdir(series))]
with open(os.path.join(corpus, "dicom", "one-slice"), "wb") as f:
    f.write(slices[0])
with open(os.path.join(corpus, "dicom", "three-slices"), "wb") as f:
    f.write(b"RCFZ".join(slices))
shutil.rmtree(work)
print("seeds in " + corpus)
