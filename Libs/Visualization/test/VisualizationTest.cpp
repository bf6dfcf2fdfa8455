/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Tests of the pictures, the heat display and the result tables.
 *
 *=========================================================================*/
#include "ReContrast/CurvePlot.h"
#include "ReContrast/Error.h"
#include "ReContrast/HeatDisplay.h"
#include "ReContrast/OverlayRenderer.h"
#include "ReContrast/ResultTables.h"

#include <gtest/gtest.h>

#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>

#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using recontrast::Error;
using recontrast::visualization::OverlayStyle;
using recontrast::visualization::SliceView;
using recontrast::visualization::WriteCurvePng;
using recontrast::visualization::WriteMontagePng;
using recontrast::visualization::WriteOverlayPng;
using recontrast::visualization::WriteXYCurvePng;

namespace
{
// Whether a writer left a temporary file (".partial-...") in `folder`.
bool
HasPartialFile(const fs::path & folder)
{
  for (const fs::directory_entry & entry : fs::directory_iterator(folder))
  {
    if (entry.path().filename().string().rfind(".partial", 0) == 0)
    {
      return true;
    }
  }
  return false;
}


/** A PNG read back, top-down like the picture: pixel (x, y) at 3 * (y * width + x), y = 0 at the top. */
struct Picture
{
  int width = 0;
  int height = 0;
  std::vector<unsigned char> rgb;

  const unsigned char * At(int x, int y) const
  {
    return rgb.data() +
           3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x));
  }

  bool IsGrey(int x, int y) const
  {
    const unsigned char * p = At(x, y);
    return p[0] == p[1] && p[1] == p[2];
  }

  bool IsRedDominant(int x, int y) const
  {
    const unsigned char * p = At(x, y);
    return p[0] > p[1] + 20 && p[0] > p[2] + 40;
  }

  double GreyVariance() const
  {
    double sum = 0;
    double sum2 = 0;
    const std::size_t count = rgb.size() / 3;
    for (std::size_t i = 0; i < count; ++i)
    {
      const double grey = (rgb[3 * i] + rgb[3 * i + 1] + rgb[3 * i + 2]) / 3.0;
      sum += grey;
      sum2 += grey * grey;
    }
    const double mean = sum / static_cast<double>(count);
    return sum2 / static_cast<double>(count) - mean * mean;
  }
};

Picture
ReadPng(const std::string & path)
{
  vtkNew<vtkPNGReader> reader;
  reader->SetFileName(path.c_str());
  reader->Update();
  vtkImageData * image = reader->GetOutput();
  Picture picture;
  int dimensions[3];
  image->GetDimensions(dimensions);
  picture.width = dimensions[0];
  picture.height = dimensions[1];
  EXPECT_EQ(image->GetNumberOfScalarComponents(), 3);
  picture.rgb.resize(static_cast<std::size_t>(picture.width) * static_cast<std::size_t>(picture.height) * 3);
  for (int y = 0; y < picture.height; ++y)
  {
    for (int x = 0; x < picture.width; ++x)
    {
      // VTK's row 0 is the bottom of the picture.
      const auto * p = static_cast<const unsigned char *>(image->GetScalarPointer(x, picture.height - 1 - y, 0));
      for (int c = 0; c < 3; ++c)
      {
        picture.rgb[3 * (static_cast<std::size_t>(y) * static_cast<std::size_t>(picture.width) +
                         static_cast<std::size_t>(x)) +
                    static_cast<std::size_t>(c)] = p[c];
      }
    }
  }
  return picture;
}

/** A synthetic slice: a disc of soft tissue (100, with a faint texture) on air (0), and a bright
 * lesion (300) whose anomaly map is `lesionHeat`; the map is 0 elsewhere. */
