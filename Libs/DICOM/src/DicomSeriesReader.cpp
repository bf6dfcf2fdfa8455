/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The DICOM series reader: grouping, sorting along the normal, rescale, multi-frame, refusals.
 *
 *=========================================================================*/
#include "ReContrast/DicomSeriesReader.h"

#include "DcmtkSetup.h"
#include "ReContrast/Error.h"

#include "dcmtk/config/osconfig.h"
#include "dcmtk/dcmdata/dcdeftag.h"
#include "dcmtk/dcmdata/dcfilefo.h"
#include "dcmtk/dcmdata/dcuid.h"
#include "dcmtk/dcmdata/dcxfer.h"

#include <spdlog/fmt/fmt.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <numeric>

namespace recontrast::dicom
{

namespace
{
namespace fs = std::filesystem;
using Vector3 = std::array<double, 3>;
using detail::StringOf;

// Tolerances of the geometry checks, in mm (positions) and as a fraction of the slice spacing.
constexpr double SamePositionTolerance = 1e-3;
constexpr double SpacingTolerance = 0.1;
constexpr double TiltToleranceDegrees = 0.5;
constexpr double Pi = 3.14159265358979323846;

Vector3
Cross(const Vector3 & a, const Vector3 & b)
{
  return { a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0] };
}

double
Dot(const Vector3 & a, const Vector3 & b)
{
  return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

bool
GetDoubles(DcmItem * item, const DcmTagKey & tag, double * values, unsigned long count)
{
  if (!item)
  {
    return false;
  }
  for (unsigned long i = 0; i < count; ++i)
  {
    Float64 value = 0.0;
    if (item->findAndGetFloat64(tag, value, i).bad())
    {
      return false;
    }
    values[i] = value;
  }
  return true;
}

// The item of a functional group (e.g. Plane Position Sequence) for one frame of an enhanced
// image: the per-frame one when present, else the shared one.
DcmItem *
FunctionalGroup(DcmItem * dataset, unsigned long frame, const DcmTagKey & group)
{
  DcmItem * frameItem = nullptr;
  DcmItem * groupItem = nullptr;
  if (dataset->findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, frameItem, static_cast<int>(frame))
        .good() &&
      frameItem->findAndGetSequenceItem(group, groupItem, 0).good())
  {
    return groupItem;
  }
  DcmItem * shared = nullptr;
  if (dataset->findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0).good() &&
      shared->findAndGetSequenceItem(group, groupItem, 0).good())
  {
    return groupItem;
  }
  return nullptr;
}

// One slice as found in the headers: a single-frame file, or one frame of a multi-frame file.
struct SliceHeader
{
  std::string file;
  unsigned long frameIndex = 0; // 0-based frame within the file
  unsigned long frameCount = 1;
  bool enhanced = false; // a frame of an enhanced multi-frame image
  std::string problem;   // why this image cannot be read; an error only if its series is the one read
  // The file as parsed for its headers (large values stay on disk until asked for): the pixels of
  // the series read come from it, so no file is parsed twice.
  std::shared_ptr<DcmFileFormat> dicom;
  std::string sopClassUid;
  std::string sopInstanceUid;
  std::string seriesInstanceUid;
  std::string studyInstanceUid;
  std::string frameOfReferenceUid;
  std::string modality;
  std::string seriesDescription;
  std::string seriesNumber;
  Uint16 rows = 0;
  Uint16 columns = 0;
  bool hasGeometry = false;
  std::array<double, 6> orientation{ { 1, 0, 0, 0, 1, 0 } };
  Vector3 position{ { 0, 0, 0 } };
  std::array<double, 2> pixelSpacing{ { 1, 1 } }; // row spacing, column spacing
  double sliceSpacing = 0.0;                      // Spacing Between Slices or Slice Thickness, if given
  double slope = 1.0;
  double intercept = 0.0;

  Vector3 Row() const { return { orientation[0], orientation[1], orientation[2] }; }
  Vector3 Column() const { return { orientation[3], orientation[4], orientation[5] }; }
  Vector3 Normal() const { return Cross(Row(), Column()); }
};

