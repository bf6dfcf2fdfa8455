/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Reading scans that nobody checked: the file's own promises first, then ITK's reader, then the
 *  geometry.
 *
 *=========================================================================*/
#include "itkReContrastImageFiles.h"

#include "itkImageIOFactory.h"
#include "itkObjectFactoryBase.h"

#include <jpeglib.h>
#include <zlib.h>

#ifndef _WIN32
#  include <fcntl.h>
#  include <unistd.h>
#endif

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <sstream>
#include <vector>

namespace itk
{
namespace
{
namespace fs = std::filesystem;

std::string
Lower(std::string text)
{
  std::transform(text.begin(), text.end(), text.begin(), [](unsigned char c) { return std::tolower(c); });
  return text;
}

bool
EndsWith(const std::string & text, const std::string & end)
{
  return text.size() >= end.size() && text.compare(text.size() - end.size(), end.size(), end) == 0;
}

[[noreturn]] void
Refuse(const std::string & path, const std::string & problem)
{
  itkGenericExceptionMacro(<< "'" << path << "' " << problem);
}

// A file read once from the start, plain or gzip-compressed: the header first, then the rest streamed
// (handed to a consumer, or only counted). A gzip stream that ends early or does not decode is refused.
class ByteStream
{
public:
  ByteStream(const std::string & path, bool gzip)
    : m_Path(path)
    , m_Gzip(gzip)
  {
    if (gzip)
    {
      m_Compressed = gzopen(path.c_str(), "rb");
    }
    else
    {
      m_Plain.open(path, std::ios::binary);
    }
    if (gzip ? m_Compressed == nullptr : !m_Plain)
    {
      Refuse(path, "cannot be opened.");
    }
  }
  ~ByteStream()
  {
    if (m_Compressed)
    {
      gzclose(m_Compressed);
    }
  }
  ByteStream(const ByteStream &) = delete;
  ByteStream & operator=(const ByteStream &) = delete;

  /** Up to `count` bytes from the start (fewer when the file is shorter). */
  const std::vector<unsigned char> & Head(size_t count)
  {
    m_Head.resize(count);
    m_Head.resize(Read(m_Head.data(), count));
    m_Position = m_Head.size();
    return m_Head;
  }

  /** Reads on to the end and returns the length of the whole (decompressed) file. Bytes from `from`
   * on go to `consume`; without one, a plain file is not read at all. */
  uint64_t Rest(uint64_t from, const std::function<void(const unsigned char *, size_t)> & consume)
  {
    if (!m_Gzip && !consume)
    {
      std::error_code error;
      return fs::file_size(m_Path, error);
    }
    if (consume && from < m_Head.size())
    {
      consume(m_Head.data() + from, m_Head.size() - static_cast<size_t>(from));
    }
    std::vector<unsigned char> buffer(1 << 20);
    for (;;)
    {
      const size_t n = Read(buffer.data(), buffer.size());
      if (n == 0)
      {
        break;
      }
      if (consume && m_Position + n > from)
      {
        const size_t skip = m_Position >= from ? 0 : static_cast<size_t>(from - m_Position);
        consume(buffer.data() + skip, n - skip);
      }
      m_Position += n;
    }
    return m_Position;
  }

private:
  size_t Read(unsigned char * data, size_t count)
  {
    if (!m_Gzip)
    {
      m_Plain.read(reinterpret_cast<char *>(data), static_cast<std::streamsize>(count));
      return static_cast<size_t>(m_Plain.gcount());
    }
    const int n = gzread(m_Compressed, data, static_cast<unsigned int>(count));
    int code = Z_OK;
    gzerror(m_Compressed, &code);
    if (n < 0 || (code != Z_OK && code != Z_STREAM_END))
    {
      Refuse(m_Path, "is a damaged or truncated gzip file: its compressed data end early or do not decode.");
    }
    return static_cast<size_t>(n);
  }

