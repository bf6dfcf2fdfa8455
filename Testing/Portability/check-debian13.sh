#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Builds the project and runs its tests on Debian 13 (trixie) inside a chroot made by debootstrap:
# LibTorch 2.6, ITK 5.4, VTK 9.3, DCMTK 3.6.9, GCC 14, CMake 3.31, PyTorch 2.6 as the fidelity oracle.
# The project's own machines run Debian 12 (LibTorch 1.13); this checks the code against the next
# generation of every dependency. Not part of CI: it downloads a whole Debian system and builds
# everything (size and duration: Documentation/Benchmarks.md, durations).
#
# Usage (as root, from the repository root): Testing/Portability/check-debian13.sh <chroot folder>
# The folder is created on the first run and reused afterwards; the committed tree (git HEAD) is
# copied to <chroot>/src/main, built in <chroot>/src/build, and ctest's summary is printed.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
chroot_dir=${1:?usage: check-debian13.sh <chroot folder>}
if [ "$(id -u)" -ne 0 ]; then
  echo "check-debian13: debootstrap and chroot need root." >&2
  exit 1
fi
if [ ! -x "$chroot_dir/usr/bin/apt-get" ]; then
  command -v debootstrap >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q debootstrap; }
  debootstrap --variant=minbase trixie "$chroot_dir" http://deb.debian.org/debian
fi
mountpoint -q "$chroot_dir/proc" || mount -t proc proc "$chroot_dir/proc"
trap 'umount "$chroot_dir/proc" 2>/dev/null || true' EXIT
# The project's package list; Debian 13's ITK links FFTW without depending on its development files.
cp "$root/Utilities/install-dependencies.sh" "$chroot_dir/tmp/install-dependencies.sh"
chroot "$chroot_dir" sh /tmp/install-dependencies.sh
chroot "$chroot_dir" sh -c 'dpkg-query -W libfftw3-dev >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends libfftw3-dev'
rm -rf "$chroot_dir/src/main"
mkdir -p "$chroot_dir/src/main"
git -C "$root" archive HEAD | tar -x -C "$chroot_dir/src/main"
chroot "$chroot_dir" sh -c 'cmake -S /src/main -B /src/build -DCMAKE_BUILD_TYPE=Release -DRECONTRAST_BUILD_TESTING=ON -DRECONTRAST_WARNINGS_AS_ERRORS=ON \
  && cmake --build /src/build -j 2 \
  && cd /src/build && ctest --timeout 1500 --output-log /src/build/ctest-output.log; \
  status=$?; grep -E "^[0-9]+% tests passed" /src/build/ctest-output.log | tail -n 1; exit $status'