bool
HasPart10Preamble(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  char buffer[132] = {};
  return in.read(buffer, sizeof(buffer)) && std::memcmp(buffer + 128, "DICM", 4) == 0;
}

bool
IsDerivedResult(const std::string & sopClassUid)
{
  return sopClassUid == UID_SegmentationStorage || sopClassUid == UID_ParametricMapStorage;
}

// Reads one file's headers (large values stay on disk) and appends its slices. Returns false with
// a note when the file is not a DICOM image; throws when it is one but cannot be used.
bool
ReadHeaders(const std::string & path, std::vector<SliceHeader> & slices, std::vector<std::string> & notes)
{
  const std::string name = fs::path(path).filename().string();
  if (!std::ifstream(path, std::ios::binary))
  {
    throw Error(fmt::format("The file '{}' cannot be opened for reading.", path));
  }
  auto file = std::make_shared<DcmFileFormat>();
  const OFCondition loaded = file->loadFile(path.c_str(), EXS_Unknown, EGL_noChange, DCM_MaxReadLength, ERM_autoDetect);
  if (loaded.bad())
  {
    if (HasPart10Preamble(path))
    {
      throw Error(fmt::format("The DICOM file '{}' is damaged or truncated ({}).", path, detail::TextOf(loaded)));
    }
    notes.push_back(fmt::format("Skipped '{}': not a DICOM file.", name));
    return false;
  }
  DcmDataset * dataset = file->getDataset();
  SliceHeader header;
  header.file = path;
  header.dicom = file;
  header.sopClassUid = StringOf(dataset, DCM_SOPClassUID);
  header.sopInstanceUid = StringOf(dataset, DCM_SOPInstanceUID);
  header.seriesInstanceUid = StringOf(dataset, DCM_SeriesInstanceUID);
  header.studyInstanceUid = StringOf(dataset, DCM_StudyInstanceUID);
  header.frameOfReferenceUid = StringOf(dataset, DCM_FrameOfReferenceUID);
  header.modality = StringOf(dataset, DCM_Modality);
  header.seriesDescription = StringOf(dataset, DCM_SeriesDescription);
  header.seriesNumber = StringOf(dataset, DCM_SeriesNumber);
  if (dataset->findAndGetUint16(DCM_Rows, header.rows).bad() ||
      dataset->findAndGetUint16(DCM_Columns, header.columns).bad())
  {
    notes.push_back(
      fmt::format("Skipped '{}': a DICOM object without an image ({}).",
                  name,
                  header.sopClassUid.empty()
                    ? std::string("no SOP class")
                    : std::string(dcmFindNameOfUID(header.sopClassUid.c_str(), header.sopClassUid.c_str()))));
    return false;
  }
  if (header.seriesInstanceUid.empty())
  {
    notes.push_back(fmt::format("Skipped '{}': a DICOM image without a Series Instance UID.", name));
    return false;
  }
  // Problems of a readable image are errors only when its series is the one read (an unrelated
  // odd file must not make the wanted series unreadable).
  if (!dataset->tagExists(DCM_PixelData) && !dataset->tagExists(DCM_FloatPixelData) &&
      !dataset->tagExists(DCM_DoubleFloatPixelData))
  {
    header.problem = fmt::format("The DICOM image '{}' has no pixel data.", path);
    slices.push_back(header);
    return true;
  }

  long frames = 1;
  {
    Sint32 count = 1;
    if (dataset->findAndGetSint32(DCM_NumberOfFrames, count).good() && count > 0)
    {
      frames = count;
    }
  }
  const bool enhanced = dataset->tagExists(DCM_PerFrameFunctionalGroupsSequence);
  if (frames > 1 && !enhanced)
  {
    header.problem = fmt::format("The DICOM image '{}' has {} frames but no per-frame positions (not an enhanced "
                                 "image); such multi-frame files are not supported.",
                                 path,
                                 frames);
    slices.push_back(header);
    return true;
  }

  if (!enhanced)
  {
    header.hasGeometry = GetDoubles(dataset, DCM_ImagePositionPatient, header.position.data(), 3) &&
                         GetDoubles(dataset, DCM_ImageOrientationPatient, header.orientation.data(), 6);
    if (!GetDoubles(dataset, DCM_PixelSpacing, header.pixelSpacing.data(), 2))
    {
      GetDoubles(dataset, DCM_ImagerPixelSpacing, header.pixelSpacing.data(), 2);
    }
    if (!GetDoubles(dataset, DCM_SpacingBetweenSlices, &header.sliceSpacing, 1))
    {
      GetDoubles(dataset, DCM_SliceThickness, &header.sliceSpacing, 1);
    }
    GetDoubles(dataset, DCM_RescaleSlope, &header.slope, 1);
    GetDoubles(dataset, DCM_RescaleIntercept, &header.intercept, 1);
    header.frameCount = 1;
    slices.push_back(header);
    return true;
  }

  header.frameCount = static_cast<unsigned long>(frames);
  header.enhanced = true;
  for (unsigned long f = 0; f < header.frameCount; ++f)
  {
    SliceHeader frame = header;
    frame.frameIndex = f;
    frame.hasGeometry =
      GetDoubles(
        FunctionalGroup(dataset, f, DCM_PlanePositionSequence), DCM_ImagePositionPatient, frame.position.data(), 3) &&
      GetDoubles(FunctionalGroup(dataset, f, DCM_PlaneOrientationSequence),
                 DCM_ImageOrientationPatient,
                 frame.orientation.data(),
                 6);
    DcmItem * measures = FunctionalGroup(dataset, f, DCM_PixelMeasuresSequence);
    GetDoubles(measures, DCM_PixelSpacing, frame.pixelSpacing.data(), 2);
    if (!GetDoubles(measures, DCM_SpacingBetweenSlices, &frame.sliceSpacing, 1))
    {
      GetDoubles(measures, DCM_SliceThickness, &frame.sliceSpacing, 1);
    }
    DcmItem * transform = FunctionalGroup(dataset, f, DCM_PixelValueTransformationSequence);
    if (!GetDoubles(transform, DCM_RescaleSlope, &frame.slope, 1))
    {
      GetDoubles(dataset, DCM_RescaleSlope, &frame.slope, 1);
    }
    if (!GetDoubles(transform, DCM_RescaleIntercept, &frame.intercept, 1))
    {
      GetDoubles(dataset, DCM_RescaleIntercept, &frame.intercept, 1);
    }
    slices.push_back(frame);
  }
  return true;
}