  std::string m_Path;
  bool m_Gzip;
  std::ifstream m_Plain;
  gzFile m_Compressed = nullptr;
  std::vector<unsigned char> m_Head;
  uint64_t m_Position = 0;
};

template <typename T>
T
Get(const std::vector<unsigned char> & bytes, size_t offset, bool swap)
{
  T value;
  std::array<unsigned char, sizeof(T)> raw;
  std::memcpy(raw.data(), bytes.data() + offset, sizeof(T));
  if (swap)
  {
    std::reverse(raw.begin(), raw.end());
  }
  std::memcpy(&value, raw.data(), sizeof(T));
  return value;
}

// Bytes per voxel of the NIfTI data types ITK reads; 0 for others.
int
NiftiBytesPerVoxel(int datatype)
{
  static const std::map<int, int> sizes{ { 2, 1 },    { 4, 2 },   { 8, 4 },     { 16, 4 },  { 64, 8 },
                                         { 128, 3 },  { 256, 1 }, { 512, 2 },   { 768, 4 }, { 1024, 8 },
                                         { 1280, 8 }, { 32, 8 },  { 1792, 16 }, { 2304, 4 } };
  const auto found = sizes.find(datatype);
  return found == sizes.end() ? 0 : found->second;
}

void
CheckVoxelCount(const std::string & path, const std::vector<int64_t> & sizes, uint64_t bytesPerVoxel, uint64_t offset,
                uint64_t available)
{
  // Counted in long double: a lying header may claim more voxels than 64 bits hold.
  long double expected = static_cast<long double>(bytesPerVoxel);
  std::ostringstream shape;
  for (size_t i = 0; i < sizes.size(); ++i)
  {
    expected *= static_cast<long double>(sizes[i]);
    shape << (i ? " x " : "") << sizes[i];
  }
  if (static_cast<long double>(offset) + expected > static_cast<long double>(available))
  {
    const uint64_t held = available > offset ? available - offset : 0;
    Refuse(path,
           "is truncated or its header lies: the header announces " + shape.str() + " voxels (" +
             std::to_string(static_cast<unsigned long long>(
               std::min<long double>(expected, static_cast<long double>(std::numeric_limits<uint64_t>::max())))) +
             " bytes of data), but the file holds " + std::to_string(held) + ".");
  }
}

// Counts floating-point voxels that are NaN or infinite in data handed over in pieces of any length
// (a voxel may straddle two pieces): ITK's NIfTI reader turns them into other numbers without a word.
class NonFiniteCounter
{
public:
  NonFiniteCounter(int voxelBytes, bool swap)
    : m_Size(static_cast<size_t>(voxelBytes))
    , m_Swap(swap)
  {}

  void operator()(const unsigned char * data, size_t n)
  {
    for (size_t i = 0; i < n; ++i)
    {
      m_Voxel[m_Filled++] = data[i];
      if (m_Filled == m_Size)
      {
        Judge();
        m_Filled = 0;
      }
    }
  }

  uint64_t Count() const { return m_NonFinite; }

private:
  void Judge()
  {
    if (m_Swap)
    {
      std::reverse(m_Voxel.begin(), m_Voxel.begin() + static_cast<std::ptrdiff_t>(m_Size));
    }
    double value = 0.0;
    if (m_Size == 4)
    {
      float f;
      std::memcpy(&f, m_Voxel.data(), 4);
      value = f;
    }
    else
    {
      std::memcpy(&value, m_Voxel.data(), 8);
    }
    m_NonFinite += std::isfinite(value) ? 0 : 1;
  }

