/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The DICOM series reader on real files, against ITK's GDCM reader (geometry and values).
 *
 *=========================================================================*/
#include "DicomTestData.h"
#include "ReContrast/DicomSeriesReader.h"
#include "ReContrast/Error.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"

#include "itkGDCMImageIO.h"
#include "itkGDCMSeriesFileNames.h"
#include "itkImageFileReader.h"
#include "itkImageSeriesReader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>

namespace
{
using namespace recontrast::dicom;
using namespace recontrast::dicom::test;
using ::testing::HasSubstr;
using VolumeType = Series::VolumeType;

VolumeType::Pointer
ReadWithGdcm(const std::string & folder)
{
  auto names = itk::GDCMSeriesFileNames::New();
  names->SetDirectory(folder);
  auto reader = itk::ImageSeriesReader<VolumeType>::New();
  reader->SetImageIO(itk::GDCMImageIO::New());
  reader->SetFileNames(names->GetFileNames(names->GetSeriesUIDs().front()));
  reader->Update();
  return reader->GetOutput();
}

VolumeType::Pointer
ReadFileWithGdcm(const std::string & file)
{
  auto reader = itk::ImageFileReader<VolumeType>::New();
  reader->SetImageIO(itk::GDCMImageIO::New());
  reader->SetFileName(file);
  reader->Update();
  return reader->GetOutput();
}

void
ExpectSameVolume(const VolumeType * actual, const VolumeType * expected)
{
  ASSERT_EQ(actual->GetLargestPossibleRegion().GetSize(), expected->GetLargestPossibleRegion().GetSize());
  for (unsigned int i = 0; i < 3; ++i)
  {
    EXPECT_NEAR(actual->GetOrigin()[i], expected->GetOrigin()[i], 1e-3) << "origin " << i;
    // One slice has no spacing between slices: GDCM says 1, this reader the slice thickness.
    if (i < 2 || actual->GetLargestPossibleRegion().GetSize()[2] > 1)
    {
      EXPECT_NEAR(actual->GetSpacing()[i], expected->GetSpacing()[i], 1e-3) << "spacing " << i;
    }
    for (unsigned int j = 0; j < 3; ++j)
    {
      EXPECT_NEAR(actual->GetDirection()[i][j], expected->GetDirection()[i][j], 1e-5) << "direction " << i << j;
    }
  }
  const size_t n = actual->GetLargestPossibleRegion().GetNumberOfPixels();
  const float * a = actual->GetBufferPointer();
  const float * b = expected->GetBufferPointer();
  size_t different = 0;
  for (size_t i = 0; i < n; ++i)
  {
    different += std::abs(a[i] - b[i]) > 1e-3f * std::max(1.0f, std::abs(b[i]));
  }
  EXPECT_EQ(different, 0u) << "of " << n << " voxels";
}

std::string
ErrorOf(const std::string & folder, const SeriesReadOptions & options = {})
{
  try
  {
    ReadSeries(folder, options);
  }
  catch (const recontrast::Error & e)
  {
    return e.what();
  }
  return "(no error)";
}

TEST(DicomSeriesReader, SeriesHasTheGeometryAndValuesGdcmReads)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  const Series series = ReadSeries(SharedSeries().string());
  const auto expected = ReadWithGdcm(SharedSeries().string());
  ExpectSameVolume(series.volume, expected);
  ASSERT_EQ(series.slices.size(), 20u);
  EXPECT_FALSE(series.seriesInstanceUid.empty());
  EXPECT_FALSE(series.studyInstanceUid.empty());
  EXPECT_EQ(series.modality, "MR");
  for (const SourceImage & slice : series.slices)
  {
    EXPECT_EQ(slice.sopClassUid, "1.2.840.10008.5.1.4.1.1.4");
    EXPECT_FALSE(slice.sopInstanceUid.empty());
    EXPECT_EQ(slice.frameNumber, 0u);
  }
}

