/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Tests of the slice pre/post-processing shared by training and the anomaly filter: intensity
 *  presets, the aspect-preserving square resampler and the automatic foreground mask.
 *
 *=========================================================================*/
#include "itkReContrastForegroundMaskImageFilter.h"
#include "itkReContrastIntensityPreset.h"
#include "itkReContrastSliceResampler.h"

#include "itkImageFileReader.h"
#include "itkImageRegionConstIterator.h"
#include "itkImageRegionIterator.h"
#include "itkNiftiImageIOFactory.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

namespace
{

using itk::ReContrastIntensityPreset;
using itk::ReContrastSliceResampler;

constexpr double Pi = 3.14159265358979323846;

// Runs `action`, expects an itk::ExceptionObject, and returns its description.
template <typename TAction>
std::string
ExpectException(TAction action)
{
  try
  {
    action();
  }
  catch (const itk::ExceptionObject & e)
  {
    return e.GetDescription();
  }
  ADD_FAILURE() << "expected an itk::ExceptionObject";
  return "";
}

bool
Contains(const std::string & text, const std::string & part)
{
  return text.find(part) != std::string::npos;
}

// ---------------------------------------------------------------------------------------------
// Intensity presets
// ---------------------------------------------------------------------------------------------

TEST(ReContrastIntensityPreset, ParsesAndRoundTrips)
{
  std::vector<std::string> forms = {
    "mr",          "mr:1:99",         "mr:0:100",       "mr:0.25:99.75", "mr:0.5:99.5:0",
    "mr:1:99:2.5", "window:-100:300", "window:0.1:0.7", "unit",          "bytes"
  };
  for (const auto & name : ReContrastIntensityPreset::GetCTWindowNames())
  {
    forms.push_back("ct-" + name);
  }
  for (const auto & form : forms)
  {
    const ReContrastIntensityPreset preset = ReContrastIntensityPreset::FromString(form);
    EXPECT_EQ(preset.ToString(), form);
    EXPECT_EQ(ReContrastIntensityPreset::FromString(preset.ToString()), preset) << form;
  }

  // Case, blanks and the default percentiles written out all give the canonical form.
  EXPECT_EQ(ReContrastIntensityPreset::FromString(" MR:0.5:99.5 ").ToString(), "mr");
  EXPECT_EQ(ReContrastIntensityPreset::FromString("CT-Brain").ToString(), "ct-brain");
  EXPECT_EQ(ReContrastIntensityPreset::FromString("Window: -100 : 300").ToString(), "window:-100:300");
  EXPECT_EQ(ReContrastIntensityPreset::FromString("mr"), ReContrastIntensityPreset());
  EXPECT_EQ(ReContrastIntensityPreset::FromString("mr:0.5:99.5:1").ToString(), "mr");
  EXPECT_EQ(ReContrastIntensityPreset::FromString("mr:1:99:1").ToString(), "mr:1:99");

  const auto mr = ReContrastIntensityPreset::FromString("mr:1:99");
  EXPECT_EQ(mr.GetKind(), ReContrastIntensityPreset::KindEnum::MR);
  EXPECT_DOUBLE_EQ(mr.GetLowerPercentile(), 1.0);
  EXPECT_DOUBLE_EQ(mr.GetUpperPercentile(), 99.0);
  EXPECT_TRUE(mr.RequiresFit());
  EXPECT_FALSE(mr.IsFitted());
  EXPECT_EQ(ReContrastIntensityPreset::FromString("ct-lung").GetKind(), ReContrastIntensityPreset::KindEnum::CT);
  EXPECT_EQ(ReContrastIntensityPreset::FromString("ct-lung").GetCTWindowName(), "lung");
  EXPECT_EQ(ReContrastIntensityPreset::FromString("window:1:2").GetKind(), ReContrastIntensityPreset::KindEnum::Window);
  EXPECT_EQ(ReContrastIntensityPreset::FromString("unit").GetKind(), ReContrastIntensityPreset::KindEnum::Unit);
  EXPECT_EQ(ReContrastIntensityPreset::FromString("bytes").GetKind(), ReContrastIntensityPreset::KindEnum::Bytes);
  EXPECT_NE(ReContrastIntensityPreset::FromString("mr"), ReContrastIntensityPreset::FromString("mr:1:99"));
  EXPECT_NE(ReContrastIntensityPreset::FromString("ct-brain"), ReContrastIntensityPreset::FromString("ct-bone"));
}

TEST(ReContrastIntensityPreset, CTWindows)
{
  struct Expected
  {
    const char * Form;
    double Lower;
    double Upper;
  };
  // Centre -/+ width / 2 of the documented windows.
  const Expected windows[] = { { "ct-brain", 0.0, 80.0 },           { "ct-subdural", -32.5, 182.5 },
                               { "ct-soft-tissue", -160.0, 240.0 }, { "ct-mediastinum", -125.0, 225.0 },
                               { "ct-liver", -20.0, 140.0 },        { "ct-lung", -1350.0, 150.0 },
                               { "ct-bone", -500.0, 1300.0 } };
  EXPECT_EQ(ReContrastIntensityPreset::GetCTWindowNames().size(), std::size(windows));
  for (const auto & window : windows)
  {
    const auto preset = ReContrastIntensityPreset::FromString(window.Form);
    EXPECT_TRUE(preset.IsFitted());
    EXPECT_FALSE(preset.RequiresFit());
    EXPECT_DOUBLE_EQ(preset.GetLower(), window.Lower) << window.Form;
    EXPECT_DOUBLE_EQ(preset.GetUpper(), window.Upper) << window.Form;
    EXPECT_FLOAT_EQ(preset.Apply(static_cast<float>(0.5 * (window.Lower + window.Upper))), 0.5f);
    EXPECT_EQ(preset.Apply(-3000.0f), 0.0f);
    EXPECT_EQ(preset.Apply(3000.0f), 1.0f);
  }
  const auto brain = ReContrastIntensityPreset::CT("brain");
  EXPECT_FLOAT_EQ(brain.Apply(20.0f), 0.25f);
  EXPECT_FLOAT_EQ(brain.Apply(60.0f), 0.75f);

  // Fixed kinds need no fit, but the fit still rejects non-finite scans.
  auto lung = ReContrastIntensityPreset::CT("lung");
  const std::vector<float> values = { -1000.0f, 40.0f, 300.0f };
  lung.Fit(values.data(), nullptr, values.size());
  EXPECT_DOUBLE_EQ(lung.GetLower(), -1350.0);
  EXPECT_DOUBLE_EQ(lung.GetUpper(), 150.0);
}

TEST(ReContrastIntensityPreset, FixedWindows)
{
  const auto window = ReContrastIntensityPreset::FromString("window:-100:300");
  EXPECT_DOUBLE_EQ(window.GetLower(), -100.0);
  EXPECT_DOUBLE_EQ(window.GetUpper(), 300.0);
  EXPECT_FLOAT_EQ(window.Apply(100.0f), 0.5f);

  const auto bytes = ReContrastIntensityPreset::Bytes();
  EXPECT_FLOAT_EQ(bytes.Apply(127.5f), 0.5f);
  EXPECT_FLOAT_EQ(bytes.Apply(51.0f), 0.2f);
  EXPECT_EQ(bytes.Apply(0.0f), 0.0f);
  EXPECT_EQ(bytes.Apply(255.0f), 1.0f);

  const auto unit = ReContrastIntensityPreset::Unit();
  EXPECT_FLOAT_EQ(unit.Apply(0.25f), 0.25f);
  EXPECT_EQ(unit.Apply(-0.1f), 0.0f);
  EXPECT_EQ(unit.Apply(1.5f), 1.0f);
  EXPECT_EQ(unit.Apply(std::numeric_limits<float>::quiet_NaN()), 0.0f);

  const std::vector<float> in = { -1.0f, 0.0f, 0.5f, 1.0f, 2.0f };
  std::vector<float> out(in.size());
  unit.Apply(in.data(), out.data(), in.size());
  EXPECT_EQ(out, (std::vector<float>{ 0.0f, 0.0f, 0.5f, 1.0f, 1.0f }));
}

// Values above the upper percentile keep rising up to 1 + headroom, so that a lesion brighter than all
// normal tissue stays brighter; headroom 0 clips there, as model files made before the headroom did.
TEST(ReContrastIntensityPreset, MRHeadroomAboveTheUpperPercentile)
{
  const std::vector<float> values = { 0.0f, 10.0f, 20.0f, 30.0f, 40.0f, 50.0f, 60.0f, 70.0f, 80.0f, 90.0f, 100.0f };
  auto preset = ReContrastIntensityPreset::FromString("mr:0:100");
  preset.Fit(values.data(), nullptr, values.size());
  EXPECT_DOUBLE_EQ(preset.GetHeadroom(), ReContrastIntensityPreset::DefaultMRHeadroom);
  EXPECT_FLOAT_EQ(preset.Apply(50.0f), 0.5f);
  EXPECT_FLOAT_EQ(preset.Apply(150.0f), 1.5f);
  EXPECT_FLOAT_EQ(preset.Apply(200.0f), 2.0f);
  EXPECT_FLOAT_EQ(preset.Apply(1e9f), 2.0f);
  EXPECT_EQ(preset.Apply(-5.0f), 0.0f);

  auto clipped = ReContrastIntensityPreset::FromString("mr:0:100:0");
  clipped.Fit(values.data(), nullptr, values.size());
  EXPECT_FLOAT_EQ(clipped.Apply(150.0f), 1.0f);
  auto wide = ReContrastIntensityPreset::MR(0.0, 100.0, 3.0);
  wide.Fit(values.data(), nullptr, values.size());
  EXPECT_FLOAT_EQ(wide.Apply(350.0f), 3.5f);
  EXPECT_FLOAT_EQ(wide.Apply(500.0f), 4.0f);

  // The fixed kinds keep [0, 1].
  EXPECT_EQ(ReContrastIntensityPreset::FromString("window:0:10").Apply(20.0f), 1.0f);
  EXPECT_EQ(ReContrastIntensityPreset::FromString("bytes").Apply(300.0f), 1.0f);
  EXPECT_DOUBLE_EQ(ReContrastIntensityPreset::FromString("ct-brain").GetHeadroom(), 0.0);

  // Model files: new ones record the headroom; an older file's MR form (none) means clipped.
  EXPECT_EQ(ReContrastIntensityPreset::FromString("mr").ToModelProperty(), "mr:0.5:99.5:1");
  EXPECT_EQ(ReContrastIntensityPreset::FromString("bytes").ToModelProperty(), "bytes");
  EXPECT_EQ(ReContrastIntensityPreset::FromModelProperty("mr:0.5:99.5:1"), ReContrastIntensityPreset::FromString("mr"));
  EXPECT_DOUBLE_EQ(ReContrastIntensityPreset::FromModelProperty("mr").GetHeadroom(), 0.0);
  EXPECT_DOUBLE_EQ(ReContrastIntensityPreset::FromModelProperty("mr:1:99").GetHeadroom(), 0.0);
  EXPECT_EQ(ReContrastIntensityPreset::FromModelProperty("ct-lung"), ReContrastIntensityPreset::FromString("ct-lung"));

  for (const char * bad : { "mr:1:99:-1", "mr:1:99:11", "mr:1:99:x", "mr:1:99:1:2" })
  {
    EXPECT_TRUE(
      Contains(ExpectException([&] { ReContrastIntensityPreset::FromString(bad); }), "Accepted intensity presets"))
      << bad;
  }
  EXPECT_THROW(ReContrastIntensityPreset::MR(0.5, 99.5, -0.5), itk::ExceptionObject);
}

TEST(ReContrastIntensityPreset, RejectsBadStrings)
{
  const char * bad[] = { "",           "ct",           "ct-heart",     "ct-",    "mr:1",
                         "mr:99:1",    "mr:1:101",     "mr:-1:99",     "mr:a:b", "mr:1:99:",
                         "window:5:5", "window:1:nan", "window:1:2:3", "window", "window:1,5:3",
                         "flair",      "mr-1-99" };
  for (const char * text : bad)
  {
    const std::string message = ExpectException([&] { ReContrastIntensityPreset::FromString(text); });
    EXPECT_TRUE(Contains(message, "Accepted intensity presets: mr, mr:<lower %>:<upper %>")) << text << ": " << message;
    EXPECT_TRUE(Contains(message, "ct-brain")) << message;
    EXPECT_TRUE(Contains(message, "window:<lower>:<upper>")) << message;
    EXPECT_TRUE(Contains(message, std::string("\"") + text + "\"")) << message;
  }
  EXPECT_THROW(ReContrastIntensityPreset::MR(50.0, 50.0), itk::ExceptionObject);
  EXPECT_THROW(ReContrastIntensityPreset::Window(1.0, -1.0), itk::ExceptionObject);
  EXPECT_THROW(ReContrastIntensityPreset::CT("heart"), itk::ExceptionObject);
}

// Values (i * 7919 mod 1000) / 8 - 20: exact in float, spread, and in a scrambled order.
std::vector<float>
ScrambledValues()
{
  std::vector<float> values(1000);
  for (size_t i = 0; i < values.size(); ++i)
  {
    values[i] = static_cast<float>((i * 7919) % 1000) / 8.0f - 20.0f;
  }
  return values;
}

TEST(ReContrastIntensityPreset, MRPercentilesMatchNumpy)
{
  const std::vector<float> values = ScrambledValues();
  std::vector<unsigned char> foreground(values.size());
  for (size_t i = 0; i < foreground.size(); ++i)
  {
    foreground[i] = i % 3 != 0 ? 1 : 0;
  }

  // Expected values from numpy 1.24: np.percentile(v[i % 3 != 0], q), v as above, in float64.
  struct Expected
  {
    const char * Form;
    double Lower;
    double Upper;
  };
  const Expected cases[] = { { "mr", -19.459375, 104.084375 },
                             { "mr:1:99", -18.66875, 103.29375 },
                             { "mr:10:90", -7.0625, 92.4375 },
                             { "mr:0:100", -19.875, 104.5 } };
  for (const auto & expected : cases)
  {
    auto preset = ReContrastIntensityPreset::FromString(expected.Form);
    preset.Fit(values.data(), foreground.data(), values.size());
    EXPECT_TRUE(preset.IsFitted());
    EXPECT_DOUBLE_EQ(preset.GetLower(), expected.Lower) << expected.Form;
    EXPECT_DOUBLE_EQ(preset.GetUpper(), expected.Upper) << expected.Form;
  }

  // Without a mask every voxel counts: np.percentile(v, [0.5, 99.5]).
  auto all = ReContrastIntensityPreset::MR();
  all.Fit(values.data(), nullptr, values.size());
  EXPECT_DOUBLE_EQ(all.GetLower(), -19.375625);
  EXPECT_DOUBLE_EQ(all.GetUpper(), 104.250625);

  // np.percentile([3, -1, 4, 1, 5, 9, 2], [0.5, 99.5]) = [-0.94, 8.879999999999999].
  const std::vector<float> small = { 3.0f, -1.0f, 4.0f, 1.0f, 5.0f, 9.0f, 2.0f };
  auto preset = ReContrastIntensityPreset::MR();
  preset.Fit(small.data(), nullptr, small.size());
  EXPECT_EQ(preset.GetLower(), -0.94);
  EXPECT_EQ(preset.GetUpper(), 8.879999999999999);
  EXPECT_NEAR(preset.Apply(-0.94f), 0.0f, 1e-6);
  EXPECT_FLOAT_EQ(preset.Apply(3.97f), 0.5f);
  EXPECT_FLOAT_EQ(preset.Apply(9.0f), 9.94f / 9.82f); // above the upper percentile: headroom
  EXPECT_EQ(preset.Apply(-1.0f), 0.0f);

  // The fitted bounds are part of the preset's state but not of its text form.
  EXPECT_NE(preset, ReContrastIntensityPreset::MR());
  EXPECT_EQ(ReContrastIntensityPreset::FromString(preset.ToString()), ReContrastIntensityPreset::MR());
}

// Scans too large to copy are fitted from values handed over in pieces: the same exact percentiles
// as Fit() for every kind of value set (ties, negative values, signed zeros, one value per bin).
TEST(ReContrastIntensityPreset, StreamedFitEqualsFit)
{
  std::mt19937 random(11);
  std::vector<std::vector<float>> sets;
  std::normal_distribution<float> normal(300.0f, 120.0f);
  std::vector<float> wide(100003);
  std::generate(wide.begin(), wide.end(), [&] { return normal(random); });
  sets.push_back(wide);
  std::vector<float> ties(5000);
  std::uniform_int_distribution<int> few(-3, 3);
  std::generate(ties.begin(), ties.end(), [&] { return static_cast<float>(few(random)) * 0.5f; });
  ties.push_back(-0.0f);
  sets.push_back(ties);
  std::vector<float> integers(70001);
  std::uniform_int_distribution<int> hounsfield(-1024, 3071);
  std::generate(integers.begin(), integers.end(), [&] { return static_cast<float>(hounsfield(random)); });
  sets.push_back(integers);
  sets.push_back({ 3.0f, -1.0f, 4.0f, 1.0f, 5.0f, 9.0f, 2.0f });
  sets.push_back({ 1e-30f, -1e30f, 1e30f });
  for (const char * form : { "mr", "mr:1:99", "mr:0:100", "mr:10:90", "mr:49.9:50.1" })
  {
    for (size_t set = 0; set < sets.size(); ++set)
    {
      // Both fit the same bounds, or both refuse with the same sentence (ties may leave no spread).
      const auto outcome = [&](const std::function<void(ReContrastIntensityPreset &)> & fit) {
        auto preset = ReContrastIntensityPreset::FromString(form);
        try
        {
          fit(preset);
        }
        catch (const itk::ExceptionObject & e)
        {
          return std::string(e.GetDescription());
        }
        std::ostringstream bounds;
        bounds << std::setprecision(17) << preset.GetLower() << " " << preset.GetUpper();
        return bounds.str();
      };
      const std::string whole =
        outcome([&](ReContrastIntensityPreset & preset) { preset.Fit(sets[set].data(), nullptr, sets[set].size()); });
      const std::string streamed = outcome([&](ReContrastIntensityPreset & preset) {
        preset.FitStreamed([&](const ReContrastIntensityPreset::ValueChunkFunction & receive) {
          for (size_t start = 0; start < sets[set].size(); start += 977)
          {
            receive(sets[set].data() + start, std::min<size_t>(977, sets[set].size() - start));
          }
        });
      });
      EXPECT_EQ(streamed, whole) << form << ", set " << set;
    }
  }
  // The same refusals.
  auto preset = ReContrastIntensityPreset::MR();
  const std::vector<float> constant(10, 2.0f);
  const auto give = [](const std::vector<float> & values) {
    return [&values](const ReContrastIntensityPreset::ValueChunkFunction & receive) {
      receive(values.data(), values.size());
    };
  };
  EXPECT_THROW(preset.FitStreamed(give(constant)), itk::ExceptionObject);
  EXPECT_THROW(preset.FitStreamed(give({})), itk::ExceptionObject);
  EXPECT_THROW(preset.FitStreamed(give({ 1.0f, std::nanf("") })), itk::ExceptionObject);
  EXPECT_FALSE(preset.IsFitted());
}

TEST(ReContrastIntensityPreset, RejectsUnusableScans)
{
  auto preset = ReContrastIntensityPreset::MR();
  EXPECT_TRUE(Contains(ExpectException([&] { preset.Apply(1.0f); }), "call Fit() before Apply()"));

  const std::vector<float> constant(100, 5.0f);
  EXPECT_TRUE(Contains(ExpectException([&] { preset.Fit(constant.data(), nullptr, constant.size()); }),
                       "The scan has no usable foreground intensities (all foreground voxels equal 5)."));

  const std::vector<float> values = ScrambledValues();
  const std::vector<unsigned char> none(values.size(), 0);
  EXPECT_TRUE(Contains(ExpectException([&] { preset.Fit(values.data(), none.data(), values.size()); }),
                       "The scan has no usable foreground intensities (the foreground mask is empty)."));
  EXPECT_TRUE(Contains(ExpectException([&] { preset.Fit(values.data(), nullptr, 0); }),
                       "The scan has no usable foreground intensities (it has no voxels)."));

  // Mostly one value: the 1 % and 99 % percentiles coincide although not every voxel is equal.
  std::vector<float> flat(1000, 7.0f);
  flat[0] = 0.0f;
  auto robust = ReContrastIntensityPreset::FromString("mr:1:99");
  EXPECT_TRUE(Contains(ExpectException([&] { robust.Fit(flat.data(), nullptr, flat.size()); }),
                       "The scan has no usable foreground intensities (its 1 % and 99 % foreground percentiles"));

  for (const float bad : { std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity() })
  {
    std::vector<float> withBad = values;
    withBad[17] = bad;
    EXPECT_TRUE(Contains(ExpectException([&] { preset.Fit(withBad.data(), nullptr, withBad.size()); }),
                         "The scan contains NaN or infinite intensities (1 of 1000 voxels)"));
    auto bytes = ReContrastIntensityPreset::Bytes();
    EXPECT_THROW(bytes.Fit(withBad.data(), nullptr, withBad.size()), itk::ExceptionObject);
  }
  EXPECT_FALSE(preset.IsFitted());
}

// ---------------------------------------------------------------------------------------------
// Square resampler
// ---------------------------------------------------------------------------------------------

TEST(ReContrastSliceResampler, PreservesPhysicalAspectRatio)
{
  // 200 x 100 at 1 x 1 mm is twice as wide as high: 64 x 32 centred in the 64 x 64 square.
  const ReContrastSliceResampler wide(200, 100, 1.0, 1.0, 64);
  EXPECT_DOUBLE_EQ(wide.GetSquareSpacing(), 200.0 / 64.0);
  EXPECT_EQ(wide.GetContentIndex()[0], 0u);
  EXPECT_EQ(wide.GetContentIndex()[1], 16u);
  EXPECT_EQ(wide.GetContentSize()[0], 64u);
  EXPECT_EQ(wide.GetContentSize()[1], 32u);

  const std::vector<float> ones(200 * 100, 1.0f);
  std::vector<float> square(64 * 64);
  wide.ToSquare(ones.data(), square.data(), -1.0f);
  for (unsigned int y = 0; y < 64; ++y)
  {
    for (unsigned int x = 0; x < 64; ++x)
    {
      const float expected = (y >= 16 && y < 48) ? 1.0f : -1.0f;
      ASSERT_NEAR(square[y * 64 + x], expected, 1e-6) << x << ", " << y;
    }
  }

  // With 1 x 2 mm pixels the same grid is physically square: no padding.
  const ReContrastSliceResampler physicallySquare(200, 100, 1.0, 2.0, 64);
  EXPECT_EQ(physicallySquare.GetContentIndex()[0], 0u);
  EXPECT_EQ(physicallySquare.GetContentIndex()[1], 0u);
  EXPECT_EQ(physicallySquare.GetContentSize()[0], 64u);
  EXPECT_EQ(physicallySquare.GetContentSize()[1], 64u);
  physicallySquare.ToSquare(ones.data(), square.data(), -1.0f);
  EXPECT_NEAR(*std::min_element(square.begin(), square.end()), 1.0f, 1e-6);

  // Portrait slices are padded left and right.
  const ReContrastSliceResampler tall(100, 200, 1.0, 1.0, 64);
  EXPECT_EQ(tall.GetContentIndex()[0], 16u);
  EXPECT_EQ(tall.GetContentIndex()[1], 0u);
  EXPECT_EQ(tall.GetContentSize()[0], 32u);
  EXPECT_EQ(tall.GetContentSize()[1], 64u);
  const ReContrastSliceResampler tallSquare(100, 200, 2.0, 1.0, 64);
  EXPECT_EQ(tallSquare.GetContentSize()[0], 64u);
  EXPECT_EQ(tallSquare.GetContentSize()[1], 64u);
}

TEST(ReContrastSliceResampler, SameGridIsIdentity)
{
  const unsigned int size = 48;
  std::vector<float> slice(size * size);
  std::mt19937 random(7);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (auto & value : slice)
  {
    value = uniform(random);
  }
  const ReContrastSliceResampler resampler(size, size, 0.7, 0.7, size);
  std::vector<float> square(size * size);
  std::vector<float> back(size * size);
  resampler.ToSquare(slice.data(), square.data());
  resampler.FromSquare(square.data(), back.data());
  for (size_t i = 0; i < slice.size(); ++i)
  {
    ASSERT_NEAR(square[i], slice[i], 1e-6);
    ASSERT_NEAR(back[i], slice[i], 1e-6);
  }
}

TEST(ReContrastSliceResampler, CoordinateTransformsAreInverse)
{
  const ReContrastSliceResampler resampler(300, 30, 0.5, 4.0, 64);
  ReContrastSliceResampler::ContinuousIndexType sliceIndex;
  sliceIndex[0] = 123.25;
  sliceIndex[1] = 17.5;
  const auto squareIndex = resampler.TransformSliceIndexToSquareIndex(sliceIndex);
  const auto back = resampler.TransformSquareIndexToSliceIndex(squareIndex);
  EXPECT_NEAR(back[0], sliceIndex[0], 1e-9);
  EXPECT_NEAR(back[1], sliceIndex[1], 1e-9);

  // The slice's corners map onto the content region's edges.
  ReContrastSliceResampler::ContinuousIndexType corner;
  corner[0] = -0.5;
  corner[1] = -0.5;
  const auto squareCorner = resampler.TransformSliceIndexToSquareIndex(corner);
  EXPECT_NEAR(squareCorner[0], -0.5, 1e-9);
  EXPECT_NEAR(squareCorner[1], 31.5 - 0.5 * 120.0 / resampler.GetSquareSpacing(), 1e-9);
}

// Round trip ToSquare -> FromSquare of a smooth function; returns the largest error.
template <typename TFunction>
double
RoundTripError(const ReContrastSliceResampler & resampler, TFunction function, double * meanError = nullptr)
{
  const unsigned int width = resampler.GetWidth();
  const unsigned int height = resampler.GetHeight();
  const unsigned int s = resampler.GetSquareSize();
  std::vector<float> slice(width * height);
  for (unsigned int y = 0; y < height; ++y)
  {
    for (unsigned int x = 0; x < width; ++x)
    {
      slice[y * width + x] = static_cast<float>(function((x + 0.5) / width, (y + 0.5) / height));
    }
  }
  std::vector<float> square(s * s);
  std::vector<float> back(width * height);
  resampler.ToSquare(slice.data(), square.data(), -5.0f);
  resampler.FromSquare(square.data(), back.data());
  double largest = 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < slice.size(); ++i)
  {
    const double error = std::abs(static_cast<double>(back[i]) - slice[i]);
    largest = std::max(largest, error);
    sum += error;
  }
  if (meanError != nullptr)
  {
    *meanError = sum / slice.size();
  }
  return largest;
}

