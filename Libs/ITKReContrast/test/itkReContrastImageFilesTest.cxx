/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Image files that nobody checked: refused with one sentence before ITK reads them; written whole or
 *  not at all. (Every entry point's answers: Testing/CLI/bad_input_table.py.)
 *
 *=========================================================================*/
#include "itkReContrastExceptionText.h"
#include "itkReContrastGeometryCheck.h"
#include "itkReContrastImageFiles.h"

#include "itkImage.h"
#include "itkImageFileWriter.h"
#include "itkRGBPixel.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <thread>
#include <vector>

namespace
{
namespace fs = std::filesystem;
using ImageType = itk::Image<float, 3>;

class ReContrastImageFiles : public ::testing::Test
{
protected:
  void SetUp() override
  {
    m_Folder = fs::temp_directory_path() / ("recontrast-image-files-" + std::to_string(::getpid()));
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }
  void TearDown() override { fs::remove_all(m_Folder); }

  std::string File(const std::string & name) const { return (m_Folder / name).string(); }

  static ImageType::Pointer Volume()
  {
    auto image = ImageType::New();
    image->SetRegions(ImageType::SizeType{ { 16, 12, 6 } });
    image->Allocate();
    float * values = image->GetBufferPointer();
    for (size_t i = 0; i < image->GetLargestPossibleRegion().GetNumberOfPixels(); ++i)
    {
      values[i] = static_cast<float>(i % 97);
    }
    return image;
  }

  // The sentence of the exception `read` throws.
  template <typename TRead>
  static std::string Refusal(TRead read)
  {
    try
    {
      read();
    }
    catch (const itk::ExceptionObject & e)
    {
      return itk::ReContrastExceptionText(e);
    }
    return "(no exception)";
  }

  fs::path m_Folder;
};

TEST_F(ReContrastImageFiles, WrittenFilesReadBackExactlyAndLeaveNoTemporaryFile)
{
  const ImageType::Pointer image = Volume();
  for (const char * name : { "map.nii.gz", "map.nii", "map.mha", "map.nrrd" })
  {
    itk::ReContrastWriteImageFile(image.GetPointer(), File(name));
    const ImageType::Pointer back = itk::ReContrastReadImageFile<ImageType>(File(name));
    ASSERT_EQ(back->GetLargestPossibleRegion(), image->GetLargestPossibleRegion()) << name;
    EXPECT_TRUE(std::equal(image->GetBufferPointer(),
                           image->GetBufferPointer() + image->GetLargestPossibleRegion().GetNumberOfPixels(),
                           back->GetBufferPointer()))
      << name;
  }
  for (const auto & entry : fs::directory_iterator(m_Folder))
  {
    EXPECT_NE(entry.path().filename().string().rfind(".partial", 0), 0u) << entry.path();
  }
  EXPECT_NE(Refusal([&] { itk::ReContrastWriteImageFile(image.GetPointer(), File("two.mhd")); }).find("two files"),
            std::string::npos);
}

TEST_F(ReContrastImageFiles, TruncatedAndNonFiniteFilesAreRefusedWithOneSentence)
{
  ImageType::Pointer image = Volume();
  itk::ReContrastWriteImageFile(image.GetPointer(), File("whole.nii"), false);
  const auto size = fs::file_size(File("whole.nii"));
  fs::copy_file(File("whole.nii"), File("cut.nii"));
  fs::resize_file(File("cut.nii"), size - 100);
  const std::string cut = Refusal([&] { itk::ReContrastReadImageFile<ImageType>(File("cut.nii")); });
  EXPECT_NE(cut.find("is truncated or its header lies"), std::string::npos) << cut;
  EXPECT_EQ(cut.find('\n'), std::string::npos) << cut;

  image->GetBufferPointer()[5] = std::nanf("");
  itk::ReContrastWriteImageFile(image.GetPointer(), File("nan.nii"), false);
  const std::string nan = Refusal([&] { itk::ReContrastReadImageFile<ImageType>(File("nan.nii")); });
  EXPECT_NE(nan.find("1 voxels that are not finite"), std::string::npos) << nan;

  std::ofstream(File("empty.png")).close();
  EXPECT_NE(Refusal([&] { itk::ReContrastCheckImageFile(File("empty.png")); }).find("is empty"), std::string::npos);
  std::ofstream(File("words.png")) << "not a picture";
  EXPECT_NE(Refusal([&] { itk::ReContrastCheckImageFile(File("words.png")); }).find("PNG signature"),
            std::string::npos);
}

// A compressed file is decompressed once: its length and its float values are judged in one pass,
// over pieces of the data that need not end at a voxel's end.
TEST_F(ReContrastImageFiles, CompressedFilesAreJudgedWholeInOnePass)
{
  auto image = ImageType::New();
  image->SetRegions(ImageType::SizeType{ { 64, 64, 80 } }); // 1.25 MiB of data: more than one piece
  image->Allocate();
  image->FillBuffer(1.0f);
  const size_t count = image->GetLargestPossibleRegion().GetNumberOfPixels();
  for (const size_t i : { size_t{ 0 }, size_t{ 262100 }, count - 1 })
  {
    image->GetBufferPointer()[i] = i == 0 ? std::nanf("") : std::numeric_limits<float>::infinity();
  }
  itk::ReContrastWriteImageFile(image.GetPointer(), File("three.nii.gz"));
  const std::string three = Refusal([&] { itk::ReContrastReadImageFileInformation(File("three.nii.gz")); });
  EXPECT_NE(three.find("holds 3 voxels that are not finite"), std::string::npos) << three;

  image->FillBuffer(2.0f);
  itk::ReContrastWriteImageFile(image.GetPointer(), File("whole.nii.gz"));
  const itk::ImageIOBase::Pointer io = itk::ReContrastReadImageFileInformation(File("whole.nii.gz"));
  EXPECT_EQ(io->GetNumberOfDimensions(), 3u);
  EXPECT_EQ(io->GetDimensions(2), 80u);
  const ImageType::Pointer back = itk::ReContrastReadImageFile<ImageType>(File("whole.nii.gz"), io);
  EXPECT_EQ(back->GetPixel({ { 63, 63, 79 } }), 2.0f);

  std::ofstream(File("notes.txt")) << "a list of scans, not an image";
  const std::string foreign = Refusal([&] { itk::ReContrastReadImageFileInformation(File("notes.txt")); });
  EXPECT_NE(foreign.find("is not an image file that ITK can read"), std::string::npos) << foreign;
}

TEST_F(ReContrastImageFiles, EightBitPicturesAreToldFromScansByTheirReaderAndPixelType)
{
  // Written by ITK's own writers: what the reader reports decides, not the name alone.
  const auto write = [&](auto image, const std::string & name) {
    using WrittenType = typename std::remove_reference_t<decltype(*image)>;
    auto writer = itk::ImageFileWriter<WrittenType>::New();
    writer->SetInput(image);
    writer->SetFileName(File(name));
    writer->Update();
    return itk::ReContrastIsEightBitPicture(*itk::ReContrastReadImageFileInformation(File(name)));
  };
  const auto plane = [](auto image) {
    typename std::remove_reference_t<decltype(*image)>::SizeType size = { { 8, 6 } };
    image->SetRegions(size);
    image->Allocate(true);
    return image;
  };
  const auto volume = [](auto image) {
    typename std::remove_reference_t<decltype(*image)>::SizeType size = { { 8, 6, 4 } };
    image->SetRegions(size);
    image->Allocate(true);
    return image;
  };
  using Grey8 = itk::Image<unsigned char, 2>;
  using Grey16 = itk::Image<unsigned short, 2>;
  using Colour8 = itk::Image<itk::RGBPixel<unsigned char>, 2>;
  for (const char * name : { "grey.png", "grey.jpg" })
  {
    EXPECT_TRUE(write(plane(Grey8::New()), name)) << name;
  }
  for (const char * name : { "colour.png", "colour.jpg" })
  {
    EXPECT_TRUE(write(plane(Colour8::New()), name)) << name;
  }
  // 16-bit pictures hold measurements (X-ray detectors, microscopes): not bytes.
  EXPECT_FALSE(write(plane(Grey16::New()), "grey16.png"));
  // Scan formats are scans whatever their pixel type.
  for (const char * name : { "bytes.nii.gz", "bytes.nrrd", "bytes.mha" })
  {
    EXPECT_FALSE(write(volume(itk::Image<unsigned char, 3>::New()), name)) << name;
  }
  EXPECT_FALSE(write(plane(Grey8::New()), "plane.nii"));
  EXPECT_FALSE(write(volume(itk::Image<short, 3>::New()), "ct.nii.gz"));
}

TEST_F(ReContrastImageFiles, GeometryThatCannotPlaceTheImageIsRefused)
{
  ImageType::Pointer image = Volume();
  EXPECT_NO_THROW(itk::ReContrastCheckGeometry(image.GetPointer(), "The scan"));
  // (A NaN spacing cannot be set at all: ITK's inverse of the direction aborts in vnl; files with one
  // are refused by ReContrastCheckImageFile before ITK reads them.)
  ImageType::PointType origin;
  origin.Fill(0.0);
  origin[2] = HUGE_VAL;
  image->SetOrigin(origin);
  EXPECT_NE(Refusal([&] { itk::ReContrastCheckGeometry(image.GetPointer(), "The scan"); }).find("origin"),
            std::string::npos);
}

TEST_F(ReContrastImageFiles, ReadingInSeveralThreadsAtOnceKeepsStderrWorking)
{
  // Training reads scans in parallel threads; the stderr guard of each read must not leave stderr
  // pointing at a closed pipe (a write there would end the process with SIGPIPE).
  const ImageType::Pointer image = Volume();
  itk::ReContrastWriteImageFile(image.GetPointer(), File("scan.nii.gz"));
  std::vector<std::thread> readers;
  for (int t = 0; t < 4; ++t)
  {
    readers.emplace_back([&] {
      for (int i = 0; i < 20; ++i)
      {
        itk::ReContrastReadImageFile<ImageType>(File("scan.nii.gz"));
      }
    });
  }
  for (auto & reader : readers)
  {
    reader.join();
  }
  EXPECT_GE(std::fprintf(stderr, "stderr still works\n"), 0);
  EXPECT_GE(std::fflush(stderr), 0);
}

} // namespace
