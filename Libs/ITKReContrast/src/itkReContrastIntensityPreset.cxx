/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Intensity presets: how a scan's intensities are mapped to the model's [0, 1] range.
 *
 *=========================================================================*/
#include "itkReContrastIntensityPreset.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <limits>
#include <locale>
#include <map>
#include <ostream>
#include <sstream>

namespace itk
{

namespace
{

struct CTWindowDefinition
{
  const char * Name;
  double Center;
  double Width;
};

// Conventional radiology display windows (centre / width in HU).
constexpr CTWindowDefinition CTWindows[] = {
  { "brain", 40.0, 80.0 },        // head: grey / white matter
  { "subdural", 75.0, 215.0 },    // head: thin blood collections next to the skull
  { "soft-tissue", 40.0, 400.0 }, // neck, chest, abdomen, pelvis
  { "mediastinum", 50.0, 350.0 }, // chest: heart, vessels, lymph nodes
  { "liver", 60.0, 160.0 },       // abdomen: liver lesions
  { "lung", -600.0, 1500.0 },     // chest: lung parenchyma
  { "bone", 400.0, 1800.0 },      // skeleton
};

const CTWindowDefinition *
FindCTWindow(const std::string & name)
{
  for (const auto & window : CTWindows)
  {
    if (name == window.Name)
    {
      return &window;
    }
  }
  return nullptr;
}

std::string
Trim(const std::string & text)
{
  const auto isBlank = [](char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; };
  size_t begin = 0;
  size_t end = text.size();
  while (begin < end && isBlank(text[begin]))
  {
    ++begin;
  }
  while (end > begin && isBlank(text[end - 1]))
  {
    --end;
  }
  return text.substr(begin, end - begin);
}

std::string
ToLower(std::string text)
{
  for (char & c : text)
  {
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return text;
}

// Locale-independent: Slicer may run with a locale whose decimal separator is ','.
bool
ParseNumber(const std::string & text, double & value)
{
  const std::string field = Trim(text);
  std::istringstream in(field);
  in.imbue(std::locale::classic());
  in >> value;
  if (field.empty() || in.fail() || in.peek() != std::char_traits<char>::eof())
  {
    return false;
  }
  return std::isfinite(value);
}

// The shortest decimal form that reads back to the same double, so that ToString round-trips; plain
// notation ("300", "0.25") for ordinary magnitudes, where %g would write "3e+02".
std::string
FormatNumber(double value)
{
  const auto format = [value](int precision, bool fixed) {
    std::ostringstream out;
    out.imbue(std::locale::classic());
    if (fixed)
    {
      out << std::fixed;
    }
    out << std::setprecision(precision) << value;
    return out.str();
  };
  const auto readsBack = [value](const std::string & text) {
    double parsed = 0.0;
    return ParseNumber(text, parsed) && parsed == value;
  };
  const double magnitude = std::abs(value);
  if (magnitude == 0.0 || (magnitude >= 1e-4 && magnitude < 1e15))
  {
    for (int decimals = 0; decimals <= 17; ++decimals)
    {
      const std::string text = format(decimals, true);
      if (readsBack(text))
      {
        return text;
      }
    }
  }
  for (int precision = 1; precision < 17; ++precision)
  {
    const std::string text = format(precision, false);
    if (readsBack(text))
    {
      return text;
    }
  }
  return format(17, false);
}

// The largest MR headroom accepted: values up to 11 ranges above the lower percentile.
constexpr double MaximumHeadroom = 10.0;

// Splits "a:b" (the part after the prefix) into two numbers.
bool
ParsePair(const std::string & text, double & first, double & second)
{
  const size_t colon = text.find(':');
  if (colon == std::string::npos || text.find(':', colon + 1) != std::string::npos)
  {
    return false;
  }
  return ParseNumber(text.substr(0, colon), first) && ParseNumber(text.substr(colon + 1), second);
}

// numpy.percentile's default ("linear") method: rank (n - 1) * q between the two neighbouring order
// statistics, with numpy's own lerp so that results agree to the last bit. Reorders `values`.
// Where a percentile falls among n sorted values (numpy's "linear" method): between the order
// statistics `below` and `below + 1`, at fraction gamma.
struct PercentileRank
{
  PercentileRank(size_t n, double percent)
  {
    const double rank = static_cast<double>(n - 1) * (percent / 100.0);
    below = std::min(static_cast<size_t>(std::floor(rank)), n - 1);
    gamma = rank - static_cast<double>(below);
    last = below + 1 >= n;
  }
  bool NeedsNext() const { return !last && gamma != 0.0; }
  double Interpolate(double a, double b) const
  {
    const double difference = b - a;
    return gamma >= 0.5 ? b - difference * (1.0 - gamma) : a + difference * gamma;
  }
  size_t below = 0;
  double gamma = 0.0;
  bool last = false;
};

double
Percentile(std::vector<float> & values, double percent)
{
  const PercentileRank rank(values.size(), percent);
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank.below), values.end());
  const double a = values[rank.below];
  if (!rank.NeedsNext())
  {
    return a;
  }
  // After nth_element everything past `below` is >= values[below]; the next order statistic is their minimum.
  const double b = *std::min_element(values.begin() + static_cast<std::ptrdiff_t>(rank.below) + 1, values.end());
  return rank.Interpolate(a, b);
}

// A float as an unsigned key in the same order (finite values; -0 just below +0): order statistics of
// floats are then found digit by digit, from histograms, without sorting or copying the values.
uint32_t
OrderKey(float value)
{
  uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return (bits & 0x80000000u) != 0 ? ~bits : (bits | 0x80000000u);
}

float
FromOrderKey(uint32_t key)
{
  const uint32_t bits = (key & 0x80000000u) != 0 ? (key & 0x7fffffffu) : ~key;
  float value;
  std::memcpy(&value, &bits, sizeof(value));
  return value;
}

// The position of the k-th smallest value (0-based) in a histogram: its bin, and k within that bin.
std::pair<size_t, uint64_t>
FindInHistogram(const std::vector<uint64_t> & histogram, uint64_t k)
{
  for (size_t bin = 0; bin < histogram.size(); ++bin)
  {
    if (k < histogram[bin])
    {
      return { bin, k };
    }
    k -= histogram[bin];
  }
  return { histogram.size() - 1, 0 }; // not reached for k below the total count
}
} // namespace

