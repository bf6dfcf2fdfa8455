#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The bad-input table: malformed inputs and faults given to every entry point of the real executables.

Each row must end with a non-zero exit (not a signal), a short message on stderr that names the
problem (the row's pattern), none of the crash texts of the libraries below us, no file left in the
row's own output folder, and its inputs unchanged. A few valid but unusual inputs (16-bit and palette
pictures) must instead work. Documented in Documentation/UserGuide.md ("When the input is wrong").

Usage: bad_input_table.py <bin-dir> <cli-module-dir> <work-dir>
"""
import concurrent.futures
import gzip
import hashlib
import os
import pickle
import re
import shutil
import signal
import struct
import subprocess
import sys
import time
import zlib
import zipfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    import PIL  # noqa: F401 (JPEG rows)
    import pydicom  # noqa: F401 (DICOM rows)
    import test_inputs
except ImportError as missing:
    print(f"SKIP: {sys.executable} lacks {missing.name} (Utilities/install-dependencies.sh installs it)")
    sys.exit(0)

BIN, MODULES, WORK = (os.path.abspath(a) for a in sys.argv[1:4])
RECONTRAST = os.path.join(BIN, "recontrast")
ADD_LESION = os.path.join(BIN, "recontrast-add-lesion")
DETECTION = os.path.join(MODULES, "ReContrastAnomalyDetection")
TRAIN_MODULE = os.path.join(MODULES, "ReContrastTrainModel")
INFO_MODULE = os.path.join(MODULES, "ReContrastModelInfo")
IN = os.path.join(WORK, "inputs")
OUT = os.path.join(WORK, "outputs")

# What must never reach a user: the texts of crashes and of the libraries' own error channels.
CRASH_TEXT = re.compile(r"terminate called|Assertion|Exception raised from|c10::|ITK ERROR|\(0x[0-9a-f]+\)|"
                        r"Segmentation|core dumped|what\(\):|vnl_|libpng|nifti_|\*\* ERROR|MetaImage:|"
                        r"Traceback|std::|basic_string|Abort", re.I)


# What a command may print on stderr before its sentence: progress and what it is about to do.
PROGRESS = re.compile(r"^(\S[^:]*: +\d+%|recontrast: (indexing|training) )")


def path(name):
    return os.path.join(IN, name)


# ---------------------------------------------------------------- (bad) files in the inputs folder
def nifti(name, *args, **kwargs):
    return test_inputs.nifti(path(name), *args, **kwargs)


def png(name, *args, **kwargs):
    return test_inputs.png(path(name), *args, **kwargs)


def jpeg(name, *args, **kwargs):
    return test_inputs.jpeg(path(name), *args, **kwargs)


def dicom_series(folder, *args, **kwargs):
    return test_inputs.dicom_series(path(folder), *args, **kwargs)


volume = test_inputs.volume


def png_chunks(name, width, height, depth, colour):
    """A PNG whose chunks and checksums are whole but whose header values libpng rejects."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    raw = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)) + \
        chunk(b"IDAT", zlib.compress(b"\0" * (height * (width + 1)))) + chunk(b"IEND", b"")
    return text(name, raw, True)


def jpeg_bad_frame(name):
    """A whole JPEG whose frame header says 7 colour components."""
    raw = bytearray(open(jpeg(name), "rb").read())
    at = raw.find(b"\xff\xc0")
    raw[at + 9] = 7
    return text(name, bytes(raw), True)


def text(name, content, binary=False):
    with open(path(name), "wb" if binary else "w") as f:
        f.write(content)
    return path(name)


def mha(name, header, data=b""):
    return text(name, header.encode() + data, binary=True)


