# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# What the end-to-end scripts share; sourced by each after it has set $work.

# fail <what>: the test fails, naming what went wrong.
fail() { echo "FAILED: $*"; exit 1; }

# skip_unless_file <file> <why>: the test is skipped (ctest's SKIP) when an optional input is absent.
skip_unless_file() {
  if [ ! -f "$1" ]; then
    echo "SKIP: $2"
    exit 0
  fi
}

# A fresh work folder for this run.
rm -rf "$work"
mkdir -p "$work"