std::ostream &
operator<<(std::ostream & out, const ReContrastIntensityPresetEnums::Kind value)
{
  switch (value)
  {
    case ReContrastIntensityPresetEnums::Kind::MR:
      return out << "itk::ReContrastIntensityPresetEnums::Kind::MR";
    case ReContrastIntensityPresetEnums::Kind::CT:
      return out << "itk::ReContrastIntensityPresetEnums::Kind::CT";
    case ReContrastIntensityPresetEnums::Kind::Window:
      return out << "itk::ReContrastIntensityPresetEnums::Kind::Window";
    case ReContrastIntensityPresetEnums::Kind::Unit:
      return out << "itk::ReContrastIntensityPresetEnums::Kind::Unit";
    case ReContrastIntensityPresetEnums::Kind::Bytes:
      return out << "itk::ReContrastIntensityPresetEnums::Kind::Bytes";
  }
  return out << "INVALID VALUE FOR itk::ReContrastIntensityPresetEnums::Kind";
}

ReContrastIntensityPreset::ReContrastIntensityPreset()
  : m_Headroom(DefaultMRHeadroom)
  , m_Ceiling(1.0 + DefaultMRHeadroom)
  , m_Lower(std::numeric_limits<double>::quiet_NaN())
  , m_Upper(std::numeric_limits<double>::quiet_NaN())
  , m_Scale(std::numeric_limits<double>::quiet_NaN())
{}

