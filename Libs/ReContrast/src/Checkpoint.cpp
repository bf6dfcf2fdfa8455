/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Reading PyTorch checkpoints (zip and legacy formats) with the restricted unpickler.
 *
 *=========================================================================*/
#include "ReContrast/Checkpoint.h"

#include "CheckedArithmetic.h"
#include "ReContrast/Error.h"
#include "Unpickler.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <new>
#include <unordered_map>
#include <utility>

namespace recontrast
{

std::size_t
ElementSize(DType dtype)
{
  switch (dtype)
  {
    case DType::Float64:
    case DType::Int64:
      return 8;
    case DType::Float32:
    case DType::Int32:
      return 4;
    case DType::Float16:
    case DType::BFloat16:
    case DType::Int16:
      return 2;
    case DType::Int8:
    case DType::UInt8:
    case DType::Bool:
      return 1;
  }
  return 1;
}

const char *
DTypeName(DType dtype)
{
  switch (dtype)
  {
    case DType::Float32:
      return "float32";
    case DType::Float64:
      return "float64";
    case DType::Float16:
      return "float16";
    case DType::BFloat16:
      return "bfloat16";
    case DType::Int64:
      return "int64";
    case DType::Int32:
      return "int32";
    case DType::Int16:
      return "int16";
    case DType::Int8:
      return "int8";
    case DType::UInt8:
      return "uint8";
    case DType::Bool:
      return "bool";
  }
  return "unknown";
}

namespace
{

template <typename Unsigned>
Unsigned
LoadLittleEndian(const uint8_t * bytes)
{
  Unsigned value = 0;
  for (std::size_t i = 0; i < sizeof(Unsigned); ++i)
  {
    value = static_cast<Unsigned>(value | (Unsigned(bytes[i]) << (8 * i)));
  }
  return value;
}

template <typename Target, typename Source>
Target
BitCast(Source source)
{
  static_assert(sizeof(Target) == sizeof(Source), "BitCast needs types of equal size");
  Target target;
  std::memcpy(&target, &source, sizeof(target));
  return target;
}

float
HalfToFloat(uint16_t half)
{
  const uint32_t sign = uint32_t(half & 0x8000u) << 16;
  const uint32_t exponent = (half >> 10) & 0x1fu;
  const uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0)
  {
    // Zero or subnormal: mantissa * 2^-24 is exact in float.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign != 0 ? -magnitude : magnitude;
  }
  if (exponent == 0x1f)
  {
    return BitCast<float>(sign | 0x7f800000u | (mantissa << 13));
  }
  return BitCast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
}

struct LoadFloat32
{
  float operator()(const uint8_t * p) const { return BitCast<float>(LoadLittleEndian<uint32_t>(p)); }
};
struct LoadFloat64
{
  float operator()(const uint8_t * p) const
  {
    return static_cast<float>(BitCast<double>(LoadLittleEndian<uint64_t>(p)));
  }
};
struct LoadFloat16
{
  float operator()(const uint8_t * p) const { return HalfToFloat(LoadLittleEndian<uint16_t>(p)); }
};
struct LoadBFloat16
{
  float operator()(const uint8_t * p) const { return BitCast<float>(uint32_t(LoadLittleEndian<uint16_t>(p)) << 16); }
};
struct LoadInt64
{
  float operator()(const uint8_t * p) const
  {
    return static_cast<float>(BitCast<int64_t>(LoadLittleEndian<uint64_t>(p)));
  }
};
struct LoadInt32
{
  float operator()(const uint8_t * p) const
  {
    return static_cast<float>(BitCast<int32_t>(LoadLittleEndian<uint32_t>(p)));
  }
};
struct LoadInt16
{
  float operator()(const uint8_t * p) const
  {
    return static_cast<float>(BitCast<int16_t>(LoadLittleEndian<uint16_t>(p)));
  }
};
struct LoadInt8
{
  float operator()(const uint8_t * p) const { return static_cast<float>(BitCast<int8_t>(*p)); }
};
struct LoadUInt8
{
  float operator()(const uint8_t * p) const { return static_cast<float>(*p); }
};
struct LoadBool
{
  float operator()(const uint8_t * p) const { return *p != 0 ? 1.0f : 0.0f; }
};

/** Walks the view in row-major order like an odometer, so any strides (transposed, expanded)
 * come out contiguous. */
template <typename Loader>
void
Gather(const RawTensor & tensor, const uint8_t * data, std::vector<float> & output)
{
  const Loader load;
  const std::size_t elementSize = ElementSize(tensor.dtype);
  const std::size_t dimensionCount = tensor.shape.size();
  std::vector<int64_t> index(dimensionCount, 0);
  int64_t position = tensor.storageOffset;
  for (float & value : output)
  {
    value = load(data + static_cast<std::size_t>(position) * elementSize);
    for (std::size_t d = dimensionCount; d > 0; --d)
    {
      const std::size_t axis = d - 1;
      position += tensor.strides[axis];
      if (++index[axis] < tensor.shape[axis])
      {
        break;
      }
      position -= tensor.strides[axis] * tensor.shape[axis];
      index[axis] = 0;
    }
  }
}

std::string
Subject(const std::string & path)
{
  return "The checkpoint '" + path + "'";
}

/** LibTorch's reason in a form fit for the middle of a sentence: its first line, without the
 * "[enforce fail at file.cc:123] ." prefix and the stray NUL some of its messages carry. */
std::string
LibTorchReason(const c10::Error & error)
{
  std::string reason = error.msg();
  reason = reason.substr(0, reason.find_first_of(std::string("\n\0", 2)));
  if (!reason.empty() && reason.front() == '[')
  {
    const std::size_t closing = reason.find(']');
    reason = closing == std::string::npos ? std::string() : reason.substr(closing + 1);
  }
  const std::size_t start = reason.find_first_not_of(" .");
  return start == std::string::npos ? std::string("no reason given") : reason.substr(start);
}

/** The legacy stream read through the file's own buffer, so storages go straight into their
 * vectors without holding the whole file in memory. */
class FileSource : public pickle::ByteSource
{
public:
  FileSource(std::istream & stream, uint64_t size, std::string subject)
    : m_Stream(stream)
    , m_Size(size)
    , m_Subject(std::move(subject))
  {}

