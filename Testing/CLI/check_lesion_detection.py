#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Checks VolumeLesionDetection.sh's outputs: the map rises at the lesion more than elsewhere; with
--strict also that the lesion scan scores above the same scan without the lesion and that a region
above the lesion-free scan's maximum lies at the lesion, of the lesion's order of size. Prints the
measured values.

Usage: check_lesion_detection.py [--strict] <map.nrrd> <normal-map.nrrd> <lesion-report.json>
                                 <normal-report.json> <i> <j> <k> <radius-mm>
"""
import json
import math
import re
import sys
import zlib

import numpy as np


def read_nrrd(path):
    raw = open(path, "rb").read()
    header, _, body = raw.partition(b"\n\n")
    text = header.decode()
    field = lambda name: re.search(r"^%s: (.*)$" % name, text, re.M).group(1)
    sizes = [int(v) for v in field("sizes").split()]
    directions = np.array([[float(v) for v in d.split(",")] for d in re.findall(r"\(([^)]*)\)",
                                                                             field("space directions"))]).T
    origin = np.array([float(v) for v in re.search(r"\(([^)]*)\)", field("space origin")).group(1).split(",")])
    if field("encoding") == "gzip":
        body = zlib.decompress(body, 16 + zlib.MAX_WBITS)
    values = np.frombuffer(body, dtype="<f4").reshape(sizes[::-1])
    return values, directions, origin


def main():
    strict = "--strict" in sys.argv
    arguments = [a for a in sys.argv[1:] if a != "--strict"]
    lesion_map, normal_map, lesion_report, normal_report = arguments[0:4]
    index = np.array([float(v) for v in arguments[4:7]])
    radius = float(arguments[7])
    values, directions, origin = read_nrrd(lesion_map)
    normal_values, _, _ = read_nrrd(normal_map)
    centre = origin + directions @ index

    def distance_to_centre(flat_index):
        voxel = np.array(np.unravel_index(flat_index, values.shape)[::-1], dtype=float)
        return float(np.linalg.norm(origin + directions @ voxel - centre))

    lesion = json.load(open(lesion_report))
    normal = json.load(open(normal_report))
    regions = lesion["regions"]
    sphere = 4.0 / 3.0 * math.pi * radius ** 3
    # The two scans differ only inside the lesion, but the whole map moves a little (the intensity
    # preset is fitted to the whole scan): compare how much the map rises, on average, inside the
    # lesion and over the rest of the brain.
    grid = np.indices(values.shape).reshape(3, -1)[::-1].astype(float)
    inside = (np.linalg.norm((directions @ grid).T + origin - centre, axis=1) <= radius).reshape(values.shape)
    brain = normal_values > 0
    rise = values - normal_values
    rise_inside = float(rise[inside].mean())
    rise_elsewhere = float(rise[brain & ~inside].mean())
    print(f"calibrated score: {lesion['calibrated_score']:.2f} with the lesion, {normal['calibrated_score']:.2f} without")
    print(f"the map rises by {rise_inside:.4f} on average inside the lesion and {rise_elsewhere:.4f} over the rest "
          f"of the brain; its peak is {distance_to_centre(np.argmax(values)):.1f} mm from the lesion centre")
    failures = []
    # What is reliably true of this small model (random encoder, 64 px, 200 iterations), measured over
    # seeds 1-5 at 1 and 2 threads (VolumeLesionDetection.sh, Documentation/Benchmarks.md): the map
    # rises inside the lesion several times as much as over the rest of the brain (ratios 1.7 to 15.3;
    # bar 1.25). The score and the regions are weaker signals for it (the score fell with the lesion
    # in 2 of 10 trainings, a region lay at the lesion in 2); they are judged only with --strict, by
    # the lesion-detection benchmark (Testing/Benchmarks/lesion_detection_benchmark.sh).
    ratio = rise_inside / max(rise_elsewhere, 1e-6)
    print(f"ratio of the rises: {ratio:.1f} (bar 1.25)")
    if not rise_inside >= 1.25 * max(rise_elsewhere, 0.0) + 0.002:
        failures.append("the map does not rise at the lesion more than elsewhere")
    at_lesion = [r for r in regions if np.linalg.norm(np.array(r["centroid"]) - centre) <= radius + 6.0]
    print(f"{len(regions)} region(s) above the lesion-free scan's maximum {normal['score']:.4f}; "
          f"{len(at_lesion)} at the lesion" + (f", the largest {max(r['volume_mm3'] for r in at_lesion):.0f} mm3 "
          f"(the lesion sphere: {sphere:.0f} mm3)" if at_lesion else ""))
    if strict:
        if not lesion["calibrated_score"] > normal["calibrated_score"]:
            failures.append("the scan with the lesion does not score above the same scan without it")
        # The regions are those above the lesion-free scan's own maximum (VolumeLesionDetection.sh):
        # voxels more anomalous than anything in the normal brain. One of them must be the lesion.
        if not at_lesion:
            failures.append("no region above the lesion-free scan's maximum lies at the lesion")
        elif not max(r["volume_mm3"] for r in at_lesion) <= 2.0 * sphere:
            failures.append("the region at the lesion is far larger than the lesion")
    for failure in failures:
        print("FAILED: " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
