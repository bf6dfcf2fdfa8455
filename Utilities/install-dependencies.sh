#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Installs every Debian 12 package the project needs to build, test and run its demo.
# With --slicer-check, also Qt 5's development files for the compile check of the Slicer module
# against Slicer's and CTK's source trees (Testing/Slicer/check_module_syntax.py; not part of CI);
# with --slicer, those and what the module's tests in a Slicer build need (X server, OpenGL).
# With --fuzzing, clang-14 and its libFuzzer and sanitizer runtimes (Testing/Fuzzing/run-fuzzers.sh).
# Idempotent: when everything is present it only says so. Runs as root or through sudo.
set -eu

PACKAGES="
  build-essential cmake pkg-config git
  libinsighttoolkit5-dev libgdcm-tools libvtk9-dev libdcmtk-dev libtorch-dev
  libopenblas0-pthread zlib1g-dev libjpeg-dev libcurl4-openssl-dev libssl-dev
  libgtest-dev libgmock-dev
  libcli11-dev nlohmann-json3-dev libspdlog-dev libfmt-dev
  clang-format libxml2-utils dicom3tools
  python3 python3-numpy python3-scipy python3-torch python3-torchvision python3-sklearn python3-skimage python3-pydicom
  python3-pil
  mricron-data insighttoolkit5-examples
  lighttpd orthanc dcmtk
  libgloo-dev slurmctld slurmd slurm-client munge
"
if [ "${1:-}" = "--slicer-check" ] || [ "${1:-}" = "--slicer" ]; then
  PACKAGES="$PACKAGES qtbase5-dev qtbase5-dev-tools libqt5svg5-dev"
fi
if [ "${1:-}" = "--fuzzing" ]; then
  # Testing/Fuzzing/run-fuzzers.sh: clang's libFuzzer and sanitizer runtimes.
  PACKAGES="$PACKAGES clang-14 libclang-rt-14-dev"
fi
if [ "${1:-}" = "--slicer" ]; then
  # The module's tests in a Slicer build (Documentation/DeveloperGuide.md, "Building and testing in a real Slicer"):
  # a virtual X server and Mesa's software OpenGL for the application test and its screenshots.
  PACKAGES="$PACKAGES xvfb xauth libgl1-mesa-dri libglx-mesa0"
fi

missing=""
for p in $PACKAGES; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing="$missing $p"
  fi
done

if [ -z "$missing" ]; then
  echo "install-dependencies: all packages are installed."
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO="sudo"
else
  echo "install-dependencies: these packages are missing and neither root nor sudo is available:$missing" >&2
  exit 1
fi

echo "install-dependencies: installing$missing"
$SUDO apt-get update -q
# shellcheck disable=SC2086
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing

# The tests start their own lighttpd, Orthanc and single-node Slurm (with its own munged) on loopback;
# the system-wide services the packages would run (a web server on port 80, a PACS on 4242/8042, a
# Slurm controller and node, munge) are not needed, so a server installed just now is stopped and
# disabled. libgloo-dev: the headers of c10d's Gloo process group (data-parallel training).
for service in lighttpd orthanc slurmctld slurmd munge; do
  case " $missing " in
    *" $service "*)
      if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
        $SUDO systemctl disable --now "$service" >/dev/null 2>&1 || true
      elif [ -x "/etc/init.d/$service" ]; then
        $SUDO "/etc/init.d/$service" stop >/dev/null 2>&1 || true
        $SUDO update-rc.d "$service" disable >/dev/null 2>&1 || true
      fi
      ;;
  esac
done
