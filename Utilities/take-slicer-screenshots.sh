#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Takes the pictures of Documentation/SlicerModule.md in the real Slicer main window, under a virtual
# X server: the module's application test (Modules/Loadable/AnomalyDetection/Testing) run on Debian's
# Colin27 brain (mricron-data) with a synthetic dark lesion (radius 15 mm, a fifth of the tissue's
# intensity) and a model able to find it, saving the main window after Apply and after the threshold
# is raised.
#
# The model is trained on the first run and kept in <extension-build>/screenshots/ (resnet18 at
# 96 px, 300 iterations on the normal brain, 10 % of the slices held out for calibration: about
# 4 minutes on two cores). Without ImageNet weights it starts from random weights: it finds this
# large dark lesion, not subtle ones.
# Usage: Utilities/take-slicer-screenshots.sh <extension-build-dir> [<output-folder> (default: Documentation/images)]
set -eu
build="$1"
here=$(cd "$(dirname "$0")" && pwd)
images="${2:-$here/../Documentation/images}"
normal=/usr/share/mricron/templates/ch2bet.nii.gz
out="$build/screenshots"
version_dir=$(cd "$build/lib" && ls -d Slicer-* | head -1)
# Slicer's launcher, at the top of the Slicer build tree the extension was configured with.
launcher=$(sed -n 's/^Slicer_DIR:PATH=//p' "$build/CMakeCache.txt")/Slicer
mkdir -p "$out/normal"
if [ ! -f "$out/model.rcm" ]; then
  ln -sf "$normal" "$out/normal/ch2bet.nii.gz"
  "$build/bin/recontrast" train --data "$out/normal" --out "$out/model.rcm" --backbone resnet18 --image-size 96 \
    --iterations 300 --batch-size 8 --calibration-fraction 0.1 > "$out/train.log"
fi
"$build/bin/recontrast-add-lesion" --input "$normal" --output "$out/scan-with-lesion.nii.gz" --centre 60 120 90 \
  --radius 15 --contrast 0.2 > /dev/null
printf 'This is a text file, not a ReContrast model.\n' > "$out/not-a-model.rcm"
rm -rf "$out/run"
xvfb-run -a -s "-screen 0 1920x1200x24" "$launcher" --launch "$build/bin/qSlicerAnomalyDetectionModuleAppTest" \
  "$out/scan-with-lesion.nii.gz" "$out/model.rcm" "$out/not-a-model.rcm" "$out/run" \
  "$build/lib/$version_dir/qt-loadable-modules" "$build/lib/$version_dir/cli-modules" \
  --screenshots "$images" --memory-runs 0 --centre 60 120 90
