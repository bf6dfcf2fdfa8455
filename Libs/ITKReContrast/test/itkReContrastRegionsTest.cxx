/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Anomalous regions of anomaly maps: thresholds, labels, statistics and geometry.
 *
 *=========================================================================*/
#include "itkReContrastAnomalyRegionsImageFilter.h"

#include "itkImageRegionConstIterator.h"
#include "itkImageRegionIteratorWithIndex.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace
{

using Map3D = itk::Image<float, 3>;
using Map2D = itk::Image<float, 2>;
using Labels3D = itk::Image<unsigned short, 3>;
using Regions3D = itk::ReContrastAnomalyRegionsImageFilter<Map3D>;
using Regions2D = itk::ReContrastAnomalyRegionsImageFilter<Map2D>;

const double Pi = 3.14159265358979323846;
const double Degrees30 = Pi / 6.0;

template <typename TImage>
typename TImage::Pointer
MakeImage(const typename TImage::SizeType & size, float value = 0.0f)
{
  auto image = TImage::New();
  image->SetRegions(typename TImage::RegionType(size));
  image->Allocate();
  image->FillBuffer(value);
  return image;
}

// The geometry of the 3-D test map: anisotropic, shifted, rotated 30 degrees about z.
const double Spacing3D[3] = { 0.8, 0.8, 2.5 };
const double Origin3D[3] = { -12.5, 30.0, 7.25 };

// Independent of ITK's geometry code: x = origin + R_z(30) * (spacing * index).
std::array<double, 3>
PhysicalPoint3D(double i, double j, double k)
{
  const double c = std::cos(Degrees30);
  const double s = std::sin(Degrees30);
  const double u = Spacing3D[0] * i;
  const double v = Spacing3D[1] * j;
  const double w = Spacing3D[2] * k;
  return { Origin3D[0] + c * u - s * v, Origin3D[1] + s * u + c * v, Origin3D[2] + w };
}

// A box blob with one hot voxel, a ball blob and a one-voxel speck.
struct Synthetic3D
{
  Map3D::Pointer Map;
  // Box: index (5,4,3), size (4,3,2), value 2 with a peak of 5 at (7,5,4).
  Map3D::IndexType BoxPeak{ { 7, 5, 4 } };
  // Ball: centre (25,18,12), radius 3 voxels, value 6 - 0.25 * squared distance.
  Map3D::IndexType BallCentre{ { 25, 18, 12 } };
  itk::SizeValueType BallCount{ 0 };
  double BallSum{ 0.0 };
  Map3D::IndexType Speck{ { 35, 2, 18 } };
};

Synthetic3D
MakeSynthetic3D()
{
  Synthetic3D synthetic;
  synthetic.Map = MakeImage<Map3D>({ { 40, 30, 20 } }, 0.0f);
  Map3D::SpacingType spacing;
  Map3D::PointType origin;
  for (unsigned int d = 0; d < 3; ++d)
  {
    spacing[d] = Spacing3D[d];
    origin[d] = Origin3D[d];
  }
  Map3D::DirectionType direction;
  direction.SetIdentity();
  direction(0, 0) = std::cos(Degrees30);
  direction(0, 1) = -std::sin(Degrees30);
  direction(1, 0) = std::sin(Degrees30);
  direction(1, 1) = std::cos(Degrees30);
  synthetic.Map->SetSpacing(spacing);
  synthetic.Map->SetOrigin(origin);
  synthetic.Map->SetDirection(direction);

  // Background below the threshold but not constant, so the threshold matters.
  itk::ImageRegionIteratorWithIndex<Map3D> it(synthetic.Map, synthetic.Map->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    const Map3D::IndexType index = it.GetIndex();
    it.Set(0.1f * static_cast<float>((index[0] + 2 * index[1] + 3 * index[2]) % 7));

    const bool inBox =
      index[0] >= 5 && index[0] <= 8 && index[1] >= 4 && index[1] <= 6 && index[2] >= 3 && index[2] <= 4;
    if (inBox)
    {
      it.Set(index == synthetic.BoxPeak ? 5.0f : 2.0f);
    }
    long squaredDistance = 0;
    for (unsigned int d = 0; d < 3; ++d)
    {
      const long offset = index[d] - synthetic.BallCentre[d];
      squaredDistance += offset * offset;
    }
    if (squaredDistance <= 9)
    {
      const float value = 6.0f - 0.25f * static_cast<float>(squaredDistance);
      it.Set(value);
      ++synthetic.BallCount;
      synthetic.BallSum += value;
    }
  }
  synthetic.Map->SetPixel(synthetic.Speck, 4.0f);
  return synthetic;
}

void
ExpectPointNear(const itk::Point<double, 3> & actual, const std::array<double, 3> & expected)
{
  for (unsigned int d = 0; d < 3; ++d)
  {
    EXPECT_NEAR(actual[d], expected[d], 1e-9) << "coordinate " << d;
  }
}

// ---------------------------------------------------------------------------------------------
// Anomaly regions, 3-D

TEST(ReContrastAnomalyRegions, FindsBlobsInAnObliqueAnisotropicVolume)
{
  const Synthetic3D synthetic = MakeSynthetic3D();
  auto filter = Regions3D::New();
  filter->SetInput(synthetic.Map);
  filter->SetThreshold(1.0);
  filter->SetMinimumRegionSize(2); // drops the one-voxel speck
  filter->Update();

  const auto & regions = filter->GetRegions();
  ASSERT_EQ(regions.size(), 2u);
  const double voxelVolume = 0.8 * 0.8 * 2.5;

  // Label 1: the ball (peak 6), although the box comes first in raster order.
  const auto & ball = regions[0];
  EXPECT_EQ(ball.Label, 1u);
  EXPECT_EQ(synthetic.BallCount, 123u); // lattice points in a ball of radius 3
  EXPECT_EQ(ball.VoxelCount, synthetic.BallCount);
  EXPECT_NEAR(ball.PhysicalVolume, 123 * voxelVolume, 1e-9);
  EXPECT_DOUBLE_EQ(ball.MaximumScore, 6.0);
  EXPECT_NEAR(ball.MeanScore, synthetic.BallSum / 123.0, 1e-9);
  ExpectPointNear(ball.Centroid, PhysicalPoint3D(25, 18, 12));
  ExpectPointNear(ball.PeakPoint, PhysicalPoint3D(25, 18, 12));
  EXPECT_EQ(ball.BoundingBox.GetIndex(), (Map3D::IndexType{ { 22, 15, 9 } }));
  EXPECT_EQ(ball.BoundingBox.GetSize(), (Map3D::SizeType{ { 7, 7, 7 } }));

  const auto & box = regions[1];
  EXPECT_EQ(box.Label, 2u);
  EXPECT_EQ(box.VoxelCount, 24u);
  EXPECT_NEAR(box.PhysicalVolume, 24 * voxelVolume, 1e-9);
  EXPECT_DOUBLE_EQ(box.MaximumScore, 5.0);
  EXPECT_DOUBLE_EQ(box.MeanScore, (23 * 2.0 + 5.0) / 24.0);
  ExpectPointNear(box.Centroid, PhysicalPoint3D(6.5, 5.0, 3.5));
  ExpectPointNear(box.PeakPoint, PhysicalPoint3D(7, 5, 4));
  EXPECT_EQ(box.BoundingBox.GetIndex(), (Map3D::IndexType{ { 5, 4, 3 } }));
  EXPECT_EQ(box.BoundingBox.GetSize(), (Map3D::SizeType{ { 4, 3, 2 } }));

  // The label image: same geometry, labels where the regions are, nothing else.
  Labels3D::Pointer labels = filter->GetOutput();
  EXPECT_EQ(labels->GetLargestPossibleRegion(), synthetic.Map->GetLargestPossibleRegion());
  EXPECT_EQ(labels->GetOrigin(), synthetic.Map->GetOrigin());
  EXPECT_EQ(labels->GetSpacing(), synthetic.Map->GetSpacing());
  EXPECT_EQ(labels->GetDirection(), synthetic.Map->GetDirection());
  EXPECT_EQ(labels->GetPixel(synthetic.BallCentre), 1);
  EXPECT_EQ(labels->GetPixel(synthetic.BoxPeak), 2);
  EXPECT_EQ(labels->GetPixel(synthetic.Speck), 0);
  itk::SizeValueType counts[3] = { 0, 0, 0 };
  itk::ImageRegionConstIterator<Labels3D> it(labels, labels->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    ASSERT_LE(it.Get(), 2);
    ++counts[it.Get()];
  }
  EXPECT_EQ(counts[1], 123u);
  EXPECT_EQ(counts[2], 24u);
}

TEST(ReContrastAnomalyRegions, KeepsTheSpeckWithTheDefaultMinimumSize)
{
  const Synthetic3D synthetic = MakeSynthetic3D();
  auto filter = Regions3D::New();
  filter->SetInput(synthetic.Map);
  filter->SetThreshold(1.0);
  EXPECT_EQ(filter->GetMinimumRegionSize(), 1u);
  EXPECT_FALSE(filter->GetFullyConnected());
  filter->Update();

  const auto & regions = filter->GetRegions();
  ASSERT_EQ(regions.size(), 3u);
  EXPECT_DOUBLE_EQ(regions[0].MaximumScore, 6.0);
  EXPECT_DOUBLE_EQ(regions[1].MaximumScore, 5.0);
  EXPECT_DOUBLE_EQ(regions[2].MaximumScore, 4.0);
  EXPECT_EQ(regions[2].VoxelCount, 1u);
  EXPECT_EQ(regions[2].BoundingBox.GetIndex(), synthetic.Speck);
  EXPECT_EQ(regions[2].BoundingBox.GetSize(), (Map3D::SizeType{ { 1, 1, 1 } }));
  ExpectPointNear(regions[2].Centroid, PhysicalPoint3D(35, 2, 18));
  EXPECT_EQ(filter->GetOutput()->GetPixel(synthetic.Speck), 3);

  std::ostringstream description;
  filter->Print(description);
  EXPECT_NE(description.str().find("Threshold: 1"), std::string::npos);
  EXPECT_NE(description.str().find("Regions: 3"), std::string::npos);
}

TEST(ReContrastAnomalyRegions, NothingAboveTheThresholdGivesNoRegions)
{
  const Synthetic3D synthetic = MakeSynthetic3D();
  auto filter = Regions3D::New();
  filter->SetInput(synthetic.Map);
  filter->SetThreshold(100.0);
  ASSERT_NO_THROW(filter->Update());
  EXPECT_TRUE(filter->GetRegions().empty());
  itk::ImageRegionConstIterator<Labels3D> it(filter->GetOutput(), filter->GetOutput()->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    ASSERT_EQ(it.Get(), 0);
  }

  // Above the largest float: still no region, no overflow in the conversion.
  filter->SetThreshold(1e300);
  ASSERT_NO_THROW(filter->Update());
  EXPECT_TRUE(filter->GetRegions().empty());
}

TEST(ReContrastAnomalyRegions, ThresholdIsInclusiveAndExactInDouble)
{
  auto map = MakeImage<Map2D>({ { 7, 3 } });
  map->SetPixel({ { 1, 1 } }, 0.1f);                                   // 0.1f > 0.1: included
  map->SetPixel({ { 3, 1 } }, std::nextafter(0.1f, 0.0f));             // just below 0.1: excluded
  map->SetPixel({ { 5, 1 } }, std::numeric_limits<float>::infinity()); // above any threshold
  auto filter = Regions2D::New();
  filter->SetInput(map);
  filter->SetThreshold(0.1);
  filter->Update();
  ASSERT_EQ(filter->GetRegions().size(), 2u);
  EXPECT_EQ(filter->GetOutput()->GetPixel({ { 5, 1 } }), 1);
  EXPECT_EQ(filter->GetOutput()->GetPixel({ { 1, 1 } }), 2);
  EXPECT_EQ(filter->GetOutput()->GetPixel({ { 3, 1 } }), 0);

  filter->SetThreshold(std::numeric_limits<double>::quiet_NaN());
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
}

TEST(ReContrastAnomalyRegions, FullyConnectedJoinsDiagonalNeighbours)
{
  auto map = MakeImage<Map3D>({ { 5, 5, 5 } });
  map->SetPixel({ { 1, 1, 1 } }, 2.0f);
  map->SetPixel({ { 2, 2, 2 } }, 3.0f);
  auto filter = Regions3D::New();
  filter->SetInput(map);
  filter->SetThreshold(1.0);
  filter->Update();
  EXPECT_EQ(filter->GetRegions().size(), 2u);
  filter->FullyConnectedOn();
  filter->Update();
  ASSERT_EQ(filter->GetRegions().size(), 1u);
  EXPECT_EQ(filter->GetRegions()[0].VoxelCount, 2u);
  EXPECT_DOUBLE_EQ(filter->GetRegions()[0].MeanScore, 2.5);
}

TEST(ReContrastAnomalyRegions, ProgressIsMonotoneAndAbortStops)
{
  const Synthetic3D synthetic = MakeSynthetic3D();
  auto filter = Regions3D::New();
  filter->SetInput(synthetic.Map);
  filter->SetThreshold(1.0);

  std::vector<float> progress;
  bool shouldAbort = false;
  filter->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) {
    progress.push_back(filter->GetProgress());
    if (shouldAbort)
    {
      filter->AbortGenerateDataOn();
    }
  });
  filter->Update();
  ASSERT_GE(progress.size(), 3u);
  std::ostringstream sequence;
  for (float value : progress)
  {
    sequence << value << ' ';
  }
  EXPECT_TRUE(std::is_sorted(progress.begin(), progress.end())) << sequence.str();
  EXPECT_FLOAT_EQ(progress.back(), 1.0f);

  shouldAbort = true;
  filter->Modified();
  EXPECT_THROW(filter->Update(), itk::ProcessAborted);
}

