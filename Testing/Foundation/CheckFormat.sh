#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Fails when a C++ file of the project differs from what clang-format makes of it (.clang-format).
# Usage: CheckFormat.sh <source-dir> [clang-format]
set -eu
src="$1"
clang_format="${2:-clang-format}"
cd "$src"
# The files are kept formatted by Debian 12's clang-format 14; other major versions break a few lines
# differently (Debian 13's 19 disagrees on 4 files), so they cannot judge the formatting.
major=$("$clang_format" --version | sed -n 's/.*clang-format version \([0-9][0-9]*\).*/\1/p')
if [ "$major" != "14" ]; then
  echo "skipped: $clang_format is version ${major:-unknown}; the formatting is checked with clang-format 14"
  exit 77
fi
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  files=$(git ls-files --cached --others --exclude-standard -- '*.h' '*.hxx' '*.cpp' '*.cxx' '*.txx' '*.in.h')
else
  files=$(find Libs Modules Testing -name '*.h' -o -name '*.hxx' -o -name '*.cpp' -o -name '*.cxx')
fi
bad=0
for f in $files; do
  [ -f "$f" ] || continue
  if ! "$clang_format" --dry-run --Werror --style=file "$f" >/dev/null 2>&1; then
    echo "not formatted: $f (run: $clang_format -i --style=file $f)"
    bad=1
  fi
done
[ "$bad" -eq 0 ] && echo "all $(echo "$files" | wc -w) C++ files follow .clang-format"
exit "$bad"