  uint64_t Remaining() const override { return m_Size - m_Position; }

  uint64_t Position() const override { return m_Position; }

  void Read(uint8_t * destination, std::size_t count) override
  {
    if (count > Remaining())
    {
      throw Error(m_Subject + " is truncated.");
    }
    m_Stream.read(reinterpret_cast<char *>(destination), static_cast<std::streamsize>(count));
    if (static_cast<std::size_t>(m_Stream.gcount()) != count)
    {
      throw Error(m_Subject + " could not be read: the file system reported an error.");
    }
    m_Position += count;
  }

private:
  std::istream & m_Stream;
  uint64_t m_Size;
  uint64_t m_Position = 0;
  std::string m_Subject;
};

using StorageBytes = std::shared_ptr<const std::vector<uint8_t>>;

void
SwapElementBytes(std::vector<uint8_t> & bytes, std::size_t elementSize)
{
  for (std::size_t start = 0; elementSize > 1 && start + elementSize <= bytes.size(); start += elementSize)
  {
    std::reverse(bytes.begin() + static_cast<std::ptrdiff_t>(start),
                 bytes.begin() + static_cast<std::ptrdiff_t>(start + elementSize));
  }
}

const char *
KindName(pickle::Kind kind)
{
  switch (kind)
  {
    case pickle::Kind::None:
      return "None";
    case pickle::Kind::Bool:
      return "a bool";
    case pickle::Kind::Int:
    case pickle::Kind::BigInt:
      return "an integer";
    case pickle::Kind::Float:
      return "a float";
    case pickle::Kind::String:
    case pickle::Kind::Bytes:
      return "a string";
    case pickle::Kind::Tuple:
      return "a tuple";
    case pickle::Kind::List:
      return "a list";
    case pickle::Kind::Dict:
      return "a dictionary";
    case pickle::Kind::Global:
      return "a torch type";
    case pickle::Kind::Storage:
      return "a bare storage";
    case pickle::Kind::Tensor:
      return "a single tensor";
  }
  return "an unknown object";
}

/** Turns the unpickled object into the flat list of named tensors. */
class Flattener
{
public:
  Flattener(const pickle::Unpickler & unpickler, const std::vector<StorageBytes> & storages, std::string subject)
    : m_Unpickler(unpickler)
    , m_Storages(storages)
    , m_Subject(std::move(subject))
  {}