ReContrastIntensityPreset::ReContrastIntensityPreset(KindEnum kind, double lower, double upper)
  : m_Kind(kind)
  , m_LowerPercentile(0.0)
  , m_UpperPercentile(100.0)
  , m_Lower(std::numeric_limits<double>::quiet_NaN())
  , m_Upper(std::numeric_limits<double>::quiet_NaN())
  , m_Scale(std::numeric_limits<double>::quiet_NaN())
{
  this->SetBounds(lower, upper);
}

void
ReContrastIntensityPreset::SetBounds(double lower, double upper)
{
  m_Lower = lower;
  m_Upper = upper;
  m_Scale = 1.0 / (upper - lower);
  m_Fitted = true;
}

ReContrastIntensityPreset
ReContrastIntensityPreset::MR(double lowerPercentile, double upperPercentile, double headroom)
{
  if (!(lowerPercentile >= 0.0 && lowerPercentile < upperPercentile && upperPercentile <= 100.0))
  {
    itkGenericExceptionMacro(<< "Invalid MR intensity preset percentiles " << lowerPercentile << " and "
                             << upperPercentile << ": they must satisfy 0 <= lower < upper <= 100.");
  }
  if (!(headroom >= 0.0 && headroom <= MaximumHeadroom))
  {
    itkGenericExceptionMacro(<< "Invalid MR intensity preset headroom " << headroom << ": it must be between 0 and "
                             << MaximumHeadroom << ".");
  }
  ReContrastIntensityPreset preset;
  preset.m_LowerPercentile = lowerPercentile;
  preset.m_UpperPercentile = upperPercentile;
  preset.m_Headroom = headroom;
  preset.m_Ceiling = 1.0 + headroom;
  return preset;
}

ReContrastIntensityPreset
ReContrastIntensityPreset::CT(const std::string & windowName)
{
  const CTWindowDefinition * window = FindCTWindow(windowName);
  if (window == nullptr)
  {
    itkGenericExceptionMacro(<< "Unknown CT window \"" << windowName << "\". " << GetAcceptedForms());
  }
  ReContrastIntensityPreset preset(
    KindEnum::CT, window->Center - 0.5 * window->Width, window->Center + 0.5 * window->Width);
  preset.m_CTWindowName = window->Name;
  return preset;
}

ReContrastIntensityPreset
ReContrastIntensityPreset::Window(double lower, double upper)
{
  if (!(std::isfinite(lower) && std::isfinite(upper) && lower < upper))
  {
    itkGenericExceptionMacro(<< "Invalid intensity window [" << lower << ", " << upper
                             << "]: lower and upper must be finite and lower < upper.");
  }
  return ReContrastIntensityPreset(KindEnum::Window, lower, upper);
}

ReContrastIntensityPreset
ReContrastIntensityPreset::Unit()
{
  return ReContrastIntensityPreset(KindEnum::Unit, 0.0, 1.0);
}

ReContrastIntensityPreset
ReContrastIntensityPreset::Bytes()
{
  return ReContrastIntensityPreset(KindEnum::Bytes, 0.0, 255.0);
}

std::string
ReContrastIntensityPreset::GetAcceptedForms()
{
  std::ostringstream out;
  out << "Accepted intensity presets: mr, mr:<lower %>:<upper %> (e.g. mr:1:99), "
         "mr:<lower %>:<upper %>:<headroom> (e.g. mr:0.5:99.5:0, clipped at the upper percentile)";
  for (const auto & window : CTWindows)
  {
    out << ", ct-" << window.Name;
  }
  out << ", window:<lower>:<upper> (e.g. window:-100:300), unit (values already in [0, 1])"
      << " and bytes (8-bit pictures, scaled by 1/255).";
  return out.str();
}

std::vector<std::string>
ReContrastIntensityPreset::GetCTWindowNames()
{
  std::vector<std::string> names;
  for (const auto & window : CTWindows)
  {
    names.emplace_back(window.Name);
  }
  return names;
}