def torch_legacy(name, payload):
    """The legacy torch.save layout: magic number, protocol, system information, then the object."""
    raw = pickle.dumps(0x1950a86a20f9469cfc6c, 2) + pickle.dumps(1001, 2) + \
        pickle.dumps({"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}, 2) + \
        pickle.dumps(payload, 2) + pickle.dumps([], 2)
    return text(name, raw, True)


def torch_zip(name, entries):
    with zipfile.ZipFile(path(name), "w") as z:
        for entry, content in entries.items():
            z.writestr(entry, content)
    return path(name)


class Forbidden:
    """Pickles as a call of os.system: what a hostile checkpoint would do."""
    def __reduce__(self):
        return (os.system, ("touch " + os.path.join(WORK, "pwned"),))


class EvalCall:
    def __reduce__(self):
        return (eval, ("__import__('os').system('touch " + os.path.join(WORK, "pwned") + "')",))


# ---------------------------------------------------------------- running the rows
failures = []
rows = 0


def files_under(folder):
    return sorted(os.path.relpath(os.path.join(d, f), folder) for d, _, fs in os.walk(folder) for f in fs)


def digest(paths):
    result = {}
    for p in paths:
        if os.path.isfile(p):
            result[p] = hashlib.sha256(open(p, "rb").read()).hexdigest()
    return result


ROWS = []


def refused(name, argv, pattern, watch=(), timeout=300):
    """One row: `argv` (with {out} for the row's output folder) must be refused with `pattern`."""
    ROWS.append(lambda: run_refused(name, argv, pattern, watch, timeout))


def works(name, argv, outputs):
    """A valid but unusual input: must succeed and write every output."""
    ROWS.append(lambda: run_works(name, argv, outputs))


def run_refused(name, argv, pattern, watch, timeout):
    global rows
    rows += 1
    out = os.path.join(OUT, name)
    os.makedirs(out)
    argv = [a.replace("{out}", out) for a in argv]
    before = digest(list(watch) + [a for a in argv if a.startswith(IN)])
    try:
        run = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=out)
    except subprocess.TimeoutExpired:
        failures.append(f"{name}: no answer within {timeout} s")
        return
    stderr = run.stderr.strip()
    problems = []
    if run.returncode == 0:
        problems.append("exit 0")
    elif run.returncode < 0 or run.returncode >= 128:
        problems.append(f"killed by a signal ({run.returncode})")
    if not re.search(pattern, stderr, re.I):
        problems.append(f"the message does not match '{pattern}'")
    lines = [line for line in stderr.splitlines() if line.strip() and not PROGRESS.match(line)]
    if len(lines) > 2 or (len(lines) == 2 and "--help" not in lines[1]):
        problems.append(f"{len(lines)} lines on stderr, not one sentence")
    if CRASH_TEXT.search(stderr):
        problems.append("library or crash text on stderr")
    left = files_under(out)
    if left:
        problems.append("left behind: " + ", ".join(left))
    after = digest(before.keys())
    if after != before:
        problems.append("an input was changed")
    if os.path.exists(os.path.join(WORK, "pwned")):
        problems.append("a pickle payload was executed")
    status = "ok  " if not problems else "FAIL"
    print(f"{status} {name}: exit {run.returncode}: {lines[0] if lines else '(no message)'}")
    if problems:
        failures.append(f"{name}: " + "; ".join(problems) + ("\n    stderr: " + stderr.replace("\n", "\n    ")))
    shutil.rmtree(out, ignore_errors=True)


def run_works(name, argv, outputs):
    global rows
    rows += 1
    out = os.path.join(OUT, name)
    os.makedirs(out)
    argv = [a.replace("{out}", out) for a in argv]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=300, cwd=out)
    missing = [o for o in outputs if not os.path.isfile(os.path.join(out, o))]
    ok = run.returncode == 0 and not missing and not CRASH_TEXT.search(run.stderr)
    print(f"{'ok  ' if ok else 'FAIL'} {name}: exit {run.returncode} (works)")
    if not ok:
        failures.append(f"{name}: exit {run.returncode}, missing {missing}\n    stderr: {run.stderr.strip()}")
    shutil.rmtree(out, ignore_errors=True)


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(IN)
    os.makedirs(OUT)
    # A tiny model on a synthetic head, the setup of every model row.
    scan = nifti("scan.nii.gz", volume(), gz=True)
    os.makedirs(path("train"))
    nifti("train/scan1.nii.gz", volume(seed=2), gz=True)
    # Two scans: training reads them in parallel threads (a regression test of reading's stderr guard).
    nifti("train/scan2.nii.gz", volume(seed=5, shape=(20, 64, 64)), gz=True)
    model = path("model.rcm")
    subprocess.run([RECONTRAST, "train", "--data", path("train"), "--out", model, "--backbone", "resnet18",
                    "--image-size", "32", "--iterations", "2", "--batch-size", "4", "--threads", "1"],
                   check=True, capture_output=True)
    model_bytes = open(model, "rb").read()
    infer = lambda image, *extra: [RECONTRAST, "infer", "--model", model, "--input", image,
                                   "--output", "{out}/map.nii.gz", *extra]
    data = volume()

    def train(*extra, data_path=None):
        options = {"--data": data_path or path("train"), "--out": "{out}/m.rcm", "--backbone": "resnet18",
                   "--image-size": "32", "--iterations": "1", "--batch-size": "2"}
        flags = []
        for i in range(0, len(extra)):
            if extra[i].startswith("--") and i + 1 < len(extra) and not extra[i + 1].startswith("--"):
                options[extra[i]] = extra[i + 1]
            elif extra[i].startswith("--"):
                flags.append(extra[i])
        return [RECONTRAST, "train"] + [x for kv in options.items() for x in kv] + flags

    # ---- NIfTI headers that lie, voxels that are not numbers, shapes that are not scans
    refused("nifti-truncated-data", infer(nifti("cut.nii", data, cut=352 + data.nbytes // 2)), r"cut\.nii.*(truncated|short|ends)")
    refused("nifti-gz-truncated", infer(text("cutgz.nii.gz", gzip.compress(open(nifti("whole.nii", data), "rb").read())[:40000], True)),
            r"cutgz\.nii\.gz.*(truncated|short|ends|corrupt)")
    refused("nifti-offset-beyond-file", infer(nifti("offset.nii", data, vox_offset=352 + 4 * data.nbytes)), r"offset\.nii")
    refused("nifti-nan-spacing", infer(nifti("nanspacing.nii", data, spacing=(float("nan"), 1.0, 1.0))), r"nanspacing\.nii.*spacing")
    refused("nifti-inf-origin", infer(nifti("inforigin.nii", data, origin=(float("inf"), 0.0, 0.0))), r"inforigin\.nii.*(origin|geometry)")
    refused("nifti-zero-spacing", infer(nifti("zerospacing.nii", data, spacing=(0.0, 1.0, 1.0))), r"zerospacing\.nii.*spacing")
    refused("nifti-4d", infer(nifti("fourd.nii", np.stack([data, data]))), r"fourd\.nii.*(4-D|four|dimension)")
    refused("nifti-zero-size", infer(nifti("empty.nii", np.zeros((0, 64, 64), np.float32))), r"empty\.nii")
    nan_data = data.copy(); nan_data[10:12] = np.nan
    refused("nifti-nan-voxels", infer(nifti("nanvox.nii", nan_data)), r"nanvox\.nii.*(NaN|finite)")
    inf_data = data.copy(); inf_data[5, 5, 5] = np.inf
    refused("nifti-inf-voxels", infer(nifti("infvox.nii", inf_data)), r"infvox\.nii.*(finite|infinit)")
    refused("nifti-bad-magic", infer(nifti("magic.nii", data, magic=b"xyz\0")), r"magic\.nii")
    refused("nifti-header-only", infer(nifti("short.nii", data, cut=100)), r"short\.nii")
    refused("nifti-unknown-datatype", infer(nifti("dtype.nii", data, datatype=9999)), r"dtype\.nii")
    refused("nifti-negative-size", infer(nifti("negative.nii", data, dims=(3, 64, -64, 24))), r"negative\.nii")
    refused("nifti-huge-size", infer(nifti("huge.nii", data[:1], dims=(3, 30000, 30000, 30000))), r"huge\.nii")
    refused("empty-file", infer(text("nothing.nii.gz", "")), r"nothing\.nii\.gz")
    refused("json-renamed-nifti", infer(text("report.nii.gz", '{"score": 1}')), r"report\.nii\.gz")
    refused("text-renamed-png", infer(text("words.png", "hello, not a picture\n")), r"words\.png")

    # ---- NRRD and MetaImage headers that lie
    body = data.tobytes()
    nrrd_header = "NRRD0004\ntype: float\ndimension: 3\nsizes: 64 64 24\nspace: left-posterior-superior\n" \
                  "space directions: {} (0,1,0) (0,0,1)\nspace origin: (0,0,0)\nendian: little\nencoding: {}\n{}\n"
    refused("nrrd-data-short", infer(text("short.nrrd", nrrd_header.format("(1,0,0)", "raw", "").encode() + body[:1000], True)),
            r"short\.nrrd")
    refused("nrrd-unknown-encoding", infer(text("enc.nrrd", nrrd_header.format("(1,0,0)", "bogus", "").encode() + body, True)),
            r"enc\.nrrd")
    refused("nrrd-nan-direction", infer(text("nandir.nrrd", nrrd_header.format("(nan,0,0)", "raw", "").encode() + body, True)),
            r"nandir\.nrrd")
    refused("nrrd-missing-data-file", infer(text("detached.nrrd", nrrd_header.format("(1,0,0)", "raw", "data file: gone.raw"))),
            r"detached\.nrrd")
    refused("nrrd-gzip-garbage", infer(text("gz.nrrd", nrrd_header.format("(1,0,0)", "gzip", "").encode() + b"\x1f\x8b" + body[:500], True)),
            r"gz\.nrrd")
    mh = "ObjectType = Image\nNDims = {}\nDimSize = {}\nElementType = {}\nElementSpacing = {}\n{}ElementDataFile = LOCAL\n"
    refused("mha-data-short", infer(mha("short.mha", mh.format(3, "64 64 24", "MET_FLOAT", "1 1 1", ""), body[:5000])), r"short\.mha")
    refused("mha-bad-type", infer(mha("type.mha", mh.format(3, "64 64 24", "MET_BOGUS", "1 1 1", ""), body)), r"type\.mha")
    refused("mha-nan-spacing", infer(mha("nan.mha", mh.format(3, "64 64 24", "MET_FLOAT", "nan 1 1", ""), body)), r"nan\.mha.*spacing")
    refused("mha-4d", infer(mha("fourd.mha", mh.format(4, "64 64 12 2", "MET_FLOAT", "1 1 1 1", ""), body)), r"fourd\.mha")
    refused("mhd-missing-data-file", infer(text("nodata.mhd", mh.format(3, "8 8 8", "MET_FLOAT", "1 1 1", "").replace("LOCAL", "gone.raw"))),
            r"nodata\.mhd")
    refused("mha-compressed-garbage", infer(mha("zip.mha", mh.format(3, "64 64 24", "MET_FLOAT", "1 1 1", "CompressedData = True\n"), body[:3000])),
            r"zip\.mha")

    # ---- pictures
    refused("png-cut-in-header", infer(png("cuthead.png", 64, 64, cut=20)), r"cuthead\.png")
    refused("png-cut-in-data", infer(png("cutdata.png", 64, 64, cut=300)), r"cutdata\.png")
    refused("png-bad-crc", infer(png("crc.png", 64, 64, corrupt_crc=True)), r"crc\.png")
    refused("png-1x1", infer(png("tiny.png", 1, 1)), r"tiny\.png.*(small|pixels)")
    refused("jpeg-truncated", infer(jpeg("cut.jpg", cut=400)), r"cut\.jpg")
    refused("jpeg-garbage", infer(jpeg("garbage.jpg", garbage=True)), r"garbage\.jpg")
    # Found by FuzzImageFile: header values libpng and libjpeg reject end the process inside ITK.
    refused("png-invalid-bit-depth", infer(png_chunks("depth.png", 8, 8, depth=3, colour=0)), r"depth\.png.*pixel format")
    refused("png-renamed-nrrd", infer(png_chunks("renamed.nrrd", 8, 8, depth=3, colour=0)), r"renamed\.nrrd.*PNG picture")
    refused("png-palette-missing", infer(png_chunks("nopalette.png", 8, 8, depth=8, colour=3)), r"nopalette\.png.*palette")
    found = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Fuzzing", "regressions", "jpeg-broken-stream.jpg")
    refused("jpeg-broken-stream", infer(text("stream.jpg", open(found, "rb").read(), True)), r"stream\.jpg.*damaged JPEG")
    refused("jpeg-bad-frame-header", infer(jpeg_bad_frame("frame.jpg")), r"frame\.jpg.*frame header")
    works("png-16-bit", infer(png("sixteen.png", 64, 64, depth=16)), ["map.nii.gz"])
    works("png-palette", infer(png("palette.png", 64, 64, palette=True)), ["map.nii.gz"])

    # ---- DICOM folders
    refused("dicom-truncated-file", infer(dicom_series("dicom-truncated", damage="truncated")), r"dicom-truncated")
    refused("dicom-mixed-sizes", infer(dicom_series("dicom-mixed", damage="mixed")), r"dicom-mixed|missing 1 slice")
    refused("dicom-pixel-less", infer(dicom_series("dicom-pixelless", damage="pixelless")), r"dicom-pixelless")
    os.makedirs(path("no-dicom"))
    text("no-dicom/a.dcm", "not DICOM at all")
    refused("dicom-folder-without-dicom", infer(path("no-dicom")), r"no-dicom")
    os.makedirs(path("empty-folder"))
    refused("empty-folder", infer(path("empty-folder")), r"empty-folder")
    refused("dicom-unknown-series", infer(dicom_series("dicom-good"), "--series", "1.2.3.4"), r"1\.2\.3\.4")

    # ---- model files
    text("model-half.rcm", model_bytes[:len(model_bytes) // 2], True)
    refused("model-truncated", infer(scan)[:3] + [path("model-half.rcm")] + infer(scan)[4:], r"model-half\.rcm")
    refused("info-model-truncated", [RECONTRAST, "info", path("model-half.rcm")], r"model-half\.rcm")
    refused("module-info-model-truncated", [INFO_MODULE, path("model-half.rcm")], r"model-half\.rcm")
    flipped = bytearray(model_bytes); flipped[len(flipped) * 3 // 4] ^= 0x10
    text("model-flip-data.rcm", bytes(flipped), True)
    refused("model-bit-flip-in-data", infer(scan)[:3] + [path("model-flip-data.rcm")] + infer(scan)[4:], r"model-flip-data\.rcm")
    flipped = bytearray(model_bytes); flipped[12] ^= 0x01
    text("model-flip-header.rcm", bytes(flipped), True)
    refused("model-bit-flip-in-header", infer(scan)[:3] + [path("model-flip-header.rcm")] + infer(scan)[4:], r"model-flip-header\.rcm")
    refused("model-empty", infer(scan)[:3] + [text("empty.rcm", "")] + infer(scan)[4:], r"empty\.rcm")
    refused("model-is-a-picture", infer(scan)[:3] + [png("picture.rcm", 8, 8)] + infer(scan)[4:], r"picture\.rcm")
    refused("train-init-truncated", train("--init", path("model-half.rcm")), r"model-half\.rcm")

    # ---- checkpoints: hostile pickles, hostile archives
    refused("import-forbidden-global", [RECONTRAST, "import", "--official", torch_legacy("evil.pth", {"model": Forbidden()}),
                                        "--out", "{out}/m.rcm"], r"evil\.pth.*(system)")
    refused("import-reduce-eval", [RECONTRAST, "import", "--official", torch_legacy("eval.pth", [EvalCall()]),
                                   "--out", "{out}/m.rcm"], r"eval\.pth.*(eval)")
    refused("import-zip-forbidden-global", [RECONTRAST, "import", "--official",
                                            torch_zip("evilzip.pth", {"archive/data.pkl": pickle.dumps({"model": Forbidden()}, 2),
                                                                      "archive/version": b"3\n"}),
                                            "--out", "{out}/m.rcm"], r"evilzip\.pth.*(system)")
    refused("import-zip-path-traversal", [RECONTRAST, "import", "--official",
                                          torch_zip("traversal.pth", {"archive/data.pkl": pickle.dumps({}, 2), "archive/version": b"3\n",
                                                                      "../../escape": b"x", "archive/data/../../../etc": b"y"}),
                                          "--out", "{out}/m.rcm"], r"traversal\.pth")
    refused("import-zip-truncated", [RECONTRAST, "import", "--official",
                                     text("cutzip.pth", open(torch_zip("whole.pth", {"archive/data.pkl": pickle.dumps({"a": 1}, 2)}), "rb").read()[:60], True),
                                     "--out", "{out}/m.rcm"], r"cutzip\.pth")
    refused("import-text-file", [RECONTRAST, "import", "--official", text("notes.pth", "just words\n"), "--out", "{out}/m.rcm"], r"notes\.pth")
    refused("train-encoder-weights-forbidden", train("--encoder-weights", path("evil.pth")), r"evil\.pth")

    # ---- lists and folders of scans
    text("missing.txt", path("gone1.nii.gz") + "\n" + path("gone2.nii.gz") + "\n")
    refused("infer-list-of-missing-scans", [RECONTRAST, "infer", "--model", model, "--input", path("missing.txt"),
                                            "--output", "{out}/maps"], r"gone1\.nii\.gz")
    refused("train-list-with-missing-scan", train(data_path=text("trainlist.txt", scan + "\n" + path("gone.nii.gz") + "\n")),
            r"gone\.nii\.gz")
    refused("train-empty-folder", train(data_path=path("empty-folder")), r"empty-folder")
    refused("train-on-truncated-scan", train(data_path=path("cut.nii")), r"cut\.nii")
    refused("train-on-nan-voxels", train(data_path=path("nanvox.nii")), r"nanvox\.nii.*finite")

    # ---- outputs that cannot be written
    refused("output-is-the-input", [RECONTRAST, "infer", "--model", model, "--input", scan, "--output", scan], r"scan\.nii\.gz.*input",
            watch=[scan])
    refused("output-in-a-file", infer(scan)[:-1] + [os.path.join(scan, "map.nii.gz")], r"scan\.nii\.gz")
    refused("report-in-missing-folder", infer(scan, "--report", "{out}/no/such/r.json"), r"no/such")
    refused("overlay-in-missing-folder", infer(scan, "--overlay", "{out}/no/such/o.png"), r"no/such")
    refused("labels-same-as-output", infer(scan, "--labels", "{out}/map.nii.gz", "--threshold", "1"), r"map\.nii\.gz")
    refused("train-out-in-missing-folder", train("--out", "{out}/no/such/m.rcm"), r"no/such")
    refused("train-out-in-a-file", train("--out", os.path.join(scan, "m.rcm")), r"scan\.nii\.gz")
    refused("lesion-output-is-the-input", [ADD_LESION, "--input", scan, "--output", scan], r"scan\.nii\.gz.*input", watch=[scan])

    # ---- options out of range
    refused("threshold-nan", infer(scan, "--threshold", "nan"), r"threshold")
    refused("threshold-inf", infer(scan, "--threshold", "inf"), r"threshold")
    refused("seed-negative", train("--seed", "-1"), r"seed")
    refused("iterations-huge", train("--iterations", "1e400"), r"iterations")
    refused("iterations-310-digits", train("--iterations", "9" * 310), r"iterations")
    refused("batch-size-zero", infer(scan, "--batch-size", "0"), r"batch")
    refused("image-size-not-multiple", train("--image-size", "33"), r"image.size")
    refused("calibration-fraction-two", train("--calibration-fraction", "2"), r"calibration")
    refused("min-foreground-nan", train("--min-foreground", "nan"), r"foreground")
    refused("threads-negative", infer(scan, "--threads", "-1"), r"threads")
    refused("intensity-unknown", infer(scan, "--intensity", "bogus"), r"bogus")
    refused("backbone-unknown", train("--backbone", "vgg"), r"vgg")
    refused("lesion-radius-nan", [ADD_LESION, "--input", scan, "--output", "{out}/l.nii.gz", "--radius", "nan"], r"radius")
    refused("lesion-on-truncated-scan", [ADD_LESION, "--input", path("cut.nii"), "--output", "{out}/l.nii.gz"], r"cut\.nii")

    # ---- the Slicer CLI modules get the same answers
    refused("module-truncated-scan", [DETECTION, "--model", model, path("cut.nii"), "{out}/map.nrrd"], r"cut\.nii")
    refused("module-nan-geometry", [DETECTION, "--model", model, path("nanspacing.nii"), "{out}/map.nrrd"], r"nanspacing\.nii")
    refused("module-train-bad-fraction", [TRAIN_MODULE, "--data", path("train"), "--outputModel", "{out}/m.rcm",
                                          "--calibrationFraction", "2"], r"calibration")

    # ---- resuming on other data: a training interrupted (Ctrl-C) keeps its checkpoint
    other = os.path.join(WORK, "resume")
    os.makedirs(other)
    checkpoint = os.path.join(other, "m.rcm.checkpoint")
    run = subprocess.Popen([RECONTRAST, "train", "--data", path("train"), "--out", os.path.join(other, "m.rcm"), "--backbone",
                            "resnet18", "--image-size", "32", "--iterations", "10000", "--batch-size", "2",
                            "--checkpoint-every", "1", "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(1200):
        if os.path.exists(checkpoint) or run.poll() is not None:
            break
        time.sleep(0.1)
    run.send_signal(signal.SIGINT)
    run.wait(timeout=120)
    if os.path.exists(checkpoint):
        os.makedirs(path("other-data"))
        nifti("other-data/other.nii.gz", volume(seed=9, shape=(20, 64, 64)), gz=True)
        argv = [RECONTRAST, "train", "--data", path("other-data"), "--out", os.path.join(other, "m.rcm"), "--backbone", "resnet18",
                "--image-size", "32", "--iterations", "10000", "--batch-size", "2", "--checkpoint-every", "1", "--resume"]
        refused("resume-on-other-data", argv, r"checkpoint.*other training data", watch=[checkpoint])
    else:
        failures.append("resume-on-other-data: an interrupted training left no checkpoint to resume from")

    # The rows are independent: two at a time (the machine's cores), each in its own output folder.
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for future in [pool.submit(row) for row in ROWS]:
            future.result()
    print(f"{rows} rows, {len(failures)} failed")
    for failure in failures:
        print("FAILED " + failure)
    if rows < 60:
        print(f"FAILED the table has only {rows} rows")
        sys.exit(1)
    if failures:
        sys.exit(1)
    shutil.rmtree(WORK, ignore_errors=True)
    print("bad-input table passed")


if __name__ == "__main__":
    main()