TEST(ReContrastSliceResampler, RoundTripOfSmoothFunctions)
{
  const auto ramp = [](double u, double v) { return 0.2 + 0.5 * u + 0.3 * v; };
  const auto wave = [](double u, double v) { return 0.5 + 0.25 * std::sin(2.0 * Pi * u) * std::cos(Pi * v); };

  // Down-sampling by 3.125 (antialiased) and back; padding (-5) must not leak in.
  const ReContrastSliceResampler down(200, 100, 1.0, 1.0, 64);
  double mean = 0.0;
  EXPECT_LT(RoundTripError(down, ramp, &mean), 0.01);
  EXPECT_LT(mean, 0.001);
  EXPECT_LT(RoundTripError(down, wave, &mean), 0.02);
  EXPECT_LT(mean, 0.005);

  // Up-sampling with anisotropic pixels.
  const ReContrastSliceResampler up(48, 40, 1.0, 1.6, 96);
  EXPECT_LT(RoundTripError(up, ramp), 0.005);
  EXPECT_LT(RoundTripError(up, wave), 0.01);

  // Reducing along x (4.7x) while enlarging along y (a thick-slice reformat).
  const ReContrastSliceResampler mixed(300, 30, 0.5, 4.0, 64);
  EXPECT_LT(RoundTripError(mixed, ramp, &mean), 0.01);
  EXPECT_LT(mean, 0.001);
  EXPECT_LT(RoundTripError(mixed, wave, &mean), 0.02);
  EXPECT_LT(mean, 0.005);
}