struct SyntheticSlice
{
  SyntheticSlice(int w, int h, int lesionX, int lesionY, float lesionHeat = 0.6f)
    : width(w)
    , height(h)
    , scan(static_cast<std::size_t>(w) * static_cast<std::size_t>(h))
    , map(scan.size())
  {
    const double radius = 0.42 * std::min(w, h);
    for (int y = 0; y < h; ++y)
    {
      for (int x = 0; x < w; ++x)
      {
        const std::size_t i = static_cast<std::size_t>(y) * static_cast<std::size_t>(w) + static_cast<std::size_t>(x);
        const bool inDisc = std::hypot(x - w / 2.0, y - h / 2.0) < radius;
        const bool inLesion = std::hypot(x - lesionX, y - lesionY) < 6;
        scan[i] = inLesion ? 300.0f
                  : inDisc ? static_cast<float>(100 + 10 * std::sin(0.3 * x) * std::cos(0.2 * y))
                           : 0.0f;
        map[i] = inLesion ? lesionHeat : 0.0f;
      }
    }
  }

  SliceView View(double spacingX = 1, double spacingY = 1) const
  {
    SliceView view;
    view.scan = scan.data();
    view.map = map.data();
    view.width = width;
    view.height = height;
    view.spacingX = spacingX;
    view.spacingY = spacingY;
    return view;
  }

  int width;
  int height;
  std::vector<float> scan;
  std::vector<float> map;
};

OverlayStyle
HeatStyle(bool colorBar = false)
{
  OverlayStyle style;
  style.mapLower = 0.2;
  style.mapUpper = 1.0;
  style.opacity = 0.8;
  style.drawColorBar = colorBar;
  return style;
}

class VisualizationTest : public testing::Test
{
protected:
  void SetUp() override
  {
    const testing::TestInfo * info = testing::UnitTest::GetInstance()->current_test_info();
    m_Folder =
      fs::temp_directory_path() / ("recontrast_visualization_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(m_Folder);
    fs::create_directories(m_Folder);
  }

  void TearDown() override
  {
    std::error_code error;
    fs::permissions(m_Folder, fs::perms::owner_all, fs::perm_options::add, error);
    fs::remove_all(m_Folder, error);
  }

  std::string File(const std::string & name) const { return (m_Folder / name).string(); }

  std::vector<std::string> FolderContents() const
  {
    std::vector<std::string> names;
    for (const fs::directory_entry & entry : fs::directory_iterator(m_Folder))
    {
      names.push_back(entry.path().filename().string());
    }
    return names;
  }

  fs::path m_Folder;
};

/** Runs `write`, expects recontrast::Error whose message names `path`, and that nothing is left. */
template <typename Write>
void
ExpectErrorAndNothingLeft(const std::vector<std::string> & before, const std::string & path, Write write)
{
  try
  {
    write();
    ADD_FAILURE() << "no error for " << path;
  }
  catch (const Error & error)
  {
    EXPECT_NE(std::string(error.what()).find(path), std::string::npos) << error.what();
  }
  EXPECT_FALSE(HasPartialFile(fs::path(path).parent_path()));
  std::vector<std::string> after;
  for (const fs::directory_entry & entry : fs::directory_iterator(fs::path(path).parent_path()))
  {
    after.push_back(entry.path().filename().string());
  }
  EXPECT_EQ(after.size(), before.size());
}

} // namespace

TEST_F(VisualizationTest, OverlayHasTheSliceSizeAndIsNotBlank)
{
  const SyntheticSlice slice(128, 96, 80, 30);
  const std::string path = File("overlay.png");
  WriteOverlayPng(slice.View(), HeatStyle(), path);
  ASSERT_TRUE(fs::exists(path));
  EXPECT_FALSE(HasPartialFile(fs::path(path).parent_path()));
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.width, 128);
  EXPECT_EQ(picture.height, 96);
  EXPECT_GT(picture.GreyVariance(), 100.0);
}

TEST_F(VisualizationTest, LesionIsRedAndTheRestIsGreyWithTheFirstRowAtTheTop)
{
  const SyntheticSlice slice(128, 96, 80, 30);
  const std::string path = File("overlay.png");
  WriteOverlayPng(slice.View(), HeatStyle(), path);
  const Picture picture = ReadPng(path);
  // The lesion is in image row 30, near the top; its mirror image (row 65) has no heat.
  EXPECT_TRUE(picture.IsRedDominant(80, 30));
  EXPECT_TRUE(picture.IsGrey(80, 65));
  EXPECT_TRUE(picture.IsGrey(64, 48));   // tissue
  EXPECT_TRUE(picture.IsGrey(2, 2));     // air
  EXPECT_TRUE(picture.IsGrey(30, 48));   // tissue left of the lesion
  EXPECT_LT(picture.At(2, 2)[0], 10);    // air is black with the percentile window
  EXPECT_GT(picture.At(64, 48)[0], 100); // tissue is bright
}

