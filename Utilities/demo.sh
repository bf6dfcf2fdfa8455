#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The demo of the README's first command: anomaly detection on a brain MR scan.
#
# The bundled normal data is Debian's mricron-data Colin27 brain (ch2bet.nii.gz). A model file
# is too large for the repository, so the demo model (resnet18 at 64 px, trained on the normal
# brain's axial slices, about a minute on two cores) is made on the first run and kept in
# <build>/demo/. The sample scan is the same brain with a synthetic lesion the demo adds; the
# anomaly map, overlay picture and JSON report show where it is.
# Usage: Utilities/demo.sh <build-dir>
set -eu
build="$1"
bin="$build/bin"
out="$build/demo"
normal=/usr/share/mricron/templates/ch2bet.nii.gz
mkdir -p "$out"

if [ ! -f "$normal" ]; then
  echo "demo: the sample brain $normal is missing; run Utilities/install-dependencies.sh" >&2
  exit 1
fi
if [ ! -f "$out/demo-model.rcm" ]; then
  echo "demo: training the demo model on $normal (first run only)"
  "$bin/recontrast" train --data "$normal" --out "$out/demo-model.rcm" --backbone resnet18 --image-size 64 \
    --iterations 150 --batch-size 8 --calibration-fraction 0.1
fi
if [ ! -f "$out/sample-with-lesion.nii.gz" ]; then
  "$bin/recontrast-add-lesion" --input "$normal" --output "$out/sample-with-lesion.nii.gz" \
    --centre 60 120 90 --radius 9 --contrast 1.8
fi
"$bin/recontrast" infer --model "$out/demo-model.rcm" --input "$out/sample-with-lesion.nii.gz" \
  --output "$out/anomaly-map.nii.gz" --overlay "$out/overlay.png" --report "$out/report.json" \
  --labels "$out/anomaly-regions.nii.gz"
echo "demo: anomaly map      $out/anomaly-map.nii.gz"
echo "demo: anomalous regions $out/anomaly-regions.nii.gz"
echo "demo: overlay picture  $out/overlay.png"
echo "demo: JSON report      $out/report.json"
