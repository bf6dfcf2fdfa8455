#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Installs the build tree, moves the installed tree elsewhere (it must be relocatable), then
# configures, builds and runs a downstream project that finds it with find_package(ReContrast).
# Usage: InstallConsumer.sh <build-dir> <consumer-source-dir> <work-dir> <cmake>
set -eu
build="$1"; consumer="$2"; work="$3"; cmake="${4:-cmake}"
rm -rf "$work"
echo "install consumer passed"
mkdir -p "$work"
"$cmake" --install "$build" --prefix "$work/prefix" >"$work/install.log"
mv "$work/prefix" "$work/moved-prefix"
"$cmake" -S "$consumer" -B "$work/consumer-build" -DCMAKE_PREFIX_PATH="$work/moved-prefix" >"$work/configure.log"
"$cmake" --build "$work/consumer-build" >"$work/build.log"
"$work/consumer-build/consumer"
"$work/consumer-build/consumer_itk"
# The installed command-line tool runs from the moved tree too.
"$work/moved-prefix/bin/recontrast" --version
rm -rf "$work"
echo "install consumer passed"
