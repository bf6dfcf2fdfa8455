#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Engine benchmark: the C++ engine against eager PyTorch, same model, same weights, same run.

Usage (from the repository root, after building):
    /usr/bin/python3 Testing/Benchmarks/engine_benchmark.py --build build            # full: WRN50-2 at 256
    /usr/bin/python3 Testing/Benchmarks/engine_benchmark.py --build build --quick    # resnet18 at 128, a quick check

It builds the reference model (Testing/Python/recontrast_reference.py, random weights, seed 0),
saves its state_dict like the official code, imports it with `recontrast import --official`, then
times, each in a fresh process so that peak memory is per measurement:
  * inference, batch 1: eager PyTorch (eval, no_grad, the official forward) vs the engine's Predictor
    (forward + anomaly maps + smoothing) on each of its paths: exact (paper-faithful), fp32
    (optimised: BatchNorm folded, deconvolutions as 1x1 + pixel shuffle, kept heads only) and bf16
    (the optimised graph in bfloat16; skipped on CPUs without bf16 instructions), with the largest
    difference of each path's anomaly map to the exact path's on the same image;
  * a 256 x 256 x N volume end to end through the CLI (`recontrast infer`: read the .nii.gz, mask,
    pre-process, model, write the map; a fresh process each, model loading included) on each path,
    against eager PyTorch's time for the same number of scored slices (its median per batch of 4,
    times the number of batches);
  * one training step at the chosen batch: eager PyTorch (official step: forward, two global cosine
    hard-mining losses, backward, two AdamW steps) vs the engine's Trainer; `--train-rounds N`
    alternates the two processes N times and pools their steps (`--train-only` skips the rest):
    /usr/bin/python3 Testing/Benchmarks/engine_benchmark.py --build build --train-only --train-rounds 3
It prints medians, the ratio engine / PyTorch (below 1 means the engine is faster), the effective
GFLOP/s and the peak resident memory of each process.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "Python"))

# GFLOP per image of the forward as the official code runs it (Documentation/Benchmarks.md, 256 px),
# scaled by area for other sizes; only meaningful for wide_resnet50_2.
WRN50_FORWARD_GFLOP_256 = 128.3


def torch_worker(args):
    """Runs in a child process: times eager PyTorch and prints one JSON line."""
    import resource
    import torch
    import recontrast_reference as ref

    torch.set_num_threads(args.threads or os.cpu_count())
    torch.manual_seed(0)
    model = ref.build_model(args.backbone)
    model.load_state_dict(torch.load(args.state, map_location="cpu"))
    size = args.image_size
    times = []
    if args.mode == "infer":
        model.eval()
        x = torch.rand(args.batch, 3, size, size)
        with torch.no_grad():
            for i in range(args.warmup + args.runs):
                start = time.perf_counter()
                en, de = model(x)
                ref.anomaly_map(en, de, size)
                if i >= args.warmup:
                    times.append(time.perf_counter() - start)
    else:
        ref.train_mode(model, encoder_bn_train=True)
        optimizer, optimizer2 = ref.make_optimizers(model)
        x = torch.rand(args.batch, 3, size, size)
        for i in range(args.warmup + args.runs):
            start = time.perf_counter()
            en, de = model(x)
            loss = ref.recontrast_loss(en, de, ref.alpha_at(i, 2000))
            optimizer.zero_grad()
            optimizer2.zero_grad()
            loss.backward()
            optimizer.step()
            optimizer2.step()
            if i >= args.warmup:
                times.append(time.perf_counter() - start)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(json.dumps({"median_s": statistics.median(times), "min_s": min(times), "runs": times,
                      "peak_rss_mb": peak}))


