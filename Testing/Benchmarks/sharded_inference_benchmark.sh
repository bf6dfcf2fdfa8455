#!/bin/sh
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
# Sharded inference over 30 small volumes as Slurm array jobs of 1, 2 and 3 tasks on a private
# single-node Slurm (Documentation/Benchmarks.md, "Sharded inference"): the ctest ShardedInference's
# script with more scans: every scan once, the same scores as one process, a cancelled task
# re-submitted finishing only its missing scans; wall times against one process.
# Usage: sharded_inference_benchmark.sh <build folder> <work folder>
set -eu
exec /usr/bin/python3 "$(dirname "$0")/../CLI/sharded_inference.py" "$1/bin" "$2" 30 1 2 3