  StateDict Run(pickle::ValueId root)
  {
    const pickle::Value & value = m_Unpickler.At(root);
    if (value.kind != pickle::Kind::Dict)
    {
      throw Error(m_Subject + " holds " + KindName(value.kind) +
                  " rather than a dictionary of tensors (a state_dict).");
    }
    Visit(value, "", 0);
    return std::move(m_Result);
  }

private:
  // Real checkpoints nest a few levels ({"model": {"state_dict": ...}}); the limits stop
  // self-referencing or exponentially shared dictionaries of a hostile file.
  static constexpr int maximumDepth = 64;
  static constexpr std::size_t maximumVisits = std::size_t(1) << 24;

  void Visit(const pickle::Value & dict, const std::string & prefix, int depth)
  {
    if (depth > maximumDepth)
    {
      throw Error(m_Subject + " nests dictionaries more than " + std::to_string(maximumDepth) +
                  " levels deep, which no state_dict does.");
    }
    const std::vector<pickle::ValueId> & items = m_Unpickler.Items(dict);
    for (std::size_t i = 0; i + 1 < items.size(); i += 2)
    {
      if (++m_Visits > maximumVisits)
      {
        throw Error(m_Subject + " holds more dictionary entries than any state_dict.");
      }
      const pickle::Value & key = m_Unpickler.At(items[i]);
      const pickle::Value & value = m_Unpickler.At(items[i + 1]);
      std::string name;
      if (key.kind == pickle::Kind::String || key.kind == pickle::Kind::Bytes)
      {
        name = prefix + m_Unpickler.Text(key);
      }
      else if (key.kind == pickle::Kind::Int)
      {
        // Optimizer states are keyed by parameter index.
        name = prefix + std::to_string(key.integer);
      }
      else
      {
        continue;
      }

      if (value.kind == pickle::Kind::Tensor)
      {
        Add(name, value);
      }
      else if (value.kind == pickle::Kind::Dict)
      {
        Visit(value, name + ".", depth + 1);
      }
    }
  }

  void Add(const std::string & name, const pickle::Value & value)
  {
    const pickle::TensorInfo & info = m_Unpickler.Tensor(value);
    StateDictEntry entry;
    entry.name = name;
    entry.tensor.dtype = value.dtype;
    entry.tensor.shape = info.shape;
    entry.tensor.strides = info.strides;
    entry.tensor.storageOffset = info.offset;
    entry.tensor.storage = m_Storages.at(info.record);

    // A repeated name keeps its first position and its last value, as a Python dict would.
    const auto found = m_Positions.find(name);
    if (found != m_Positions.end())
    {
      m_Result[found->second] = std::move(entry);
      return;
    }
    m_Positions.emplace(name, m_Result.size());
    m_Result.push_back(std::move(entry));
  }