  size_t m_Size;
  bool m_Swap;
  std::array<unsigned char, 8> m_Voxel{};
  size_t m_Filled = 0;
  uint64_t m_NonFinite = 0;
};

void
CheckNifti(const std::string & path, bool gzip, bool values)
{
  ByteStream stream(path, gzip);
  const std::vector<unsigned char> & h = stream.Head(544);
  if (h.size() < 348)
  {
    Refuse(path, "is too short to be a NIfTI file (" + std::to_string(h.size()) + " bytes; a header alone has 348).");
  }
  const int32_t size = Get<int32_t>(h, 0, false);
  const bool nifti2 = size == 540 || size == 0x1C020000;
  const bool swap = size == 0x5C010000 || size == 0x1C020000;
  if (!nifti2 && size != 348 && size != 0x5C010000)
  {
    Refuse(path, "is not a NIfTI file (its header does not start with the NIfTI header size).");
  }
  std::vector<int64_t> sizes;
  int datatype = 0;
  uint64_t offset = 0;
  std::vector<double> numbers; // pixdim, offsets and orientation: all must be finite
  if (!nifti2)
  {
    if (std::memcmp(h.data() + 344, "n+1\0", 4) != 0)
    {
      Refuse(path, "is not a single-file NIfTI-1 image (its magic is not \"n+1\").");
    }
    const int dimensions = Get<int16_t>(h, 40, swap);
    if (dimensions < 1 || dimensions > 7)
    {
      Refuse(path, "has a NIfTI header with " + std::to_string(dimensions) + " dimensions; 1 to 7 are possible.");
    }
    for (int d = 0; d < dimensions; ++d)
    {
      sizes.push_back(Get<int16_t>(h, 42 + 2 * d, swap));
    }
    datatype = Get<int16_t>(h, 70, swap);
    const float voxOffset = Get<float>(h, 108, swap);
    if (!std::isfinite(voxOffset) || voxOffset < 348.0f)
    {
      Refuse(path, "has a NIfTI header whose data offset is not a number of bytes after the header.");
    }
    offset = static_cast<uint64_t>(voxOffset);
    for (int i = 0; i <= dimensions; ++i)
    {
      numbers.push_back(Get<float>(h, 76 + 4 * i, swap));
    }
    for (size_t o : { 112, 116, 256, 260, 264, 268, 272, 276 })
    {
      numbers.push_back(Get<float>(h, o, swap));
    }
    for (size_t o = 280; o < 328; o += 4)
    {
      numbers.push_back(Get<float>(h, o, swap));
    }
  }
  else
  {
    if (h.size() < 540)
    {
      Refuse(path, "is too short to be a NIfTI-2 file.");
    }
    const int64_t dimensions = Get<int64_t>(h, 16, swap);
    if (dimensions < 1 || dimensions > 7)
    {
      Refuse(path, "has a NIfTI header with " + std::to_string(dimensions) + " dimensions; 1 to 7 are possible.");
    }
    for (int d = 0; d < dimensions; ++d)
    {
      sizes.push_back(Get<int64_t>(h, 24 + 8 * d, swap));
    }
    datatype = Get<int16_t>(h, 12, swap);
    const int64_t voxOffset = Get<int64_t>(h, 168, swap);
    if (voxOffset < 540)
    {
      Refuse(path, "has a NIfTI header whose data offset is not a number of bytes after the header.");
    }
    offset = static_cast<uint64_t>(voxOffset);
    for (size_t o = 104; o < 168; o += 8)
    {
      numbers.push_back(Get<double>(h, o, swap));
    }
    for (size_t o = 176; o < 192; o += 8)
    {
      numbers.push_back(Get<double>(h, o, swap));
    }
    for (size_t o = 256; o < 400; o += 8)
    {
      numbers.push_back(Get<double>(h, o, swap));
    }
  }
  for (const int64_t s : sizes)
  {
    if (s < 1)
    {
      Refuse(path,
             "has a NIfTI header with an image size of " + std::to_string(s) +
               " along one axis; every size must be at least 1.");
    }
  }
  const int bytesPerVoxel = NiftiBytesPerVoxel(datatype);
  if (bytesPerVoxel == 0)
  {
    Refuse(path, "has a NIfTI data type (" + std::to_string(datatype) + ") that is not a known voxel type.");
  }
  if (std::any_of(numbers.begin(), numbers.end(), [](double v) { return !std::isfinite(v); }))
  {
    Refuse(path, "has a NIfTI header whose spacing, origin or orientation holds numbers that are not finite.");
  }
  for (size_t d = 0; d < sizes.size(); ++d)
  {
    if (!(numbers[d + 1] > 0.0))
    {
      Refuse(path,
             "has a NIfTI header with a voxel spacing of " + std::to_string(numbers[d + 1]) + " along axis " +
               std::to_string(d) + "; spacings must be positive.");
    }
  }
  // One pass over the data: its length, and (for float voxels) whether each is a finite number.
  const bool floats = values && (datatype == 16 || datatype == 64);
  NonFiniteCounter nonFinite(datatype == 64 ? 8 : 4, swap);
  const uint64_t total =
    stream.Rest(offset, floats ? std::function<void(const unsigned char *, size_t)>(std::ref(nonFinite)) : nullptr);
  CheckVoxelCount(path, sizes, static_cast<uint64_t>(bytesPerVoxel), offset, total);
  if (nonFinite.Count() > 0)
  {
    Refuse(path,
           "holds " + std::to_string(nonFinite.Count()) + " voxels that are not finite numbers (NaN or infinity).");
  }
}

// A MetaImage header: "Key = Value" lines up to ElementDataFile.
void
CheckMetaImage(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  std::map<std::string, std::string> fields;
  std::string line;
  bool sawDataFile = false;
  while (std::getline(in, line))
  {
    const size_t equals = line.find('=');
    if (equals == std::string::npos)
    {
      continue;
    }
    auto trim = [](std::string s) {
      s.erase(0, s.find_first_not_of(" \t\r"));
      s.erase(s.find_last_not_of(" \t\r") + 1);
      return s;
    };
    const std::string key = trim(line.substr(0, equals));
    fields[key] = trim(line.substr(equals + 1));
    if (key == "ElementDataFile")
    {
      sawDataFile = true;
      break;
    }
  }
  if (!sawDataFile)
  {
    Refuse(path, "is not a MetaImage file: its header has no ElementDataFile line.");
  }
  auto numbersOf = [&](const std::string & key) {
    std::vector<double> values;
    const auto found = fields.find(key);
    if (found == fields.end())
    {
      return values;
    }
    std::istringstream stream(found->second);
    std::string word;
    while (stream >> word)
    {
      try
      {
        size_t used = 0;
        values.push_back(std::stod(word, &used));
        if (used != word.size())
        {
          values.back() = std::nan("");
        }
      }
      catch (const std::exception &)
      {
        values.push_back(std::nan(""));
      }
    }
    return values;
  };
  for (const char * key : { "ElementSpacing",
                            "ElementSize",
                            "Offset",
                            "Origin",
                            "Position",
                            "TransformMatrix",
                            "Rotation",
                            "Orientation",
                            "CenterOfRotation" })
  {
    const std::vector<double> values = numbersOf(key);
    if (std::any_of(values.begin(), values.end(), [](double v) { return !std::isfinite(v); }))
    {
      Refuse(path, std::string("has a MetaImage ") + key + " that is not made of finite numbers.");
    }
  }
  const std::vector<double> dimSize = numbersOf("DimSize");
  std::vector<int64_t> sizes;
  for (const double s : dimSize)
  {
    if (!(s >= 1.0) || s != std::floor(s) || s > 1e12)
    {
      Refuse(path, "has a MetaImage DimSize that is not made of positive whole numbers.");
    }
    sizes.push_back(static_cast<int64_t>(s));
  }
  static const std::map<std::string, uint64_t> typeSizes{
    { "MET_UCHAR", 1 }, { "MET_CHAR", 1 },  { "MET_USHORT", 2 }, { "MET_SHORT", 2 },     { "MET_UINT", 4 },
    { "MET_INT", 4 },   { "MET_FLOAT", 4 }, { "MET_DOUBLE", 8 }, { "MET_LONG_LONG", 8 }, { "MET_ULONG_LONG", 8 }
  };
  const auto type = typeSizes.find(fields["ElementType"]);
  const std::string dataFile = fields["ElementDataFile"];
  if (sizes.empty() || type == typeSizes.end() || dataFile == "LIST" || dataFile.find('%') != std::string::npos ||
      fields.count("HeaderSize"))
  {
    return; // ITK's own checks, or a layout this check does not model
  }
  const std::vector<double> channels = numbersOf("ElementNumberOfChannels");
  const uint64_t bytesPerVoxel =
    type->second * static_cast<uint64_t>(channels.empty() ? 1.0 : std::max(1.0, channels.front()));
  const bool compressed = Lower(fields["CompressedData"]) == "true";
  std::string dataPath = path;
  uint64_t offset = 0;
  if (dataFile == "LOCAL")
  {
    offset = static_cast<uint64_t>(in.tellg());
  }
  else
  {
    dataPath =
      (fs::path(dataFile).is_absolute() ? fs::path(dataFile) : fs::path(path).parent_path() / dataFile).string();
    if (!fs::is_regular_file(dataPath))
    {
      Refuse(path, "names a data file, '" + dataFile + "', that does not exist.");
    }
  }
  uint64_t available = 0;
  if (!compressed)
  {
    std::error_code error;
    available = fs::file_size(dataPath, error);
  }
  else
  {
    // MetaImage compresses with zlib's deflate (zlib or gzip framing): inflate to count the bytes.
    std::ifstream data(dataPath, std::ios::binary);
    data.seekg(static_cast<std::streamoff>(offset));
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 32) != Z_OK)
    {
      Refuse(path, "cannot be checked (zlib failed to start).");
    }
    std::vector<unsigned char> input(1 << 16);
    std::vector<unsigned char> output(1 << 18);
    int status = Z_OK;
    while (status == Z_OK)
    {
      if (stream.avail_in == 0)
      {
        data.read(reinterpret_cast<char *>(input.data()), static_cast<std::streamsize>(input.size()));
        stream.avail_in = static_cast<unsigned int>(data.gcount());
        stream.next_in = input.data();
        if (stream.avail_in == 0)
        {
          break;
        }
      }
      stream.avail_out = static_cast<unsigned int>(output.size());
      stream.next_out = output.data();
      status = inflate(&stream, Z_NO_FLUSH);
      available += output.size() - stream.avail_out;
    }
    inflateEnd(&stream);
    if (status != Z_STREAM_END)
    {
      Refuse(path, "is damaged or truncated: its compressed voxel data end early or do not decode.");
    }
    offset = 0;
  }
  CheckVoxelCount(path, sizes, bytesPerVoxel, offset, available);
}