TEST(ReContrastSliceResampler, StretchFillsTheSquareWithBothSides)
{
  using Fit = ReContrastSliceResampler::Fit;
  const ReContrastSliceResampler stretched(200, 100, 1.0, 1.0, 64, Fit::Stretch);
  EXPECT_EQ(stretched.GetFit(), Fit::Stretch);
  EXPECT_DOUBLE_EQ(stretched.GetSquareSpacing(), 200.0 / 64.0);
  EXPECT_DOUBLE_EQ(stretched.GetSquareSpacingY(), 100.0 / 64.0);
  EXPECT_EQ(stretched.GetContentIndex()[0], 0);
  EXPECT_EQ(stretched.GetContentIndex()[1], 0);
  EXPECT_EQ(stretched.GetContentSize()[0], 64u);
  EXPECT_EQ(stretched.GetContentSize()[1], 64u);
  // The slice's outer corners are the square's.
  ReContrastSliceResampler::ContinuousIndexType corner;
  corner[0] = -0.5;
  corner[1] = -0.5;
  EXPECT_NEAR(stretched.TransformSliceIndexToSquareIndex(corner)[0], -0.5, 1e-12);
  EXPECT_NEAR(stretched.TransformSliceIndexToSquareIndex(corner)[1], -0.5, 1e-12);
  corner[0] = 199.5;
  corner[1] = 99.5;
  EXPECT_NEAR(stretched.TransformSliceIndexToSquareIndex(corner)[0], 63.5, 1e-12);
  EXPECT_NEAR(stretched.TransformSliceIndexToSquareIndex(corner)[1], 63.5, 1e-12);
  // No padding: every square pixel comes from the slice.
  std::vector<float> slice(200 * 100, 1.0f);
  std::vector<float> square(64 * 64);
  stretched.ToSquare(slice.data(), square.data(), -5.0f);
  EXPECT_TRUE(std::all_of(square.begin(), square.end(), [](float v) { return std::abs(v - 1.0f) < 1e-6f; }));
  // Round trips as accurate as the aspect-preserving fit's, also with anisotropic pixels.
  const auto wave = [](double u, double v) { return 0.5 + 0.25 * std::sin(2.0 * Pi * u) * std::cos(Pi * v); };
  double mean = 0.0;
  EXPECT_LT(RoundTripError(stretched, wave, &mean), 0.02);
  EXPECT_LT(mean, 0.005);
  EXPECT_LT(RoundTripError(ReContrastSliceResampler(48, 40, 1.0, 1.6, 96, Fit::Stretch), wave), 0.01);
  // A square slice is the same either way.
  const ReContrastSliceResampler squareFit(128, 128, 0.5, 0.5, 64);
  const ReContrastSliceResampler squareStretch(128, 128, 0.5, 0.5, 64, Fit::Stretch);
  std::vector<float> ramp(128 * 128);
  for (size_t i = 0; i < ramp.size(); ++i)
  {
    ramp[i] = static_cast<float>(i % 128) + 0.25f * static_cast<float>(i / 128);
  }
  std::vector<float> a(64 * 64);
  std::vector<float> b(64 * 64);
  squareFit.ToSquare(ramp.data(), a.data());
  squareStretch.ToSquare(ramp.data(), b.data());
  EXPECT_EQ(a, b);
}