TEST_F(VisualizationTest, HeatBelowTheLowerBoundIsTransparent)
{
  const SyntheticSlice slice(128, 96, 80, 30, 0.1f); // below mapLower = 0.2
  const std::string path = File("overlay.png");
  WriteOverlayPng(slice.View(), HeatStyle(), path);
  const Picture picture = ReadPng(path);
  EXPECT_TRUE(picture.IsGrey(80, 30));
}

TEST_F(VisualizationTest, RainbowHeatIsColoured)
{
  const SyntheticSlice slice(128, 96, 80, 30, 0.9f);
  OverlayStyle style = HeatStyle();
  style.colorMap = "rainbow";
  const std::string path = File("overlay.png");
  WriteOverlayPng(slice.View(), style, path);
  const Picture picture = ReadPng(path);
  EXPECT_FALSE(picture.IsGrey(80, 30));
  EXPECT_TRUE(picture.IsGrey(64, 48));
}

TEST_F(VisualizationTest, FixedScanWindowAndNonFiniteValues)
{
  SyntheticSlice slice(128, 96, 80, 30);
  slice.scan[static_cast<std::size_t>(48 * 128 + 64)] = std::numeric_limits<float>::quiet_NaN();
  slice.map[static_cast<std::size_t>(30 * 128 + 80)] = std::numeric_limits<float>::quiet_NaN();
  OverlayStyle style = HeatStyle();
  style.scanLower = 0;
  style.scanUpper = 200;
  const std::string path = File("overlay.png");
  WriteOverlayPng(slice.View(), style, path);
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.At(64, 48)[0], 0);         // NaN scan: black
  EXPECT_TRUE(picture.IsGrey(80, 30));         // NaN map: no heat...
  EXPECT_TRUE(picture.IsRedDominant(82, 30));  // ...but its neighbours have heat
  EXPECT_NEAR(picture.At(50, 60)[0], 128, 20); // tissue about 100 of 0..200: mid-grey
}

TEST_F(VisualizationTest, AnisotropicSpacingGivesThePhysicalAspect)
{
  const SyntheticSlice slice(128, 96, 80, 30);
  const std::string tall = File("tall.png");
  WriteOverlayPng(slice.View(1.0, 2.0), HeatStyle(), tall);
  Picture picture = ReadPng(tall);
  EXPECT_EQ(picture.width, 128);
  EXPECT_EQ(picture.height, 192);
  EXPECT_TRUE(picture.IsRedDominant(80, 61));
  EXPECT_TRUE(picture.IsGrey(80, 130));

  const std::string wide = File("wide.png");
  WriteOverlayPng(slice.View(1.5, 0.5), HeatStyle(), wide);
  picture = ReadPng(wide);
  EXPECT_EQ(picture.width, 384);
  EXPECT_EQ(picture.height, 96);
  EXPECT_TRUE(picture.IsRedDominant(241, 30));
}

TEST_F(VisualizationTest, ColorBarWidensThePictureOnTheRight)
{
  const SyntheticSlice slice(128, 96, 80, 30);
  const std::string path = File("bar.png");
  WriteOverlayPng(slice.View(), HeatStyle(true), path);
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.height, 96);
  EXPECT_GT(picture.width, 128 + 30); // bar and its labels
  // The image part is unchanged.
  EXPECT_TRUE(picture.IsRedDominant(80, 30));
  // The bar, 8 pixels right of the image, runs from white-hot at the top to black at the bottom.
  const int barColumn = 128 + 8 + 8;
  const unsigned char * top = picture.At(barColumn, 12);
  const unsigned char * bottom = picture.At(barColumn, 83);
  EXPECT_GT(top[0] + top[1] + top[2], 600);
  EXPECT_LT(bottom[0] + bottom[1] + bottom[2], 150);
  // The labels are text: bright pixels right of the bar.
  int bright = 0;
  for (int y = 0; y < picture.height; ++y)
  {
    for (int x = barColumn + 16; x < picture.width; ++x)
    {
      bright += picture.At(x, y)[0] > 128 ? 1 : 0;
    }
  }
  EXPECT_GT(bright, 10);
}

