#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# End-to-end through the real executables: train a tiny model on a real brain volume, infer on the
# same brain with a synthetic lesion and on a 2-D picture, and check the outputs and the error paths.
# Usage: TrainInferRoundTrip.sh <bin-dir> <work-dir>
set -eu
bin="$1"; work="$2"
brain=/usr/share/mricron/templates/ch2bet.nii.gz
picture=/usr/share/doc/insighttoolkit5-examples/examples/Data/BrainProtonDensitySlice.png
. "$(dirname "$0")/TestSupport.sh"
skip_unless_file "$brain" "$brain (Debian package mricron-data) is not installed"

"$bin/recontrast" train --data "$brain" --out "$work/model.rcm" --backbone resnet18 --image-size 32 \
  --iterations 3 --batch-size 4 --calibration-fraction 0.1 > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
[ -f "$work/model.rcm" ] && [ -f "$work/model.training.json" ] && [ -f "$work/model.loss.png" ] || fail "train outputs"
"$bin/recontrast" info "$work/model.rcm" | grep -q "resnet18" || fail "info"

"$bin/recontrast-add-lesion" --input "$brain" --output "$work/lesion.nii.gz" --radius 10 --contrast 0.3 > /dev/null
"$bin/recontrast" infer --model "$work/model.rcm" --input "$work/lesion.nii.gz" --output "$work/map.nrrd" \
  --overlay "$work/overlay.png" --report "$work/report.json" --threshold 0.5 --labels "$work/labels.nii.gz" \
  > "$work/infer.log" 2>&1 || { cat "$work/infer.log"; fail "infer volume"; }
for f in map.nrrd overlay.png report.json labels.nii.gz; do [ -s "$work/$f" ] || fail "missing $f"; done
for key in '"score"' '"slice_scores"' '"regions"' '"settings"'; do grep -q "$key" "$work/report.json" || fail "report key $key"; done
# The overlay is a picture of the scan with heat on it: many grey levels and some warm colour.
/usr/bin/python3 - "$work/overlay.png" <<'PY' || fail "the overlay is blank or has no heat"
import sys
import numpy
from PIL import Image
rgb = numpy.asarray(Image.open(sys.argv[1]).convert("RGB")).astype(int)
grey = rgb[(abs(rgb[..., 0] - rgb[..., 1]) < 8) & (abs(rgb[..., 1] - rgb[..., 2]) < 8)]
warm = (rgb[..., 0] > rgb[..., 2] + 60).sum()
assert len(numpy.unique(grey[:, 0])) > 32, "too few grey levels"
assert warm > 50, "no heat"
PY

if [ -f "$picture" ]; then
  "$bin/recontrast" infer --model "$work/model.rcm" --input "$picture" --output "$work/picture-map.mha" \
    --overlay "$work/picture.png" --intensity bytes > /dev/null 2>&1 || fail "infer picture"
  [ -s "$work/picture-map.mha" ] && [ -s "$work/picture.png" ] || fail "picture outputs"
fi

# A folder and a list of scans: one model load, one map per scan in the output folder, one report.
if [ -f "$picture" ]; then
  mkdir -p "$work/scans"
  cp "$picture" "$work/scans/slice.png"
  cp "$work/lesion.nii.gz" "$work/scans/brain.nii.gz"
  "$bin/recontrast" infer --model "$work/model.rcm" --input "$work/scans" --output "$work/maps" \
    --overlay "$work/pictures" --report "$work/batch.json" > "$work/batch.log" 2>&1 || { cat "$work/batch.log"; fail "infer folder"; }
  [ -s "$work/maps/slice_anomaly.nii.gz" ] && [ -s "$work/maps/brain_anomaly.nii.gz" ] || fail "folder maps"
  [ -s "$work/pictures/slice.png" ] && [ -s "$work/pictures/brain.png" ] || fail "folder overlays"
  /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert len(r['inputs'])==2 and not r['failures']" \
    "$work/batch.json" || fail "folder report"
  printf '# scans\nscans/slice.png\nreport.json\n' > "$work/list.txt"
  if "$bin/recontrast" infer --model "$work/model.rcm" --input "$work/list.txt" --output "$work/listmaps" --format nrrd \
    --report "$work/list.json" > /dev/null 2> "$work/err.txt"; then
    fail "a list with an unreadable entry succeeded"
  fi
  [ -s "$work/listmaps/slice_anomaly.nrrd" ] || fail "list map"
  grep -q "report.json" "$work/err.txt" || { cat "$work/err.txt"; fail "list failure message"; }
  /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); assert len(r['inputs'])==1 and len(r['failures'])==1" \
    "$work/list.json" || fail "list report"
fi

# Bad input: one clear sentence, non-zero exit, nothing written.
if "$bin/recontrast" infer --model "$work/report.json" --input "$brain" --output "$work/x.nii.gz" 2> "$work/err.txt"; then
  fail "a JSON file was accepted as a model"
fi
grep -q "not a ReContrast model file" "$work/err.txt" || { cat "$work/err.txt"; fail "model error message"; }
if "$bin/recontrast" infer --model "$work/model.rcm" --input "$brain" --output "$work/no/such/folder/x.nii.gz" 2> "$work/err.txt"; then
  fail "an output in a missing folder was accepted"
fi
grep -q "does not exist" "$work/err.txt" || { cat "$work/err.txt"; fail "folder error message"; }
# A scan whose voxels cannot be read (a MetaImage header without its data file): one sentence
# naming it and what is missing, without ITK's developer prefixes ("ITK ERROR: MetaImageIO(0x...): ").
printf 'ObjectType = Image\nNDims = 3\nDimSize = 8 8 8\nElementType = MET_FLOAT\nElementDataFile = nodata.raw\n' \
  > "$work/nodata.mhd"
if "$bin/recontrast" infer --model "$work/model.rcm" --input "$work/nodata.mhd" --output "$work/t.nii.gz" 2> "$work/err.txt"; then
  fail "a scan without voxels was scored"
fi
grep -q "The input '$work/nodata.mhd' names a data file, 'nodata.raw', that does not exist." "$work/err.txt" ||
  { cat "$work/err.txt"; fail "unreadable scan message"; }
if grep -q "ITK ERROR\|(0x" "$work/err.txt"; then cat "$work/err.txt"; fail "ITK's developer prefixes reach the user"; fi
[ ! -e "$work/t.nii.gz" ] || fail "an output was written for an unreadable scan"
if "$bin/recontrast" train --bogus 2> /dev/null; then fail "an unknown flag was accepted"; fi
[ ! -e "$work/x.nii.gz" ] || fail "a partial output was left"
ls -a "$work" | grep -q "partial" && fail "a temporary file was left"
rm -rf "$work"
echo "train/infer round trip passed"
