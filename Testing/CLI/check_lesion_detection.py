#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Checks VolumeLesionDetection.sh's outputs: the lesion scan scores far above the same scan without
the lesion, the map's peak and the most anomalous region lie at the lesion, and that region's size is
of the lesion's order. Prints the measured values.

Usage: check_lesion_detection.py <map.nrrd> <lesion-report.json> <normal-report.json> <i> <j> <k> <radius-mm>
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
    lesion_map, normal_map, lesion_report, normal_report = sys.argv[1:5]
    index = np.array([float(v) for v in sys.argv[5:8]])
    radius = float(sys.argv[8])
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
    # The score alone is a thin signal for this small model (its maximum moves by 0.3 to 2 standard
    # deviations with the lesion, from training to training): it must rise, not by a set margin.
    if not lesion["calibrated_score"] > normal["calibrated_score"]:
        failures.append("the scan with the lesion does not score above the same scan without it")
    if not rise_inside >= 3.0 * max(rise_elsewhere, 0.0) + 0.01:
        failures.append("the map does not rise at the lesion more than elsewhere")
    # The regions are those above the lesion-free scan's own maximum (VolumeLesionDetection.sh):
    # voxels more anomalous than anything in the normal brain. One of them must be the lesion.
    at_lesion = [r for r in regions if np.linalg.norm(np.array(r["centroid"]) - centre) <= radius + 6.0]
    print(f"{len(regions)} region(s) above the lesion-free scan's maximum {normal['score']:.4f}; "
          f"{len(at_lesion)} at the lesion" + (f", the largest {max(r['volume_mm3'] for r in at_lesion):.0f} mm3 "
          f"(the lesion sphere: {sphere:.0f} mm3)" if at_lesion else ""))
    if not at_lesion:
        failures.append("no region above the lesion-free scan's maximum lies at the lesion")
    elif not max(r["volume_mm3"] for r in at_lesion) <= 2.0 * sphere:
        failures.append("the region at the lesion is far larger than the lesion")
    for failure in failures:
        print("FAILED: " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