TEST_F(VisualizationTest, MontageOfFiveSlicesHasTheGridSize)
{
  std::vector<SyntheticSlice> data;
  for (int i = 0; i < 5; ++i)
  {
    data.emplace_back(64, 48, 20 + 5 * i, 20);
  }
  std::vector<SliceView> slices;
  for (const SyntheticSlice & slice : data)
  {
    slices.push_back(slice.View());
  }
  const std::string path = File("montage.png");

  WriteMontagePng(slices, {}, HeatStyle(), path);
  Picture picture = ReadPng(path);
  EXPECT_EQ(picture.width, 3 * 64 + 2 * 2); // 3 columns
  EXPECT_EQ(picture.height, 2 * 48 + 2);    // 2 rows
  EXPECT_EQ(picture.At(64, 10)[0], 96);     // separator
  EXPECT_TRUE(picture.IsRedDominant(20, 20));
  EXPECT_TRUE(picture.IsRedDominant(66 + 25, 20));
  EXPECT_TRUE(picture.IsRedDominant(66 + 40, 50 + 20)); // slice 4: second row, second column
  EXPECT_EQ(picture.At(2 * 66 + 32, 50 + 24)[0], 0);    // empty sixth cell: black

  WriteMontagePng(slices, {}, HeatStyle(), path, 5);
  picture = ReadPng(path);
  EXPECT_EQ(picture.width, 5 * 64 + 4 * 2);
  EXPECT_EQ(picture.height, 48);

  WriteMontagePng(slices, {}, HeatStyle(), path, 2);
  picture = ReadPng(path);
  EXPECT_EQ(picture.width, 2 * 64 + 2);
  EXPECT_EQ(picture.height, 3 * 48 + 2 * 2);

  WriteMontagePng(slices, { "slice 10", "slice 11", "", "slice 13", "slice 14" }, HeatStyle(true), path);
  picture = ReadPng(path);
  EXPECT_GT(picture.width, 3 * 64 + 2 * 2 + 30);
  EXPECT_GT(picture.height, 2 * 48 + 2);
  const int band = (picture.height - 2 * 48 - 2) / 2;
  int bright = 0;
  for (int y = 0; y < band; ++y)
  {
    for (int x = 0; x < 64; ++x)
    {
      bright += picture.At(x, y)[0] > 128 ? 1 : 0;
    }
  }
  EXPECT_GT(bright, 10); // the first label is drawn
  EXPECT_FALSE(HasPartialFile(fs::path(path).parent_path()));
}

TEST_F(VisualizationTest, MontageLetterboxesSlicesAtOnePixelSize)
{
  const SyntheticSlice large(64, 48, 20, 20);
  const SyntheticSlice small(32, 16, 16, 8);
  // The small slice has 2 mm pixels, the large 1 mm ones: both are drawn at 1 mm per pixel.
  const std::string path = File("montage.png");
  WriteMontagePng({ large.View(), small.View(2.0, 2.0) }, {}, HeatStyle(), path);
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.width, 2 * 64 + 2);
  EXPECT_EQ(picture.height, 48);
  EXPECT_TRUE(picture.IsRedDominant(66 + 32, 24)); // small slice centred: its lesion in the middle
  EXPECT_EQ(picture.At(66 + 1, 1)[0], 0);          // letterbox border: black
}

TEST_F(VisualizationTest, LossCurveIsDrawn)
{
  std::vector<double> loss;
  for (int i = 0; i < 300; ++i)
  {
    loss.push_back(0.1 + std::exp(-i / 60.0) + 0.02 * std::sin(i));
  }
  loss[150] = std::numeric_limits<double>::quiet_NaN(); // a gap
  const std::string path = File("loss.png");
  WriteCurvePng(loss, "Training loss", "iteration", "loss", path);
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.width, 800);
  EXPECT_EQ(picture.height, 500);
  EXPECT_GT(picture.GreyVariance(), 10.0);
  int blue = 0;
  int dark = 0;
  for (std::size_t i = 0; i < picture.rgb.size(); i += 3)
  {
    blue += picture.rgb[i + 2] > picture.rgb[i] + 80 ? 1 : 0;
    dark += picture.rgb[i] < 80 && picture.rgb[i + 2] < 80 ? 1 : 0;
  }
  EXPECT_GT(blue, 500);  // the curve
  EXPECT_GT(dark, 1000); // frame, ticks and text
  EXPECT_FALSE(HasPartialFile(fs::path(path).parent_path()));
}