TEST(DicomSeriesReader, SingleImagesFromDebianPackagesMatchGdcm)
{
  const fs::path samples = fs::path(RECONTRAST_SHARED_DATA_DIR) / "debian_npm_medical_samples";
  int compared = 0;
  for (const fs::path & file : { samples / "dicom3tools" / "0051.dcm",
                                 samples / "octave-dicom" / "CT-MONO2-16-ankle.dcm",
                                 PydicomFiles() / "MR_small.dcm",
                                 PydicomFiles() / "CT_small.dcm",
                                 PydicomFiles() / "image_dfl.dcm" /* deflated */ })
  {
    SCOPED_TRACE(file.string());
    if (!fs::exists(file))
    {
      std::cout << "skipped: " << file << " is absent\n";
      continue;
    }
    ++compared;
    ScratchFolder folder;
    const fs::path copy = folder.Add(file);
    ExpectSameVolume(ReadSeries(folder.String()).volume, ReadFileWithGdcm(copy.string()));
  }
  if (compared == 0)
  {
    GTEST_SKIP() << "none of the sample files is present";
  }
}

TEST(DicomSeriesReader, FileNamesAndOrderDoNotMatter)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  ScratchFolder folder;
  auto files = SharedSeriesFiles();
  std::reverse(files.begin(), files.end());
  // Names that sort in a third order, unrelated to the position and to Instance Number.
  for (size_t i = 0; i < files.size(); ++i)
  {
    folder.Add(files[i], "img" + std::to_string((i * 7) % files.size()) + "x");
  }
  const Series shuffled = ReadSeries(folder.String());
  const Series ordered = ReadSeries(SharedSeries().string());
  ExpectSameVolume(shuffled.volume, ordered.volume);
  for (size_t k = 0; k < ordered.slices.size(); ++k)
  {
    EXPECT_EQ(shuffled.slices[k].sopInstanceUid, ordered.slices[k].sopInstanceUid) << "slice " << k;
  }
}

TEST(DicomSeriesReader, MissingSliceIsRefusedAndNamed)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  ScratchFolder folder;
  const auto files = SharedSeriesFiles();
  const Series full = ReadSeries(SharedSeries().string());
  for (const auto & file : files)
  {
    if (file.string() != full.slices[10].file)
    {
      folder.Add(file);
    }
  }
  const std::string message = ErrorOf(folder.String());
  EXPECT_THAT(message, HasSubstr("is missing 1 slice(s) between"));
  EXPECT_THAT(message, HasSubstr(fs::path(full.slices[9].file).filename().string()));
  EXPECT_THAT(message, HasSubstr(fs::path(full.slices[11].file).filename().string()));
}

TEST(DicomSeriesReader, TwoSeriesInOneFolderReadsTheLargestOrTheOneAskedFor)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder folder;
  for (const auto & file : SharedSeriesFiles())
  {
    folder.Add(file);
  }
  const fs::path small = folder.Add(PydicomFiles() / "MR_small.dcm");
  const Series largest = ReadSeries(folder.String());
  EXPECT_EQ(largest.slices.size(), 20u);
  ASSERT_EQ(largest.notes.size(), 1u);
  EXPECT_THAT(largest.notes.front(), HasSubstr("Also in the folder and not read: series"));
  EXPECT_THAT(largest.notes.front(), HasSubstr("1 slice(s) of 64x64"));

  SeriesReadOptions options;
  options.seriesInstanceUid = "1.3.6.1.4.1.5962.1.3.4.1.20040826185059.5457";
  const Series other = ReadSeries(folder.String(), options);
  ASSERT_EQ(other.slices.size(), 1u);
  EXPECT_EQ(other.slices.front().file, small.string());
  ExpectSameVolume(other.volume, ReadFileWithGdcm(small.string()));

  options.seriesInstanceUid = "1.2.3.4";
  EXPECT_THAT(ErrorOf(folder.String(), options), HasSubstr("holds no DICOM images of the series 1.2.3.4"));
}

TEST(DicomSeriesReader, CompressedTransferSyntaxesDecodeToTheSameValues)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder plain;
  plain.Add(PydicomFiles() / "MR_small.dcm");
  const Series reference = ReadSeries(plain.String());
  for (const char * name :
       { "MR_small_RLE.dcm", "MR_small_jpeg_ls_lossless.dcm", "MR_small_bigendian.dcm", "MR_small_implicit.dcm" })
  {
    SCOPED_TRACE(name);
    ScratchFolder folder;
    folder.Add(PydicomFiles() / name);
    const Series series = ReadSeries(folder.String());
    ExpectSameVolume(series.volume, reference.volume);
  }
}

