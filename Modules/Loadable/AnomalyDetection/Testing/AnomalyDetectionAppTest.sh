#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The Anomaly Detection module inside a real Slicer application, under a virtual X server: makes
# the inputs (Colin27 with a synthetic lesion, a small calibrated model trained on the normal brain,
# a file that is not a model), then runs qSlicerAnomalyDetectionModuleAppTest through Slicer's
# launcher with the module folders as --additional-module-paths.
# Usage: AnomalyDetectionAppTest.sh <recontrast-bin-dir> <inputs-dir> <slicer-launcher> <test-exe>
#          <module-path>... [--screenshots <dir>] [--memory-runs N]
set -eu
bin="$1"; inputs="$2"; launcher="$3"; test_exe="$4"
shift 4
brain=/usr/share/mricron/templates/ch2bet.nii.gz
if [ ! -f "$brain" ]; then
  echo "SKIP: $brain (mricron-data) is absent"
  exit 0
fi
if ! command -v xvfb-run > /dev/null 2>&1; then
  echo "SKIP: xvfb-run (Debian package xvfb) is absent; the Slicer application needs an X server"
  exit 0
fi
fail() { echo "FAILED: $*"; exit 1; }

# Inputs, made once per build tree (the model takes about a minute).
mkdir -p "$inputs/normal"
ln -sf "$brain" "$inputs/normal/ch2bet.nii.gz"
if [ ! -s "$inputs/model.rcm" ]; then
  "$bin/recontrast" train --data "$inputs/normal" --out "$inputs/model.rcm" --backbone resnet18 --image-size 32 \
    --iterations 20 --batch-size 8 --calibration-fraction 0.2 > "$inputs/train.log" 2>&1 ||
    { tail -5 "$inputs/train.log"; fail "training the test model"; }
fi
if [ ! -s "$inputs/scan-with-lesion.nii.gz" ]; then
  "$bin/recontrast-add-lesion" --input "$brain" --output "$inputs/scan-with-lesion.nii.gz" --centre 60 120 90 \
    --radius 15 --contrast 0.2 > /dev/null || fail "adding the lesion"
fi
printf 'This is a text file, not a ReContrast model.\n' > "$inputs/not-a-model.rcm"

work="$inputs/run"
rm -rf "$work"; mkdir -p "$work"
# Mesa's software OpenGL renders the views; a fixed screen size keeps the screenshots comparable.
exec xvfb-run -a -s "-screen 0 1920x1200x24" "$launcher" --launch "$test_exe" \
  "$inputs/scan-with-lesion.nii.gz" "$inputs/model.rcm" "$inputs/not-a-model.rcm" "$work" "$@"