TEST_F(VisualizationTest, RocCurveWithDiagonal)
{
  const std::vector<double> fpr = { 0.0, 0.0, 0.1, 0.2, 0.5, 1.0 };
  const std::vector<double> tpr = { 0.0, 0.4, 0.7, 0.9, 0.95, 1.0 };
  const std::string path = File("roc.png");
  WriteXYCurvePng(fpr, tpr, "ROC (AUROC 0.91)", "false positive rate", "true positive rate", path, true, 400, 400);
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.width, 400);
  EXPECT_EQ(picture.height, 400);
  int blue = 0;
  int grey = 0;
  for (std::size_t i = 0; i < picture.rgb.size(); i += 3)
  {
    const unsigned char * p = picture.rgb.data() + i;
    blue += p[2] > p[0] + 80 ? 1 : 0;
    grey += p[0] == p[1] && p[1] == p[2] && p[0] > 120 && p[0] < 200 ? 1 : 0;
  }
  EXPECT_GT(blue, 300);
  EXPECT_GT(grey, 100); // the dashed diagonal
}

TEST_F(VisualizationTest, SinglePointAndConstantCurves)
{
  const std::string path = File("point.png");
  WriteCurvePng({ 0.5 }, "", "", "", path, 300, 200);
  Picture picture = ReadPng(path);
  EXPECT_EQ(picture.width, 300);
  EXPECT_EQ(picture.height, 200);
  WriteCurvePng(std::vector<double>(10, 2.0), "constant", "iteration", "loss", path);
  picture = ReadPng(path);
  EXPECT_GT(picture.GreyVariance(), 1.0);
}

TEST_F(VisualizationTest, BadOverlayInputThrowsAndLeavesNothing)
{
  const SyntheticSlice data(32, 32, 10, 10);
  const std::string path = File("bad.png");
  const std::vector<std::string> before = FolderContents();
  const auto expectError = [&](const SliceView & slice, const OverlayStyle & style) {
    ExpectErrorAndNothingLeft(before, path, [&] { WriteOverlayPng(slice, style, path); });
  };

  SliceView slice = data.View();
  slice.scan = nullptr;
  expectError(slice, HeatStyle());
  slice = data.View();
  slice.map = nullptr;
  expectError(slice, HeatStyle());
  slice = data.View();
  slice.width = 0;
  expectError(slice, HeatStyle());
  slice = data.View();
  slice.height = -3;
  expectError(slice, HeatStyle());
  expectError(data.View(0.0, 1.0), HeatStyle());
  expectError(data.View(1.0, std::numeric_limits<double>::quiet_NaN()), HeatStyle());

  OverlayStyle style = HeatStyle();
  style.colorMap = "viridis";
  expectError(data.View(), style);
  style = HeatStyle();
  style.mapUpper = style.mapLower;
  expectError(data.View(), style);
  style = HeatStyle();
  style.opacity = 1.5;
  expectError(data.View(), style);
  style = HeatStyle();
  style.scanUpper = std::numeric_limits<double>::infinity();
  expectError(data.View(), style);

  const std::string missing = File("no_such_folder/overlay.png");
  EXPECT_THROW(WriteOverlayPng(data.View(), HeatStyle(), missing), Error);
  EXPECT_FALSE(fs::exists(File("no_such_folder")));
  EXPECT_THROW(WriteOverlayPng(data.View(), HeatStyle(), ""), Error);
  fs::create_directory(File("in_the_way.png"));
  EXPECT_THROW(WriteOverlayPng(data.View(), HeatStyle(), File("in_the_way.png")), Error);
  EXPECT_FALSE(HasPartialFile(fs::path(File("in_the_way.png")).parent_path()));
}

