#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Writes a NIfTI-1 volume without a slab of axial slices, as two NRRD volumes with the scan's
geometry (LPS, as ITK reads the NIfTI): the training data of VolumeLesionDetection.sh, so that the
lesion is placed in slices the model never saw.

Usage: crop_slabs.py <volume.nii.gz> <output-folder> <first-held-out-slice> <first-slice-after-the-slab>
Reads gzip-compressed NIfTI-1 with an sform (as Debian's mricron-data templates); numpy only.
"""
import gzip
import os
import struct
import sys

import numpy as np

TYPES = {2: ("u1", "uchar"), 4: ("<i2", "short"), 16: ("<f4", "float"), 512: ("<u2", "ushort")}


def main():
    path, folder, first, after = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    data = gzip.open(path).read()
    if struct.unpack("<i", data[0:4])[0] != 348:
        sys.exit(f"crop_slabs: '{path}' is not a little-endian NIfTI-1 file.")
    dims = struct.unpack("<8h", data[40:56])
    datatype = struct.unpack("<h", data[70:72])[0]
    offset = int(struct.unpack("<f", data[108:112])[0])
    sform = struct.unpack("<h", data[254:256])[0]
    if dims[0] != 3 or datatype not in TYPES or sform <= 0:
        sys.exit(f"crop_slabs: '{path}' is not a 3-D NIfTI volume of a known type with an sform.")
    dtype, nrrd_type = TYPES[datatype]
    nx, ny, nz = dims[1:4]
    values = np.frombuffer(data[offset:offset + nx * ny * nz * np.dtype(dtype).itemsize], dtype=dtype)
    volume = values.reshape(nz, ny, nx)
    srow = np.array(struct.unpack("<12f", data[280:328]), dtype=float).reshape(3, 4)
    ras_to_lps = np.diag([-1.0, -1.0, 1.0])
    directions = ras_to_lps @ srow[:, :3]  # columns: the index axes in LPS millimetres
    origin = ras_to_lps @ srow[:, 3]
    os.makedirs(folder, exist_ok=True)
    for name, start, stop in (("lower", 0, first), ("upper", after, nz)):
        if stop <= start:
            continue
        slab_origin = origin + directions[:, 2] * start
        header = ("NRRD0004\ntype: %s\ndimension: 3\nspace: left-posterior-superior\nsizes: %d %d %d\n"
                  "space directions: %s\nkinds: domain domain domain\nendian: little\nencoding: raw\n"
                  "space origin: (%.6f,%.6f,%.6f)\n\n") % (
                      nrrd_type, nx, ny, stop - start,
                      " ".join("(%.6f,%.6f,%.6f)" % tuple(directions[:, i]) for i in range(3)),
                      *slab_origin)
        with open(os.path.join(folder, name + ".nrrd"), "wb") as out:
            out.write(header.encode() + np.ascontiguousarray(volume[start:stop]).tobytes())


if __name__ == "__main__":
    main()