TEST(DicomSeriesReader, RescaleSlopeAndInterceptAreApplied)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "CT_small.dcm");
  ScratchFolder folder;
  const fs::path file = folder.Add(PydicomFiles() / "CT_small.dcm");
  const Series series = ReadSeries(folder.String());
  // GDCM applies the modality rescale too; CT_small's intercept is -1024.
  ExpectSameVolume(series.volume, ReadFileWithGdcm(file.string()));
  const float * values = series.volume->GetBufferPointer();
  EXPECT_LT(*std::min_element(values, values + 128 * 128), -500.0f) << "air in Hounsfield units";
}

TEST(DicomSeriesReader, LossyJpegDecodes)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "JPGExtended.dcm");
  ScratchFolder folder;
  const fs::path file = folder.Add(PydicomFiles() / "JPGExtended.dcm");
  const Series series = ReadSeries(folder.String());
  EXPECT_EQ(series.volume->GetLargestPossibleRegion().GetSize()[0], 256u);
  EXPECT_EQ(series.volume->GetLargestPossibleRegion().GetSize()[1], 1024u);
  const float * values = series.volume->GetBufferPointer();
  EXPECT_GT(*std::max_element(values, values + 256 * 1024), 0.0f);
}

TEST(DicomSeriesReader, NonDicomFilesAreSkippedWithANote)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder folder;
  folder.Add(PydicomFiles() / "MR_small.dcm");
  std::ofstream(folder.Path() / "README.txt") << "notes of the archive export\n";
  const Series series = ReadSeries(folder.String());
  EXPECT_EQ(series.slices.size(), 1u);
  ASSERT_EQ(series.notes.size(), 1u);
  EXPECT_EQ(series.notes.front(), "Skipped 'README.txt': not a DICOM file.");
}

TEST(DicomSeriesReader, DicomObjectsWithoutImagesAreSkipped)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "test-SR.dcm");
  ScratchFolder folder;
  folder.Add(PydicomFiles() / "MR_small.dcm");
  folder.Add(PydicomFiles() / "test-SR.dcm");
  const Series series = ReadSeries(folder.String());
  EXPECT_EQ(series.slices.size(), 1u);
  ASSERT_EQ(series.notes.size(), 1u);
  EXPECT_THAT(series.notes.front(), HasSubstr("Skipped 'test-SR.dcm': a DICOM object without an image"));
}

TEST(DicomSeriesReader, BadFilesGiveOneSentenceNamingTheFile)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_truncated.dcm");
  {
    ScratchFolder folder;
    const fs::path file = folder.Add(PydicomFiles() / "MR_truncated.dcm");
    const std::string message = ErrorOf(folder.String());
    EXPECT_THAT(message, HasSubstr(file.string()));
    EXPECT_THAT(message, HasSubstr("truncated"));
  }
  {
    ScratchFolder folder;
    const fs::path file = folder.Add(PydicomFiles() / "JPEG2000.dcm");
    const std::string message = ErrorOf(folder.String());
    EXPECT_THAT(message, HasSubstr(file.string()));
    EXPECT_THAT(message, HasSubstr("JPEG 2000"));
    EXPECT_THAT(message, HasSubstr("cannot be decoded here"));
  }
  {
    ScratchFolder folder;
    const fs::path file = folder.Add(PydicomFiles() / "SC_rgb_rle.dcm");
    EXPECT_THAT(ErrorOf(folder.String()), HasSubstr("is a colour image (RGB); volumes must be greyscale"));
  }
  {
    ScratchFolder folder;
    std::ofstream(folder.Path() / "notes.txt") << "nothing here\n";
    EXPECT_THAT(ErrorOf(folder.String()), HasSubstr("holds no DICOM images"));
  }
  EXPECT_THAT(ErrorOf("/nonexistent/folder"), HasSubstr("does not exist"));
}