std::vector<unsigned char>
WholeFile(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  return std::vector<unsigned char>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

uint32_t
BigEndian32(const std::vector<unsigned char> & b, size_t o)
{
  return (uint32_t{ b[o] } << 24) | (uint32_t{ b[o + 1] } << 16) | (uint32_t{ b[o + 2] } << 8) | uint32_t{ b[o + 3] };
}

// Walks the chunks: each within the file and with its checksum, IHDR first, up to IEND.
void
CheckPng(const std::string & path)
{
  const std::vector<unsigned char> b = WholeFile(path);
  static const unsigned char signature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (b.size() < 8 || std::memcmp(b.data(), signature, 8) != 0)
  {
    Refuse(path, "is not a PNG picture (it does not start with the PNG signature).");
  }
  size_t at = 8;
  bool first = true;
  unsigned colour = 0;
  bool palette = false;
  bool data = false;
  while (true)
  {
    if (at + 12 > b.size())
    {
      Refuse(path, "is a truncated PNG picture: it ends before its last chunk.");
    }
    const uint32_t length = BigEndian32(b, at);
    if (length > b.size() - at - 12)
    {
      Refuse(path, "is a truncated PNG picture: a chunk runs past the end of the file.");
    }
    const std::string type(b.begin() + static_cast<std::ptrdiff_t>(at + 4),
                           b.begin() + static_cast<std::ptrdiff_t>(at + 8));
    const uint32_t crc = static_cast<uint32_t>(crc32(0L, b.data() + at + 4, length + 4));
    if (crc != BigEndian32(b, at + 8 + length))
    {
      Refuse(path, "is a damaged PNG picture: the checksum of its " + type + " chunk does not match.");
    }
    if (first && (type != "IHDR" || length != 13))
    {
      Refuse(path, "is a damaged PNG picture: it does not begin with its image header.");
    }
    if (first)
    {
      // libpng stops the process (a longjmp ITK did not prepare) on header values it rejects.
      const uint32_t width = BigEndian32(b, at + 8);
      const uint32_t height = BigEndian32(b, at + 12);
      const unsigned depth = b[at + 16];
      colour = b[at + 17];
      static const std::map<unsigned, std::vector<unsigned>> depths{
        { 0, { 1, 2, 4, 8, 16 } }, { 2, { 8, 16 } }, { 3, { 1, 2, 4, 8 } }, { 4, { 8, 16 } }, { 6, { 8, 16 } }
      };
      const auto allowed = depths.find(colour);
      if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu)
      {
        Refuse(path,
               "is a damaged PNG picture: its size is " + std::to_string(width) + " x " + std::to_string(height) +
                 " pixels.");
      }
      if (allowed == depths.end() ||
          std::find(allowed->second.begin(), allowed->second.end(), depth) == allowed->second.end() ||
          b[at + 18] != 0 || b[at + 19] != 0 || b[at + 20] > 1)
      {
        Refuse(path, "is a damaged PNG picture: its header names no valid pixel format.");
      }
    }
    if (type == "PLTE")
    {
      palette = true;
      if (length == 0 || length % 3 != 0 || length > 768)
      {
        Refuse(path, "is a damaged PNG picture: its palette has an invalid length.");
      }
    }
    if (type == "IDAT")
    {
      if (colour == 3 && !palette)
      {
        Refuse(path, "is a damaged PNG picture: its colours refer to a palette it does not have.");
      }
      data = true;
    }
    first = false;
    at += 12 + length;
    if (type == "IEND")
    {
      if (!data)
      {
        Refuse(path, "is a damaged PNG picture: it has no image data.");
      }
      return;
    }
  }
}

