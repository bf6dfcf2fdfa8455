/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The Parametric Map and SEG writers: objects that dicom3tools' dciodvfy accepts, that pydicom reads
 *  back with the map's values and the references to the source images, and that this project's
 *  reader reads back (an enhanced multi-frame image) on the source's grid.
 *
 *=========================================================================*/
#include "DicomTestData.h"
#include "ReContrast/DicomResultWriter.h"
#include "ReContrast/DicomSeriesReader.h"
#include "ReContrast/Error.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace
{
using namespace recontrast::dicom;
using namespace recontrast::dicom::test;
using ::testing::HasSubstr;

std::string
RunAndCapture(const std::string & command, int & status)
{
  std::string output;
  FILE * pipe = popen((command + " 2>&1").c_str(), "r");
  if (!pipe)
  {
    status = -1;
    return output;
  }
  std::array<char, 4096> buffer;
  while (fgets(buffer.data(), static_cast<int>(buffer.size()), pipe))
  {
    output += buffer.data();
  }
  status = pclose(pipe);
  return output;
}

// dciodvfy's verdict: its error lines (none is the pass). UIDs copied from the source are the
// source's business: some sample series use illegal roots, which the references must keep.
void
ExpectValidObject(const fs::path & file, const Series & source)
{
  std::vector<std::string> sourceUids{ source.studyInstanceUid, source.seriesInstanceUid, source.frameOfReferenceUid };
  for (const SourceImage & slice : source.slices)
  {
    sourceUids.push_back(slice.sopInstanceUid);
  }
  const std::string dciodvfy = RECONTRAST_DCIODVFY;
  if (dciodvfy.empty() || dciodvfy.find("NOTFOUND") != std::string::npos)
  {
    std::cout << "dciodvfy (dicom3tools) is absent; the object is not validated\n";
    return;
  }
  int status = 0;
  const std::string output = RunAndCapture("'" + dciodvfy + "' -new '" + file.string() + "'", status);
  // It names the IOD it recognised on its first line: proof that it ran and read the object.
  ASSERT_TRUE(output.find("ParametricMap") != std::string::npos || output.find("Segmentation") != std::string::npos)
    << "dciodvfy did not recognise " << file << ":\n"
    << output;
  std::istringstream lines(output);
  std::string line;
  std::string errors;
  while (std::getline(lines, line))
  {
    const bool fromSource = std::any_of(sourceUids.begin(), sourceUids.end(), [&](const std::string & uid) {
      return !uid.empty() && line.find("Illegal root for UID = <" + uid + ">") != std::string::npos;
    });
    if (line.rfind("Error", 0) == 0 && !fromSource)
    {
      errors += line + "\n";
    }
  }
  EXPECT_TRUE(errors.empty()) << "dciodvfy on " << file << ":\n" << output;
}

// pydicom reads the object back and compares it with the expected values and the sources.
void
ExpectPydicomAgrees(const std::string & kind, const fs::path & file, const std::vector<float> & expected,
                    const Series & source, const ScratchFolder & scratch)
{
  const std::string python = RECONTRAST_PYTHON_EXECUTABLE;
  if (python.empty())
  {
    std::cout << "no Python with pydicom; the object is not read back independently\n";
    return;
  }
  const fs::path raw = scratch.Path() / (kind + "-expected.raw");
  std::ofstream(raw, std::ios::binary)
    .write(reinterpret_cast<const char *>(expected.data()),
           static_cast<std::streamsize>(expected.size() * sizeof(float)));
  const fs::path script = fs::path(__FILE__).parent_path() / "check_dicom_result.py";
  std::string command =
    "'" + python + "' '" + script.string() + "' " + kind + " '" + file.string() + "' '" + raw.string() + "'";
  for (const SourceImage & slice : source.slices)
  {
    command += " '" + slice.file + "'";
  }
  int status = 0;
  const std::string output = RunAndCapture(command, status);
  EXPECT_EQ(status, 0) << output;
}

// A source series: the shared 20-slice MR brain when present, else pydicom's one-slice MR.
Series
SourceSeries(ScratchFolder & folder)
{
  if (fs::exists(SharedSeries() / "brain_001.dcm"))
  {
    return ReadSeries(SharedSeries().string());
  }
  folder.Add(PydicomFiles() / "MR_small.dcm");
  return ReadSeries(folder.String());
}

// The Series Instance UID of a written object, read by pydicom ("" without Python).
std::string
SeriesUidOf(const fs::path & file)
{
  const std::string python = RECONTRAST_PYTHON_EXECUTABLE;
  if (python.empty())
  {
    return {};
  }
  int status = 0;
  const std::string uid = RunAndCapture(
    "'" + python + "' -c \"import pydicom,sys; print(pydicom.dcmread(sys.argv[1]).SeriesInstanceUID, end='')\" '" +
      file.string() + "'",
    status);
  EXPECT_EQ(status, 0) << uid;
  return status == 0 ? uid : std::string();
}

// An empty label volume on the grid of `volume`.
LabelVolumeType::Pointer
LabelsLike(const Series::VolumeType * volume)
{
  auto labels = LabelVolumeType::New();
  labels->CopyInformation(volume);
  labels->SetRegions(volume->GetLargestPossibleRegion());
  labels->Allocate(true);
  return labels;
}

// A smooth map with a hot spot, on the source's grid.
MapVolumeType::Pointer
MapLike(const Series & source)
{
  auto map = MapVolumeType::New();
  map->CopyInformation(source.volume);
  map->SetRegions(source.volume->GetLargestPossibleRegion());
  map->Allocate();
  const auto size = map->GetLargestPossibleRegion().GetSize();
  float * values = map->GetBufferPointer();
  for (size_t z = 0; z < size[2]; ++z)
  {
    for (size_t y = 0; y < size[1]; ++y)
    {
      for (size_t x = 0; x < size[0]; ++x)
      {
        const double dx = double(x) - 0.6 * size[0];
        const double dy = double(y) - 0.4 * size[1];
        const double dz = double(z) - 0.5 * size[2];
        values[(z * size[1] + y) * size[0] + x] =
          static_cast<float>(0.1 + 0.8 * std::exp(-(dx * dx + dy * dy) / 200.0 - dz * dz / 8.0) + 1e-4 * x);
      }
    }
  }
  return map;
}

TEST(DicomResultWriter, ParametricMapIsValidReferencesItsSourceAndReadsBack)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder scratch;
  ScratchFolder sourceFolder;
  const Series source = SourceSeries(sourceFolder);
  const auto map = MapLike(source);
  ResultDescription description;
  description.algorithmVersion = "test";
  description.modelDescription = "resnet18 test model";
  const fs::path file = scratch.Path() / "map.dcm";
  WriteParametricMap(map, source, description, file.string());
  ASSERT_TRUE(fs::exists(file));
  ExpectValidObject(file, source);
  const size_t n = map->GetLargestPossibleRegion().GetNumberOfPixels();
  ExpectPydicomAgrees(
    "pmap", file, std::vector<float>(map->GetBufferPointer(), map->GetBufferPointer() + n), source, scratch);

  // Results next to their scan are never taken for the scan; alone they are not a scan.
  ScratchFolder both;
  both.Add(file);
  for (const SourceImage & slice : source.slices)
  {
    both.Add(slice.file);
  }
  const Series scan = ReadSeries(both.String());
  EXPECT_EQ(scan.seriesInstanceUid, source.seriesInstanceUid);
  EXPECT_THAT(scan.notes.back(), HasSubstr("Parametric Maps or Segmentations"));
  try
  {
    ReadSeries(scratch.String());
    ADD_FAILURE() << "a Parametric Map was read as a scan";
  }
  catch (const recontrast::Error & e)
  {
    EXPECT_THAT(e.what(), HasSubstr("holds no DICOM images"));
  }
}

