/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Fuzz target: an image file of untrusted bytes on its way into the filter: the project's file
 *  checks, ITK's reader, the geometry check and the foreground mask (the filter's input checks). The
 *  first byte chooses the format by the file name, as users' files do.
 *
 *=========================================================================*/
#include "FuzzSupport.h"

#include "ReContrast/Error.h"
#include "itkImage.h"
#include "itkImageIOFactory.h"
#include "itkReContrastForegroundMaskImageFilter.h"
#include "itkReContrastImageFiles.h"

namespace
{
template <unsigned int VDimension>
void
ReadAndMask(const std::string & path)
{
  using ImageType = itk::Image<float, VDimension>;
  using MaskType = itk::Image<unsigned char, VDimension>;
  typename ImageType::Pointer image = itk::ReContrastReadImageFile<ImageType>(path);
  auto mask = itk::ReContrastForegroundMaskImageFilter<ImageType, MaskType>::New();
  mask->SetInput(image);
  mask->Update();
}
} // namespace

extern "C" int
LLVMFuzzerInitialize(int *, char ***)
{
  itk::Object::GlobalWarningDisplayOff();
  return 0;
}

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t size)
{
  if (size < 1)
  {
    return 0;
  }
  static const char * const names[] = {
    "input.nii", "input.nii.gz", "input.nrrd", "input.mha", "input.png", "input.jpg"
  };
  const std::string path =
    recontrast::fuzz::WriteFile(recontrast::fuzz::FreshFolder() / names[data[0] % 6], data + 1, size - 1);
  try
  {
    itk::ReContrastCheckImageFile(path);
    itk::ImageIOBase::Pointer io =
      itk::ImageIOFactory::CreateImageIO(path.c_str(), itk::ImageIOFactory::IOFileModeEnum::ReadMode);
    if (!io)
    {
      return 0;
    }
    io->SetFileName(path);
    io->ReadImageInformation();
    // Images of more than 64 M voxels are the memory limit's business, not this target's.
    if (io->GetImageSizeInPixels() > (itk::ImageIOBase::SizeType{ 1 } << 26))
    {
      return 0;
    }
    if (io->GetNumberOfDimensions() == 2)
    {
      ReadAndMask<2>(path);
    }
    else if (io->GetNumberOfDimensions() == 3)
    {
      ReadAndMask<3>(path);
    }
  }
  catch (const itk::ExceptionObject &)
  {}
  catch (const recontrast::Error &)
  {}
  return 0;
}