  const pickle::Unpickler & m_Unpickler;
  const std::vector<StorageBytes> & m_Storages;
  std::string m_Subject;
  StateDict m_Result;
  std::unordered_map<std::string, std::size_t> m_Positions;
  std::size_t m_Visits = 0;
};

std::size_t
StorageByteCount(const pickle::StorageRecord & record)
{
  // Cannot overflow: the unpickler checked numel * element size when it read the persistent id.
  return static_cast<std::size_t>(record.numel) * ElementSize(record.dtype);
}

/** Reads `count` bytes at `offset`, leaving the stream at its start for the next reader. */
bool
ReadAt(std::istream & stream, uint64_t offset, uint64_t count, std::vector<uint8_t> & bytes)
{
  bytes.assign(static_cast<std::size_t>(count), 0);
  stream.clear();
  stream.seekg(static_cast<std::streamoff>(offset), std::ios::beg);
  stream.read(reinterpret_cast<char *>(bytes.data()), static_cast<std::streamsize>(count));
  const bool complete = static_cast<uint64_t>(stream.gcount()) == count;
  stream.clear();
  stream.seekg(0, std::ios::beg);
  return complete;
}

/** Checks what the constructor of LibTorch's PyTorchStreamReader checks, before it sees the
 * file: that reader leaks memory when its constructor throws, and its reasons are not written
 * for users. Returns what is wrong as the end of a sentence about the file, or "". */
std::string
ZipArchiveProblem(std::istream & stream, uint64_t size)
{
  const std::string truncated =
    " is a truncated or corrupt zip archive: the directory that torch.save writes at its end is missing.";

  // The "end of central directory" record closes every zip file, followed only by a comment.
  constexpr uint64_t endRecordSize = 22;
  const uint64_t tailSize = std::min<uint64_t>(size, endRecordSize + 0xffff);
  std::vector<uint8_t> tail;
  if (tailSize < endRecordSize || !ReadAt(stream, size - tailSize, tailSize, tail))
  {
    return truncated;
  }
  const uint8_t * endRecord = nullptr;
  for (uint64_t start = tailSize - endRecordSize + 1; start-- > 0 && endRecord == nullptr;)
  {
    const uint8_t * candidate = tail.data() + start;
    if (std::memcmp(candidate, "PK\x05\x06", 4) == 0 &&
        start + endRecordSize + LoadLittleEndian<uint16_t>(candidate + 20) == tailSize)
    {
      endRecord = candidate;
    }
  }
  if (endRecord == nullptr)
  {
    return truncated;
  }
  const uint64_t endRecordOffset = size - tailSize + static_cast<uint64_t>(endRecord - tail.data());
  const uint64_t entryCount = LoadLittleEndian<uint16_t>(endRecord + 10);
  const uint64_t directorySize = LoadLittleEndian<uint32_t>(endRecord + 12);
  const uint64_t directoryOffset = LoadLittleEndian<uint32_t>(endRecord + 16);
  if (entryCount == 0xffff || directorySize == 0xffffffff || directoryOffset == 0xffffffff)
  {
    // Zip64 (archives beyond 4 GiB): left to LibTorch's reader.
    return {};
  }
  std::vector<uint8_t> directory;
  if (directoryOffset + directorySize > endRecordOffset || !ReadAt(stream, directoryOffset, directorySize, directory))
  {
    return truncated;
  }

  // Central directory entries: a 46-byte header, then name, extra field and comment.
  std::vector<std::string> names;
  uint64_t position = 0;
  for (uint64_t entry = 0; entry < entryCount; ++entry)
  {
    const uint8_t * header = directory.data() + position;
    if (position + 46 > directorySize || std::memcmp(header, "PK\x01\x02", 4) != 0)
    {
      return truncated;
    }
    const uint64_t nameSize = LoadLittleEndian<uint16_t>(header + 28);
    const uint64_t next =
      position + 46 + nameSize + LoadLittleEndian<uint16_t>(header + 30) + LoadLittleEndian<uint16_t>(header + 32);
    if (next > directorySize)
    {
      return truncated;
    }
    names.emplace_back(reinterpret_cast<const char *>(header + 46), static_cast<std::size_t>(nameSize));
    position = next;
  }

  // torch.save puts every record in one folder named after the file, with a version record.
  const std::string notTorchSave = " is a zip archive but not a torch.save checkpoint: ";
  if (names.empty())
  {
    return notTorchSave + "it is empty.";
  }
  const std::size_t slash = names.front().find('/');
  if (slash == std::string::npos || names.front().find('\0') != std::string::npos)
  {
    return notTorchSave + "its entry '" + names.front() + "' is not inside a folder.";
  }
  const std::string folder = names.front().substr(0, slash + 1);
  if (std::find(names.begin(), names.end(), folder + "version") == names.end() &&
      std::find(names.begin(), names.end(), folder + ".data/version") == names.end())
  {
    return notTorchSave + "it has no version record.";
  }
  return {};
}

StateDict
ReadZipCheckpoint(std::istream & stream, uint64_t size, const std::string & subject)
{
  using caffe2::serialize::PyTorchStreamReader;
  const std::string problem = ZipArchiveProblem(stream, size);
  if (!problem.empty())
  {
    throw Error(subject + problem);
  }
  try
  {
    std::unique_ptr<PyTorchStreamReader> reader;
    try
    {
      reader = std::make_unique<PyTorchStreamReader>(&stream);
    }
    catch (const c10::Error & error)
    {
      throw Error(subject + " is a zip archive but not a readable torch.save checkpoint (" + LibTorchReason(error) +
                  ").");
    }
    catch (const std::bad_alloc &)
    {
      throw;
    }
    catch (const std::exception &)
    {
      // E.g. std::invalid_argument from parsing a corrupt version record.
      throw Error(subject + " is a zip archive but not a readable torch.save checkpoint.");
    }
    if (reader->hasRecord("constants.pkl"))
    {
      throw Error(subject + " is a TorchScript archive written by torch.jit.save, not a state_dict written by " +
                  "torch.save.");
    }
    if (!reader->hasRecord("data.pkl"))
    {
      throw Error(subject + " is a zip archive without data.pkl, so it was not written by torch.save.");
    }

    bool bigEndian = false;
    if (reader->hasRecord("byteorder"))
    {
      const auto record = reader->getRecord("byteorder");
      const auto * bytes = static_cast<const char *>(std::get<0>(record).get());
      bigEndian = std::string(bytes, std::get<1>(record)) == "big";
    }

    const auto pickled = reader->getRecord("data.pkl");
    pickle::MemorySource source(static_cast<const uint8_t *>(std::get<0>(pickled).get()), std::get<1>(pickled));
    pickle::Unpickler unpickler(source, subject);
    const pickle::ValueId root = unpickler.Load();

    std::vector<StorageBytes> storages;
    for (const pickle::StorageRecord & record : unpickler.Storages())
    {
      const std::string recordName = "data/" + record.key;
      if (!reader->hasRecord(recordName))
      {
        throw Error(subject + " is corrupt: the data of its storage '" + record.key + "' is missing.");
      }
      const auto data = reader->getRecord(recordName);
      const std::size_t byteCount = StorageByteCount(record);
      if (std::get<1>(data) < byteCount)
      {
        throw Error(subject + " is truncated or corrupt: its storage '" + record.key + "' holds " +
                    std::to_string(std::get<1>(data)) + " bytes but its tensors need " + std::to_string(byteCount) +
                    ".");
      }
      const auto * begin = static_cast<const uint8_t *>(std::get<0>(data).get());
      auto bytes = std::make_shared<std::vector<uint8_t>>(begin, begin + byteCount);
      if (bigEndian)
      {
        SwapElementBytes(*bytes, ElementSize(record.dtype));
      }
      storages.push_back(std::move(bytes));
    }
    return Flattener(unpickler, storages, subject).Run(root);
  }
  catch (const c10::Error & error)
  {
    throw Error(subject + " is a zip archive whose records cannot be read; it is probably truncated or corrupt (" +
                LibTorchReason(error) + ").");
  }
}

// torch/serialization.py: MAGIC_NUMBER = 0x1950a86a20f9469cfc6c, PROTOCOL_VERSION = 1001.
const uint8_t legacyMagicNumber[] = { 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19 };
constexpr int64_t legacyProtocolVersion = 1001;

StateDict
ReadLegacyCheckpoint(std::istream & stream, uint64_t size, const std::string & subject)
{
  // Layout (torch.serialization._legacy_save): pickles of the magic number, the protocol
  // version, sys_info and the object, then the pickled list of storage keys, then for each key
  // its element count (int64, little-endian) and raw bytes.
  FileSource source(stream, size, subject);
  pickle::Unpickler unpickler(source, subject);
  const std::string notACheckpoint =
    subject + " is not a PyTorch checkpoint (neither a torch.save zip archive nor a legacy torch.save file).";
  try
  {
    const pickle::Value & magic = unpickler.At(unpickler.Load());
    if (magic.kind != pickle::Kind::BigInt ||
        unpickler.Text(magic) != std::string(std::begin(legacyMagicNumber), std::end(legacyMagicNumber)))
    {
      throw Error(notACheckpoint);
    }
  }
  catch (const Error &)
  {
    throw Error(notACheckpoint);
  }
  const pickle::Value & protocol = unpickler.At(unpickler.Load());
  if (protocol.kind != pickle::Kind::Int || protocol.integer != legacyProtocolVersion)
  {
    throw Error(subject + " is a legacy torch.save file of an unknown protocol version.");
  }

  bool littleEndian = true;
  const pickle::Value & systemInfo = unpickler.At(unpickler.Load());
  if (systemInfo.kind == pickle::Kind::Dict)
  {
    const std::vector<pickle::ValueId> & items = unpickler.Items(systemInfo);
    for (std::size_t i = 0; i + 1 < items.size(); i += 2)
    {
      if (unpickler.IsString(items[i], "little_endian") && unpickler.At(items[i + 1]).kind == pickle::Kind::Bool)
      {
        littleEndian = unpickler.At(items[i + 1]).integer != 0;
      }
    }
  }

  const pickle::ValueId root = unpickler.Load();

  const pickle::Value & keyList = unpickler.At(unpickler.Load());
  if (keyList.kind != pickle::Kind::List)
  {
    throw Error(subject + " is corrupt: the list of its storages is missing.");
  }
  std::unordered_map<std::string, std::size_t> recordByKey;
  for (std::size_t i = 0; i < unpickler.Storages().size(); ++i)
  {
    recordByKey.emplace(unpickler.Storages()[i].key, i);
  }
  std::vector<StorageBytes> storages(unpickler.Storages().size());
  for (const pickle::ValueId keyId : unpickler.Items(keyList))
  {
    const pickle::Value & keyValue = unpickler.At(keyId);
    std::string key;
    if (keyValue.kind == pickle::Kind::String || keyValue.kind == pickle::Kind::Bytes)
    {
      key = unpickler.Text(keyValue);
    }
    else if (keyValue.kind == pickle::Kind::Int)
    {
      key = std::to_string(keyValue.integer);
    }
    const auto found = recordByKey.find(key);
    if (found == recordByKey.end() || storages[found->second])
    {
      throw Error(subject + " is corrupt: its list of storages names '" + key +
                  "', which no tensor uses or which is listed twice.");
    }
    const pickle::StorageRecord & record = unpickler.Storages()[found->second];
    const std::size_t byteCount = StorageByteCount(record);

    uint8_t countBytes[8] = {};
    if (source.Remaining() < sizeof(countBytes))
    {
      throw Error(subject + " is truncated: the data of its storage '" + key + "' is missing.");
    }
    source.Read(countBytes, sizeof(countBytes));
    uint64_t countBits = LoadLittleEndian<uint64_t>(countBytes);
    if (!littleEndian)
    {
      countBits = 0;
      for (const uint8_t byte : countBytes)
      {
        countBits = (countBits << 8) | byte;
      }
    }
    if (countBits != static_cast<uint64_t>(record.numel))
    {
      throw Error(subject + " is corrupt: its storage '" + key + "' holds " + std::to_string(countBits) +
                  " elements but its tensors declare " + std::to_string(record.numel) + ".");
    }
    if (source.Remaining() < byteCount)
    {
      throw Error(subject + " is truncated: its storage '" + key + "' should hold " + std::to_string(byteCount) +
                  " bytes but the file ends after " + std::to_string(source.Remaining()) + ".");
    }
    auto bytes = std::make_shared<std::vector<uint8_t>>(byteCount);
    if (byteCount > 0)
    {
      source.Read(bytes->data(), byteCount);
    }
    if (!littleEndian)
    {
      SwapElementBytes(*bytes, ElementSize(record.dtype));
    }
    storages[found->second] = std::move(bytes);
  }
  for (std::size_t i = 0; i < storages.size(); ++i)
  {
    if (!storages[i])
    {
      throw Error(subject + " is truncated or corrupt: the data of its storage '" + unpickler.Storages()[i].key +
                  "' is missing.");
    }
  }
  return Flattener(unpickler, storages, subject).Run(root);
}

} // namespace