TEST(DicomResultWriter, ParametricMapReadsBackAsAnEnhancedMultiFrameVolume)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder scratch;
  ScratchFolder sourceFolder;
  const Series source = SourceSeries(sourceFolder);
  const auto map = MapLike(source);
  const fs::path file = scratch.Path() / "map.dcm";
  WriteParametricMap(map, source, ResultDescription{}, file.string());

  // Asked for by its Series Instance UID, the map is read like any enhanced image.
  const std::string uid = SeriesUidOf(file);
  if (uid.empty())
  {
    GTEST_SKIP() << "no Python with pydicom to find the map's series UID";
  }
  SeriesReadOptions options;
  options.seriesInstanceUid = uid;
  const Series read = ReadSeries(scratch.String(), options);
  ASSERT_EQ(read.volume->GetLargestPossibleRegion().GetSize(), map->GetLargestPossibleRegion().GetSize());
  for (unsigned int i = 0; i < 3; ++i)
  {
    EXPECT_NEAR(read.volume->GetOrigin()[i], map->GetOrigin()[i], 1e-4);
    EXPECT_NEAR(read.volume->GetSpacing()[i], map->GetSpacing()[i], 1e-4);
    for (unsigned int j = 0; j < 3; ++j)
    {
      EXPECT_NEAR(read.volume->GetDirection()[i][j], map->GetDirection()[i][j], 1e-5);
    }
  }
  const size_t n = map->GetLargestPossibleRegion().GetNumberOfPixels();
  for (size_t i = 0; i < n; i += 97)
  {
    ASSERT_FLOAT_EQ(read.volume->GetBufferPointer()[i], map->GetBufferPointer()[i]) << "voxel " << i;
  }
  ASSERT_EQ(read.slices.size(), source.slices.size());
  EXPECT_EQ(read.slices.front().frameNumber, 1u);
  EXPECT_EQ(read.slices.back().frameNumber, static_cast<unsigned int>(source.slices.size()));
}