// Walks the markers: SOI, segments within the file, a frame header before the scan, and the
// end-of-image marker after the entropy-coded data (libjpeg grey-fills a picture that ends early).
void
CheckJpeg(const std::string & path)
{
  const std::vector<unsigned char> b = WholeFile(path);
  if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8)
  {
    Refuse(path, "is not a JPEG picture (it does not start with the JPEG start-of-image marker).");
  }
  size_t at = 2;
  bool frame = false;
  while (at < b.size())
  {
    if (b[at] != 0xFF)
    {
      Refuse(path, "is a damaged JPEG picture: bytes that are not a JPEG marker follow a segment.");
    }
    while (at < b.size() && b[at] == 0xFF)
    {
      ++at;
    }
    if (at >= b.size())
    {
      break;
    }
    const unsigned char marker = b[at++];
    if (marker == 0xD9)
    {
      if (!frame)
      {
        Refuse(path, "is a damaged JPEG picture: it ends without any image data.");
      }
      return;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
    {
      continue;
    }
    if (at + 2 > b.size())
    {
      break;
    }
    const size_t length = (size_t{ b[at] } << 8) | b[at + 1];
    if (length < 2 || at + length > b.size())
    {
      break;
    }
    if (marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
    {
      // Precision, size and components as libjpeg accepts them; its errors end in a longjmp that
      // ITK's reader does not always prepare.
      const unsigned components = length >= 8 ? b[at + 7] : 0;
      if (length < 8 || (b[at + 2] != 8 && b[at + 2] != 12) || ((size_t{ b[at + 3] } << 8) | b[at + 4]) == 0 ||
          ((size_t{ b[at + 5] } << 8) | b[at + 6]) == 0 || components == 0 || components > 4 ||
          length != 8 + 3 * components)
      {
        Refuse(path, "is a damaged JPEG picture: its frame header names no valid image.");
      }
      frame = true;
    }
    at += length;
    if (marker == 0xDA)
    {
      if (!frame)
      {
        Refuse(path, "is a damaged JPEG picture: its image data come before its frame header.");
      }
      // Entropy-coded data up to the next marker that is not a stuffed zero or a restart marker.
      while (at + 1 < b.size() && !(b[at] == 0xFF && b[at + 1] != 0x00 && !(b[at + 1] >= 0xD0 && b[at + 1] <= 0xD7)))
      {
        ++at;
      }
      if (at + 1 >= b.size())
      {
        break;
      }
    }
  }
  Refuse(path, "is a truncated JPEG picture: it ends before its end-of-image marker.");
}

// libjpeg ends an error with error_exit: here a longjmp back to DecodeJpeg, with the message kept.
struct JpegErrors
{
  jpeg_error_mgr manager;
  std::jmp_buf back;
  char message[JMSG_LENGTH_MAX];
  bool damaged = false;
};

void
OnJpegError(j_common_ptr info)
{
  auto * errors = reinterpret_cast<JpegErrors *>(info->err);
  (*info->err->format_message)(info, errors->message);
  std::longjmp(errors->back, 1);
}

// Warnings (level -1) are what libjpeg says of damaged data it then fills in: a damaged picture.
void
OnJpegMessage(j_common_ptr info, int level)
{
  auto * errors = reinterpret_cast<JpegErrors *>(info->err);
  if (level < 0 && !errors->damaged)
  {
    errors->damaged = true;
    (*info->err->format_message)(info, errors->message);
  }
}

// Decodes the whole picture once under the project's own error handling: ITK's JPEG reader does not
// always prepare the longjmp libjpeg ends its errors with, and fills damaged data with grey.
void
DecodeJpeg(const std::string & path)
{
  FILE * file = std::fopen(path.c_str(), "rb");
  if (!file)
  {
    Refuse(path, "cannot be opened.");
  }
  jpeg_decompress_struct decoder{};
  JpegErrors errors{};
  decoder.err = jpeg_std_error(&errors.manager);
  errors.manager.error_exit = OnJpegError;
  errors.manager.emit_message = OnJpegMessage;
  // Nothing with a destructor lives between setjmp and a longjmp: the row comes from libjpeg's own
  // memory pool, which jpeg_destroy_decompress frees.
  if (setjmp(errors.back) == 0)
  {
    jpeg_create_decompress(&decoder);
    jpeg_stdio_src(&decoder, file);
    jpeg_read_header(&decoder, TRUE);
    jpeg_start_decompress(&decoder);
    JSAMPARRAY row =
      (*decoder.mem->alloc_sarray)(reinterpret_cast<j_common_ptr>(&decoder),
                                   JPOOL_IMAGE,
                                   decoder.output_width * static_cast<JDIMENSION>(decoder.output_components),
                                   1);
    while (decoder.output_scanline < decoder.output_height && !errors.damaged)
    {
      jpeg_read_scanlines(&decoder, row, 1);
    }
    if (!errors.damaged)
    {
      jpeg_finish_decompress(&decoder);
    }
    jpeg_destroy_decompress(&decoder);
    std::fclose(file);
    if (errors.damaged)
    {
      Refuse(path, std::string("is a damaged JPEG picture (") + errors.message + ").");
    }
    return;
  }
  jpeg_destroy_decompress(&decoder);
  std::fclose(file);
  Refuse(path, std::string("is a damaged JPEG picture (") + errors.message + ").");
}

} // namespace

