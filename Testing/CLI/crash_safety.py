#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Crash safety of the real executables:
- training killed with SIGKILL at random moments and resumed: it finishes, loses at most one
  checkpoint interval, every file it left is whole, and the model equals an uninterrupted run's;
- a full disk (a small tmpfs this test mounts): train, infer, the DICOM writers and
  recontrast-add-lesion fail with one sentence and leave nothing;
- two infer runs writing the same outputs at once, and infer reading a model while train replaces it:
  every run succeeds and every file read is whole.

Usage: crash_safety.py <bin-dir> <work-dir>
"""
import filecmp
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np  # noqa: F401 (test_inputs)
    import pydicom  # noqa: F401 (test_inputs, DICOM series)
    import test_inputs
    import test_support
except ImportError as missing:
    print(f"SKIP: {sys.executable} lacks {missing.name} (Utilities/install-dependencies.sh installs it)")
    sys.exit(0)

BIN, WORK = (os.path.abspath(a) for a in sys.argv[1:3])
RECONTRAST = os.path.join(BIN, "recontrast")
check = test_support.Checks()
run = test_support.run
CRASH_TEXT = re.compile(r"terminate called|Assertion|Exception raised from|c10::|ITK ERROR|\(0x[0-9a-f]+\)|"
                        r"Segmentation|what\(\):|nifti_|\*\* ERROR|MetaImage:|Traceback")


def train_args(data, out, iterations, extra=()):
    return test_support.tiny_training(RECONTRAST, data, out, iterations, 5, 1, extra)


def whole_model(path):
    """`recontrast info` checks the whole file (header, tensor table, checksum)."""
    return run([RECONTRAST, "info", path]).returncode == 0


def partials(folder):
    return [f for f in os.listdir(folder) if f.startswith(".partial")]


def scores_of(model, scan, out):
    result = run([RECONTRAST, "infer", "--model", model, "--input", scan, "--output", out + ".mha", "--report",
                  out + ".json", "--threads", "1"])
    if result.returncode != 0:
        return None
    report = json.load(open(out + ".json"))
    return report["slice_scores"]


def killed_training(data, scan):
    """SIGKILL at random moments, then --resume: at most one checkpoint interval lost, the same model."""
    folder = os.path.join(WORK, "kill")
    os.makedirs(folder)
    every, iterations = 4, 40
    reference = os.path.join(folder, "reference.rcm")
    start = time.monotonic()
    assert run(train_args(data, reference, iterations, ["--checkpoint-every", str(every)])).returncode == 0
    duration = time.monotonic() - start
    model = os.path.join(folder, "killed.rcm")
    checkpoint = model + ".checkpoint"
    seed = int(os.environ.get("RECONTRAST_TEST_SEED", str(int(time.time()))))
    rng = random.Random(seed)
    print(f"reference training: {duration:.1f} s; kill moments drawn with seed {seed}")
    # Three kills at random moments, each of a run that resumes what the one before left; the last
    # near the end of a run, where the model is written.
    reached = 0
    before = 0  # the last iteration printed before the run that finished
    for kill, moment in enumerate((rng.uniform(0.3, 0.6), rng.uniform(0.3, 0.6), rng.uniform(0.5, 0.9))):
        log = open(os.path.join(folder, f"run{kill}.log"), "w")
        process = subprocess.Popen(train_args(data, model, iterations, ["--checkpoint-every", str(every), "--resume"]),
                                   stdout=log, stderr=subprocess.STDOUT)
        time.sleep(moment * duration)
        process.send_signal(signal.SIGKILL)
        process.wait()
        log.close()
        before = reached
        progress = re.findall(r"it (\d+)/", open(log.name).read())
        reached = int(progress[-1]) if progress else reached
        for path in (model, checkpoint):
            if os.path.exists(path):
                check(whole_model(path), f"after kill {kill + 1} (iteration {reached} printed), "
                      f"'{os.path.basename(path)}' is whole")
        if os.path.exists(model):
            break  # killed after it finished: nothing left to resume
    if not os.path.exists(model):
        before = reached
        result = run(train_args(data, model, iterations, ["--checkpoint-every", str(every), "--resume"]))
        check(result.returncode == 0, "the resumed training finishes")
    start_iteration = json.load(open(model.replace(".rcm", ".training.json")))["start_iteration"]
    check(start_iteration > 0 and start_iteration % every == 0 and before - start_iteration <= every,
          f"the run that finished resumed from the checkpoint of iteration {start_iteration}; the run before it "
          f"printed iteration {before} (at most {every} may be lost)")
    check(not os.path.exists(checkpoint), "the checkpoint is removed when training finishes")
    check(not partials(folder), "no temporary file is left: " + ", ".join(partials(folder)))
    ours = scores_of(model, scan, os.path.join(folder, "killed-map"))
    theirs = scores_of(reference, scan, os.path.join(folder, "reference-map"))
    check(ours is not None and ours == theirs, "the resumed model scores the scan exactly as the uninterrupted one")
    check(filecmp.cmp(os.path.join(folder, "killed-map.mha"), os.path.join(folder, "reference-map.mha"), shallow=False),
          "and gives a bit-identical map")


def full_disk(data, scan, series):
    folder = os.path.join(WORK, "full")
    os.makedirs(folder)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "recontrast-test-full", folder],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        print("SKIP part: a small tmpfs cannot be mounted here (needs root): " + mounted.stderr.strip())
        return
    try:
        model = os.path.join(WORK, "kill", "reference.rcm")
        # Fill the disk.
        filler = os.open(os.path.join(folder, "filler"), os.O_WRONLY | os.O_CREAT)
        try:
            while True:
                os.write(filler, b"\0" * 4096)
        except OSError:
            os.close(filler)
        cases = {
            "train": train_args(data, os.path.join(folder, "m.rcm"), 2),
            "infer (NIfTI)": [RECONTRAST, "infer", "--model", model, "--input", scan, "--output",
                              os.path.join(folder, "map.nii.gz")],
            "infer (MetaImage)": [RECONTRAST, "infer", "--model", model, "--input", scan, "--output",
                                  os.path.join(folder, "map.mha")],
            "infer (report)": [RECONTRAST, "infer", "--model", model, "--input", scan, "--output",
                               os.path.join(WORK, "map-beside.nrrd"), "--report", os.path.join(folder, "r.json")],
            "infer (DICOM results)": [RECONTRAST, "infer", "--model", model, "--input", series, "--output",
                                      os.path.join(WORK, "dicom-map.nrrd"), "--threshold", "0",
                                      "--dicom-output", os.path.join(folder, "dicom")],
            "recontrast-add-lesion": [os.path.join(BIN, "recontrast-add-lesion"), "--input", scan, "--output",
                                      os.path.join(folder, "lesion.nii")],
        }
        for name, argv in cases.items():
            result = run(argv)
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            last = lines[-1] if lines else ""
            left = [f for f in os.listdir(folder) if f != "filler"]
            check(result.returncode not in (0,) and result.returncode < 128 and not CRASH_TEXT.search(result.stderr)
                  and re.search(r"disk|space|writ", last, re.I) is not None and not left,
                  f"full disk, {name}: exit {result.returncode}, '{last}'" + (f", left {left}" if left else ""))
        check(not os.path.exists(os.path.join(WORK, "map-beside.nrrd")),
              "full disk, infer (report): the map written beside is removed with the failed report")
    finally:
        subprocess.run(["umount", folder])


def concurrent_writers(scan):
    folder = os.path.join(WORK, "concurrent")
    os.makedirs(folder)
    model = os.path.join(WORK, "kill", "reference.rcm")
    single = os.path.join(folder, "single.mha")
    assert run([RECONTRAST, "infer", "--model", model, "--input", scan, "--output", single, "--threads", "1"]).returncode == 0
    shared = [RECONTRAST, "infer", "--model", model, "--input", scan, "--output", os.path.join(folder, "map.mha"),
              "--overlay", os.path.join(folder, "overlay.png"), "--report", os.path.join(folder, "report.json"),
              "--threads", "1"]
    for round_ in range(3):
        processes = [subprocess.Popen(shared, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) for _ in range(2)]
        codes = [p.wait() for p in processes]
        check(codes == [0, 0], f"two infer runs writing the same outputs at once, round {round_ + 1}: exits {codes}")
        check(filecmp.cmp(single, os.path.join(folder, "map.mha"), shallow=False), "  the map is whole")
        json.load(open(os.path.join(folder, "report.json")))
        from PIL import Image
        Image.open(os.path.join(folder, "overlay.png")).load()
    check(not partials(folder), "  no temporary file is left")

    # infer reads the model while train replaces it.
    data = os.path.join(WORK, "data")
    replaced = os.path.join(folder, "replaced.rcm")
    shutil.copy(model, replaced)
    trainer = subprocess.Popen(train_args(data, replaced, 30, ["--checkpoint-every", "2"]), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    results = []

    def read_while_training():
        while trainer.poll() is None:
            results.append(run([RECONTRAST, "infer", "--model", replaced, "--input", scan, "--output",
                                os.path.join(folder, "during.mha"), "--threads", "1"]).returncode)
    reader = threading.Thread(target=read_while_training)
    reader.start()
    trainer.wait()
    reader.join()
    results.append(run([RECONTRAST, "info", replaced]).returncode)
    check(trainer.returncode == 0 and results and all(code == 0 for code in results),
          f"infer read the model {len(results) - 1} times while train replaced it: exits {sorted(set(results))}")


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    data, scan = test_support.training_data_and_scan(WORK)
    series = test_inputs.dicom_series(os.path.join(WORK, "series"), count=8)
    killed_training(data, scan)
    full_disk(data, scan, series)
    concurrent_writers(scan)
    check.finish("crash safety passed")
    shutil.rmtree(WORK, ignore_errors=True)


if __name__ == "__main__":
    main()