TEST_F(VisualizationTest, BadMontageInputThrowsAndLeavesNothing)
{
  const SyntheticSlice data(32, 32, 10, 10);
  const std::string path = File("bad.png");
  const std::vector<std::string> before = FolderContents();
  ExpectErrorAndNothingLeft(before, path, [&] { WriteMontagePng({}, {}, HeatStyle(), path); });
  ExpectErrorAndNothingLeft(before, path, [&] {
    WriteMontagePng({ data.View(), data.View() }, { "one" }, HeatStyle(), path);
  });
  ExpectErrorAndNothingLeft(before, path, [&] { WriteMontagePng({ data.View() }, {}, HeatStyle(), path, -1); });
  SliceView broken = data.View();
  broken.scan = nullptr;
  ExpectErrorAndNothingLeft(before, path, [&] { WriteMontagePng({ data.View(), broken }, {}, HeatStyle(), path); });
}

TEST_F(VisualizationTest, BadCurveInputThrowsAndLeavesNothing)
{
  const std::string path = File("bad.png");
  const std::vector<std::string> before = FolderContents();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  ExpectErrorAndNothingLeft(before, path, [&] { WriteCurvePng({}, "t", "x", "y", path); });
  ExpectErrorAndNothingLeft(before, path, [&] { WriteCurvePng({ nan, nan }, "t", "x", "y", path); });
  ExpectErrorAndNothingLeft(before, path, [&] { WriteCurvePng({ 1.0, 2.0 }, "t", "x", "y", path, 50, 50); });
  ExpectErrorAndNothingLeft(before, path, [&] { WriteCurvePng({ 1.0, 2.0 }, "t", "x", "y", path, 100000, 500); });
  ExpectErrorAndNothingLeft(before, path, [&] { WriteXYCurvePng({ 0.0, 1.0 }, { 0.5 }, "t", "x", "y", path); });
  ExpectErrorAndNothingLeft(before, path, [&] { WriteCurvePng({ 1.0, 1e305, -1e305 }, "t", "x", "y", path); });
  EXPECT_THROW(WriteCurvePng({ 1.0, 2.0 }, "t", "x", "y", File("missing/loss.png")), Error);
}

TEST_F(VisualizationTest, UnwritableFolderThrowsAndLeavesNothing)
{
  const SyntheticSlice data(32, 32, 10, 10);
  const fs::path locked = m_Folder / "locked";
  fs::create_directory(locked);
  fs::permissions(locked, fs::perms::owner_read | fs::perms::owner_exec);
  {
    std::ofstream probe(locked / "probe");
    if (probe)
    {
      GTEST_SKIP() << "running with rights that ignore folder permissions";
    }
  }
  const std::string path = (locked / "overlay.png").string();
  EXPECT_THROW(WriteOverlayPng(data.View(), HeatStyle(), path), Error);
  EXPECT_THROW(WriteCurvePng({ 1.0, 2.0 }, "t", "x", "y", (locked / "loss.png").string()), Error);
  EXPECT_TRUE(fs::is_empty(locked));
}

TEST_F(VisualizationTest, RewritingReplacesTheFile)
{
  const SyntheticSlice first(64, 48, 20, 20);
  const SyntheticSlice second(32, 40, 10, 10);
  const std::string path = File("overlay.png");
  WriteOverlayPng(first.View(), HeatStyle(), path);
  WriteOverlayPng(second.View(), HeatStyle(), path);
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.width, 32);
  EXPECT_EQ(picture.height, 40);
  EXPECT_EQ(FolderContents(), std::vector<std::string>{ "overlay.png" });
}

TEST_F(VisualizationTest, WriteFailureThrowsAndKeepsWhatWasThere)
{
  // A folder in the target's place makes the write fail, even for a superuser; it stays as it was.
  const SyntheticSlice data(32, 32, 10, 10);
  const std::string path = File("overlay.png");
  fs::create_directory(path);
  std::ofstream(path + "/kept.txt") << "kept";
  EXPECT_THROW(WriteOverlayPng(data.View(), HeatStyle(), path), Error);
  EXPECT_TRUE(fs::exists(path + "/kept.txt"));
  const std::string plot = File("loss.png");
  fs::create_directory(plot);
  EXPECT_THROW(WriteCurvePng({ 1.0, 2.0 }, "t", "x", "y", plot), Error);
  EXPECT_TRUE(fs::is_directory(plot));
  EXPECT_FALSE(HasPartialFile(fs::path(path).parent_path()));
}