int64_t
RawTensor::NumElements() const
{
  int64_t count = 1;
  for (const int64_t size : shape)
  {
    if (size < 0 || !MultiplyChecked(count, size, count))
    {
      throw Error("A tensor has an invalid shape: a negative size or more elements than int64 can count.");
    }
  }
  return count;
}

std::vector<float>
RawTensor::ToFloat32() const
{
  const int64_t count = NumElements();
  if (strides.size() != shape.size() || storageOffset < 0 || !storage)
  {
    throw Error("A tensor cannot be converted: its strides, offset or storage are missing or inconsistent.");
  }
  if (count == 0)
  {
    return {};
  }
  // The last element the view reaches must lie inside the storage.
  int64_t last = storageOffset;
  bool valid = true;
  for (std::size_t d = 0; valid && d < shape.size(); ++d)
  {
    int64_t reach = 0;
    valid = strides[d] >= 0 && MultiplyChecked(shape[d] - 1, strides[d], reach) &&
            reach <= std::numeric_limits<int64_t>::max() - last;
    last += valid ? reach : 0;
  }
  const uint64_t elementSize = ElementSize(dtype);
  if (!valid || static_cast<uint64_t>(last) >= storage->size() / elementSize)
  {
    throw Error("A tensor cannot be converted: its view reaches beyond its storage.");
  }
  if (static_cast<uint64_t>(count) > std::vector<float>().max_size())
  {
    throw Error("A tensor cannot be converted: it has too many elements for this computer.");
  }

  std::vector<float> output(static_cast<std::size_t>(count));
  const uint8_t * data = storage->data();
  switch (dtype)
  {
    case DType::Float32:
      Gather<LoadFloat32>(*this, data, output);
      break;
    case DType::Float64:
      Gather<LoadFloat64>(*this, data, output);
      break;
    case DType::Float16:
      Gather<LoadFloat16>(*this, data, output);
      break;
    case DType::BFloat16:
      Gather<LoadBFloat16>(*this, data, output);
      break;
    case DType::Int64:
      Gather<LoadInt64>(*this, data, output);
      break;
    case DType::Int32:
      Gather<LoadInt32>(*this, data, output);
      break;
    case DType::Int16:
      Gather<LoadInt16>(*this, data, output);
      break;
    case DType::Int8:
      Gather<LoadInt8>(*this, data, output);
      break;
    case DType::UInt8:
      Gather<LoadUInt8>(*this, data, output);
      break;
    case DType::Bool:
      Gather<LoadBool>(*this, data, output);
      break;
  }
  return output;
}

