# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Small scans, pictures and DICOM series for the end-to-end tests, written byte by byte (so that they
can also be wrong on purpose): NIfTI-1, PNG, JPEG (Debian's python3-pil) and a DICOM MR series
(Debian's python3-pydicom)."""
import gzip
import io
import os
import struct
import zlib

import numpy as np


def nifti(target, data, spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0), dims=None, datatype=16, vox_offset=352,
          magic=b"n+1\0", cut=None, gz=False, qform=1):
    data = np.asarray(data, dtype="<f4")
    shape = dims if dims is not None else (len(data.shape),) + tuple(reversed(data.shape))
    dim = list(shape) + [1] * (8 - len(shape))
    header = bytearray(348)
    struct.pack_into("<i", header, 0, 348)
    struct.pack_into("<8h", header, 40, *dim)
    struct.pack_into("<h", header, 70, datatype)
    struct.pack_into("<h", header, 72, 32)
    struct.pack_into("<8f", header, 76, 1.0, *spacing, 1.0, 1.0, 1.0, 1.0)
    struct.pack_into("<f", header, 108, vox_offset)
    struct.pack_into("<f", header, 112, 1.0)  # scl_slope
    struct.pack_into("<h", header, 252, qform)
    struct.pack_into("<h", header, 254, 0)
    struct.pack_into("<3f", header, 268, *origin)
    header[344:348] = magic
    raw = bytes(header) + b"\0" * 4 + data.tobytes()
    if cut is not None:
        raw = raw[:cut]
    with open(target, "wb") as f:
        f.write(gzip.compress(raw) if gz else raw)
    return target


def volume(seed=1, shape=(24, 64, 64)):
    """A head-like volume: a bright ellipsoid with texture on a dark background."""
    rng = np.random.default_rng(seed)
    z, y, x = np.indices(shape).astype(np.float32)
    c = [(s - 1) / 2 for s in shape]
    inside = ((z - c[0]) / (0.45 * shape[0])) ** 2 + ((y - c[1]) / (0.4 * shape[1])) ** 2 + \
             ((x - c[2]) / (0.35 * shape[2])) ** 2 <= 1
    values = np.where(inside, 300 + 80 * np.sin(x / 3) * np.cos(y / 4) + rng.normal(0, 10, shape), 0)
    return values.astype(np.float32)


def png(target, width, height, channels=1, depth=8, palette=False, cut=None, corrupt_crc=False):
    def chunk(kind, body):
        crc = zlib.crc32(kind + body) ^ (0xFFFFFFFF if corrupt_crc and kind == b"IDAT" else 0)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc & 0xFFFFFFFF)
    colour = 3 if palette else {1: 0, 3: 2}[channels]
    rows = b""
    rng = np.random.default_rng(3)
    for _ in range(height):
        if palette:
            rows += b"\0" + bytes(rng.integers(0, 4, width, dtype=np.uint8))
        else:
            values = rng.integers(0, 256 ** (depth // 8), width * channels).astype(">u2" if depth == 16 else "u1")
            rows += b"\0" + values.tobytes()
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0))
    if palette:
        raw += chunk(b"PLTE", bytes([0, 0, 0, 90, 90, 90, 180, 180, 180, 255, 255, 255]))
    raw += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    if cut is not None:
        raw = raw[:cut]
    with open(target, "wb") as f:
        f.write(raw)
    return target


def jpeg(target, cut=None, garbage=False):
    from PIL import Image  # Debian's python3-pil (a dependency of python3-torchvision)
    buffer = io.BytesIO()
    Image.fromarray(np.random.default_rng(4).integers(0, 256, (64, 64), dtype=np.uint8)).save(buffer, "JPEG")
    raw = buffer.getvalue()
    if garbage:
        raw = raw[:2] + bytes(np.random.default_rng(5).integers(0, 256, 600, dtype=np.uint8)) + raw[602:]
    if cut is not None:
        raw = raw[:cut]
    with open(target, "wb") as f:
        f.write(raw)
    return target


def dicom_series(folder, count=6, damage=None, size=64):
    """A synthetic MR series (count slices of size x size) written with pydicom (Debian's python3-pydicom)."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid
    os.makedirs(folder, exist_ok=True)
    series, study, frame = generate_uid(), generate_uid(), generate_uid()
    pixels = volume(seed=7, shape=(count, size, size)).astype(np.uint16)
    for i in range(count):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.4"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(None, {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientID, ds.PatientName = "MR", "BAD-INPUT", "Test^Bad"
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = study, series, frame
        ds.InstanceNumber, ds.SeriesNumber = i + 1, 1
        ds.ImagePositionPatient = [0.0, 0.0, float(i * 3)]
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.PixelSpacing, ds.SliceThickness = [1.0, 1.0], 3.0
        rows = size if not (damage == "mixed" and i == 3) else 48
        ds.Rows, ds.Columns = rows, size
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
        if not (damage == "pixelless" and i == 2):
            ds.PixelData = pixels[i, :rows].tobytes()
        target = os.path.join(folder, f"slice{i:03d}.dcm")
        ds.save_as(target, write_like_original=False)
        if damage == "truncated" and i == 4:
            with open(target, "r+b") as f:
                f.truncate(os.path.getsize(target) - 3000)
    return folder