TEST_F(VisualizationTest, ExtremeAnisotropyIsCappedAtTheMaximumSide)
{
  const SyntheticSlice data(10, 10, 5, 5);
  const std::string path = File("thin.png");
  WriteOverlayPng(data.View(1.0, 1000.0), HeatStyle(), path);
  const Picture picture = ReadPng(path);
  EXPECT_EQ(picture.height, 4096);
  EXPECT_EQ(picture.width, 4); // 10 mm across at 10000 / 4096 mm per pixel
}

namespace
{
using recontrast::visualization::ChooseHeatRange;
using recontrast::visualization::HeatColorTable;

TEST(HeatDisplay, RangeStartsAtTheNormalLevelAndSaturatesAtTheThreshold)
{
  const std::vector<float> map{ 0.2f, 0.9f, 1.4f, std::nanf(""), 0.5f };
  // Calibrated: from the normal mean to the threshold.
  auto range = ChooseHeatRange(map.data(), map.size(), 0.4, 1.1);
  EXPECT_DOUBLE_EQ(range.lower, 0.4);
  EXPECT_DOUBLE_EQ(range.upper, 1.1);
  // No calibration: from half the maximum; no threshold: up to the maximum (NaN ignored).
  range = ChooseHeatRange(map.data(), map.size(), std::nan(""), std::nan(""));
  EXPECT_NEAR(range.lower, 0.7, 1e-6);
  EXPECT_NEAR(range.upper, 1.4, 1e-6);
  // A threshold below the normal level does not invert the range; a normal level above the
  // maximum is capped; a flat map still gets a range.
  range = ChooseHeatRange(map.data(), map.size(), 0.4, 0.3);
  EXPECT_NEAR(range.upper, 1.4, 1e-6);
  range = ChooseHeatRange(map.data(), map.size(), 3.0, 5.0);
  EXPECT_NEAR(range.lower, 1.4, 1e-6);
  EXPECT_DOUBLE_EQ(range.upper, 5.0);
  const std::vector<float> flat(4, 2.0f);
  range = ChooseHeatRange(flat.data(), flat.size(), std::nan(""), std::nan(""));
  EXPECT_GT(range.upper, range.lower);
  const std::vector<float> none(3, std::nanf(""));
  EXPECT_THROW(ChooseHeatRange(none.data(), none.size(), 0.0, 1.0), recontrast::Error);
  EXPECT_THROW(ChooseHeatRange(nullptr, 0, 0.0, 1.0), recontrast::Error);
}

TEST(HeatDisplay, ThresholdedRangeSpansTheVisibleValues)
{
  using recontrast::visualization::ChooseThresholdedHeatRange;
  const std::vector<float> map{ 0.2f, 0.9f, 1.4f, std::nanf(""), 0.5f };
  // The threshold a third of the way up, the maximum at the top.
  auto range = ChooseThresholdedHeatRange(map.data(), map.size(), 0.8);
  EXPECT_NEAR(range.lower, 0.5, 1e-6);
  EXPECT_NEAR(range.upper, 1.4, 1e-6);
  EXPECT_NEAR((0.8 - range.lower) / (range.upper - range.lower), 1.0 / 3.0, 1e-6);
  // Nothing above the threshold: still a valid range, starting below the threshold.
  range = ChooseThresholdedHeatRange(map.data(), map.size(), 2.0);
  EXPECT_GT(range.upper, 2.0);
  EXPECT_LT(range.lower, 2.0);
  EXPECT_THROW(ChooseThresholdedHeatRange(map.data(), map.size(), std::nan("")), recontrast::Error);
  const std::vector<float> none(3, std::nanf(""));
  EXPECT_THROW(ChooseThresholdedHeatRange(none.data(), none.size(), 1.0), recontrast::Error);
}

TEST(HeatDisplay, ColorTableRunsFromBlackToWhite)
{
  const auto table = HeatColorTable("hot", 256);
  ASSERT_EQ(table.size(), 256u);
  EXPECT_EQ(table.front(), (std::array<double, 3>{ 0.0, 0.0, 0.0 }));
  EXPECT_EQ(table.back(), (std::array<double, 3>{ 1.0, 1.0, 1.0 }));
  // A third of the way up: full red, no green yet (matplotlib's hot).
  const auto & third = table[85];
  EXPECT_NEAR(third[0], 1.0, 1e-9);
  EXPECT_NEAR(third[1], 0.0, 1e-9);
  for (size_t i = 1; i < table.size(); ++i)
  {
    EXPECT_GE(table[i][0] + table[i][1] + table[i][2], table[i - 1][0] + table[i - 1][1] + table[i - 1][2])
      << "hot brightens with the heat";
  }
  const auto rainbow = HeatColorTable("jet", 5);
  EXPECT_NEAR(rainbow.front()[2], 0.5, 1e-9); // dark blue
  EXPECT_NEAR(rainbow.back()[0], 0.5, 1e-9);  // dark red
  EXPECT_THROW(HeatColorTable("viridis"), recontrast::Error);
  EXPECT_THROW(HeatColorTable("hot", 1), recontrast::Error);
}
} // namespace