TEST(ReContrastAnomalyRegions, OneHugeRegionReportsProgressAndStopsWhenAborted)
{
  // One region filling the map is most of the statistics pass: its progress moves within that pass
  // (counted in runs, not components), so an abort asked for there stops the filter.
  const Map3D::SizeType size = { { 64, 64, 32 } };
  auto map = MakeImage<Map3D>(size, 2.0f);
  auto filter = Regions3D::New();
  filter->SetInput(map);
  filter->SetThreshold(1.0);
  std::vector<float> statisticsProgress;
  bool abortInStatistics = false;
  filter->AddObserver(itk::ProgressEvent(), [&](const itk::EventObject &) {
    const float progress = filter->GetProgress();
    if (progress > 0.75f && progress < 0.85f) // inside the statistics pass (0.7 to 0.85)
    {
      statisticsProgress.push_back(progress);
      if (abortInStatistics)
      {
        filter->AbortGenerateDataOn();
      }
    }
  });
  filter->Update();
  ASSERT_EQ(filter->GetRegions().size(), 1u);
  EXPECT_GE(statisticsProgress.size(), 10u);

  statisticsProgress.clear();
  abortInStatistics = true;
  filter->Modified();
  EXPECT_THROW(filter->Update(), itk::ProcessAborted);
  EXPECT_EQ(statisticsProgress.size(), 1u);
}

