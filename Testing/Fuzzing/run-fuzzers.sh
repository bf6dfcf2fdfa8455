#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Builds the fuzz targets with clang (libFuzzer, AddressSanitizer, UndefinedBehaviorSanitizer), makes
# their seed corpora, runs each for the given time (two at a time) and prints executions and coverage.
# Fails when a target finds a crash, a hang, a leak or an out-of-memory: the input is kept under
# <build>/artifacts/ (fix it, then add it to the unit tests).
# Usage: Testing/Fuzzing/run-fuzzers.sh <seconds per target> [build folder, default ./build-fuzz]
# Needs clang-14 and libclang-rt-14-dev (Utilities/install-dependencies.sh --fuzzing).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
seconds="${1:?seconds per target}"
build="${2:-$root/build-fuzz}"
targets="FuzzCheckpoint FuzzModelFile FuzzDicomSeries FuzzImageFile"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
  -DCMAKE_CXX_COMPILER=clang++-14 -DRECONTRAST_BUILD_FUZZERS=ON -DRECONTRAST_BUILD_TESTING=OFF > "$build.configure.log"
# shellcheck disable=SC2086
cmake --build "$build" -j "${RECONTRAST_JOBS:-2}" --target $targets MakeFuzzSeeds

corpus="$build/corpus"
mkdir -p "$build/artifacts" "$build/logs"
if [ ! -d "$corpus/image" ]; then
  /usr/bin/python3 "$root/Testing/Fuzzing/make_fuzz_seeds.py" "$corpus"
  "$build/bin/MakeFuzzSeeds" "$corpus/model"
fi
# Leaks of the libraries below the project are suppressed one by one, each with its reason
# (Testing/Sanitizers/lsan-suppressions.txt); full stacks through LibTorch need slow unwinding.
export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:allocator_may_return_null=1:fast_unwind_on_malloc=0"
export LSAN_OPTIONS="suppressions=$root/Testing/Sanitizers/lsan-suppressions.txt:print_suppressions=0"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$root/Testing/Sanitizers/ubsan-suppressions.txt"

run() {
  target=$1
  case $target in
    FuzzCheckpoint) seeds=checkpoint ;;
    FuzzModelFile) seeds=model ;;
    FuzzDicomSeries) seeds=dicom ;;
    FuzzImageFile) seeds=image ;;
  esac
  "$build/bin/$target" "$corpus/$seeds" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=3072 \
    -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" > "$build/logs/$target.log" 2>&1
}

status=0
set -- $targets
while [ $# -gt 0 ]; do
  run "$1" & first=$!
  if [ $# -gt 1 ]; then run "$2" & second=$!; else second=""; fi
  wait $first || status=1
  [ -z "$second" ] || wait $second || status=1
  shift; [ $# -gt 0 ] && shift
done

for target in $targets; do
  runs=$(grep -o "stat::number_of_executed_units: *[0-9]*" "$build/logs/$target.log" | grep -o "[0-9]*$" || echo "?")
  coverage=$(grep -o "cov: [0-9]* ft: [0-9]*" "$build/logs/$target.log" | tail -n 1)
  found=$(ls "$build/artifacts" | grep -c "^$target-" || true)
  echo "$target: $runs executions in $seconds s, $coverage, corpus $(ls "$corpus/$(case $target in FuzzCheckpoint) echo checkpoint;; FuzzModelFile) echo model;; FuzzDicomSeries) echo dicom;; *) echo image;; esac)" | wc -l) inputs, $found finding(s)"
done
if [ "$status" -ne 0 ] || [ -n "$(ls "$build/artifacts")" ]; then
  echo "FAILED: findings in $build/artifacts (logs in $build/logs)"
  exit 1
fi
echo "fuzzers clean"