TEST(ReContrastSliceResampler, AntialiasesWhenReducing)
{
  // A checkerboard of single pixels has no content at the square's resolution: averaging gives a flat
  // 0.5, whereas point sampling would alias it into a pattern of 0 and 1.
  const ReContrastSliceResampler resampler(256, 256, 1.0, 1.0, 64);
  std::vector<float> slice(256 * 256);
  for (unsigned int y = 0; y < 256; ++y)
  {
    for (unsigned int x = 0; x < 256; ++x)
    {
      slice[y * 256 + x] = ((x + y) % 2 == 0) ? 1.0f : 0.0f;
    }
  }
  std::vector<float> square(64 * 64);
  resampler.ToSquare(slice.data(), square.data());
  for (const float value : square)
  {
    ASSERT_NEAR(value, 0.5f, 0.05f);
  }
}

// The paper resizes pictures with torchvision's Resize on PIL images, i.e. PIL's bilinear resize,
// which widens its tent when reducing. The stretch fit must give the same pixels, also when reducing
// 4x and 8x (512 and 1024 to 128) and by uneven factors: PIL (Debian's python3-pil) is the oracle, in
// float mode ('F': the same arithmetic, compared to float rounding) and in 8-bit mode ('L': what the
// official loader sees, rounded to whole grey levels after each pass).
TEST(ReContrastSliceResampler, StretchEqualsPILBilinearResize)
{
  const char * python = std::getenv("RECONTRAST_PYTHON");
  if (python == nullptr || *python == '\0')
  {
    GTEST_SKIP() << "RECONTRAST_PYTHON is not set: no Python with PIL to compare with.";
  }
  const std::string folder = ::testing::TempDir() + "recontrast-pil-" + std::to_string(std::random_device{}());
  const std::string input = folder + "-in.raw";
  const std::string output = folder + "-out.raw";
  // Reads raw bytes (8-bit, or float32 after 'F'), resizes with PIL, writes the result as float32.
  const std::string script =
    "import sys, numpy as np; from PIL import Image\n"
    "mode, w, h, s, src, dst = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], "
    "sys.argv[6]\n"
    "a = np.fromfile(src, dtype=np.float32 if mode == 'F' else np.uint8).reshape(h, w)\n"
    "r = Image.fromarray(a, mode=mode).resize((s, s), Image.BILINEAR)\n"
    "np.asarray(r, dtype=np.float32).tofile(dst)\n";
  const std::string scriptPath = folder + ".py";
  std::ofstream(scriptPath) << script;

  struct Case
  {
    unsigned int Width;
    unsigned int Height;
    unsigned int Square;
  };
  std::mt19937 random(20);
  for (const Case c : { Case{ 512, 512, 128 }, Case{ 1024, 1024, 128 }, Case{ 500, 333, 128 }, Case{ 90, 70, 128 } })
  {
    // Fine detail (noise) on a smooth pattern, so that aliasing or a shifted grid would show.
    std::vector<unsigned char> bytes(static_cast<size_t>(c.Width) * c.Height);
    std::uniform_int_distribution<int> noise(-40, 40);
    for (unsigned int y = 0; y < c.Height; ++y)
    {
      for (unsigned int x = 0; x < c.Width; ++x)
      {
        const double smooth = 128.0 + 80.0 * std::sin(0.05 * x) * std::cos(0.03 * y);
        bytes[static_cast<size_t>(y) * c.Width + x] =
          static_cast<unsigned char>(std::clamp(smooth + noise(random), 0.0, 255.0));
      }
    }
    const std::vector<float> slice(bytes.begin(), bytes.end());
    const ReContrastSliceResampler resampler(
      c.Width, c.Height, 1.0, 1.0, c.Square, ReContrastSliceResampler::Fit::Stretch);
    std::vector<float> ours(static_cast<size_t>(c.Square) * c.Square);
    resampler.ToSquare(slice.data(), ours.data());

    for (const std::string mode : { "F", "L" })
    {
      {
        std::ofstream raw(input, std::ios::binary);
        if (mode == "F")
        {
          raw.write(reinterpret_cast<const char *>(slice.data()), static_cast<std::streamsize>(slice.size() * 4));
        }
        else
        {
          raw.write(reinterpret_cast<const char *>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        }
      }
      const std::string command = std::string("\"") + python + "\" \"" + scriptPath + "\" " + mode + " " +
                                  std::to_string(c.Width) + " " + std::to_string(c.Height) + " " +
                                  std::to_string(c.Square) + " \"" + input + "\" \"" + output + "\"";
      ASSERT_EQ(std::system(command.c_str()), 0) << command;
      std::vector<float> pil(ours.size());
      std::ifstream(output, std::ios::binary)
        .read(reinterpret_cast<char *>(pil.data()), static_cast<std::streamsize>(pil.size() * 4));
      double largest = 0.0;
      for (size_t i = 0; i < ours.size(); ++i)
      {
        largest = std::max(largest, std::abs(static_cast<double>(ours[i]) - pil[i]));
      }
      // 'F': float rounding of sums of up to 16 x 16 weighted grey levels; 'L': PIL rounds to whole grey
      // levels after each of its two passes (half a level each).
      EXPECT_LT(largest, mode == "F" ? 1e-3 : 1.0)
        << c.Width << " x " << c.Height << " -> " << c.Square << " in PIL mode " << mode;
    }
  }
  std::remove(input.c_str());
  std::remove(output.c_str());
  std::remove(scriptPath.c_str());
}

// Index of the largest value.
size_t
ArgMax(const std::vector<float> & values)
{
  return static_cast<size_t>(std::max_element(values.begin(), values.end()) - values.begin());
}

TEST(ReContrastSliceResampler, KeepsABrightPixelInPlace)
{
  for (const double spacingY : { 1.0, 2.0, 0.4 })
  {
    const unsigned int width = 200;
    const unsigned int height = 100;
    const unsigned int px = 123;
    const unsigned int py = 37;
    const ReContrastSliceResampler resampler(width, height, 1.0, spacingY, 64);
    std::vector<float> slice(width * height, 0.0f);
    slice[py * width + px] = 1.0f;
    std::vector<float> square(64 * 64);
    resampler.ToSquare(slice.data(), square.data());

    // The weighted centre of the square's response maps back onto the pixel.
    double sum = 0.0;
    double sx = 0.0;
    double sy = 0.0;
    for (unsigned int y = 0; y < 64; ++y)
    {
      for (unsigned int x = 0; x < 64; ++x)
      {
        sum += square[y * 64 + x];
        sx += x * square[y * 64 + x];
        sy += y * square[y * 64 + x];
      }
    }
    ASSERT_GT(sum, 0.0);
    ReContrastSliceResampler::ContinuousIndexType centre;
    centre[0] = sx / sum;
    centre[1] = sy / sum;
    const auto onSlice = resampler.TransformSquareIndexToSliceIndex(centre);
    EXPECT_NEAR(onSlice[0], px, 1.0) << spacingY;
    EXPECT_NEAR(onSlice[1], py, 1.0) << spacingY;

    // The brightest square pixel is the one that holds the pixel.
    ReContrastSliceResampler::ContinuousIndexType pixel;
    pixel[0] = px;
    pixel[1] = py;
    const auto inSquare = resampler.TransformSliceIndexToSquareIndex(pixel);
    const size_t peak = ArgMax(square);
    EXPECT_NEAR(static_cast<double>(peak % 64), inSquare[0], 1.0) << spacingY;
    EXPECT_NEAR(static_cast<double>(peak / 64), inSquare[1], 1.0) << spacingY;

    // And after the way back the peak is on the pixel, within one slice pixel.
    std::vector<float> back(width * height);
    resampler.FromSquare(square.data(), back.data());
    const size_t backPeak = ArgMax(back);
    EXPECT_NEAR(static_cast<double>(backPeak % width), px, 1.0) << spacingY;
    EXPECT_NEAR(static_cast<double>(backPeak / width), py, 1.0) << spacingY;
  }
}

TEST(ReContrastSliceResampler, MaskToSquareIsNearest)
{
  const unsigned int width = 200;
  const unsigned int height = 100;
  std::vector<unsigned char> mask(width * height);
  for (unsigned int y = 0; y < height; ++y)
  {
    for (unsigned int x = 0; x < width; ++x)
    {
      mask[y * width + x] = static_cast<unsigned char>(1 + (x / 25) * 10 + y / 25);
    }
  }
  for (const double spacingY : { 1.0, 2.0, 0.5 })
  {
    const ReContrastSliceResampler resampler(width, height, 1.0, spacingY, 64);
    std::vector<unsigned char> square(64 * 64, 99);
    resampler.MaskToSquare(mask.data(), square.data());
    const auto begin = resampler.GetContentIndex();
    const auto size = resampler.GetContentSize();
    for (unsigned int y = 0; y < 64; ++y)
    {
      for (unsigned int x = 0; x < 64; ++x)
      {
        const bool content = x >= begin[0] && x < begin[0] + size[0] && y >= begin[1] && y < begin[1] + size[1];
        unsigned char expected = 0;
        if (content)
        {
          ReContrastSliceResampler::ContinuousIndexType squareIndex;
          squareIndex[0] = x;
          squareIndex[1] = y;
          const auto sliceIndex = resampler.TransformSquareIndexToSliceIndex(squareIndex);
          const auto nearest = [](double c, unsigned int n) {
            return static_cast<unsigned int>(std::min(std::max(std::floor(c + 0.5), 0.0), n - 1.0));
          };
          expected = mask[nearest(sliceIndex[1], height) * width + nearest(sliceIndex[0], width)];
        }
        ASSERT_EQ(square[y * 64 + x], expected) << x << ", " << y << ", spacing " << spacingY;
      }
    }
  }
}

TEST(ReContrastSliceResampler, ThinSlicesAndBadGeometry)
{
  // Thinner than one square pixel: one row through the middle.
  const ReContrastSliceResampler thin(1000, 1, 1.0, 1.0, 64);
  EXPECT_EQ(thin.GetContentSize()[0], 64u);
  EXPECT_EQ(thin.GetContentSize()[1], 1u);
  const std::vector<float> ones(1000, 1.0f);
  std::vector<float> square(64 * 64);
  thin.ToSquare(ones.data(), square.data());
  double total = 0.0;
  for (const float value : square)
  {
    total += value;
  }
  EXPECT_NEAR(total, 64.0, 1e-4);
  std::vector<float> back(1000);
  thin.FromSquare(square.data(), back.data());
  EXPECT_NEAR(*std::min_element(back.begin(), back.end()), 1.0f, 1e-6);

  EXPECT_THROW(ReContrastSliceResampler(0, 10, 1.0, 1.0, 64), itk::ExceptionObject);
  EXPECT_THROW(ReContrastSliceResampler(10, 10, 1.0, 1.0, 0), itk::ExceptionObject);
  EXPECT_THROW(ReContrastSliceResampler(10, 10, -1.0, 1.0, 64), itk::ExceptionObject);
  EXPECT_THROW(ReContrastSliceResampler(10, 10, 1.0, std::numeric_limits<double>::quiet_NaN(), 64),
               itk::ExceptionObject);
}

// ---------------------------------------------------------------------------------------------
// Foreground mask
// ---------------------------------------------------------------------------------------------

// A bright ellipsoid (ellipse in 2-D) on a dark noisy background, with a dark closed cavity at its
// centre, a dark tunnel from the centre out along the last axis (open in N-D, closed in each slice
// across that axis), and a small isolated bright speck in a corner.
template <typename TImage>
typename TImage::Pointer
MakeBody(const typename TImage::SizeType & size, const double * radius)
{
  constexpr unsigned int D = TImage::ImageDimension;
  auto image = TImage::New();
  image->SetRegions(size);
  typename TImage::SpacingType spacing;
  typename TImage::PointType origin;
  for (unsigned int d = 0; d < D; ++d)
  {
    spacing[d] = 1.0 + 0.25 * d;
    origin[d] = -10.0 * (d + 1);
  }
  image->SetSpacing(spacing);
  image->SetOrigin(origin);
  image->Allocate();

  std::mt19937 random(42);
  std::normal_distribution<double> noise(0.0, 6.0);
  for (itk::ImageRegionIterator<TImage> it(image, image->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    const auto index = it.GetIndex();
    double rho2 = 0.0;
    double centre2 = 0.0;
    double inPlane2 = 0.0;
    bool speck = true;
    for (unsigned int d = 0; d < D; ++d)
    {
      const double offset = index[d] - 0.5 * (size[d] - 1.0);
      rho2 += (offset / radius[d]) * (offset / radius[d]);
      centre2 += offset * offset;
      if (d + 1 < D)
      {
        inPlane2 += offset * offset;
      }
      speck = speck && index[d] >= 1 && index[d] <= 3;
    }
    const double along = index[D - 1] - 0.5 * (size[D - 1] - 1.0);
    const bool body = rho2 <= 1.0;
    const bool cavity = centre2 <= 5.0 * 5.0;
    const bool tunnel = D == 3 && inPlane2 <= 2.5 * 2.5 && along >= 0.0;
    double value = 20.0;
    if ((body && !cavity && !tunnel) || speck)
    {
      value = 120.0;
    }
    value += noise(random);
    it.Set(static_cast<typename TImage::PixelType>(std::max(0.0, value)));
  }
  return image;
}

// Normalised ellipsoid radius of an index (1 on the surface).
template <unsigned int D>
double
EllipsoidRadius(const itk::Index<D> & index, const itk::Size<D> & size, const double * radius)
{
  double rho2 = 0.0;
  for (unsigned int d = 0; d < D; ++d)
  {
    const double offset = (index[d] - 0.5 * (size[d] - 1.0)) / radius[d];
    rho2 += offset * offset;
  }
  return std::sqrt(rho2);
}

template <typename TImage>
void
CheckBodyMask(const typename TImage::SizeType & size, const double * radius)
{
  using MaskType = itk::Image<unsigned char, TImage::ImageDimension>;
  using FilterType = itk::ReContrastForegroundMaskImageFilter<TImage, MaskType>;
  const auto image = MakeBody<TImage>(size, radius);
  auto filter = FilterType::New();
  filter->SetInput(image);
  filter->SetForegroundValue(255);

  std::vector<float> progress;
  filter->AddObserver(itk::ProgressEvent(),
                      [&progress, &filter](const itk::EventObject &) { progress.push_back(filter->GetProgress()); });
  filter->Update();

  const MaskType * mask = filter->GetOutput();
  EXPECT_EQ(mask->GetLargestPossibleRegion(), image->GetLargestPossibleRegion());
  EXPECT_EQ(mask->GetSpacing(), image->GetSpacing());
  EXPECT_EQ(mask->GetOrigin(), image->GetOrigin());
  EXPECT_EQ(mask->GetDirection(), image->GetDirection());
  EXPECT_GT(filter->GetThreshold(), 40);
  EXPECT_LT(filter->GetThreshold(), 100);

  size_t inside = 0;
  size_t insideMissed = 0;
  size_t outside = 0;
  size_t outsideMarked = 0;
  size_t other = 0;
  for (itk::ImageRegionConstIterator<MaskType> it(mask, mask->GetLargestPossibleRegion()); !it.IsAtEnd(); ++it)
  {
    const double rho = EllipsoidRadius(it.GetIndex(), size, radius);
    if (it.Get() != 0 && it.Get() != 255)
    {
      ++other;
    }
    if (rho < 0.9)
    {
      ++inside;
      insideMissed += it.Get() == 255 ? 0 : 1;
    }
    else if (rho > 1.1)
    {
      ++outside;
      outsideMarked += it.Get() == 0 ? 0 : 1;
    }
  }
  EXPECT_GT(inside, 0u);
  EXPECT_EQ(other, 0u);
  // Cavity and tunnel included, speck and noise excluded.
  EXPECT_EQ(insideMissed, 0u);
  EXPECT_EQ(outsideMarked, 0u);

  // ITK 5.2's internal filters report progress from several work units, so the accumulated value may
  // step back a little; it stays within [0, 1] and ends at 1.
  ASSERT_FALSE(progress.empty());
  EXPECT_GE(*std::min_element(progress.begin(), progress.end()), 0.0f);
  EXPECT_LE(*std::max_element(progress.begin(), progress.end()), 1.0f);
  EXPECT_FLOAT_EQ(progress.back(), 1.0f);
}

TEST(ReContrastForegroundMaskImageFilter, BodyMask3D)
{
  const double radius[3] = { 22.0, 18.0, 15.0 };
  CheckBodyMask<itk::Image<float, 3>>(itk::Size<3>{ { 64, 56, 40 } }, radius);
  CheckBodyMask<itk::Image<unsigned char, 3>>(itk::Size<3>{ { 64, 56, 40 } }, radius);
}

TEST(ReContrastForegroundMaskImageFilter, BodyMask2D)
{
  const double radius[2] = { 30.0, 20.0 };
  CheckBodyMask<itk::Image<short, 2>>(itk::Size<2>{ { 90, 60 } }, radius);
  CheckBodyMask<itk::Image<double, 2>>(itk::Size<2>{ { 90, 60 } }, radius);
}

TEST(ReContrastForegroundMaskImageFilter, DefaultsAndSettings)
{
  using FilterType = itk::ReContrastForegroundMaskImageFilter<itk::Image<float, 3>>;
  auto filter = FilterType::New();
  EXPECT_EQ(filter->GetForegroundValue(), 1);
  EXPECT_EQ(filter->GetSliceAxis(), 2u);
  EXPECT_FALSE(filter->GetFullyConnected());
  EXPECT_EQ(filter->GetNumberOfHistogramBins(), 256u);
  std::ostringstream print;
  filter->Print(print);
  EXPECT_TRUE(Contains(print.str(), "ForegroundValue: 1"));
  EXPECT_TRUE(Contains(print.str(), "SliceAxis: 2"));

  const double radius[3] = { 22.0, 18.0, 15.0 };
  const auto image = MakeBody<itk::Image<float, 3>>(itk::Size<3>{ { 64, 56, 40 } }, radius);
  filter->SetInput(image);
  filter->Update();
  size_t count = 0;
  for (itk::ImageRegionConstIterator<FilterType::OutputImageType> it(filter->GetOutput(),
                                                                     filter->GetOutput()->GetBufferedRegion());
       !it.IsAtEnd();
       ++it)
  {
    ASSERT_LE(it.Get(), 1);
    count += it.Get();
  }
  // About the ellipsoid's volume, 4/3 pi abc.
  EXPECT_NEAR(count, 4.0 / 3.0 * Pi * 22.0 * 18.0 * 15.0, 0.06 * 4.0 / 3.0 * Pi * 22.0 * 18.0 * 15.0);

  filter->SetSliceAxis(3);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
  filter->SetSliceAxis(2);
  filter->SetForegroundValue(0);
  EXPECT_THROW(filter->Update(), itk::ExceptionObject);
}

TEST(ReContrastForegroundMaskImageFilter, RejectsConstantAndNonFiniteImages)
{
  using ImageType = itk::Image<float, 3>;
  auto image = ImageType::New();
  image->SetRegions(itk::Size<3>{ { 12, 10, 8 } });
  image->Allocate();
  image->FillBuffer(7.0f);
  auto filter = itk::ReContrastForegroundMaskImageFilter<ImageType>::New();
  filter->SetInput(image);
  const std::string constant = ExpectException([&] { filter->Update(); });
  EXPECT_TRUE(Contains(constant, "The image is constant (every voxel equals 7), so no foreground can be separated"))
    << constant;

  image->SetPixel({ { 3, 4, 5 } }, std::numeric_limits<float>::quiet_NaN());
  image->SetPixel({ { 1, 1, 1 } }, 100.0f);
  image->Modified();
  const std::string nonFinite = ExpectException([&] { filter->Update(); });
  EXPECT_TRUE(Contains(nonFinite, "The image contains NaN or infinite values (1 of 960 voxels)")) << nonFinite;

  using ByteImageType = itk::Image<unsigned char, 2>;
  auto flat = ByteImageType::New();
  flat->SetRegions(itk::Size<2>{ { 16, 16 } });
  flat->Allocate();
  flat->FillBuffer(0);
  auto flatFilter = itk::ReContrastForegroundMaskImageFilter<ByteImageType>::New();
  flatFilter->SetInput(flat);
  EXPECT_TRUE(Contains(ExpectException([&] { flatFilter->Update(); }), "The image is constant (every voxel equals 0)"));
}

TEST(ReContrastForegroundMaskImageFilter, TwoValuedImage)
{
  // A clean binary picture: Otsu's threshold lies between the two values.
  using ImageType = itk::Image<unsigned char, 2>;
  auto image = ImageType::New();
  image->SetRegions(itk::Size<2>{ { 20, 20 } });
  image->Allocate();
  image->FillBuffer(0);
  for (itk::IndexValueType y = 5; y < 15; ++y)
  {
    for (itk::IndexValueType x = 4; x < 12; ++x)
    {
      image->SetPixel({ { x, y } }, 200);
    }
  }
  auto filter = itk::ReContrastForegroundMaskImageFilter<ImageType>::New();
  filter->SetInput(image);
  filter->Update();
  for (itk::ImageRegionConstIterator<ImageType> it(filter->GetOutput(), image->GetLargestPossibleRegion());
       !it.IsAtEnd();
       ++it)
  {
    ASSERT_EQ(it.Get(), image->GetPixel(it.GetIndex()) == 200 ? 1 : 0) << it.GetIndex();
  }
}

// ---------------------------------------------------------------------------------------------
// Real scans (Debian's mricron-data: the Colin27 single-subject template)
// ---------------------------------------------------------------------------------------------

std::string
FindMricronTemplate(const std::string & name)
{
  for (const std::string directory : { "/usr/share/mricron/templates/", "/usr/share/data/mricron/templates/" })
  {
    const std::string path = directory + name;
    if (std::ifstream(path).good())
    {
      return path;
    }
  }
  return "";
}

void
CheckRealScan(const std::string & name, double minimumFraction, double maximumFraction)
{
  const std::string path = FindMricronTemplate(name);
  if (path.empty())
  {
    GTEST_SKIP() << name << " not found: install Debian's mricron-data package to run this test.";
  }
  itk::NiftiImageIOFactory::RegisterOneFactory();
  using ImageType = itk::Image<float, 3>;
  using MaskType = itk::Image<unsigned char, 3>;
  auto reader = itk::ImageFileReader<ImageType>::New();
  reader->SetFileName(path);
  reader->Update();
  const ImageType * image = reader->GetOutput();

  auto filter = itk::ReContrastForegroundMaskImageFilter<ImageType, MaskType>::New();
  filter->SetInput(image);
  filter->Update();
  const MaskType * mask = filter->GetOutput();

  const size_t voxels = image->GetLargestPossibleRegion().GetNumberOfPixels();
  std::vector<float> values(image->GetBufferPointer(), image->GetBufferPointer() + voxels);
  std::vector<unsigned char> foreground(mask->GetBufferPointer(), mask->GetBufferPointer() + voxels);
  size_t count = 0;
  for (const unsigned char flag : foreground)
  {
    count += flag;
  }
  const double fraction = static_cast<double>(count) / voxels;
  std::cout << name << ": foreground " << 100.0 * fraction << " % of " << voxels << " voxels, Otsu threshold "
            << filter->GetThreshold() << std::endl;
  EXPECT_GT(fraction, minimumFraction);
  EXPECT_LT(fraction, maximumFraction);

  // The MR preset fitted on the masked head gives a usable range inside the scan's values.
  auto preset = ReContrastIntensityPreset::MR();
  preset.Fit(values.data(), foreground.data(), voxels);
  std::cout << name << ": MR preset " << preset << std::endl;
  EXPECT_LT(preset.GetLower(), preset.GetUpper());
  EXPECT_GE(preset.GetLower(), *std::min_element(values.begin(), values.end()));
  EXPECT_LE(preset.GetUpper(), *std::max_element(values.begin(), values.end()));
}

TEST(ReContrastRealScans, Colin27HeadMask)
{
  CheckRealScan("ch2.nii.gz", 0.35, 0.70);
}

TEST(ReContrastRealScans, Colin27BrainMask)
{
  CheckRealScan("ch2bet.nii.gz", 0.15, 0.35);
}

} // namespace
