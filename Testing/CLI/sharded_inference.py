#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""`recontrast infer --shard` and `recontrast report-merge` under a real Slurm (Debian's slurm-wlm and
munge, started by this script on loopback with their own configuration; Testing/CLI/slurm_cluster.py):
- a 3-task array job over a list of scans: every scan scored once, by the task whose part it is,
  each with its status file; the merged table (CSV and JSON) equals one process's scores;
- a task cancelled (scancel) in the middle, then the whole array re-submitted: only the scans the
  cancelled task had not finished are scored again, the others are skipped;
- `srun -n 2 recontrast train` trains one model in 2 processes (Slurm's variables); the batch script
  of an --ntasks=2 job, not being a job step, trains alone.

Usage: sharded_inference.py <bin-dir> <work-dir> [scans] [tasks ...]
(the benchmark runs it with 30 scans and 1, 2 and 3 tasks; Documentation/Benchmarks.md).
"""
import csv
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    import test_inputs
    import test_support
    from slurm_cluster import SlurmCluster, SlurmUnavailable
except ImportError as missing:
    print(f"SKIP: {sys.executable} lacks {missing.name} (Utilities/install-dependencies.sh installs it)")
    sys.exit(0)

BIN, WORK = (os.path.abspath(a) for a in sys.argv[1:3])
SCANS = int(sys.argv[3]) if len(sys.argv) > 3 else 12
TASKS = [int(n) for n in sys.argv[4:]] or [3]
RECONTRAST = os.path.join(BIN, "recontrast")


def make_scans(folder, count):
    os.makedirs(folder, exist_ok=True)
    paths = []
    for i in range(count):
        # Distinct sizes, so that scans take different times (and one name twice: unique output names).
        shape = (24 + 4 * (i % 3), 96, 96)
        sub = os.path.join(folder, "b" if i == 5 else "")
        os.makedirs(sub, exist_ok=True)
        name = "scan05" if i in (3, 5) else f"scan{i:02d}"
        paths.append(test_inputs.nifti(os.path.join(sub, name + ".nii"), test_inputs.volume(seed=10 + i, shape=shape)))
    listing = os.path.join(folder, "scans.txt")
    with open(listing, "w") as f:
        f.write("\n".join(paths) + "\n")
    return listing, paths


def infer_script(model, listing, out):
    return (f"#!/bin/sh\nexec {RECONTRAST} infer --model {model} --input {listing} --output {out} "
            f"--report {out}/run.json --threads 1\n")


def statuses(out):
    found = {}
    for name in sorted(os.listdir(out)):
        if name.endswith(".status.json"):
            status = json.load(open(os.path.join(out, name)))
            found[status["scan"]] = (status, os.stat(os.path.join(out, name)).st_mtime_ns)
    return found


def main():
    shutil.rmtree(WORK, ignore_errors=True)
    os.makedirs(WORK)
    check = test_support.Checks()
    data, _ = test_support.training_data_and_scan(WORK)
    model = os.path.join(WORK, "model.rcm")
    result = test_support.run(test_support.tiny_training(RECONTRAST, data, model, 6, 5, 1))
    if not check(result.returncode == 0, "a tiny model is trained: " + result.stderr.strip()[-300:]):
        check.finish("")
    listing, paths = make_scans(os.path.join(WORK, "scans"), SCANS)

    # One process over the whole list: the reference, and the time of the whole work.
    single = os.path.join(WORK, "single")
    started = time.time()
    result = test_support.run([RECONTRAST, "infer", "--model", model, "--input", listing, "--output", single,
                               "--report", os.path.join(WORK, "single.json"), "--threads", "1"])
    single_seconds = time.time() - started
    check(result.returncode == 0, "one process scores the list: " + result.stderr.strip()[-300:])
    reference = {e["input"]: e["score"] for e in json.load(open(os.path.join(WORK, "single.json")))["inputs"]}
    check(len(reference) == SCANS, f"{SCANS} scans scored by one process")
    print(f"one process, {SCANS} scans: {single_seconds:.1f} s")

    # Without Slurm: --shard by hand on a folder whose outputs go inside it (the second shard must not
    # take the first one's output folder for a scan), then the same command again and with --rescore.
    folder = os.path.join(WORK, "folder")
    os.makedirs(folder)
    for i in range(4):
        test_inputs.nifti(os.path.join(folder, f"v{i}.nii"), test_inputs.volume(seed=40 + i, shape=(16, 64, 64)))
    maps = os.path.join(folder, "maps")
    outputs = []
    for part in ("1/2", "2/2", "all", "all"):
        extra = ["--rescore"] if len(outputs) == 3 else []
        result = test_support.run([RECONTRAST, "infer", "--model", model, "--input", folder, "--output", maps,
                                   "--report", os.path.join(WORK, "by-hand.json"), "--shard", part, "--threads", "1",
                                   *extra])
        outputs.append(result)
        check(result.returncode == 0, f"--shard {part} {' '.join(extra)} on a folder: " + result.stderr.strip()[-300:])
        if len(outputs) == 2:
            found = statuses(maps)
            check(len(found) == 4 and sorted(s["shard"] for s, _ in found.values()) == ["1/2", "1/2", "2/2", "2/2"],
                  "shards 1/2 and 2/2 scored the folder's 4 scans once, its output folder not taken for a scan")
    check("0 of 0 scans scored (4 already done, skipped)" in outputs[2].stdout,
          "the same command again skips every scan: " + outputs[2].stdout.strip())
    check("4 of 4 scans scored" in outputs[3].stdout, "--rescore scores them again: " + outputs[3].stdout.strip())

    try:
        cluster = SlurmCluster(os.path.join(WORK, "slurm"))
        cluster.start()
    except SlurmUnavailable as reason:
        print(f"SKIP: Slurm cannot start here: {reason}")
        return
    try:
        for tasks in TASKS:
            out = os.path.join(WORK, f"array-{tasks}")
            started = time.time()
            job = cluster.sbatch([f"--array=0-{tasks - 1}", "--cpus-per-task=1"], infer_script(model, listing, out),
                                 name=f"infer-{tasks}")
            states = cluster.wait(job, timeout=600)
            seconds = time.time() - started
            print(f"{tasks} array tasks: {seconds:.1f} s ({single_seconds / seconds:.2f}x one process)")
            check(len(states) == tasks and all(s == "COMPLETED" for s in states.values()),
                  f"the {tasks}-task array job completes: {states}")
            found = statuses(out)
            check(sorted(found) == sorted(paths), f"every scan has one status file ({len(found)} of {SCANS})")
            shards = {}
            for scan, (status, _) in found.items():
                shards.setdefault(status["shard"], []).append(paths.index(scan))
            expected = {f"{k}/{tasks}": [i for i in range(SCANS) if i % tasks == k - 1] for k in range(1, tasks + 1)}
            check({k: sorted(v) for k, v in shards.items()} == expected,
                  f"shard k of {tasks} scored scans k, k+{tasks}, ... (no scan twice, none left)")
            scored = sum(len(json.load(open(os.path.join(out, f"run.shard-{k}-of-{tasks}.json" if tasks > 1
                                                          else "run.json")))["inputs"])
                         for k in range(1, tasks + 1))
            check(scored == SCANS, f"the shards' reports hold {scored} scans, the work of one process ({SCANS})")
            table_csv, table_json = os.path.join(WORK, f"table-{tasks}.csv"), os.path.join(WORK, f"table-{tasks}.json")
            merge = test_support.run([RECONTRAST, "report-merge", "--from", out, "--input", listing, "--csv", table_csv,
                                      "--json", table_json])
            check(merge.returncode == 0 and f"{SCANS} scans: {SCANS} done, 0 failed, 0 missing" in merge.stdout,
                  "report-merge joins the shards: " + (merge.stdout + merge.stderr).strip())
            rows = json.load(open(table_json))["scans"] if os.path.exists(table_json) else []
            worst = max((abs(r["score"] - reference[r["scan"]]) for r in rows), default=1.0)
            check(len(rows) == SCANS and worst < 1e-6, f"the merged scores are one process's (largest difference {worst:.1e})")
            with open(table_csv) as f:
                csv_rows = list(csv.DictReader(f))
            check(len(csv_rows) == SCANS and set(csv_rows[0]) >= {"scan", "score", "calibrated_score", "regions", "status"},
                  "the CSV has a row per scan with score, calibrated score, regions and status")
            half = os.path.join(WORK, "half.txt")
            with open(half, "w") as f:
                f.write("\n".join(paths[:SCANS // 2]) + "\n")
            merge = test_support.run([RECONTRAST, "report-merge", "--from", out, "--input", half, "--json", table_json])
            rows = json.load(open(table_json))["scans"]
            check(merge.returncode == 0 and len(rows) == SCANS // 2
                  and f"({SCANS - SCANS // 2} status file(s) of scans not in {half} left out)" in merge.stdout,
                  "with a shorter list, the other scans' statuses are left out and counted: " + merge.stdout.strip())

        # A task cancelled in the middle of its part, then the whole array submitted again.
        out = os.path.join(WORK, "resubmitted")
        job = cluster.sbatch(["--array=0-2", "--cpus-per-task=1"], infer_script(model, listing, out), name="cancelled")
        second_part = [p for i, p in enumerate(paths) if i % 3 == 1]
        deadline = time.time() + 300
        while time.time() < deadline:
            done = [s for s in statuses(out) if s in second_part] if os.path.isdir(out) else []
            if done:
                break
            time.sleep(0.05)
        cluster.cancel(f"{job}_1")
        states = cluster.wait(job, timeout=600)
        check(states.get(f"{job}_1") == "CANCELLED", f"task 1 is cancelled in the middle ({states})")
        before = statuses(out)
        missing = [p for p in paths if p not in before]
        print(f"after the cancel: {len(before)} scans done, {len(missing)} missing")
        check(1 <= len(missing) < len(second_part) + 1 and all(p in second_part for p in missing),
              "only scans of the cancelled task's part are missing")
        job = cluster.sbatch(["--array=0-2", "--cpus-per-task=1"], infer_script(model, listing, out), name="again")
        states = cluster.wait(job, timeout=600)
        check(all(s == "COMPLETED" for s in states.values()), f"the re-submitted array completes ({states})")
        after = statuses(out)
        rescored = [s for s in after if s not in before or after[s][1] != before[s][1]]
        check(sorted(rescored) == sorted(missing), f"only the {len(missing)} missing scans were scored again "
              f"({len(rescored)} were)")
        reports = [json.load(open(os.path.join(out, f"run.shard-{k}-of-3.json"))) for k in (1, 2, 3)]
        check(sum(len(r["skipped"]) for r in reports) == SCANS - len(missing),
              "the others were skipped as already done")

        # Training under srun: 2 processes, one model; the batch script itself trains alone.
        for name, body in (("srun", "srun"), ("script", "")):
            trained = os.path.join(WORK, f"trained-{name}.rcm")
            argv = " ".join(test_support.tiny_training(RECONTRAST, data, trained, 4, 5, 1, ["--calibration-fraction", "0"]))
            job = cluster.sbatch(["--ntasks=2", "--cpus-per-task=1"], f"#!/bin/sh\n{body} {argv}\n", name=f"train-{name}")
            states = cluster.wait(job, timeout=600)
            report_path = trained[:-4] + ".training.json"
            processes = json.load(open(report_path))["distributed"]["processes"] if os.path.exists(report_path) else 0
            wanted = 2 if name == "srun" else 1
            check(list(states.values()) == ["COMPLETED"] and processes == wanted,
                  f"an --ntasks=2 job trains in {wanted} process(es) {'with srun' if name == 'srun' else 'from its batch script'}"
                  f" ({states}, {processes})")
    finally:
        cluster.stop()
    check.finish("sharded inference passed")


if __name__ == "__main__":
    main()