TEST(ReContrastAnomalyRegions, TooManyRegionsForTheLabelTypeThrows)
{
  // A checkerboard: 131072 face-isolated voxels, more than unsigned short labels can number.
  auto map = MakeImage<Map2D>({ { 512, 512 } });
  itk::ImageRegionIteratorWithIndex<Map2D> it(map, map->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    it.Set((it.GetIndex()[0] + it.GetIndex()[1]) % 2 == 0 ? 1.0f : 0.0f);
  }
  auto filter = Regions2D::New();
  filter->SetInput(map);
  filter->SetThreshold(0.5);
  try
  {
    filter->Update();
    ADD_FAILURE() << "no exception for 131072 regions in unsigned short labels";
  }
  catch (const itk::ExceptionObject & error)
  {
    EXPECT_NE(std::string(error.GetDescription()).find("131072 regions"), std::string::npos) << error.GetDescription();
  }

  // A wider label type holds them; a minimum size removes them.
  auto wide = itk::ReContrastAnomalyRegionsImageFilter<Map2D, itk::Image<unsigned int, 2>>::New();
  wide->SetInput(map);
  wide->SetThreshold(0.5);
  wide->Update();
  EXPECT_EQ(wide->GetRegions().size(), 131072u);
  EXPECT_EQ(wide->GetRegions().back().Label, 131072u);
  filter->SetMinimumRegionSize(2);
  ASSERT_NO_THROW(filter->Update());
  EXPECT_TRUE(filter->GetRegions().empty());
}

