#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Detection quality of a small model on a real brain with a synthetic lesion, over several trainings:
# the VolumeLesionDetection test at a larger size with all of its checks (score above the lesion-free
# scan's, a region at the lesion). Prints each training's figures and how many passed.
# Usage: Testing/Benchmarks/lesion_detection_benchmark.sh <bin-dir> [seeds, default "1 2 3"] [size] [iterations]
# Example (Documentation/Benchmarks.md): lesion_detection_benchmark.sh build/bin "1 2 3" 96 300
set -u
bin="$1"; seeds="${2:-1 2 3}"; size="${3:-96}"; iterations="${4:-300}"
here=$(cd "$(dirname "$0")/../CLI" && pwd)
work="${TMPDIR:-/tmp}/recontrast-lesion-benchmark"
passed=0; total=0
for seed in $seeds; do
  total=$((total + 1))
  start=$(date +%s)
  if RECONTRAST_TEST_SEED="$seed" RECONTRAST_TEST_SIZE="$size" RECONTRAST_TEST_ITERATIONS="$iterations" \
     RECONTRAST_LESION_STRICT=1 sh "$here/VolumeLesionDetection.sh" "$bin" "$work/$seed" > "$work.log" 2>&1; then
    passed=$((passed + 1)); verdict="detected"
  else
    verdict="missed"
  fi
  echo "seed $seed ($size px, $iterations iterations, $(( $(date +%s) - start )) s): $verdict"
  grep -E "calibrated score|rises by|ratio|region" "$work.log" | sed 's/^/  /'
done
rm -rf "$work" "$work.log"
echo "lesion detected in $passed of $total trainings"