TEST(DicomSeriesReader, AnUnreadableImageOfAnotherSeriesIsSkippedNotFatal)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "SC_rgb_rle_2frame.dcm");
  ScratchFolder folder;
  folder.Add(PydicomFiles() / "MR_small.dcm");
  folder.Add(PydicomFiles() / "SC_rgb_rle_2frame.dcm"); // multi-frame without positions, another series
  const Series series = ReadSeries(folder.String());
  EXPECT_EQ(series.slices.size(), 1u);
  ASSERT_FALSE(series.notes.empty());
  EXPECT_THAT(series.notes.back(), HasSubstr("Skipped 'SC_rgb_rle_2frame.dcm' of another series"));
  // Alone, or asked for, it is an error naming it.
  ScratchFolder alone;
  const fs::path file = alone.Add(PydicomFiles() / "SC_rgb_rle_2frame.dcm");
  EXPECT_THAT(ErrorOf(alone.String()), HasSubstr(file.string() + "' has 2 frames but no per-frame positions"));
}

TEST(DicomSeriesReader, SeveralVolumesAtOnePositionAreRefused)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  ScratchFolder folder;
  folder.Add(SharedSeriesFiles()[0], "a.dcm");
  folder.Add(SharedSeriesFiles()[1], "b.dcm");
  folder.Add(SharedSeriesFiles()[0], "c.dcm"); // the same slice again, as a second echo would be
  EXPECT_THAT(ErrorOf(folder.String()), HasSubstr("two slices at one position"));
}

// Copies the shared series with each slice's Image Position moved by k * shift (slice k in the
// series' order) and, when given, one slice pushed further along the normal.
void
CopyWithPositions(const ScratchFolder & folder, const std::array<double, 3> & shift, size_t pushed = 0,
                  double push = 0.0)
{
  const Series original = ReadSeries(SharedSeries().string());
  const auto normal = original.volume->GetDirection().GetVnlMatrix().get_column(2);
  for (size_t k = 0; k < original.slices.size(); ++k)
  {
    DcmFileFormat file;
    ASSERT_TRUE(file.loadFile(original.slices[k].file.c_str()).good());
    DcmDataset * dataset = file.getDataset();
    std::array<double, 3> position{};
    for (unsigned long i = 0; i < 3; ++i)
    {
      Float64 value = 0.0;
      ASSERT_TRUE(dataset->findAndGetFloat64(DCM_ImagePositionPatient, value, i).good());
      position[i] = value + static_cast<double>(k) * shift[i] + (pushed > 0 && k >= pushed ? push * normal[i] : 0.0);
    }
    char text[128];
    std::snprintf(text, sizeof(text), "%.4f\\%.4f\\%.4f", position[0], position[1], position[2]);
    ASSERT_TRUE(dataset->putAndInsertString(DCM_ImagePositionPatient, text).good());
    ASSERT_TRUE(file.saveFile((folder.Path() / ("slice" + std::to_string(k) + ".dcm")).string().c_str()).good());
  }
}

TEST(DicomSeriesReader, TiltedGantryIsRefused)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  ScratchFolder folder;
  // Each slice 1 mm sideways along the rows for ~7 mm along the normal: about 8 degrees of tilt.
  const Series original = ReadSeries(SharedSeries().string());
  const auto row = original.volume->GetDirection().GetVnlMatrix().get_column(0);
  CopyWithPositions(folder, { row[0], row[1], row[2] });
  const std::string message = ErrorOf(folder.String());
  EXPECT_THAT(message, HasSubstr("was acquired with a tilted gantry (8."));
}

TEST(DicomSeriesReader, UnevenSpacingIsRefused)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  ScratchFolder folder;
  CopyWithPositions(folder, { 0.0, 0.0, 0.0 }, 10, 3.0); // slices 10.. are 3 mm further: a 10 mm gap
  const std::string message = ErrorOf(folder.String());
  EXPECT_THAT(message, HasSubstr("has unevenly spaced slices"));
  EXPECT_THAT(message, HasSubstr("between 'slice9.dcm' and 'slice10.dcm'"));
}

} // namespace