// Slices of one volume: same series, matrix size and orientation.
std::string
StackKey(const SliceHeader & s)
{
  std::string key = fmt::format("{}|{}x{}", s.seriesInstanceUid, s.rows, s.columns);
  for (double v : s.orientation)
  {
    key += fmt::format("|{}", std::lround(v * 1000.0)); // integers: -0.0004 and 0.0004 are one key
  }
  return key;
}

// Sorts the stack along its normal, checks the spacing, and returns the volume's geometry.
struct StackGeometry
{
  Series::VolumeType::DirectionType direction;
  Series::VolumeType::PointType origin;
  Series::VolumeType::SpacingType spacing;
};

StackGeometry
SortAndCheck(std::vector<SliceHeader> & stack)
{
  const SliceHeader & first = stack.front();
  const Vector3 row = first.Row();
  const Vector3 column = first.Column();
  const Vector3 normal = first.Normal();
  const std::string & uid = first.seriesInstanceUid;
  if (stack.size() > 1 && !std::all_of(stack.begin(), stack.end(), [](const SliceHeader & s) { return s.hasGeometry; }))
  {
    throw Error(fmt::format("The DICOM series {} has {} slices but not every slice has an Image Position and "
                            "Orientation (Patient); its slices cannot be ordered.",
                            uid,
                            stack.size()));
  }
  std::stable_sort(stack.begin(), stack.end(), [&](const SliceHeader & a, const SliceHeader & b) {
    return Dot(a.position, normal) < Dot(b.position, normal);
  });

  StackGeometry geometry;
  for (unsigned int i = 0; i < 3; ++i)
  {
    geometry.direction[i][0] = row[i];
    geometry.direction[i][1] = column[i];
    geometry.direction[i][2] = normal[i];
    geometry.origin[i] = stack.front().position[i];
  }
  geometry.spacing[0] = first.pixelSpacing[1];
  geometry.spacing[1] = first.pixelSpacing[0];
  geometry.spacing[2] = first.sliceSpacing > 0.0 ? first.sliceSpacing : 1.0;
  if (stack.size() == 1)
  {
    return geometry;
  }

  std::vector<double> distances;
  for (const SliceHeader & s : stack)
  {
    distances.push_back(Dot(s.position, normal));
  }
  std::vector<double> gaps;
  for (size_t k = 1; k < stack.size(); ++k)
  {
    const double gap = distances[k] - distances[k - 1];
    if (gap < SamePositionTolerance)
    {
      throw Error(fmt::format("The DICOM series {} has two slices at one position ('{}' and '{}', {:.3f} mm along the "
                              "slice normal): it holds more than one volume (echoes, phases or repeats), which is "
                              "not supported.",
                              uid,
                              fs::path(stack[k - 1].file).filename().string(),
                              fs::path(stack[k].file).filename().string(),
                              distances[k]));
    }
    gaps.push_back(gap);
  }
  std::vector<double> sorted = gaps;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  const double typical = sorted[sorted.size() / 2];
  for (size_t k = 0; k < gaps.size(); ++k)
  {
    if (std::abs(gaps[k] - typical) <= SpacingTolerance * typical)
    {
      continue;
    }
    const double ratio = gaps[k] / typical;
    const std::string where = fmt::format("between '{}' and '{}'",
                                          fs::path(stack[k].file).filename().string(),
                                          fs::path(stack[k + 1].file).filename().string());
    if (ratio > 1.5 && std::abs(ratio - std::round(ratio)) <= SpacingTolerance)
    {
      throw Error(fmt::format("The DICOM series {} is missing {} slice(s) {} (a gap of {:.3f} mm where the slices are "
                              "{:.3f} mm apart); a volume with a hole is not read.",
                              uid,
                              std::lround(ratio) - 1,
                              where,
                              gaps[k],
                              typical));
    }
    throw Error(
      fmt::format("The DICOM series {} has unevenly spaced slices ({:.3f} mm {} where the others are {:.3f} mm "
                  "apart); it is not read as a volume.",
                  uid,
                  gaps[k],
                  where,
                  typical));
  }
  // The slices must stack along their normal; positions that drift sideways mean a tilted gantry.
  Vector3 along;
  for (unsigned int i = 0; i < 3; ++i)
  {
    along[i] = stack.back().position[i] - stack.front().position[i];
  }
  const double length = std::sqrt(Dot(along, along));
  const double tilt = std::acos(std::clamp(Dot(along, normal) / length, -1.0, 1.0)) * 180.0 / Pi;
  if (tilt > TiltToleranceDegrees)
  {
    throw Error(fmt::format("The DICOM series {} was acquired with a tilted gantry ({:.1f} degrees): its slices do not "
                            "stack along their normal; resample it to an untilted grid first.",
                            uid,
                            tilt));
  }
  geometry.spacing[2] = (distances.back() - distances.front()) / static_cast<double>(stack.size() - 1);
  return geometry;
}