StateDict
ReadPyTorchCheckpoint(const std::string & path)
{
  const std::string subject = Subject(path);
  namespace fs = std::filesystem;
  std::error_code error;
  const fs::path filePath = fs::u8path(path);
  const fs::file_status status = fs::status(filePath, error);
  if (!fs::exists(status))
  {
    throw Error(subject + " does not exist.");
  }
  if (fs::is_directory(status))
  {
    throw Error(subject + " is a directory, not a file.");
  }
  std::ifstream stream(filePath, std::ios::binary);
  if (!stream)
  {
    throw Error(subject + " cannot be opened for reading.");
  }
  stream.seekg(0, std::ios::end);
  const std::streamoff end = stream.tellg();
  stream.seekg(0, std::ios::beg);
  if (end < 0 || !stream)
  {
    throw Error(subject + " cannot be read: its size is unknown.");
  }
  const auto size = static_cast<uint64_t>(end);
  if (size == 0)
  {
    throw Error(subject + " is empty.");
  }

  char header[262] = {};
  stream.read(header, static_cast<std::streamsize>(std::min<uint64_t>(size, sizeof(header))));
  stream.clear();
  stream.seekg(0, std::ios::beg);

  try
  {
    if (size >= 4 && std::memcmp(header, "PK\x03\x04", 4) == 0)
    {
      return ReadZipCheckpoint(stream, size, subject);
    }
    if (size >= sizeof(header) && std::memcmp(header + 257, "ustar", 5) == 0)
    {
      throw Error(subject + " uses the tar format of the earliest PyTorch versions, which is not supported; load " +
                  "it with PyTorch and save it again.");
    }
    return ReadLegacyCheckpoint(stream, size, subject);
  }
  catch (const std::bad_alloc &)
  {
    throw Error(subject + " needs more memory than this computer can give.");
  }
}

} // namespace recontrast
