#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The demo of the README's first command: anomaly detection on a brain MR scan.
#
# The bundled normal data is Debian's mricron-data Colin27 brain (ch2bet.nii.gz). A model file
# is too large for the repository, so the demo model (resnet18 at 64 px, trained on the normal
# brain's axial slices, about a minute on two cores; its maps sum the frozen encoder's three feature
# pairs, which place a lesion after so short a training) is made on the first run and kept in
# <build>/demo/ (or $RECONTRAST_DEMO_DIR). The sample scan is the same brain with a synthetic
# lesion the demo adds (its mask next to it); the anomaly map, overlay picture and JSON report show
# where it is. The ctest DemoDetection runs this script and checks that the lesion's slice is the
# most anomalous and that the largest anomalous region overlaps the lesion.
# Usage: Utilities/demo.sh <build-dir>
set -eu
build="$1"
bin="$build/bin"
out="${RECONTRAST_DEMO_DIR:-$build/demo}"
normal=/usr/share/mricron/templates/ch2bet.nii.gz
# What the demo's files are made with; a folder made by another recipe is made again.
recipe="3: resnet18 64 px, 150 iterations of 8, 10 % held out, frozen map pairs, map profile; MR headroom; lesion 60 120 90 r 9 x 1.8"
mkdir -p "$out"

if [ ! -f "$normal" ]; then
  echo "demo: the sample brain $normal is missing; run Utilities/install-dependencies.sh" >&2
  exit 1
fi
if [ "$(cat "$out/recipe.txt" 2>/dev/null)" != "$recipe" ]; then
  rm -f "$out/demo-model.rcm" "$out/sample-with-lesion.nii.gz" "$out/lesion-mask.nii.gz"
fi
if [ ! -f "$out/demo-model.rcm" ]; then
  echo "demo: training the demo model on $normal (first run only)"
  "$bin/recontrast" train --data "$normal" --out "$out/demo-model.rcm" --backbone resnet18 --image-size 64 \
    --iterations 150 --batch-size 8 --calibration-fraction 0.1 --map-pairs frozen
fi
if [ ! -f "$out/sample-with-lesion.nii.gz" ]; then
  "$bin/recontrast-add-lesion" --input "$normal" --output "$out/sample-with-lesion.nii.gz" \
    --mask "$out/lesion-mask.nii.gz" --centre 60 120 90 --radius 9 --contrast 1.8
fi
printf '%s\n' "$recipe" > "$out/recipe.txt"
"$bin/recontrast" infer --model "$out/demo-model.rcm" --input "$out/sample-with-lesion.nii.gz" \
  --output "$out/anomaly-map.nii.gz" --overlay "$out/overlay.png" --report "$out/report.json" \
  --labels "$out/anomaly-regions.nii.gz"
echo "demo: anomaly map      $out/anomaly-map.nii.gz"
echo "demo: anomalous regions $out/anomaly-regions.nii.gz"
echo "demo: overlay picture  $out/overlay.png"
echo "demo: JSON report      $out/report.json"
echo "demo: the lesion's mask $out/lesion-mask.nii.gz"
