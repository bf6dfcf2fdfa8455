#!/bin/sh
# The Slicer CLI module as Slicer runs it: --xml must be valid XML describing the expected
# parameters, and a run with Slicer's arguments must write the map, the return-parameter file and
# the progress tags.
# Usage: SlicerCLIModule.sh <module-executable> <recontrast-bin-dir> <work-dir>
set -eu
module="$1"; bin="$2"; work="$3"
brain=/usr/share/mricron/templates/ch2bet.nii.gz
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAILED: $*"; exit 1; }

"$module" --xml > "$work/module.xml" || fail "--xml"
xmllint --noout "$work/module.xml" || fail "the XML is not well-formed"
xpath() { xmllint --xpath "$1" "$work/module.xml"; }
[ "$(xpath 'string(/executable/title)')" = "ReContrast Anomaly Detection" ] || fail "title"
[ -n "$(xpath 'string(/executable/category)')" ] || fail "category"
[ -n "$(xpath 'string(/executable/contributor)')" ] || fail "contributor"
[ "$(xpath 'count(//image[channel="input"])')" = 1 ] || fail "one input image"
[ "$(xpath 'string(//image[name="outputVolume"]/@reference)')" = "inputVolume" ] || fail "output reference"
[ "$(xpath 'string(//image[name="outputVolume"]/index)')" = 1 ] || fail "output index"
[ "$(xpath 'string(//file[name="model"]/longflag)')" = "model" ] || fail "model parameter"
[ "$(xpath 'string(//float[name="threshold"]/longflag)')" = "threshold" ] || fail "threshold parameter"
[ "$(xpath 'count(//string-enumeration[name="device"]/element)')" = 2 ] || fail "device parameter"
[ "$(xpath 'string(//float[name="volumeScore"]/channel)')" = "output" ] || fail "volume score output"
# Every parameter has a label and a description, as Slicer's GUI needs.
[ "$(xpath 'count(//parameters/*[name and (not(label) or not(description))])')" = 0 ] || fail "labels and help"

if [ ! -f "$brain" ]; then
  echo "note: $brain (mricron-data) is absent; the run with Slicer's arguments was skipped"
  echo "Slicer CLI module passed"
  exit 0
fi
"$bin/recontrast" train --data "$brain" --out "$work/model.rcm" --backbone resnet18 --image-size 32 \
  --iterations 2 --batch-size 4 > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
"$bin/recontrast-add-lesion" --input "$brain" --output "$work/input.nrrd" --radius 10 --contrast 1.8 > /dev/null
# Slicer's order: flags, Slicer's own options, then the images by index.
"$module" --model "$work/model.rcm" --threshold 0.5 --device cpu --threads 0 --labels "$work/labels.nrrd" \
  --returnparameterfile "$work/return.params" --processinformationaddress 0x0 \
  "$work/input.nrrd" "$work/output.nrrd" > "$work/stdout.txt" 2> "$work/stderr.txt" || { cat "$work/stderr.txt"; fail "run"; }
[ -s "$work/output.nrrd" ] && [ -s "$work/labels.nrrd" ] || fail "outputs"
grep -q "<filter-start>" "$work/stdout.txt" || fail "filter-start"
grep -q "<filter-progress>1.0000</filter-progress>" "$work/stdout.txt" || fail "filter-progress"
grep -q "<filter-end>" "$work/stdout.txt" || fail "filter-end"
grep -Eq '^volumeScore = [0-9.eE+-]+$' "$work/return.params" || { cat "$work/return.params"; fail "volumeScore"; }
grep -Eq '^regionCount = [0-9]+$' "$work/return.params" || fail "regionCount"

# Bad input: one sentence, non-zero exit, no output.
if "$module" --model "$work/train.log" "$work/input.nrrd" "$work/bad.nrrd" 2> "$work/err.txt"; then
  fail "a log file was accepted as a model"
fi
[ "$(wc -l < "$work/err.txt")" -eq 1 ] || { cat "$work/err.txt"; fail "one sentence"; }
[ ! -e "$work/bad.nrrd" ] || fail "an output was written for bad input"
rm -rf "$work"
echo "Slicer CLI module passed"
