#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
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
# ctest's exit code is ours. ctest lists skipped tests after its summary, so the summary line
# ("N% tests passed, M tests failed out of K") is printed again to end the output.
status=0
ctest --output-on-failure --timeout 1500 --output-log "$build/ctest-output.log" || status=$?
grep -E "^[0-9]+% tests passed" "$build/ctest-output.log" | tail -n 1 || true
exit "$status"
