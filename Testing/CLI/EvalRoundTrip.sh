#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# End-to-end `recontrast eval`: trains a tiny model, then evaluates it on an MVTec-style folder that
# the test builds itself from ITK's example brain slices (synthetic lesions with masks) and, when the
# optional data folder (the third argument) holds it, on one built from the magnetic tile defect dataset.
# Usage: EvalRoundTrip.sh <bin-dir> <work-dir> <shared-data-dir>
set -eu
bin="$1"; work="$2"; shared=$(cd "$3" 2>/dev/null && pwd || echo "$3")
py=/usr/bin/python3
pictures=/usr/share/doc/insighttoolkit5-examples/examples/Data
. "$(dirname "$0")/TestSupport.sh"
skip_unless_file "$pictures/BrainProtonDensitySlice.png" \
  "the ITK example pictures (Debian package insighttoolkit5-examples) are not installed"

# Reads a report and checks the keys and ranges of eval's report; prints the metrics.
check_report() {
  "$py" - "$1" "$2" "$3" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
images, masks = int(sys.argv[2]), sys.argv[3] == "masks"
for key in ("image_auroc", "f1_max"):
    assert 0.0 <= report[key] <= 1.0, (key, report[key])
for key in ("pixel_auroc", "aupro"):
    assert key in report, key
    if masks:
        assert report[key] is not None and 0.0 <= report[key] <= 1.0, (key, report[key])
    else:
        assert report[key] is None, (key, report[key])
assert len(report["images"]) == images, len(report["images"])
for entry in report["images"]:
    assert set(("path", "label", "score")) <= set(entry), entry
    assert entry["label"] in (0, 1) and entry["score"] == entry["score"]
print("image_auroc %.4f pixel_auroc %s aupro %s f1_max %.4f" % (report["image_auroc"], report["pixel_auroc"], report["aupro"], report["f1_max"]))
PY
}

# A layout of brain slices: normal training and test slices, lesions with masks.
data="$work/brains"
mkdir -p "$data/train/good" "$data/test/good" "$data/test/lesion" "$data/ground_truth/lesion"
for name in BrainProtonDensitySlice BrainProtonDensitySliceShifted13x17y BrainProtonDensitySliceRotated10 \
            BrainProtonDensitySliceBorder20; do
  cp "$pictures/$name.png" "$data/train/good/"
done
cp "$pictures/BrainProtonDensitySliceR10X13Y17.png" "$data/test/good/a.png"
cp "$pictures/BrainProtonDensitySliceR10X13Y17S12.png" "$data/test/good/b.png"
i=0
for centre in "70 90" "110 120" "90 150"; do
  # shellcheck disable=SC2086
  "$bin/recontrast-add-lesion" --input "$pictures/BrainProtonDensitySlice.png" --output "$data/test/lesion/00$i.png" \
    --mask "$data/ground_truth/lesion/00${i}_mask.png" --centre $centre --radius 9 --contrast 2.0 > /dev/null || fail "add-lesion"
  i=$((i + 1))
done
"$bin/recontrast" train --data "$data" --out "$work/model.rcm" --backbone resnet18 --image-size 32 \
  --iterations 3 --batch-size 2 --calibration-fraction 0 > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
# 8-bit grey pictures are scaled as bytes and stretched to the square by default, as the paper does.
"$bin/recontrast" info "$work/model.rcm" --json | "$py" -c \
  'import json, sys; p = json.load(sys.stdin)["properties"]; sys.exit(0 if (p["intensity"], p["resize"]) == ("bytes", "stretch") else 1)' \
  || fail "the defaults of 8-bit grey pictures are not bytes and stretch"
"$bin/recontrast" eval --model "$work/model.rcm" --data "$data" --report "$work/brains.json" --roc "$work/roc.png" \
  > "$work/eval.log" 2>&1 || { cat "$work/eval.log"; fail "eval"; }
check_report "$work/brains.json" 5 masks || fail "brain report"
[ -s "$work/roc.png" ] || fail "ROC picture"

# Without masks the pixel metrics are null.
rm -rf "$data/ground_truth"
"$bin/recontrast" eval --model "$work/model.rcm" --data "$data" --report "$work/nomask.json" > /dev/null 2>&1 || fail "eval without masks"
check_report "$work/nomask.json" 5 none || fail "report without masks"

# Bad input: a folder without test/, a report in a missing folder; one sentence, nothing written.
if "$bin/recontrast" eval --model "$work/model.rcm" --data "$data/train" --report "$work/bad.json" 2> "$work/err.txt"; then
  fail "a folder without test/ was accepted"
fi
grep -q "has no test/ folder" "$work/err.txt" || { cat "$work/err.txt"; fail "layout message"; }
if "$bin/recontrast" eval --model "$work/model.rcm" --data "$data" --report "$work/no/such/r.json" 2> "$work/err.txt"; then
  fail "a report in a missing folder was accepted"
fi
[ ! -e "$work/bad.json" ] || fail "a report was written for bad input"

# Magnetic tiles (real defects with masks), when the shared data are present.
tiles="$shared/magnetic_tile_defects"
if [ -d "$tiles/MT_Free/Imgs" ]; then
  mt="$work/tiles"
  mkdir -p "$mt/train/good" "$mt/test/good" "$mt/test/blowhole" "$mt/ground_truth/blowhole"
  ls "$tiles/MT_Free/Imgs" | grep '\.jpg$' | sort | head -12 > "$work/free.txt"
  head -8 "$work/free.txt" | while read -r f; do ln -s "$tiles/MT_Free/Imgs/$f" "$mt/train/good/$f"; done
  tail -4 "$work/free.txt" | while read -r f; do ln -s "$tiles/MT_Free/Imgs/$f" "$mt/test/good/$f"; done
  ls "$tiles/MT_Blowhole/Imgs" | grep '\.jpg$' | sort | head -4 | while read -r f; do
    ln -s "$tiles/MT_Blowhole/Imgs/$f" "$mt/test/blowhole/$f"
    ln -s "$tiles/MT_Blowhole/Imgs/${f%.jpg}.png" "$mt/ground_truth/blowhole/${f%.jpg}_mask.png"
  done
  "$bin/recontrast" eval --model "$work/model.rcm" --data "$mt" --report "$work/tiles.json" > "$work/eval.log" 2>&1 || { cat "$work/eval.log"; fail "eval tiles"; }
  check_report "$work/tiles.json" 8 masks || fail "tile report"
else
  echo "note: $tiles is absent; the magnetic tile evaluation was skipped"
fi
rm -rf "$work"
echo "eval round trip passed"
