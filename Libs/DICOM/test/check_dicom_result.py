# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Reads a Parametric Map or SEG written by the DICOM writers with pydicom (an independent reader)
and checks it against what the test expected. Exits non-zero with one line saying what differs.

Usage: check_dicom_result.py pmap|seg <object.dcm> <expected.raw float32, slice-major> <source files...>
"""
import sys

import numpy as np
import pydicom


def main():
    kind, path, expected_path = sys.argv[1:4]
    sources = [pydicom.dcmread(f, stop_before_pixels=True) for f in sys.argv[4:]]
    ds = pydicom.dcmread(path)
    source_uids = {s.SOPInstanceUID for s in sources}
    first = sources[0]
    assert ds.StudyInstanceUID == first.StudyInstanceUID, "not in the source's study"
    assert ds.SeriesInstanceUID != first.SeriesInstanceUID, "not a new series"
    assert ds.PatientID == first.get("PatientID", ""), "patient ID not copied"
    if "FrameOfReferenceUID" in first:
        assert ds.FrameOfReferenceUID == first.FrameOfReferenceUID, "another Frame of Reference"
    expected = np.fromfile(expected_path, dtype=np.float32)
    frames = int(ds.NumberOfFrames)
    expected = expected.reshape(frames, int(ds.Rows), int(ds.Columns))
    referenced = set()
    for item in ds.PerFrameFunctionalGroupsSequence:
        for derivation in item.DerivationImageSequence:
            for source in derivation.SourceImageSequence:
                referenced.add(source.ReferencedSOPInstanceUID)
    assert referenced == source_uids, "frames reference %d of %d source images" % (
        len(referenced & source_uids), len(source_uids))
    series_refs = ds.ReferencedSeriesSequence[0]
    assert series_refs.SeriesInstanceUID == first.SeriesInstanceUID, "references another series"
    assert {i.ReferencedSOPInstanceUID for i in series_refs.ReferencedInstanceSequence} == source_uids
    # Geometry, independently of the project's reader: each frame lies where its source image lies.
    by_uid = {s.SOPInstanceUID: s for s in sources}
    shared = ds.SharedFunctionalGroupsSequence[0]
    orientation = np.array(shared.PlaneOrientationSequence[0].ImageOrientationPatient, dtype=float)
    spacing = np.array(shared.PixelMeasuresSequence[0].PixelSpacing, dtype=float)
    for item in ds.PerFrameFunctionalGroupsSequence:
        source = by_uid[item.DerivationImageSequence[0].SourceImageSequence[0].ReferencedSOPInstanceUID]
        if "ImagePositionPatient" in source:
            position = np.array(item.PlanePositionSequence[0].ImagePositionPatient, dtype=float)
            assert np.abs(position - np.array(source.ImagePositionPatient, dtype=float)).max() < 1e-3, \
                "a frame is not where its source image is"
            assert np.abs(orientation - np.array(source.ImageOrientationPatient, dtype=float)).max() < 1e-5, \
                "the frames' orientation is not the source's"
            assert np.abs(spacing - np.array(source.PixelSpacing, dtype=float)).max() < 1e-5, \
                "the pixel spacing (row\\column) is not the source's"
    pixels = ds.pixel_array.reshape(frames, int(ds.Rows), int(ds.Columns))
    if kind == "pmap":
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.30", ds.SOPClassUID
        assert "FloatPixelData" in ds, "no float pixel data"
        difference = float(np.max(np.abs(pixels.astype(np.float64) - expected)))
        assert difference <= 1e-6, "pixel values differ by %g" % difference
        mapping = ds.SharedFunctionalGroupsSequence[0].RealWorldValueMappingSequence[0]
        assert mapping.MeasurementUnitsCodeSequence[0].CodeValue == "1"
    else:
        assert ds.SOPClassUID == "1.2.840.10008.5.1.4.1.1.66.4", ds.SOPClassUID
        assert ds.SegmentSequence[0].SegmentLabel == "Anomaly"
        assert ds.SegmentationType == "BINARY"
        different = int(np.count_nonzero(pixels.astype(bool) != (expected != 0)))
        assert different == 0, "%d voxels of the mask differ" % different
    print("ok: %s with %d frames" % (kind, frames))


if __name__ == "__main__":
    try:
        main()
    except AssertionError as e:
        print("FAILED:", e)
        sys.exit(1)