ReContrastIntensityPreset
ReContrastIntensityPreset::FromString(const std::string & text)
{
  const std::string form = ToLower(Trim(text));
  const auto invalid = [&text](const char * reason) {
    itkGenericExceptionMacro(<< "Invalid intensity preset \"" << text << "\": " << reason << ". "
                             << GetAcceptedForms());
  };

  if (form == "mr")
  {
    return MR();
  }
  if (form == "unit")
  {
    return Unit();
  }
  if (form == "bytes")
  {
    return Bytes();
  }
  if (form.rfind("mr:", 0) == 0)
  {
    double lower = 0.0;
    double upper = 0.0;
    double headroom = DefaultMRHeadroom;
    std::string percentiles = form.substr(3);
    if (const size_t third = percentiles.find(':', percentiles.find(':') + 1); third != std::string::npos)
    {
      if (!ParseNumber(percentiles.substr(third + 1), headroom))
      {
        invalid("expected a number as the headroom, as in mr:0.5:99.5:1");
      }
      if (!(headroom >= 0.0 && headroom <= MaximumHeadroom))
      {
        invalid("the headroom must be between 0 and 10");
      }
      percentiles.resize(third);
    }
    if (!ParsePair(percentiles, lower, upper))
    {
      invalid("expected two percentiles, as in mr:1:99");
    }
    if (!(lower >= 0.0 && lower < upper && upper <= 100.0))
    {
      invalid("the percentiles must satisfy 0 <= lower < upper <= 100");
    }
    return MR(lower, upper, headroom);
  }
  if (form.rfind("window:", 0) == 0)
  {
    double lower = 0.0;
    double upper = 0.0;
    if (!ParsePair(form.substr(7), lower, upper))
    {
      invalid("expected two finite numbers, as in window:-100:300");
    }
    if (!(lower < upper))
    {
      invalid("the lower bound must be below the upper bound");
    }
    return Window(lower, upper);
  }
  if (form.rfind("ct-", 0) == 0 && FindCTWindow(form.substr(3)) != nullptr)
  {
    return CT(form.substr(3));
  }
  itkGenericExceptionMacro(<< "Unknown intensity preset \"" << text << "\". " << GetAcceptedForms());
}

std::string
ReContrastIntensityPreset::ToString() const
{
  switch (m_Kind)
  {
    case KindEnum::MR:
      if (m_Headroom != DefaultMRHeadroom)
      {
        return "mr:" + FormatNumber(m_LowerPercentile) + ":" + FormatNumber(m_UpperPercentile) + ":" +
               FormatNumber(m_Headroom);
      }
      if (m_LowerPercentile == 0.5 && m_UpperPercentile == 99.5)
      {
        return "mr";
      }
      return "mr:" + FormatNumber(m_LowerPercentile) + ":" + FormatNumber(m_UpperPercentile);
    case KindEnum::CT:
      return "ct-" + m_CTWindowName;
    case KindEnum::Window:
      return "window:" + FormatNumber(m_Lower) + ":" + FormatNumber(m_Upper);
    case KindEnum::Unit:
      return "unit";
    case KindEnum::Bytes:
      return "bytes";
  }
  return "";
}

std::string
ReContrastIntensityPreset::ToModelProperty() const
{
  if (m_Kind != KindEnum::MR)
  {
    return this->ToString();
  }
  return "mr:" + FormatNumber(m_LowerPercentile) + ":" + FormatNumber(m_UpperPercentile) + ":" +
         FormatNumber(m_Headroom);
}

ReContrastIntensityPreset
ReContrastIntensityPreset::FromModelProperty(const std::string & text)
{
  ReContrastIntensityPreset preset = FromString(text);
  if (preset.m_Kind == KindEnum::MR && std::count(text.begin(), text.end(), ':') < 3)
  {
    preset.m_Headroom = 0.0;
    preset.m_Ceiling = 1.0;
  }
  return preset;
}