// Whether the pixel data of a transfer syntax is stored in fragments (to be decoded to native first).
// DCMTK 3.6.9 deprecated isEncapsulated(), which there also asks for compression.
bool
UsesEncapsulatedPixels(E_TransferSyntax syntax)
{
#if PACKAGE_VERSION_NUMBER >= 369
  return DcmXfer(syntax).usesEncapsulatedFormat();
#else
  return DcmXfer(syntax).isEncapsulated();
#endif
}

// Copies every frame of one file that belongs to the volume into it.
void
ReadPixels(const std::string & path, const std::vector<std::pair<unsigned long, size_t>> & framesToSlices,
           const SliceHeader & header, std::vector<SliceHeader> const & stack, Series::VolumeType * volume)
{
  DcmDataset * dataset = header.dicom->getDataset();
  const E_TransferSyntax original = dataset->getOriginalXfer();
  if (UsesEncapsulatedPixels(original))
  {
    const OFCondition status = dataset->chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
    if (status.bad() || !dataset->canWriteXfer(EXS_LittleEndianExplicit))
    {
      throw Error(fmt::format("The DICOM file '{}' uses the transfer syntax '{}', which cannot be decoded here.",
                              path,
                              DcmXfer(original).getXferName()));
    }
  }
  if (dataset->loadAllDataIntoMemory().bad())
  {
    throw Error(fmt::format("The DICOM file '{}' is damaged or truncated: its pixel data cannot be read.", path));
  }

  Uint16 samples = 1;
  dataset->findAndGetUint16(DCM_SamplesPerPixel, samples);
  const std::string photometric = StringOf(dataset, DCM_PhotometricInterpretation);
  if (samples != 1 || (!photometric.empty() && photometric.rfind("MONOCHROME", 0) != 0))
  {
    throw Error(fmt::format("The DICOM image '{}' is a colour image ({}); volumes must be greyscale.",
                            path,
                            photometric.empty() ? std::string("several samples per pixel") : photometric));
  }
  const size_t pixels = static_cast<size_t>(header.rows) * header.columns;
  const size_t needed = pixels * header.frameCount;

  // The stored values as doubles for one frame, whatever their encoding.
  std::function<double(size_t)> stored;
  DcmElement * element = nullptr;
  Float32 * floats = nullptr;
  Float64 * doubles = nullptr;
  Uint8 * bytes = nullptr;
  Uint16 * words = nullptr;
  Uint32 * longs = nullptr;
  if (dataset->findAndGetElement(DCM_FloatPixelData, element).good() && element->getFloat32Array(floats).good() &&
      floats && element->getLength() / sizeof(Float32) >= needed)
  {
    stored = [floats](size_t i) { return static_cast<double>(floats[i]); };
  }
  else if (dataset->findAndGetElement(DCM_DoubleFloatPixelData, element).good() &&
           element->getFloat64Array(doubles).good() && doubles && element->getLength() / sizeof(Float64) >= needed)
  {
    stored = [doubles](size_t i) { return doubles[i]; };
  }
  else if (dataset->findAndGetElement(DCM_PixelData, element).good())
  {
    Uint16 allocated = 0;
    Uint16 bitsStored = 0;
    Uint16 representation = 0;
    dataset->findAndGetUint16(DCM_BitsAllocated, allocated);
    dataset->findAndGetUint16(DCM_BitsStored, bitsStored);
    dataset->findAndGetUint16(DCM_PixelRepresentation, representation);
    if (allocated != 8 && allocated != 16 && allocated != 32)
    {
      throw Error(fmt::format(
        "The DICOM image '{}' has {} bits allocated per pixel; 8, 16 and 32 are supported.", path, allocated));
    }
    if (bitsStored == 0 || bitsStored > allocated)
    {
      bitsStored = allocated;
    }
    const bool isSigned = representation == 1;
    const uint64_t mask = bitsStored >= 32 ? 0xFFFFFFFFull : ((1ull << bitsStored) - 1);
    const int64_t signBit = static_cast<int64_t>(1ull << (bitsStored - 1));
    auto decode = [mask, signBit, isSigned](uint64_t raw) {
      int64_t value = static_cast<int64_t>(raw & mask);
      if (isSigned && (value & signBit))
      {
        value -= 2 * signBit;
      }
      return static_cast<double>(value);
    };
    const size_t bytesNeeded = needed * (allocated / 8);
    if (allocated == 8 && element->getUint8Array(bytes).good() && bytes && element->getLength() >= bytesNeeded)
    {
      stored = [bytes, decode](size_t i) { return decode(bytes[i]); };
    }
    else if (allocated == 16 && element->getUint16Array(words).good() && words && element->getLength() >= bytesNeeded)
    {
      stored = [words, decode](size_t i) { return decode(words[i]); };
    }
    else if (allocated == 32 && element->getUint32Array(longs).good() && longs && element->getLength() >= bytesNeeded)
    {
      stored = [longs, decode](size_t i) { return decode(longs[i]); };
    }
  }
  if (!stored)
  {
    throw Error(fmt::format("The DICOM image '{}' is truncated: its pixel data is shorter than {} frame(s) of {}x{}.",
                            path,
                            header.frameCount,
                            header.columns,
                            header.rows));
  }

  float * out = volume->GetBufferPointer();
  for (const auto & [frame, slice] : framesToSlices)
  {
    const SliceHeader & s = stack[slice];
    const size_t from = frame * pixels;
    float * to = out + slice * pixels;
    for (size_t i = 0; i < pixels; ++i)
    {
      to[i] = static_cast<float>(stored(from + i) * s.slope + s.intercept);
    }
  }
}

} // namespace

