#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The README's first command: install what is missing, build, and run anomaly detection on the
# bundled sample scan with the bundled model.
# Usage: Utilities/quickstart.sh            (build tree: ./build, or $RECONTRAST_BUILD_DIR)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="${RECONTRAST_BUILD_DIR:-$root/build}"
jobs="${RECONTRAST_JOBS:-2}"

"$root/Utilities/install-dependencies.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$jobs"

"$build/bin/recontrast" --version
if [ ! -x "$root/Utilities/demo.sh" ] || ! "$build/bin/recontrast" infer --help >/dev/null 2>&1; then
  echo "quickstart: not yet: the build is ready in $build, but this version has no 'recontrast infer'" \
       "(the engine and the command line are the next milestones), so no anomaly map was made." >&2
  exit 2
fi
exec "$root/Utilities/demo.sh" "$build"