TEST(DicomResultWriter, SegmentationOfAnEnhancedMultiFrameSourceReferencesItsFrames)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  const std::string python = RECONTRAST_PYTHON_EXECUTABLE;
  if (python.empty())
  {
    GTEST_SKIP() << "no Python with pydicom";
  }
  // The source: a Parametric Map (an enhanced multi-frame image) read as a series.
  ScratchFolder scratch;
  ScratchFolder sourceFolder;
  const Series scan = SourceSeries(sourceFolder);
  const fs::path mapFile = scratch.Path() / "map.dcm";
  WriteParametricMap(MapLike(scan), scan, ResultDescription{}, mapFile.string());
  const std::string uid = SeriesUidOf(mapFile);
  ASSERT_FALSE(uid.empty());
  int status = 0;
  SeriesReadOptions options;
  options.seriesInstanceUid = uid;
  const Series source = ReadSeries(scratch.String(), options);

  auto labels = LabelsLike(source.volume);
  labels->GetBufferPointer()[0] = 1;
  ScratchFolder output;
  const fs::path file = output.Path() / "regions.dcm";
  WriteSegmentation(labels, source, ResultDescription{}, file.string());
  ExpectValidObject(file, source);
  const std::string frames = RunAndCapture(
    "'" + python +
      "' -c \"import pydicom,sys; d=pydicom.dcmread(sys.argv[1]); print(' '.join(str(f.DerivationImageSequence[0]."
      "SourceImageSequence[0].ReferencedFrameNumber) for f in d.PerFrameFunctionalGroupsSequence), end='')\" '" +
      file.string() + "'",
    status);
  ASSERT_EQ(status, 0) << frames;
  std::string expected;
  for (size_t k = 1; k <= source.slices.size(); ++k)
  {
    expected += (k > 1 ? " " : "") + std::to_string(k);
  }
  EXPECT_EQ(frames, expected) << "each SEG frame references the source frame it lies on";
}

TEST(DicomResultWriter, SegmentationIsValidAndHoldsTheRegions)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder scratch;
  ScratchFolder sourceFolder;
  const Series source = SourceSeries(sourceFolder);
  const auto map = MapLike(source);
  auto labels = LabelsLike(source.volume);
  const size_t n = labels->GetLargestPossibleRegion().GetNumberOfPixels();
  std::vector<float> expected(n);
  for (size_t i = 0; i < n; ++i)
  {
    labels->GetBufferPointer()[i] = map->GetBufferPointer()[i] > 0.5f ? (i % 2 ? 1 : 2) : 0; // two labels, one segment
    expected[i] = labels->GetBufferPointer()[i] != 0 ? 1.0f : 0.0f;
  }
  const fs::path file = scratch.Path() / "regions.dcm";
  WriteSegmentation(labels, source, ResultDescription{}, file.string());
  ASSERT_TRUE(fs::exists(file));
  ExpectValidObject(file, source);
  ExpectPydicomAgrees("seg", file, expected, source, scratch);
}

TEST(DicomResultWriter, RefusesAnotherGridAndLeavesNothingBehind)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder scratch;
  ScratchFolder sourceFolder;
  const Series source = SourceSeries(sourceFolder);
  auto map = MapVolumeType::New();
  MapVolumeType::SizeType size;
  size.Fill(3);
  map->SetRegions(size);
  map->Allocate(true);
  const fs::path file = scratch.Path() / "map.dcm";
  try
  {
    WriteParametricMap(map, source, ResultDescription{}, file.string());
    FAIL() << "another grid was written";
  }
  catch (const recontrast::Error & e)
  {
    EXPECT_THAT(e.what(), HasSubstr("is not the source series' grid"));
  }
  EXPECT_TRUE(fs::is_empty(scratch.Path()));
  EXPECT_THROW(WriteParametricMap(MapLike(source), source, ResultDescription{}, "/nonexistent/folder/map.dcm"),
               recontrast::Error);
}

} // namespace
