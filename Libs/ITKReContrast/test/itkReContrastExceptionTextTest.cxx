/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Exception sentences as users read them: without ITK's developer prefixes.
 *
 *=========================================================================*/
#include "itkReContrastExceptionText.h"
#include "itkReContrastForegroundMaskImageFilter.h"

#include "itkImage.h"

#include <gtest/gtest.h>

namespace
{

TEST(ReContrastExceptionText, AFilterErrorLosesTheClassNameAndAddress)
{
  using ImageType = itk::Image<float, 3>;
  auto constant = ImageType::New();
  constant->SetRegions(ImageType::SizeType{ { 8, 8, 4 } });
  constant->Allocate();
  constant->FillBuffer(0.0f);
  auto filter = itk::ReContrastForegroundMaskImageFilter<ImageType, itk::Image<unsigned char, 3>>::New();
  filter->SetInput(constant);
  try
  {
    filter->Update();
    FAIL() << "a constant image was given a foreground";
  }
  catch (const itk::ExceptionObject & e)
  {
    const std::string raw = e.GetDescription();
    EXPECT_NE(raw.find("ReContrastForegroundMaskImageFilter(0x"), std::string::npos) << raw;
    const std::string text = itk::ReContrastExceptionText(e);
    EXPECT_EQ(text.rfind("The image is constant", 0), 0u) << text;
    EXPECT_EQ(text.find("ITK ERROR"), std::string::npos) << text;
  }
}

TEST(ReContrastExceptionText, GenericErrorsAndPlainTextsKeepTheirSentence)
{
  try
  {
    itkGenericExceptionMacro("The scan 'a.nii' is empty.\n");
  }
  catch (const itk::ExceptionObject & e)
  {
    EXPECT_EQ(itk::ReContrastExceptionText(e), "The scan 'a.nii' is empty.");
  }
  const itk::ExceptionObject plain(__FILE__, __LINE__, "Values f(0x1) and g(2): nothing to strip.");
  EXPECT_EQ(itk::ReContrastExceptionText(plain), "Values f(0x1) and g(2): nothing to strip.");
  const itk::ExceptionObject notAnAddress(__FILE__, __LINE__, "ITK ERROR: Reader(0xzz): text");
  EXPECT_EQ(itk::ReContrastExceptionText(notAnAddress), "Reader(0xzz): text");
}

} // namespace
