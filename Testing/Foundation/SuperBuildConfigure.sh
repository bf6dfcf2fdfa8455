#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Configures the superbuild (outer build) with the system packages: every dependency must be
# taken from the system and the inner build of the project must be set up.
# Usage: SuperBuildConfigure.sh <source-dir> <work-dir> <cmake>
set -eu
src="$1"; work="$2"; cmake="${3:-cmake}"
rm -rf "$work"
mkdir -p "$work"
"$cmake" -S "$src" -B "$work" -DRECONTRAST_SUPERBUILD=ON -DRECONTRAST_BUILD_TESTING=OFF >"$work.log" 2>&1 || {
  cat "$work.log"; exit 1; }
cat "$work.log" | grep "ReContrast SuperBuild" || true
for dep in Torch ITK VTK DCMTK CLI11 nlohmann_json spdlog GTest; do
  grep -q "ReContrast SuperBuild: $dep from the system" "$work.log" || {
    echo "expected $dep to be taken from the system"; exit 1; }
done
grep -q "ReContrast SuperBuild: inner build" "$work.log" || { echo "the inner build was not added"; exit 1; }
rm -rf "$work" "$work.log"