// One redirection for the whole process, shared by every ReContrastQuietStderr alive (training reads
// scans in several threads at once): the first one redirects, the last one restores stderr.
namespace
{
struct QuietState
{
  std::mutex mutex;
  int holders = 0;
  int saved = -1;
  int pipe[2] = { -1, -1 };
  bool discard = false;
};

QuietState &
Quiet()
{
  static QuietState state;
  return state;
}
} // namespace

ReContrastQuietStderr::ReContrastQuietStderr()
{
#ifndef _WIN32
  QuietState & q = Quiet();
  const std::lock_guard<std::mutex> lock(q.mutex);
  if (q.holders++ > 0)
  {
    return;
  }
  std::fflush(stderr);
  q.discard = false;
  if (::pipe(q.pipe) != 0)
  {
    q.saved = -1;
    return;
  }
  // A library that prints more than the pipe holds loses the rest instead of blocking.
  ::fcntl(q.pipe[1], F_SETFL, ::fcntl(q.pipe[1], F_GETFL) | O_NONBLOCK);
  ::fcntl(q.pipe[0], F_SETFL, ::fcntl(q.pipe[0], F_GETFL) | O_NONBLOCK);
  q.saved = ::dup(2);
  ::dup2(q.pipe[1], 2);
#endif
}

