#!/bin/sh
# The whole test suite from a fresh clone: install what is missing, configure, build, run ctest.
# Usage: Utilities/run-tests.sh            (build tree: ./build, or $RECONTRAST_BUILD_DIR)
# The build uses warnings as errors for the project's own code, as CI does.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build="${RECONTRAST_BUILD_DIR:-$root/build}"
jobs="${RECONTRAST_JOBS:-2}"

"$root/Utilities/install-dependencies.sh"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DRECONTRAST_BUILD_TESTING=ON -DRECONTRAST_WARNINGS_AS_ERRORS=ON
cmake --build "$build" -j "$jobs"
cd "$build"
# ctest's summary ("N% tests passed, ...") is the last thing printed; its exit code is ours.
exec ctest --output-on-failure --timeout 1500
