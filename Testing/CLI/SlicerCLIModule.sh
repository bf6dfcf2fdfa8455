#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The Slicer CLI modules as Slicer runs them: --xml must be valid XML describing the expected
# parameters, and runs with Slicer's arguments must write their outputs, the return-parameter file
# and the progress tags: ReContrastTrainModel trains the model that ReContrastModelInfo describes and
# ReContrastAnomalyDetection scores a scan with it.
# Usage: SlicerCLIModule.sh <cli-modules-dir> <recontrast-bin-dir> <work-dir>
set -eu
modules="$1"; bin="$2"; work="$3"
module="$modules/ReContrastAnomalyDetection"
brain=/usr/share/mricron/templates/ch2bet.nii.gz
. "$(dirname "$0")/TestSupport.sh"

# Every module: well-formed XML with a title, a category and, for every parameter, a label and a
# description (Slicer's GUI shows them).
for name in ReContrastAnomalyDetection ReContrastTrainModel ReContrastModelInfo; do
  "$modules/$name" --xml > "$work/$name.xml" || fail "$name --xml"
  xmllint --noout "$work/$name.xml" || fail "the XML of $name is not well-formed"
  [ -n "$(xmllint --xpath 'string(/executable/title)' "$work/$name.xml")" ] || fail "$name title"
  [ -n "$(xmllint --xpath 'string(/executable/category)' "$work/$name.xml")" ] || fail "$name category"
  [ "$(xmllint --xpath 'count(//parameters/*[name and (not(label) or not(description))])' "$work/$name.xml")" = 0 ] ||
    fail "$name labels and help"
done
cp "$work/ReContrastAnomalyDetection.xml" "$work/module.xml"
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
[ "$(xpath 'string(//image[name="regionLabels"]/longflag)')" = "labels" ] || fail "labels parameter"
[ "$(xpath 'string(//float[name="threshold"]/default)')" = "-1" ] || fail "threshold default"
[ "$(xpath 'string(//integer[name="threads"]/constraints/maximum)')" = 256 ] || fail "threads constraints"
# The declaration's checks are the options' too: a value outside the constraints or the choices is refused.
"$module" --threads 300 --xml > /dev/null 2>&1 && fail "--threads outside its constraints was accepted"
"$module" --device tpu --xml > /dev/null 2>&1 && fail "--device outside its elements was accepted"
# The backbones and their default are the engine's: the default is one of the elements.
train="$work/ReContrastTrainModel.xml"
[ "$(xmllint --xpath 'count(//string-enumeration[name="backbone"]/element)' "$train")" -ge 2 ] || fail "backbones"
[ "$(xmllint --xpath 'count(//string-enumeration[name="backbone"]/element[. = ../default])' "$train")" = 1 ] ||
  fail "the backbone default is not one of the backbones"
[ "$(xmllint --xpath 'string(//boolean[name="context"]/default)' "$train")" = "false" ] || fail "context default"
[ "$(xmllint --xpath 'string(//double[name="calibrationFraction"]/default)' "$train")" = "0.1" ] ||
  fail "calibrationFraction default"
[ "$(xmllint --xpath 'string(//directory[name="trainingData"]/longflag)' "$train")" = "data" ] || fail "data parameter"
[ "$(xmllint --xpath 'string(//string[name="summary"]/channel)' "$work/ReContrastModelInfo.xml")" = "output" ] ||
  fail "model info summary output"

if [ ! -f "$brain" ]; then
  echo "note: $brain (mricron-data) is absent; the run with Slicer's arguments was skipped"
  echo "Slicer CLI modules passed"
  exit 0
fi
# Training as the module's training panel runs it: a folder of normal scans.
mkdir -p "$work/normal"
ln -s "$brain" "$work/normal/ch2bet.nii.gz"
"$modules/ReContrastTrainModel" --data "$work/normal" --outputModel "$work/model.rcm" --backbone resnet18 \
  --imageSize 32 --iterations 2 --batchSize 4 --device cpu --threads 0 --returnparameterfile "$work/train.params" \
  --processinformationaddress 0x0 > "$work/train.log" 2>&1 || { cat "$work/train.log"; fail "train"; }
[ -s "$work/model.rcm" ] || fail "no model written"
grep -q "<filter-progress>1.0000</filter-progress>" "$work/train.log" || fail "training progress"
grep -Eq '^finalLoss = [0-9.eE+-]+$' "$work/train.params" || { cat "$work/train.params"; fail "finalLoss"; }
grep -Eq '^trainingSamples = [1-9][0-9]*$' "$work/train.params" || fail "trainingSamples"
if "$modules/ReContrastTrainModel" --outputModel "$work/nodata.rcm" 2> "$work/err.txt"; then
  fail "training without data succeeded"
fi
[ "$(wc -l < "$work/err.txt")" -eq 1 ] || { cat "$work/err.txt"; fail "one sentence for training without data"; }
[ ! -e "$work/nodata.rcm" ] || fail "a model was written without data"

# The model's description, as the panel shows it.
"$modules/ReContrastModelInfo" "$work/model.rcm" --returnparameterfile "$work/info.params" > /dev/null ||
  fail "model info"
grep -q '^backbone = resnet18$' "$work/info.params" || { cat "$work/info.params"; fail "info backbone"; }
grep -q '^imageSize = 32$' "$work/info.params" || fail "info image size"
grep -Eq '^summary = resnet18 at 32 px, trained 2 iterations on [0-9]+ normal slices .+$' "$work/info.params" || fail "info summary"
grep -Eq '^cudaAvailable = (true|false)$' "$work/info.params" || fail "info cuda"
grep -Eq '^calibrated = (true|false)$' "$work/info.params" || fail "info calibrated"
if "$modules/ReContrastModelInfo" "$work/train.log" 2> "$work/err.txt"; then fail "a log file was described as a model"; fi
[ "$(wc -l < "$work/err.txt")" -eq 1 ] || { cat "$work/err.txt"; fail "one sentence for a bad model"; }
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
[ -n "${KEEP_WORK:-}" ] || rm -rf "$work"
echo "Slicer CLI modules passed"