void
ReContrastQuietStderr::Discard()
{
  QuietState & q = Quiet();
  const std::lock_guard<std::mutex> lock(q.mutex);
  q.discard = true;
}

ReContrastQuietStderr::~ReContrastQuietStderr()
{
#ifndef _WIN32
  QuietState & q = Quiet();
  const std::lock_guard<std::mutex> lock(q.mutex);
  if (--q.holders > 0 || q.saved < 0)
  {
    return;
  }
  std::fflush(stderr);
  std::cerr.flush();
  ::dup2(q.saved, 2);
  ::close(q.saved);
  q.saved = -1;
  ::close(q.pipe[1]);
  char buffer[4096];
  for (ssize_t n; (n = ::read(q.pipe[0], buffer, sizeof(buffer))) > 0;)
  {
    if (!q.discard && ::write(2, buffer, static_cast<size_t>(n)) < 0)
    {
      break;
    }
  }
  ::close(q.pipe[0]);
#endif
}

bool
ReContrastChecksWholeness(const std::string & path)
{
  const std::string name = Lower(fs::path(path).filename().string());
  return EndsWith(name, ".nii") || EndsWith(name, ".nii.gz") || EndsWith(name, ".mha") || EndsWith(name, ".png") ||
         EndsWith(name, ".jpg") || EndsWith(name, ".jpeg");
}