void
ReContrastIntensityPreset::Fit(const float * values, const unsigned char * foreground, size_t count)
{
  if (values == nullptr && count > 0)
  {
    itkGenericExceptionMacro(<< "No intensity values were given to fit the intensity preset.");
  }
  size_t nonFinite = 0;
  for (size_t i = 0; i < count; ++i)
  {
    nonFinite += std::isfinite(values[i]) ? 0 : 1;
  }
  RejectNonFinite(nonFinite, count);
  if (m_Kind != KindEnum::MR)
  {
    return;
  }

  std::vector<float> selected;
  if (foreground == nullptr)
  {
    selected.assign(values, values + count);
  }
  else
  {
    for (size_t i = 0; i < count; ++i)
    {
      if (foreground[i] != 0)
      {
        selected.push_back(values[i]);
      }
    }
  }
  FitSelected(std::move(selected), count > 0);
}

void
ReContrastIntensityPreset::Fit(std::vector<float> selectedValues)
{
  RejectNonFinite(static_cast<size_t>(std::count_if(
                    selectedValues.begin(), selectedValues.end(), [](float v) { return !std::isfinite(v); })),
                  selectedValues.size());
  if (m_Kind == KindEnum::MR)
  {
    FitSelected(std::move(selectedValues), true);
  }
}

void
ReContrastIntensityPreset::RejectNonFinite(size_t nonFinite, size_t count)
{
  if (nonFinite > 0)
  {
    itkGenericExceptionMacro(<< "The scan contains NaN or infinite intensities (" << nonFinite << " of " << count
                             << " voxels), so it cannot be normalised.");
  }
}

void
ReContrastIntensityPreset::CheckSpread(size_t count, float minimum, float maximum, bool scanHasVoxels) const
{
  if (count == 0)
  {
    itkGenericExceptionMacro(<< "The scan has no usable foreground intensities ("
                             << (scanHasVoxels ? "the foreground mask is empty" : "it has no voxels") << ").");
  }
  if (minimum == maximum)
  {
    itkGenericExceptionMacro(<< "The scan has no usable foreground intensities (all foreground voxels equal " << minimum
                             << ").");
  }
}

void
ReContrastIntensityPreset::SetFittedBounds(double lower, double upper)
{
  if (!(lower < upper))
  {
    itkGenericExceptionMacro(<< "The scan has no usable foreground intensities (its " << m_LowerPercentile << " % and "
                             << m_UpperPercentile << " % foreground percentiles are both " << lower << ").");
  }
  this->SetBounds(lower, upper);
}

void
ReContrastIntensityPreset::FitSelected(std::vector<float> selected, bool scanHasVoxels)
{
  m_Fitted = false;
  const auto extremes = selected.empty() ? std::make_pair(selected.end(), selected.end())
                                         : std::minmax_element(selected.begin(), selected.end());
  CheckSpread(selected.size(),
              selected.empty() ? 0.0f : *extremes.first,
              selected.empty() ? 0.0f : *extremes.second,
              scanHasVoxels);
  const double lower = Percentile(selected, m_LowerPercentile);
  const double upper = Percentile(selected, m_UpperPercentile);
  this->SetFittedBounds(lower, upper);
}

