/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Test of the version string.
 *
 *=========================================================================*/
#include "ReContrast/Error.h"
#include "ReContrast/Version.h"

#include <gtest/gtest.h>

#include <regex>

TEST(Version, IsSemantic)
{
  EXPECT_TRUE(std::regex_match(recontrast::Version(), std::regex(R"(\d+\.\d+\.\d+)")));
  EXPECT_FALSE(recontrast::TorchVersion().empty());
}

TEST(Error, CarriesTheMessage)
{
  try
  {
    throw recontrast::Error("The model file 'x.rcm' is truncated.");
  }
  catch (const std::exception & e)
  {
    EXPECT_STREQ(e.what(), "The model file 'x.rcm' is truncated.");
  }
}