namespace
{
void
CheckImageFile(const std::string & path, bool values)
{
  const std::string name = Lower(fs::path(path).filename().string());
  std::error_code error;
  if (!fs::is_regular_file(path, error))
  {
    return; // folders (DICOM series) and missing files are their readers' business
  }
  if (fs::file_size(path, error) == 0)
  {
    Refuse(path, "is empty.");
  }
  // ITK chooses its reader by the content, not the name: a picture under another name is checked as
  // the picture it is.
  unsigned char magic[8] = {};
  std::ifstream(path, std::ios::binary).read(reinterpret_cast<char *>(magic), sizeof(magic));
  static const unsigned char pngSignature[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
  if (std::memcmp(magic, pngSignature, 8) == 0)
  {
    CheckPng(path);
  }
  else if (magic[0] == 0xFF && magic[1] == 0xD8 && magic[2] == 0xFF)
  {
    CheckJpeg(path);
    DecodeJpeg(path);
  }
  else if (EndsWith(name, ".nii"))
  {
    CheckNifti(path, false, values);
  }
  else if (EndsWith(name, ".nii.gz"))
  {
    CheckNifti(path, true, values);
  }
  else if (EndsWith(name, ".mha") || EndsWith(name, ".mhd"))
  {
    CheckMetaImage(path);
  }
  else if (EndsWith(name, ".png"))
  {
    CheckPng(path);
  }
  else if (EndsWith(name, ".jpg") || EndsWith(name, ".jpeg"))
  {
    CheckJpeg(path);
    DecodeJpeg(path);
  }
}

} // namespace

void
ReContrastCheckImageFile(const std::string & path)
{
  CheckImageFile(path, true);
}

ImageIOBase::Pointer
ReContrastReadImageFileInformation(const std::string & path)
{
  ReContrastCheckImageFile(path);
  ReContrastQuietStderr quiet;
  // Readers probe the file while being chosen (DICOM's prints on foreign files): held back either way.
  ImageIOBase::Pointer io = ImageIOFactory::CreateImageIO(path.c_str(), ImageIOFactory::IOFileModeEnum::ReadMode);
  if (!io)
  {
    quiet.Discard();
    itkGenericExceptionMacro(<< "'" << path << "' is not an image file that ITK can read.");
  }
  try
  {
    io->SetFileName(path);
    io->ReadImageInformation();
  }
  catch (...)
  {
    quiet.Discard();
    throw;
  }
  return io;
}

void
ReContrastCheckImageFileIsWhole(const std::string & path)
{
  CheckImageFile(path, false);
}

namespace
{
bool
HasDicomPreambleAt(const fs::path & path)
{
  std::ifstream in(path, std::ios::binary);
  char buffer[132] = {};
  return in.read(buffer, sizeof(buffer)) && std::string(buffer + 128, 4) == "DICM";
}

// The file name extensions some registered ImageIO reads (".nii.gz", ".png", ".dcm", ...), lower case.
const std::vector<std::string> &
ImageExtensions()
{
  static const std::vector<std::string> extensions = [] {
    std::vector<std::string> found;
    for (const auto & object : ObjectFactoryBase::CreateAllInstance("itkImageIOBase"))
    {
      if (const auto * io = dynamic_cast<const ImageIOBase *>(object.GetPointer()))
      {
        for (std::string extension : io->GetSupportedReadExtensions())
        {
          std::transform(extension.begin(), extension.end(), extension.begin(), [](unsigned char c) {
            return static_cast<char>(std::tolower(c));
          });
          if (!extension.empty())
          {
            found.push_back(extension);
          }
        }
      }
    }
    return found;
  }();
  return extensions;
}

bool
HasImageExtensionAt(const fs::path & path)
{
  std::string name = path.filename().string();
  std::transform(
    name.begin(), name.end(), name.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::any_of(ImageExtensions().begin(), ImageExtensions().end(), [&](const std::string & extension) {
    return name.size() > extension.size() &&
           name.compare(name.size() - extension.size(), extension.size(), extension) == 0;
  });
}
} // namespace


ImageIOBase::Pointer
ReContrastCreateImageIO(const std::string & path)
{
  if (!fs::is_regular_file(path))
  {
    return nullptr;
  }
  // Only files with the DICOM preamble, named like images, or without any extension (DICOM files
  // often have none) are offered to ITK's readers: the DICOM ImageIO's probe of an arbitrary file (a
  // licence, a list) floods stderr. DICOM files named by their UID ("1.2.840....123") have a numeric
  // "extension": treated as none.
  const std::string extension = fs::path(path).extension().string();
  const bool noExtension =
    extension.size() <= 1 ||
    std::all_of(extension.begin() + 1, extension.end(), [](unsigned char c) { return std::isdigit(c); });
  if (!HasDicomPreambleAt(path) && !noExtension && !HasImageExtensionAt(path))
  {
    return nullptr;
  }
  return ImageIOFactory::CreateImageIO(path.c_str(), ImageIOFactory::IOFileModeEnum::ReadMode);
}

bool
ReContrastIsImageFile(const std::string & path)
{
  return ReContrastCreateImageIO(path) != nullptr;
}

bool
ReContrastHasDicomPreamble(const std::string & path)
{
  return HasDicomPreambleAt(path);
}

bool
ReContrastHasImageFileName(const std::string & path)
{
  return HasImageExtensionAt(path);
}

bool
ReContrastIsEightBitPicture(const ImageIOBase & io)
{
  static const char * const pictureReaders[] = { "PNGImageIO", "JPEGImageIO", "BMPImageIO", "TIFFImageIO" };
  const std::string reader = io.GetNameOfClass();
  const bool picture = std::any_of(
    std::begin(pictureReaders), std::end(pictureReaders), [&](const char * name) { return reader == name; });
  return picture && io.GetComponentType() == IOComponentEnum::UCHAR;
}

} // namespace itk
