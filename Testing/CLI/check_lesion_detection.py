#!/usr/bin/env python3
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
    map_path, lesion_report, normal_report = sys.argv[1:4]
    index = np.array([float(v) for v in sys.argv[4:7]])
    radius = float(sys.argv[7])
    values, directions, origin = read_nrrd(map_path)
    centre = origin + directions @ index
    peak_index = np.array(np.unravel_index(np.argmax(values), values.shape)[::-1], dtype=float)
    peak = origin + directions @ peak_index
    lesion = json.load(open(lesion_report))
    normal = json.load(open(normal_report))
    regions = lesion["regions"]
    sphere = 4.0 / 3.0 * math.pi * radius ** 3
    print(f"calibrated score: {lesion['calibrated_score']:.2f} with the lesion, {normal['calibrated_score']:.2f} without")
    print(f"map peak {np.linalg.norm(peak - centre):.1f} mm from the lesion centre")
    failures = []
    if not lesion["calibrated_score"] >= 3.0:
        failures.append("the lesion scan is less than 3 standard deviations above normal")
    if not normal["calibrated_score"] < lesion["calibrated_score"] - 1.0:
        failures.append("the scan without the lesion scores as high as with it")
    if not np.linalg.norm(peak - centre) <= radius + 6.0:
        failures.append("the map's peak is not at the lesion")
    if not regions:
        failures.append("no anomalous region above the recommended threshold")
    else:
        top = regions[0]  # label 1: the highest maximum
        centroid = np.array(top["centroid"])
        distance = float(np.linalg.norm(centroid - centre))
        print(f"region 1: {top['volume_mm3']:.0f} mm3 (the lesion sphere: {sphere:.0f} mm3), centroid {distance:.1f} mm "
              f"from the lesion centre; {len(regions)} region(s) in all")
        if distance > radius:
            failures.append("the most anomalous region is not at the lesion")
        # The small random-init model marks the lesion's rim more than its uniform interior (region
        # centroids 11-12 mm from the centre of the 15 mm sphere), so its region is a part of the
        # sphere: 0.24 of it and 0.09 in two trainings that differ only by rounding.
        if not 0.05 * sphere <= top["volume_mm3"] <= 2.0 * sphere:
            failures.append("the most anomalous region's size is not of the lesion's order")
    for failure in failures:
        print("FAILED: " + failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
