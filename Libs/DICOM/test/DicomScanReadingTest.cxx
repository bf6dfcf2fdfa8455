/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  One DICOM reader for training and inference: the ITK layer reads series folders through the
 *  DICOM layer's SeriesFolderReader, and a series gives the same model inputs both ways.
 *
 *=========================================================================*/
#include "DicomTestData.h"
#include "ReContrast/DicomSeriesReader.h"

#include "itkReContrastAnomalyImageFilter.h"
#include "itkReContrastForegroundMaskImageFilter.h"
#include "itkReContrastImageSlices.h"
#include "itkReContrastScanSampleSource.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

namespace
{
using namespace recontrast::dicom;
using namespace recontrast::dicom::test;
using ::testing::HasSubstr;

TEST(SeriesFolderReader, TrainingAndInferenceReadASeriesIdentically)
{
  RECONTRAST_REQUIRE_FILE(SharedSeries() / "brain_001.dcm");
  auto reader = std::make_shared<const SeriesFolderReader>();

  // Inference: `recontrast infer` reads the folder with the reader and the filter cuts the volume.
  const Series series = reader->Read(SharedSeries().string());
  using MaskType = itk::Image<unsigned char, 3>;
  const unsigned int axis = itk::ReContrastAxialAxis(series.volume->GetDirection());
  auto mask = itk::ReContrastForegroundMaskImageFilter<Series::VolumeType, MaskType>::New();
  mask->SetInput(series.volume);
  mask->SetSliceAxis(axis);
  mask->Update();
  itk::ReContrastScanSampleSource::Settings settings;
  settings.seriesReader = reader;
  const auto slices = itk::ReContrastSize3(series.volume.GetPointer())[axis];
  const auto inference = itk::ReContrastMakeScanSlices(
    series.volume.GetPointer(), mask->GetOutput()->GetBufferPointer(), axis, 0, slices - 1, settings.slices);

  // Training: the ITK layer reads the same folder through the ITK interface of the same reader.
  const auto training = itk::ReContrastReadScanSlices(SharedSeries().string(), settings);

  ASSERT_EQ(training->GetNumberOfSlices(), inference->GetNumberOfSlices());
  ASSERT_EQ(training->GetUsableSlices(), inference->GetUsableSlices());
  ASSERT_FALSE(training->GetUsableSlices().empty());
  constexpr unsigned int modelSize = 64;
  std::vector<float> a(3 * modelSize * modelSize);
  std::vector<float> b(a.size());
  for (const auto k : training->GetUsableSlices())
  {
    training->MakeModelInput(k, modelSize, a.data());
    inference->MakeModelInput(k, modelSize, b.data());
    ASSERT_EQ(a, b) << "slice " << k;
  }
}

TEST(SeriesFolderReader, NotesAreHandedOnOncePerFolder)
{
  RECONTRAST_REQUIRE_FILE(PydicomFiles() / "MR_small.dcm");
  ScratchFolder folder;
  folder.Add(PydicomFiles() / "MR_small.dcm");
  std::ofstream(folder.Path() / "README.txt") << "notes of the archive export\n";
  std::vector<std::string> notes;
  const SeriesFolderReader reader({},
                                  [&notes](const std::string &, const std::string & note) { notes.push_back(note); });
  reader.Read(folder.String());
  reader.ReadSeriesFolder(folder.String());
  ASSERT_EQ(notes.size(), 1u);
  EXPECT_EQ(notes.front(), "Skipped 'README.txt': not a DICOM file.");
}

TEST(SeriesFolderReader, ItsItkInterfaceThrowsOneSentenceNamingTheFolder)
{
  ScratchFolder folder;
  const SeriesFolderReader reader;
  try
  {
    reader.ReadSeriesFolder(folder.String());
    FAIL() << "an empty folder was read";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_THAT(e.GetDescription(), HasSubstr(folder.String()));
  }
}

TEST(SeriesFolderReader, WithoutAReaderTheItkLayerRefusesFolders)
{
  ScratchFolder folder;
  try
  {
    itk::ReContrastReadScanSlices(folder.String(), {});
    FAIL() << "a folder was read without a series reader";
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_THAT(e.GetDescription(), HasSubstr("reads no DICOM series folders"));
  }
}
} // namespace