// ---------------------------------------------------------------------------------------------
// Anomaly regions, 2-D

TEST(ReContrastAnomalyRegions, Works2DWithRotatedGeometry)
{
  auto map = MakeImage<Map2D>({ { 50, 40 } });
  Map2D::SpacingType spacing;
  spacing[0] = 0.5;
  spacing[1] = 0.7;
  Map2D::PointType origin;
  origin[0] = 3.0;
  origin[1] = -4.0;
  const double angle = Pi / 4.0;
  Map2D::DirectionType direction;
  direction(0, 0) = std::cos(angle);
  direction(0, 1) = -std::sin(angle);
  direction(1, 0) = std::sin(angle);
  direction(1, 1) = std::cos(angle);
  map->SetSpacing(spacing);
  map->SetOrigin(origin);
  map->SetDirection(direction);
  // A 6x4 rectangle at (10,20) with score 2 and a 3x3 square at (30,5) with score 7.
  itk::ImageRegionIteratorWithIndex<Map2D> it(map, map->GetLargestPossibleRegion());
  for (; !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    if (index[0] >= 10 && index[0] < 16 && index[1] >= 20 && index[1] < 24)
    {
      it.Set(2.0f);
    }
    if (index[0] >= 30 && index[0] < 33 && index[1] >= 5 && index[1] < 8)
    {
      it.Set(7.0f);
    }
  }

  auto filter = Regions2D::New();
  filter->SetInput(map);
  filter->SetThreshold(1.5);
  filter->Update();
  const auto & regions = filter->GetRegions();
  ASSERT_EQ(regions.size(), 2u);

  const auto physical = [&](double i, double j) {
    const double u = 0.5 * i;
    const double v = 0.7 * j;
    return std::array<double, 2>{ 3.0 + std::cos(angle) * u - std::sin(angle) * v,
                                  -4.0 + std::sin(angle) * u + std::cos(angle) * v };
  };
  EXPECT_EQ(regions[0].VoxelCount, 9u);
  EXPECT_NEAR(regions[0].PhysicalVolume, 9 * 0.35, 1e-12);
  EXPECT_DOUBLE_EQ(regions[0].MaximumScore, 7.0);
  EXPECT_NEAR(regions[0].Centroid[0], physical(31, 6)[0], 1e-9);
  EXPECT_NEAR(regions[0].Centroid[1], physical(31, 6)[1], 1e-9);
  // Equal scores everywhere: the peak is the first voxel in raster order.
  EXPECT_NEAR(regions[0].PeakPoint[0], physical(30, 5)[0], 1e-9);
  EXPECT_NEAR(regions[0].PeakPoint[1], physical(30, 5)[1], 1e-9);

  EXPECT_EQ(regions[1].VoxelCount, 24u);
  EXPECT_NEAR(regions[1].PhysicalVolume, 24 * 0.35, 1e-12);
  EXPECT_NEAR(regions[1].Centroid[0], physical(12.5, 21.5)[0], 1e-9);
  EXPECT_NEAR(regions[1].Centroid[1], physical(12.5, 21.5)[1], 1e-9);
  EXPECT_EQ(regions[1].BoundingBox.GetIndex(), (Map2D::IndexType{ { 10, 20 } }));
  EXPECT_EQ(regions[1].BoundingBox.GetSize(), (Map2D::SizeType{ { 6, 4 } }));

  EXPECT_EQ(filter->GetOutput()->GetDirection(), map->GetDirection());
  EXPECT_EQ(filter->GetOutput()->GetOrigin(), map->GetOrigin());
  EXPECT_EQ(filter->GetOutput()->GetPixel({ { 31, 6 } }), 1);
  EXPECT_EQ(filter->GetOutput()->GetPixel({ { 12, 21 } }), 2);
}

} // namespace
