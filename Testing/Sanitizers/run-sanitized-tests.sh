#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The test suite with the project's code under AddressSanitizer and UndefinedBehaviorSanitizer
# (RECONTRAST_ENABLE_SANITIZERS), stopping at the first report (halt_on_error); then the command-line
# end-to-end tests (label "cli") again with LeakSanitizer. Reports that come from ITK or LibTorch are
# suppressed by the files next to this script, each entry with its reason; the project's own code is
# never suppressed.
# Usage: Testing/Sanitizers/run-sanitized-tests.sh [build folder, default ./build-sanitizers] [ctest arguments...]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
build="${1:-$root/build-sanitizers}"
[ $# -gt 0 ] && shift
here="$root/Testing/Sanitizers"

cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRECONTRAST_BUILD_TESTING=ON \
  -DRECONTRAST_ENABLE_SANITIZERS=ON > "$build.configure.log"
cmake --build "$build" -j "${RECONTRAST_JOBS:-2}"
cd "$build"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$here/ubsan-suppressions.txt"
# LibTorch's and ITK's own allocations live for the whole process: leaks are checked in the second pass.
ASAN_OPTIONS="halt_on_error=1:detect_leaks=0:detect_odr_violation=0" ctest --output-on-failure --timeout 3000 "$@"
# fast_unwind_on_malloc=0: complete allocation stacks through ITK's and LibTorch's frames, which the
# suppressions name (the fast unwinder stops after a frame or two in libraries without frame pointers).
ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:detect_odr_violation=0:fast_unwind_on_malloc=0" \
LSAN_OPTIONS="suppressions=$here/lsan-suppressions.txt:print_suppressions=0" \
  ctest --output-on-failure --timeout 3000 -L cli "$@"
echo "sanitized tests passed"
