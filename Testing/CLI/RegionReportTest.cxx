/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The regions of a report: the filter's typed table written as the report's JSON.
 *
 *=========================================================================*/
#include "RegionReport.h"
#include "itkReContrastAnomalyRegionsImageFilter.h"

#include <gtest/gtest.h>

#include <limits>

namespace
{
using Map3D = itk::Image<float, 3>;
using Map2D = itk::Image<float, 2>;

template <typename TImage>
typename TImage::Pointer
MakeMap(const typename TImage::SizeType & size)
{
  auto map = TImage::New();
  map->SetRegions(size);
  map->Allocate();
  map->FillBuffer(0.0f);
  return map;
}

TEST(RegionReport, JsonHoldsEveryRegionOfTheFilterInItsOrder)
{
  auto map = MakeMap<Map3D>({ { 12, 10, 8 } });
  Map3D::SpacingType spacing;
  spacing[0] = 0.5;
  spacing[1] = 0.75;
  spacing[2] = 2.0;
  map->SetSpacing(spacing);
  Map3D::PointType origin;
  origin[0] = -3.0;
  origin[1] = 4.0;
  origin[2] = 10.0;
  map->SetOrigin(origin);
  for (itk::IndexValueType x = 1; x < 4; ++x)
  {
    map->SetPixel({ { x, 2, 3 } }, 2.0f + static_cast<float>(x));
  }
  map->SetPixel({ { 9, 8, 6 } }, 9.0f);
  auto filter = itk::ReContrastAnomalyRegionsImageFilter<Map3D>::New();
  filter->SetInput(map);
  filter->SetThreshold(1.0);
  filter->Update();
  const auto & regions = filter->GetRegions();
  ASSERT_EQ(regions.size(), 2u);

  const nlohmann::json json = nlohmann::json::parse(recontrast::cli::RegionsJson(regions).dump());
  ASSERT_TRUE(json.is_array());
  ASSERT_EQ(json.size(), regions.size());
  for (std::size_t r = 0; r < regions.size(); ++r)
  {
    const auto & object = json[r];
    EXPECT_EQ(object["label"].get<itk::SizeValueType>(), regions[r].Label);
    EXPECT_EQ(object["voxels"].get<itk::SizeValueType>(), regions[r].VoxelCount);
    EXPECT_DOUBLE_EQ(object["volume_mm3"].get<double>(), regions[r].PhysicalVolume);
    EXPECT_DOUBLE_EQ(object["max_score"].get<double>(), regions[r].MaximumScore);
    EXPECT_DOUBLE_EQ(object["mean_score"].get<double>(), regions[r].MeanScore);
    ASSERT_EQ(object["centroid"].size(), 3u);
    for (unsigned int d = 0; d < 3; ++d)
    {
      EXPECT_DOUBLE_EQ(object["centroid"][d].get<double>(), regions[r].Centroid[d]);
      EXPECT_DOUBLE_EQ(object["peak"][d].get<double>(), regions[r].PeakPoint[d]);
      EXPECT_EQ(object["bbox"]["start"][d].get<long>(), regions[r].BoundingBox.GetIndex(d));
      EXPECT_EQ(object["bbox"]["size"][d].get<itk::SizeValueType>(), regions[r].BoundingBox.GetSize(d));
    }
  }
  EXPECT_EQ(json[0]["voxels"].get<int>(), 1); // the hottest region comes first
  EXPECT_EQ(json[1]["bbox"]["size"], nlohmann::json::array({ 3, 1, 1 }));

  const auto outputs = recontrast::cli::RegionReturnParameters(json);
  ASSERT_EQ(outputs.size(), 2u);
  EXPECT_EQ(outputs[0].second, "2");
  EXPECT_EQ(outputs[1].second, "2.25"); // three voxels of 0.75 mm^3
}

TEST(RegionReport, TwoDimensionalRegionsHaveAnArea)
{
  std::vector<itk::ReContrastAnomalyRegion<2>> regions(1);
  regions[0].Label = 1;
  regions[0].VoxelCount = 4;
  regions[0].PhysicalVolume = 1.5;
  const nlohmann::json json = recontrast::cli::RegionsJson(regions);
  EXPECT_DOUBLE_EQ(json[0]["area_mm2"].get<double>(), 1.5);
  EXPECT_FALSE(json[0].contains("volume_mm3"));
  EXPECT_EQ(json[0]["centroid"].size(), 2u);
  EXPECT_EQ(recontrast::cli::RegionReturnParameters(json)[1].second, "1.5");
  EXPECT_EQ(recontrast::cli::RegionReturnParameters(nlohmann::json::array())[1].second, "0");
}

TEST(RegionReport, NonFiniteNumbersStayValidJson)
{
  std::vector<itk::ReContrastAnomalyRegion<3>> regions(1);
  regions[0].Label = 1;
  regions[0].VoxelCount = 1;
  regions[0].MaximumScore = std::numeric_limits<double>::infinity();
  regions[0].MeanScore = std::numeric_limits<double>::quiet_NaN();
  const auto json = nlohmann::json::parse(recontrast::cli::RegionsJson(regions).dump());
  EXPECT_TRUE(json[0]["max_score"].is_null());
  EXPECT_TRUE(json[0]["mean_score"].is_null());
}
} // namespace
