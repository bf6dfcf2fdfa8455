#!/bin/sh
# Renders the pictures of Documentation/SlicerModule.md from real outputs: the CLI modules run as the
# Slicer module's logic runs them, on Debian's Colin27 brain (mricron-data) with a synthetic dark
# lesion (radius 15 mm, a fifth of the tissue's intensity), and recontrast-render-views draws the
# three planes through the lesion as the module shows them (heat transparent below the threshold,
# colours from the model's normal level).
#
# The guide's model is trained on the first run and kept in <build>/guide/ (resnet18 at 128 px, 800
# iterations on the normal brain's axial slices: about 15 minutes on two cores); the demo's smaller
# model (Utilities/demo.sh) is too weak to find this lesion. Without ImageNet weights (no internet
# here) either model starts from random weights: it finds this large dark lesion, not subtle ones.
# Usage: Utilities/render-guide-pictures.sh <build-dir> [<output-folder> (default: Documentation/images)]
set -eu
build="$1"
here=$(cd "$(dirname "$0")" && pwd)
images="${2:-$here/../Documentation/images}"
bin="$build/bin"
modules="$build/lib/ReContrast/cli-modules"
out="$build/guide"
normal=/usr/share/mricron/templates/ch2bet.nii.gz
lesion="60 120 90"
mkdir -p "$out"

if [ ! -f "$normal" ]; then
  echo "render-guide-pictures: the sample brain $normal is missing; run Utilities/install-dependencies.sh" >&2
  exit 1
fi
if [ ! -f "$out/guide-model.rcm" ]; then
  echo "render-guide-pictures: training the guide's model (first run only, about 15 minutes)"
  mkdir -p "$out/normal"
  ln -sf "$normal" "$out/normal/ch2bet.nii.gz"
  "$modules/ReContrastTrainModel" --data "$out/normal" --outputModel "$out/guide-model.rcm" --backbone resnet18 \
    --imageSize 128 --iterations 800 --batchSize 8 --calibrationFraction 0.1 > "$out/train.log"
fi
# shellcheck disable=SC2086
"$bin/recontrast-add-lesion" --input "$normal" --output "$out/sample-with-lesion.nii.gz" --centre $lesion \
  --radius 15 --contrast 0.2 > /dev/null

# The panel's model line, then Apply with the model's recommended threshold.
"$modules/ReContrastModelInfo" "$out/guide-model.rcm" --returnparameterfile "$out/info.params" > /dev/null
sed -n 's/^summary = /model: /p' "$out/info.params"
threshold=$(sed -n 's/^recommendedThreshold = //p' "$out/info.params")
normal_level=$(sed -n 's/^normalScoreMean = //p' "$out/info.params")
"$modules/ReContrastAnomalyDetection" --model "$out/guide-model.rcm" --threshold "$threshold" \
  --labels "$out/regions.nrrd" --report "$out/report.json" --returnparameterfile "$out/detection.params" \
  "$out/sample-with-lesion.nii.gz" "$out/anomaly-map.nrrd" > "$out/detection.log"
cat "$out/detection.params"

# The threshold slider moved halfway down to the normal level; the regions follow.
lower=$(awk -v t="$threshold" -v n="$normal_level" 'BEGIN { printf "%.6g", (t + n) / 2 }')
"$modules/ReContrastAnomalousRegions" --threshold "$lower" --report "$out/regions-lower.json" \
  --returnparameterfile "$out/regions-lower.params" "$out/anomaly-map.nrrd" "$out/regions-lower.nrrd" > /dev/null
echo "lower threshold $lower: $(sed -n 's/^regionCount = //p' "$out/regions-lower.params") regions"

# shellcheck disable=SC2086
"$bin/recontrast-render-views" --scan "$out/sample-with-lesion.nii.gz" --map "$out/anomaly-map.nrrd" \
  --threshold "$threshold" --normal-level "$normal_level" --opacity 0.5 --point $lesion \
  --output "$images/slicer-overlay.png" --report "$out/report.json" --plot "$images/slicer-slice-scores.png"
# shellcheck disable=SC2086
"$bin/recontrast-render-views" --scan "$out/sample-with-lesion.nii.gz" --map "$out/anomaly-map.nrrd" \
  --threshold "$lower" --normal-level "$normal_level" --opacity 0.5 --point $lesion \
  --output "$images/slicer-threshold.png"