Series
ReadSeries(const std::string & folder, const SeriesReadOptions & options)
{
  detail::EnsureDcmtkReady();
  std::error_code error;
  if (!fs::is_directory(folder, error))
  {
    throw Error(fmt::format("The DICOM folder '{}' does not exist.", folder));
  }
  Series series;
  std::vector<std::string> files;
  for (fs::directory_iterator entry(folder, error), end; !error && entry != end; entry.increment(error))
  {
    std::error_code typeError;
    if (entry->is_regular_file(typeError))
    {
      files.push_back(entry->path().string());
    }
  }
  if (error)
  {
    throw Error(fmt::format("The DICOM folder '{}' cannot be listed: {}.", folder, error.message()));
  }
  std::sort(files.begin(), files.end());

  std::vector<SliceHeader> headers;
  for (const std::string & file : files)
  {
    ReadHeaders(file, headers, series.notes);
  }

  // Group into stacks; choose the asked-for series or the largest stack.
  std::map<std::string, std::vector<SliceHeader>> stacks;
  std::vector<const SliceHeader *> problems;
  for (SliceHeader & h : headers)
  {
    if (!h.problem.empty())
    {
      problems.push_back(&h);
      continue;
    }
    if (options.seriesInstanceUid.empty() && IsDerivedResult(h.sopClassUid))
    {
      continue;
    }
    if (!options.seriesInstanceUid.empty() && h.seriesInstanceUid != options.seriesInstanceUid)
    {
      continue;
    }
    stacks[StackKey(h)].push_back(std::move(h));
  }
  const size_t derived = static_cast<size_t>(std::count_if(
    headers.begin(), headers.end(), [](const SliceHeader & h) { return IsDerivedResult(h.sopClassUid); }));
  if (options.seriesInstanceUid.empty() && derived > 0)
  {
    series.notes.push_back(
      fmt::format("Skipped {} frame(s) of Parametric Maps or Segmentations (results, not scans).", derived));
  }
  const auto problemOf = [&](const std::string & uid) -> const SliceHeader * {
    for (const SliceHeader * h : problems)
    {
      if (h->seriesInstanceUid == uid)
      {
        return h;
      }
    }
    return nullptr;
  };
  if (!options.seriesInstanceUid.empty())
  {
    if (const SliceHeader * h = problemOf(options.seriesInstanceUid))
    {
      throw Error(h->problem);
    }
  }
  if (stacks.empty())
  {
    if (!problems.empty())
    {
      throw Error(problems.front()->problem);
    }
    if (!options.seriesInstanceUid.empty())
    {
      throw Error(
        fmt::format("The folder '{}' holds no DICOM images of the series {}.", folder, options.seriesInstanceUid));
    }
    throw Error(fmt::format("The folder '{}' holds no DICOM images.", folder));
  }
  auto chosen = stacks.begin();
  for (auto it = stacks.begin(); it != stacks.end(); ++it)
  {
    if (it->second.size() > chosen->second.size())
    {
      chosen = it;
    }
  }
  for (auto it = stacks.begin(); it != stacks.end(); ++it)
  {
    if (it != chosen)
    {
      const SliceHeader & other = it->second.front();
      series.notes.push_back(fmt::format("Also in the folder and not read: series {} ({} slice(s) of {}x{}{}).",
                                         other.seriesInstanceUid,
                                         it->second.size(),
                                         other.columns,
                                         other.rows,
                                         other.seriesInstanceUid == chosen->second.front().seriesInstanceUid
                                           ? ", another orientation or size in the same series"
                                           : ""));
    }
  }
  std::vector<SliceHeader> & stack = chosen->second;
  if (const SliceHeader * h = problemOf(stack.front().seriesInstanceUid))
  {
    throw Error(h->problem);
  }
  for (const SliceHeader * h : problems)
  {
    series.notes.push_back(
      fmt::format("Skipped '{}' of another series: {}", fs::path(h->file).filename().string(), h->problem));
  }
  const StackGeometry geometry = SortAndCheck(stack);

  const SliceHeader & first = stack.front();
  auto volume = Series::VolumeType::New();
  Series::VolumeType::SizeType size;
  size[0] = first.columns;
  size[1] = first.rows;
  size[2] = stack.size();
  volume->SetRegions(Series::VolumeType::RegionType(size));
  volume->SetSpacing(geometry.spacing);
  volume->SetOrigin(geometry.origin);
  volume->SetDirection(geometry.direction);
  volume->Allocate();

  // Each file once, with the frames of it that the volume uses.
  std::map<std::string, std::vector<std::pair<unsigned long, size_t>>> byFile;
  for (size_t k = 0; k < stack.size(); ++k)
  {
    byFile[stack[k].file].emplace_back(stack[k].frameIndex, k);
  }
  for (const auto & [file, frames] : byFile)
  {
    const size_t anySlice = frames.front().second;
    ReadPixels(file, frames, stack[anySlice], stack, volume.GetPointer());
    for (const auto & frame : frames)
    {
      stack[frame.second].dicom.reset(); // its pixels are in the volume now
    }
  }

  series.volume = volume;
  series.studyInstanceUid = first.studyInstanceUid;
  series.seriesInstanceUid = first.seriesInstanceUid;
  series.frameOfReferenceUid = first.frameOfReferenceUid;
  series.modality = first.modality;
  series.seriesDescription = first.seriesDescription;
  series.seriesNumber = first.seriesNumber;
  for (const SliceHeader & s : stack)
  {
    SourceImage image;
    image.file = s.file;
    image.sopClassUid = s.sopClassUid;
    image.sopInstanceUid = s.sopInstanceUid;
    image.frameNumber = s.enhanced ? static_cast<unsigned int>(s.frameIndex + 1) : 0u;
    image.position = s.position;
    image.hasPosition = s.hasGeometry;
    series.slices.push_back(image);
  }
  return series;
}

SeriesFolderReader::SeriesFolderReader(SeriesReadOptions options, NoteHandler onNote)
  : m_Options(std::move(options))
  , m_OnNote(std::move(onNote))
{}

Series
SeriesFolderReader::Read(const std::string & folder) const
{
  Series series = ReadSeries(folder, m_Options);
  if (m_OnNote)
  {
    const std::lock_guard<std::mutex> lock(m_Mutex);
    for (const std::string & note : series.notes)
    {
      if (m_Said.insert(folder + '\n' + note).second)
      {
        m_OnNote(folder, note);
      }
    }
  }
  return series;
}

SeriesFolderReader::VolumeType::Pointer
SeriesFolderReader::ReadSeriesFolder(const std::string & folder) const
{
  try
  {
    return Read(folder).volume;
  }
  catch (const std::exception & e)
  {
    itkGenericExceptionMacro(<< e.what());
  }
}

} // namespace recontrast::dicom