def run_with_peak(command):
    """Runs a command; returns (seconds, peak RSS in MB of that process)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - start
    if status != 0:
        raise RuntimeError(f"{command[0]} failed: {process.stderr.read().decode()}")
    return seconds, usage.ru_maxrss / 1024.0


def volume_benchmark(args, build, recontrast, model, state, work):
    """[(PyTorch seconds, scored slices), (precision, seconds, peak MB), ...] for the end-to-end volume."""
    tool = os.path.join(build, "bin", "ReContrastStreamingBenchmark")
    volume = os.path.join(work, "volume.nii.gz")
    subprocess.run([tool, "--model", model, "--mode", "make-volume", "--slices", str(args.volume_slices),
                    "--volume", volume], check=True)
    rows = []
    scored = None
    for precision in ("exact", "fp32", "bf16"):
        report = os.path.join(work, "volume-report.json")
        try:
            seconds, peak = run_with_peak([recontrast, "infer", "--model", model, "--input", volume,
                                           "--output", os.path.join(work, "volume-map.nii.gz"),
                                           "--report", report, "--precision", precision, "--batch-size", "4"])
        except RuntimeError as e:
            print(f"volume, {precision}: not measured ({e})")
            continue
        scored = sum(1 for s in json.load(open(report))["scored_slices"] if s)
        rows.append((precision, seconds, peak))
    batches = -(-scored // 4)
    py = run_json([sys.executable, os.path.abspath(__file__), "--worker", "infer", "--state", state,
                   "--backbone", args.backbone, "--image-size", str(args.image_size), "--runs", "3",
                   "--warmup", "1", "--batch", "4", "--threads", str(args.threads)])
    return [(py["median_s"] * batches, scored)] + rows


def pooled_rounds(torch_command, engine_command, rounds):
    """Runs the two commands alternately `rounds` times; the median over all their timed steps."""
    results = {"torch": [], "engine": []}
    for _ in range(rounds):
        results["torch"].append(run_json(torch_command))
        results["engine"].append(run_json(engine_command))
    pooled = []
    for name in ("torch", "engine"):
        times = [t for r in results[name] for t in r["runs"]]
        pooled.append({"median_s": statistics.median(times),
                       "peak_rss_mb": max(r["peak_rss_mb"] for r in results[name])})
    if rounds > 1:
        for k in range(rounds):
            py, cc = results["torch"][k], results["engine"][k]
            steps = [", ".join(f"{t:.2f}" for t in r["runs"]) for r in (py, cc)]
            print(f"training round {k + 1}: PyTorch {py['median_s']:.2f} s ({steps[0]}), engine "
                  f"{cc['median_s']:.2f} s ({steps[1]}), speed-up {py['median_s'] / cc['median_s']:.2f}x")
    return pooled


def run_json(command):
    result = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", default="build", help="build tree with bin/recontrast and the benchmark")
    parser.add_argument("--quick", action="store_true", help="resnet18 at 128 px, few runs (< 1 minute)")
    parser.add_argument("--backbone", default="wide_resnet50_2")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--train-runs", type=int, default=3)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--no-train", action="store_true", help="time inference only")
    parser.add_argument("--train-only", action="store_true", help="time the training step only")
    parser.add_argument("--train-rounds", type=int, default=1,
                        help="alternate PyTorch and engine training processes this many times and pool "
                             "their steps (single steps vary by +-15 %% on this machine kind)")
    parser.add_argument("--volume-slices", type=int, default=None,
                        help="slices of the end-to-end volume (default 150, --quick 0; 0 skips it)")
    parser.add_argument("--worker", choices=["infer", "train"], help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    parser.add_argument("--mode", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--warmup", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        args.mode = args.worker
        torch_worker(args)
        return
    if args.quick:
        args.backbone, args.image_size, args.runs, args.train_batch, args.train_runs = "resnet18", 128, 3, 4, 2
    if args.volume_slices is None:
        args.volume_slices = 0 if args.quick else 150

    import torch
    import recontrast_reference as ref

    build = os.path.abspath(args.build)
    recontrast = os.path.join(build, "bin", "recontrast")
    engine = os.path.join(build, "bin", "ReContrastEngineBenchmark")
    with tempfile.TemporaryDirectory(prefix="recontrast-bench-") as work:
        torch.manual_seed(0)
        state = os.path.join(work, "official.pth")
        torch.save(ref.build_model(args.backbone).state_dict(), state)
        model = os.path.join(work, "model.rcm")
        subprocess.run([recontrast, "import", "--official", state, "--backbone", args.backbone,
                        "--image-size", str(args.image_size), "--out", model], check=True, capture_output=True)

        import numpy as np
        rows = []
        measurements = [] if args.train_only else [("infer", 1, args.runs, 2)]
        if not args.no_train:
            measurements.append(("train", args.train_batch, args.train_runs, 1))
        volume_rows = (volume_benchmark(args, build, recontrast, model, state, work)
                       if args.volume_slices and not args.train_only else [])
        for mode, batch, runs, warmup in measurements:
            common = ["--runs", str(runs), "--warmup", str(warmup), "--batch", str(batch),
                      "--threads", str(args.threads)]
            torch_command = [sys.executable, os.path.abspath(__file__), "--worker", mode, "--state", state,
                             "--backbone", args.backbone, "--image-size", str(args.image_size)] + common
            if mode == "train":
                py, cc = pooled_rounds(torch_command, [engine, "--model", model, "--mode", mode] + common,
                                       args.train_rounds)
                rows.append(("training step", batch, py, cc, None))
                continue
            py = run_json(torch_command)
            exact_maps = None
            for precision in ("exact", "fp32", "bf16"):
                maps = os.path.join(work, precision + ".raw")
                try:
                    cc = run_json([engine, "--model", model, "--mode", mode, "--precision", precision,
                                   "--dump-maps", maps] + common)
                except subprocess.CalledProcessError as e:
                    print(f"{precision}: not measured ({e.stderr.strip()})")
                    continue
                values = np.fromfile(maps, dtype=np.float32)
                if exact_maps is None:
                    exact_maps = values
                difference = float(np.abs(values - exact_maps).max())
                rows.append((f"inference {precision}", batch, py, cc, difference))

    gflop = WRN50_FORWARD_GFLOP_256 * (args.image_size / 256.0) ** 2
    print(f"ReContrast engine benchmark: {args.backbone}, {args.image_size} px, "
          f"{args.threads or os.cpu_count()} threads, torch {torch.__version__}")
    print(f"{'measurement':<28}{'PyTorch eager':>15}{'engine':>12}{'speed-up':>10}{'PyTorch RSS':>14}"
          f"{'engine RSS':>13}{'map diff':>11}{'GFLOP/s':>9}")
    for name, batch, py, cc, difference in rows:
        label = f"{name}, batch {batch}"
        speedup = py["median_s"] / cc["median_s"]
        flops = f"{gflop * batch / cc['median_s']:>9.0f}" if name.startswith("inference") else ""
        diff = f"{difference:>11.1e}" if difference is not None else f"{'':>11}"
        print(f"{label:<28}{py['median_s']:>13.3f} s{cc['median_s']:>10.3f} s{speedup:>9.2f}x"
              f"{py['peak_rss_mb']:>11.0f} MB{cc['peak_rss_mb']:>10.0f} MB{diff}{flops}")
    if args.backbone == "wide_resnet50_2" and rows and rows[0][0].startswith("inference"):
        print(f"PyTorch eager inference: {gflop / rows[0][2]['median_s']:.0f} GFLOP/s. GFLOP/s = the official "
              f"forward's {gflop:.1f} GFLOP per image / time (the optimised paths skip part of that work); "
              "measured peaks on this machine kind: ~350 (oneDNN fp32 3x3 conv), ~650 (bf16).")
    print("speed-up = PyTorch median time / engine median time (above 1: the engine is faster); "
          "map diff = largest |map - exact path's map| on the same image.")
    if volume_rows:
        reference, scored = volume_rows[0]
        print(f"\nVolume 256 x 256 x {args.volume_slices} end to end through `recontrast infer` ({scored} slices "
              f"scored); PyTorch eager model time for those slices: {reference:.1f} s")
        print(f"{'precision':<10}{'wall time':>11}{'speed-up':>10}{'peak RSS':>11}")
        for precision, seconds, rss in volume_rows[1:]:
            print(f"{precision:<10}{seconds:>9.1f} s{reference / seconds:>9.2f}x{rss:>8.0f} MB")


if __name__ == "__main__":
    main()