void
ReContrastIntensityPreset::FitStreamed(const std::function<void(const ValueChunkFunction &)> & visit,
                                       bool scanHasVoxels)
{
  // First pass: the count, the extremes, the non-finite values and a histogram of each value's
  // upper 16 key bits.
  std::vector<uint64_t> upperBits(65536, 0);
  size_t count = 0;
  size_t nonFinite = 0;
  float minimum = std::numeric_limits<float>::infinity();
  float maximum = -std::numeric_limits<float>::infinity();
  visit([&](const float * values, size_t n) {
    for (size_t i = 0; i < n; ++i)
    {
      const float value = values[i];
      if (!std::isfinite(value))
      {
        ++nonFinite;
        continue;
      }
      ++count;
      minimum = std::min(minimum, value);
      maximum = std::max(maximum, value);
      ++upperBits[OrderKey(value) >> 16];
    }
  });
  RejectNonFinite(nonFinite, count + nonFinite);
  if (m_Kind != KindEnum::MR)
  {
    return;
  }
  m_Fitted = false;
  CheckSpread(count, minimum, maximum, scanHasVoxels);

  // The order statistics both percentiles need, each located in its upper-bits bin.
  const PercentileRank ranks[2] = { PercentileRank(count, m_LowerPercentile),
                                    PercentileRank(count, m_UpperPercentile) };
  std::vector<uint64_t> wanted;
  for (const PercentileRank & rank : ranks)
  {
    wanted.push_back(rank.below);
    if (rank.NeedsNext())
    {
      wanted.push_back(rank.below + 1);
    }
  }
  std::map<size_t, std::vector<uint64_t>> lowerBits; // upper bin -> histogram of the lower 16 bits
  std::vector<std::pair<size_t, uint64_t>> located;
  for (const uint64_t k : wanted)
  {
    located.push_back(FindInHistogram(upperBits, k));
    lowerBits.emplace(located.back().first, std::vector<uint64_t>(65536, 0));
  }
  // Second pass: the lower 16 bits of the values in those bins give the exact values.
  visit([&](const float * values, size_t n) {
    for (size_t i = 0; i < n; ++i)
    {
      if (!std::isfinite(values[i]))
      {
        continue;
      }
      const uint32_t key = OrderKey(values[i]);
      const auto found = lowerBits.find(key >> 16);
      if (found != lowerBits.end())
      {
        ++found->second[key & 0xffffu];
      }
    }
  });
  std::map<uint64_t, double> statistics;
  for (size_t i = 0; i < wanted.size(); ++i)
  {
    const size_t lower = FindInHistogram(lowerBits.at(located[i].first), located[i].second).first;
    statistics[wanted[i]] = FromOrderKey(static_cast<uint32_t>((located[i].first << 16) | lower));
  }
  double bounds[2];
  for (int i = 0; i < 2; ++i)
  {
    const double a = statistics.at(ranks[i].below);
    bounds[i] = ranks[i].NeedsNext() ? ranks[i].Interpolate(a, statistics.at(ranks[i].below + 1)) : a;
  }
  this->SetFittedBounds(bounds[0], bounds[1]);
}

void
ReContrastIntensityPreset::Apply(const float * values, float * output, size_t count) const
{
  if (!m_Fitted)
  {
    ThrowNotFitted();
  }
  for (size_t i = 0; i < count; ++i)
  {
    output[i] = this->Map(values[i]);
  }
}

void
ReContrastIntensityPreset::ThrowNotFitted()
{
  itkGenericExceptionMacro(<< "The MR intensity preset has not been fitted to the scan: call Fit() before Apply().");
}

bool
ReContrastIntensityPreset::operator==(const ReContrastIntensityPreset & other) const
{
  if (m_Kind != other.m_Kind || m_CTWindowName != other.m_CTWindowName ||
      m_LowerPercentile != other.m_LowerPercentile || m_UpperPercentile != other.m_UpperPercentile ||
      m_Headroom != other.m_Headroom || m_Fitted != other.m_Fitted)
  {
    return false;
  }
  return !m_Fitted || (m_Lower == other.m_Lower && m_Upper == other.m_Upper);
}

void
ReContrastIntensityPreset::Print(std::ostream & os) const
{
  os << this->ToString();
  if (m_Fitted)
  {
    os << " [" << m_Lower << ", " << m_Upper << "]";
  }
  else
  {
    os << " (not fitted)";
  }
}

std::ostream &
operator<<(std::ostream & os, const ReContrastIntensityPreset & preset)
{
  preset.Print(os);
  return os;
}

} // end namespace itk
