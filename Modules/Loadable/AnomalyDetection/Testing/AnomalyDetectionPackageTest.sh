#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# The extension as a user installs it: `package` in the extension build makes the archive that
# Slicer's Extensions Manager installs; unpacked elsewhere, its module folders make Slicer load
# "Anomaly Detection" and the three CLI modules (--additional-module-paths, as an installed
# extension's are added), and the application test passes with the unpacked module.
# Usage: AnomalyDetectionPackageTest.sh <extension-build-dir> <work-dir> <slicer-launcher> <app-test-exe>
#          <recontrast-bin-dir> <app-test-inputs-dir> <loadable-modules-subdir> <cli-modules-subdir>
set -eu
build="$1"; work="$2"; launcher="$3"; test_exe="$4"; bin="$5"; inputs="$6"; loadable="$7"; cli="$8"
here=$(cd "$(dirname "$0")" && pwd)
fail() { echo "FAILED: $*"; exit 1; }
if ! command -v xvfb-run > /dev/null 2>&1; then
  echo "SKIP: xvfb-run (Debian package xvfb) is absent; the Slicer application needs an X server"
  exit 0
fi
rm -rf "$work"; mkdir -p "$work/unpacked"

cmake --build "$build" --target package > "$work/package.log" 2>&1 || { tail -20 "$work/package.log"; fail "make package"; }
archive=$(ls -t "$build"/*ReContrast*.tar.gz 2>/dev/null | head -1)
[ -n "$archive" ] || fail "no extension archive in $build"
echo "archive: $archive ($(du -h "$archive" | cut -f1))"
tar -xzf "$archive" -C "$work/unpacked" || fail "the archive does not unpack"
root=$(find "$work/unpacked" -mindepth 1 -maxdepth 1 -type d | head -1)
[ -n "$root" ] || fail "the archive holds no extension folder"
[ -f "$root/$loadable/libqSlicerAnomalyDetectionModule.so" ] || fail "the archive lacks the loadable module"
for name in ReContrastAnomalyDetection ReContrastModelInfo ReContrastTrainModel; do
  [ -x "$root/$cli/$name" ] || fail "the archive lacks the CLI module $name"
done
# Nothing of the build tree may be needed: the unpacked libraries resolve without it.
if ldd "$root/$loadable/libqSlicerAnomalyDetectionModule.so" "$root/$cli/ReContrastAnomalyDetection" | grep -F "$build" |
  grep -vF "$work" > /dev/null; then
  fail "the packaged module still links libraries of the build tree"
fi

# Slicer itself with the unpacked extension: every module instantiates (--testing exits otherwise)
# and four more modules load than without it.
count_modules() {
  xvfb-run -a -s "-screen 0 1280x1024x24" "$launcher" --testing --no-splash --verbose-module-discovery \
    --exit-after-startup "$@" 2>&1 | tee -a "$work/slicer.log" | sed -n 's/.*Number of loaded modules: *\([0-9]*\).*/\1/p' | tail -1
}
without=$(count_modules)
with=$(count_modules --additional-module-paths "$root/$loadable" "$root/$cli")
echo "Slicer loads $without modules alone and $with with the unpacked extension"
[ -n "$without" ] && [ -n "$with" ] || { tail -20 "$work/slicer.log"; fail "Slicer did not start"; }
[ "$with" -eq $((without + 4)) ] || { tail -20 "$work/slicer.log"; fail "the extension did not add its four modules"; }

if ! sh "$here/AnomalyDetectionAppTest.sh" "$bin" "$inputs" "$launcher" "$test_exe" "$root/$loadable" "$root/$cli" \
  --memory-runs 0 > "$work/app-test.log" 2>&1; then
  cat "$work/app-test.log"
  fail "the application test with the unpacked extension"
fi
grep -E "^(bad model|model description|run:|regions|cancelled run|Slicer application test)" "$work/app-test.log"
echo "extension package passed"
