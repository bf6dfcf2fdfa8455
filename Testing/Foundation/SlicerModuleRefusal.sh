#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Configuring the Slicer module without a Slicer build tree stops at once with a sentence that says
# what to give (and no half-configured build): without Slicer_DIR, and with a Slicer_DIR that is
# not a Slicer build.
# Usage: SlicerModuleRefusal.sh <source-dir> <work-dir> <cmake>
set -eu
src="$1"; work="$2"; cmake="$3"
rm -rf "$work"; mkdir -p "$work"
fail() { echo "FAILED: $*"; exit 1; }
# CMake wraps long messages; compare with the line breaks and indentation folded away.
says() { tr '\n' ' ' < "$1" | tr -s ' ' | grep -q "$2"; }

if "$cmake" -S "$src" -B "$work/no-dir" -DRECONTRAST_BUILD_SLICER_MODULE=ON > "$work/no-dir.log" 2>&1; then
  fail "configured without Slicer_DIR"
fi
says "$work/no-dir.log" "builds only against a Slicer build tree, and Slicer_DIR is not set" || { cat "$work/no-dir.log"; fail "message without Slicer_DIR"; }
[ ! -f "$work/no-dir/Makefile" ] || fail "a build was generated without Slicer_DIR"

mkdir -p "$work/not-slicer"
if "$cmake" -S "$src" -B "$work/bad-dir" -DSlicer_DIR="$work/not-slicer" > "$work/bad-dir.log" 2>&1; then
  fail "configured with a Slicer_DIR that is not a Slicer build"
fi
says "$work/bad-dir.log" "is not a Slicer build tree (it has no SlicerConfig.cmake)" || { cat "$work/bad-dir.log"; fail "message for a wrong Slicer_DIR"; }
rm -rf "$work"
echo "Slicer module refusal passed"