namespace
{
using namespace recontrast::visualization;

// A report as `recontrast infer --report` writes it (two regions, one with a null score).
const char * const Report = R"({
  "score": 4.98, "slice_axis": 2,
  "slice_scores": [0.0, 4.98, 4.2],
  "scored_slices": [false, true, true],
  "regions": [
    {"label": 1, "voxels": 12, "volume_mm3": 30.5, "max_score": 4.9, "mean_score": 4.1,
     "centroid": [10.0, -20.0, 5.5], "peak": [11.0, -21.0, 6.0], "bbox": {"start": [1, 2, 0], "size": [3, 3, 2]}},
    {"label": 2, "voxels": 3, "volume_mm3": 7.0, "max_score": null, "mean_score": 3.0,
     "centroid": [0.0, 0.0, 0.0], "peak": [0.0, 1.0, 2.0], "bbox": {"start": [0, 0, 0], "size": [1, 1, 1]}}
  ]})";

TEST(ResultTables, SliceScoresAndWhereASliceIs)
{
  const auto series = SliceScoresFromReport(Report);
  EXPECT_EQ(series.axis, 2);
  EXPECT_EQ(series.scores, (std::vector<double>{ 0.0, 4.98, 4.2 }));
  EXPECT_EQ(series.scored, (std::vector<bool>{ false, true, true }));
  EXPECT_FALSE(series.calibrated);
  EXPECT_THROW(SliceScoresFromReport(R"({"slice_axis": 2, "slice_scores": [1.0], "scored_slices": []})"),
               recontrast::Error);
  // A calibrated model's report: its calibrated scores, 0 where a slice was not scored.
  const auto calibrated = SliceScoresFromReport(
    R"({"slice_axis": 1, "slice_scores": [0.0, 1.2, 1.1], "scored_slices": [false, true, true],
        "calibrated_slice_scores": [null, 0.5, 4.25]})");
  EXPECT_TRUE(calibrated.calibrated);
  EXPECT_EQ(calibrated.scores, (std::vector<double>{ 0.0, 0.5, 4.25 }));
  EXPECT_THROW(SliceScoresFromReport(R"({"slice_axis": 2, "slice_scores": [1.0], "scored_slices": [true],
                                         "calibrated_slice_scores": [1.0, 2.0]})"),
               recontrast::Error);

  // 2 mm voxels, origin (-10, 20, 30) in RAS, axes flipped in R and A as an LPS-ordered volume is.
  const std::array<std::array<double, 4>, 4> ijkToRAS{
    { { -2.0, 0.0, 0.0, -10.0 }, { 0.0, -2.0, 0.0, 20.0 }, { 0.0, 0.0, 3.0, 30.0 }, { 0.0, 0.0, 0.0, 1.0 } }
  };
  const auto center = SliceCenterRAS(ijkToRAS, { 11, 21, 5 }, 2, 4);
  EXPECT_DOUBLE_EQ(center[0], -10.0 - 2.0 * 5.0);
  EXPECT_DOUBLE_EQ(center[1], 20.0 - 2.0 * 10.0);
  EXPECT_DOUBLE_EQ(center[2], 30.0 + 3.0 * 4.0);
  EXPECT_THROW(SliceCenterRAS(ijkToRAS, { 11, 21, 5 }, 2, 5), recontrast::Error);
  EXPECT_THROW(SliceCenterRAS(ijkToRAS, { 11, 21, 5 }, 3, 0), recontrast::Error);
}
} // namespace
