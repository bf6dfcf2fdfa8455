/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The model file: a versioned, checksummed, self-describing container of the weights.
 *
 *=========================================================================*/
#include "ModelFile.h"

#include "CheckedArithmetic.h"
#include "ReContrast/AtomicFile.h"
#include "ReContrast/Error.h"
#include "ReContrast/Version.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <cmath>
#include <fstream>
#include <limits>

namespace recontrast
{

namespace
{
constexpr const char * kFormatName = "recontrast-model";
constexpr int kFormatVersion = 1;
// A header larger than this is not one of ours (the engine's own headers are far smaller).
constexpr uint64_t kMaxHeaderBytes = 64ull * 1024 * 1024;

using Json = nlohmann::json;

std::string
Hex32(uint32_t value)
{
  char text[9];
  std::snprintf(text, sizeof(text), "%08x", value);
  return text;
}

const char *
DTypeName(torch::ScalarType type)
{
  switch (type)
  {
    case torch::kFloat32:
      return "F32";
    case torch::kInt64:
      return "I64";
    case torch::kFloat64:
      return "F64";
    default:
      throw Error("The model file format stores float32, float64 and int64 tensors only.");
  }
}

torch::ScalarType
DTypeFromName(const std::string & name, const std::string & path)
{
  if (name == "F32")
  {
    return torch::kFloat32;
  }
  if (name == "I64")
  {
    return torch::kInt64;
  }
  if (name == "F64")
  {
    return torch::kFloat64;
  }
  throw Error("The model file '" + path + "' holds a tensor of unsupported type '" + name + "'.");
}

Json
ConfigToJson(const ModelConfig & c)
{
  return Json{ { "backbone", ToString(c.backbone) },
               { "image_size", c.imageSize },
               { "mean", c.mean },
               { "std", c.std },
               { "map_pairs", ToString(c.mapPairs) } };
}

// Reads the 8-byte length and the JSON header; the stream is left at the start of the data.
Json
ReadHeader(std::ifstream & in, const std::string & path, uint64_t fileSize, uint64_t & headerBytes)
{
  unsigned char lengthBytes[8];
  if (fileSize < 10 || !in.read(reinterpret_cast<char *>(lengthBytes), 8))
  {
    throw Error("The file '" + path + "' is not a ReContrast model file (too short).");
  }
  headerBytes = 0;
  for (int i = 7; i >= 0; --i)
  {
    headerBytes = (headerBytes << 8) | lengthBytes[i];
  }
  if (headerBytes == 0 || headerBytes > kMaxHeaderBytes || headerBytes > fileSize - 8)
  {
    throw Error("The file '" + path + "' is not a ReContrast model file.");
  }
  std::string header(static_cast<size_t>(headerBytes), '\0');
  if (!in.read(header.data(), static_cast<std::streamsize>(headerBytes)) || header[0] != '{')
  {
    throw Error("The file '" + path + "' is not a ReContrast model file.");
  }
  Json json = Json::parse(header, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object() || !json.contains("__metadata__") || !json["__metadata__"].is_object() ||
      json["__metadata__"].value("format", "") != kFormatName)
  {
    throw Error("The file '" + path + "' is not a ReContrast model file (no ReContrast header).");
  }
  const std::string version = json["__metadata__"].value("format_version", "");
  if (version != std::to_string(kFormatVersion))
  {
    throw Error("The model file '" + path + "' has format version " + version + "; this version of ReContrast (" +
                Version() + ") reads version " + std::to_string(kFormatVersion) + ".");
  }
  return json;
}

uint64_t
FileSize(std::ifstream & in)
{
  in.seekg(0, std::ios::end);
  const auto size = static_cast<uint64_t>(in.tellg());
  in.seekg(0, std::ios::beg);
  return size;
}

std::ifstream
OpenForReading(const std::string & path)
{
  std::ifstream in(path, std::ios::binary);
  if (!in)
  {
    throw Error("Cannot open the model file '" + path + "'.");
  }
  return in;
}

// A position profile that could not have come from training would give nonsense scores: refused.
void
CheckPositionProfile(const ScoreCalibration & c)
{
  bool sound =
    !c.positions.empty() && std::isfinite(c.positionLevel) && std::isfinite(c.positionScale) && c.positionScale > 0.0;
  for (size_t i = 0; sound && i < c.positions.size(); ++i)
  {
    const PositionBin & bin = c.positions[i];
    sound = std::isfinite(bin.position) && bin.position >= 0.0 && bin.position <= 1.0 && std::isfinite(bin.mean) &&
            std::isfinite(bin.std) && bin.std > 0.0 && bin.samples >= 0 &&
            (i == 0 || bin.position > c.positions[i - 1].position);
  }
  if (!sound)
  {
    throw Error("a damaged score calibration (its position profile).");
  }
  if (c.mapGrid == 0)
  {
    return;
  }
  const size_t values = c.positions.size() * static_cast<size_t>(c.mapGrid) * static_cast<size_t>(c.mapGrid);
  sound = c.mapGrid > 0 && c.mapMean.size() == values && c.mapStd.size() == values && std::isfinite(c.mapLevel) &&
          std::isfinite(c.mapScale) && c.mapScale > 0.0 &&
          std::all_of(c.mapMean.begin(), c.mapMean.end(), [](float v) { return std::isfinite(v); }) &&
          std::all_of(c.mapStd.begin(), c.mapStd.end(), [](float v) { return std::isfinite(v) && v > 0.0f; });
  if (!sound)
  {
    throw Error("a damaged score calibration (its map profile).");
  }
}
} // namespace

std::string
DescriptionToJson(const ModelDescription & d)
{
  const TrainingRecord & t = d.training;
  const ScoreCalibration & c = d.calibration;
  Json positions = Json::array();
  for (const PositionBin & bin : c.positions)
  {
    positions.push_back(
      { { "position", bin.position }, { "mean", bin.mean }, { "std", bin.std }, { "samples", bin.samples } });
  }
  Json json{ { "config", ConfigToJson(d.config) },
             { "training",
               { { "iterations", t.iterations },
                 { "batch_size", t.batchSize },
                 { "seed", t.seed },
                 { "encoder_batchnorm", ToString(t.encoderBatchNorm) },
                 { "encoder_weights", t.encoderWeights },
                 { "training_samples", t.trainingSamples },
                 { "data_summary", t.dataSummary },
                 { "final_loss", t.finalLoss },
                 { "created_at", t.createdAt },
                 { "engine_version", t.engineVersion } } },
             { "calibration",
               { { "valid", c.valid },
                 { "mean", c.mean },
                 { "std", c.std },
                 { "samples", c.samples },
                 { "recommended_threshold", c.recommendedThreshold },
                 { "positions", positions },
                 { "position_level", c.positionLevel },
                 { "position_scale", c.positionScale },
                 { "map_profile",
                   c.mapGrid > 0 ? Json{ { "grid", c.mapGrid },
                                         { "mean", c.mapMean },
                                         { "std", c.mapStd },
                                         { "level", c.mapLevel },
                                         { "scale", c.mapScale } }
                                 : Json() } } },
             { "properties", d.properties } };
  return json.dump();
}

ModelDescription
DescriptionFromJson(const std::string & text, const std::string & path)
{
  const Json json = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded() || !json.is_object())
  {
    throw Error("The model file '" + path + "' has a damaged description.");
  }
  try
  {
    ModelDescription d;
    const Json & config = json.at("config");
    d.config.backbone = BackboneFromString(config.at("backbone").get<std::string>());
    d.config.imageSize = config.at("image_size").get<int>();
    d.config.mean = config.at("mean").get<std::array<float, 3>>();
    d.config.std = config.at("std").get<std::array<float, 3>>();
    // Absent in files older than the choice: the paper's six pairs.
    d.config.mapPairs = MapPairsFromString(config.value("map_pairs", std::string("all")));
    d.config.Validate();
    const Json & t = json.at("training");
    d.training.iterations = t.at("iterations").get<int>();
    d.training.batchSize = t.at("batch_size").get<int>();
    d.training.seed = t.at("seed").get<uint64_t>();
    d.training.encoderBatchNorm = EncoderBatchNormModeFromString(t.at("encoder_batchnorm").get<std::string>());
    d.training.encoderWeights = t.at("encoder_weights").get<std::string>();
    d.training.trainingSamples = t.at("training_samples").get<int64_t>();
    d.training.dataSummary = t.at("data_summary").get<std::string>();
    d.training.finalLoss = t.at("final_loss").get<double>();
    d.training.createdAt = t.at("created_at").get<std::string>();
    d.training.engineVersion = t.at("engine_version").get<std::string>();
    const Json & c = json.at("calibration");
    d.calibration.valid = c.at("valid").get<bool>();
    d.calibration.mean = c.at("mean").get<double>();
    d.calibration.std = c.at("std").get<double>();
    d.calibration.samples = c.at("samples").get<int64_t>();
    d.calibration.recommendedThreshold = c.at("recommended_threshold").get<double>();
    // The position profile is newer than format 1's first files: absent means the global form only.
    if (c.contains("positions"))
    {
      for (const Json & bin : c.at("positions"))
      {
        d.calibration.positions.push_back({ bin.at("position").get<double>(),
                                            bin.at("mean").get<double>(),
                                            bin.at("std").get<double>(),
                                            bin.at("samples").get<int64_t>() });
      }
      d.calibration.positionLevel = c.at("position_level").get<double>();
      d.calibration.positionScale = c.at("position_scale").get<double>();
      // The map profile is newer still: absent or null means maps calibrated per slice.
      if (c.contains("map_profile") && !c.at("map_profile").is_null())
      {
        const Json & profile = c.at("map_profile");
        d.calibration.mapGrid = profile.at("grid").get<int>();
        d.calibration.mapMean = profile.at("mean").get<std::vector<float>>();
        d.calibration.mapStd = profile.at("std").get<std::vector<float>>();
        d.calibration.mapLevel = profile.at("level").get<double>();
        d.calibration.mapScale = profile.at("scale").get<double>();
      }
      if (!d.calibration.positions.empty())
      {
        CheckPositionProfile(d.calibration);
      }
    }
    d.properties = json.at("properties").get<std::map<std::string, std::string>>();
    return d;
  }
  catch (const Json::exception &)
  {
    throw Error("The model file '" + path + "' has an incomplete or damaged description.");
  }
  catch (const Error & e)
  {
    throw Error("The model file '" + path + "' has an invalid description: " + e.what());
  }
}

void
WriteModelFile(const std::string & path, const ModelFileContents & contents)
{
  // Lay out the data section and its checksum first; the header records both.
  Json header = Json::object();
  std::vector<torch::Tensor> data;
  uint64_t offset = 0;
  uLong crc = crc32(0L, Z_NULL, 0);
  for (const auto & [name, tensor] : contents.tensors)
  {
    torch::Tensor cpu = tensor.detach().to(torch::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(cpu.numel()) * cpu.element_size();
    header[name] = Json{ { "dtype", DTypeName(cpu.scalar_type()) },
                         { "shape", cpu.sizes().vec() },
                         { "data_offsets", { offset, offset + bytes } } };
    crc = crc32_z(crc, static_cast<const Bytef *>(cpu.data_ptr()), static_cast<z_size_t>(bytes));
    offset += bytes;
    data.push_back(cpu);
  }
  Json metadata{ { "format", kFormatName },
                 { "format_version", std::to_string(kFormatVersion) },
                 { "description", DescriptionToJson(contents.description) },
                 { "data_crc32", Hex32(static_cast<uint32_t>(crc)) },
                 { "kind", contents.kind.empty() ? "model" : contents.kind } };
  for (const auto & [key, value] : contents.extra)
  {
    metadata["extra." + key] = value;
  }
  header["__metadata__"] = metadata;
  std::string headerText = header.dump();
  headerText.append((8 - headerText.size() % 8) % 8, ' ');

  AtomicFile file(path);
  std::ofstream & out = file.Stream();
  uint64_t headerBytes = headerText.size();
  unsigned char lengthBytes[8];
  for (int i = 0; i < 8; ++i)
  {
    lengthBytes[i] = static_cast<unsigned char>((headerBytes >> (8 * i)) & 0xff);
  }
  out.write(reinterpret_cast<const char *>(lengthBytes), 8);
  out.write(headerText.data(), static_cast<std::streamsize>(headerText.size()));
  for (const torch::Tensor & tensor : data)
  {
    out.write(static_cast<const char *>(tensor.data_ptr()),
              static_cast<std::streamsize>(tensor.numel() * tensor.element_size()));
  }
  file.Commit();
}

ModelFileContents
ReadModelFile(const std::string & path)
{
  std::ifstream in = OpenForReading(path);
  const uint64_t fileSize = FileSize(in);
  uint64_t headerBytes = 0;
  Json header = ReadHeader(in, path, fileSize, headerBytes);
  const uint64_t dataBytes = fileSize - 8 - headerBytes;

  ModelFileContents contents;
  const Json & metadata = header["__metadata__"];
  contents.description = DescriptionFromJson(metadata.value("description", ""), path);
  contents.kind = metadata.value("kind", "model");
  for (const auto & [key, value] : metadata.items())
  {
    if (key.rfind("extra.", 0) == 0 && value.is_string())
    {
      contents.extra[key.substr(6)] = value.get<std::string>();
    }
  }

  // The tensors are read straight from the file into their own memory, in file order, with the
  // checksum computed on the way: a model is never held twice while loading.
  struct Entry
  {
    std::string name;
    torch::ScalarType type;
    std::vector<int64_t> shape;
    uint64_t begin;
    uint64_t end;
  };
  std::vector<Entry> entries;
  try
  {
    for (const auto & [name, entry] : header.items())
    {
      if (name == "__metadata__")
      {
        continue;
      }
      Entry e{ name,
               DTypeFromName(entry.at("dtype").get<std::string>(), path),
               entry.at("shape").get<std::vector<int64_t>>(),
               0,
               0 };
      const auto offsets = entry.at("data_offsets").get<std::array<uint64_t, 2>>();
      e.begin = offsets[0];
      e.end = offsets[1];
      int64_t elements = 1;
      for (int64_t size : e.shape)
      {
        if (size < 0 || !MultiplyChecked(elements, size, elements))
        {
          throw Error("The model file '" + path + "' has an invalid shape for '" + name + "'.");
        }
      }
      const uint64_t bytes = static_cast<uint64_t>(elements) * static_cast<uint64_t>(c10::elementSize(e.type));
      if (e.end > dataBytes && e.begin <= e.end)
      {
        throw Error("The model file '" + path + "' is truncated.");
      }
      if (e.begin > e.end || e.end - e.begin != bytes)
      {
        throw Error("The model file '" + path + "' has an inconsistent tensor table ('" + name + "').");
      }
      entries.push_back(std::move(e));
    }
  }
  catch (const Json::exception &)
  {
    throw Error("The model file '" + path + "' has a damaged tensor table.");
  }
  std::sort(entries.begin(), entries.end(), [](const Entry & a, const Entry & b) { return a.begin < b.begin; });

  uLong crc = crc32(0L, Z_NULL, 0);
  uint64_t position = 0;
  const auto readInto = [&](char * target, uint64_t bytes) {
    if (bytes == 0)
    {
      return; // zlib treats a null buffer as "start a new checksum"
    }
    if (!in.read(target, static_cast<std::streamsize>(bytes)))
    {
      throw Error("The model file '" + path + "' is truncated.");
    }
    crc = crc32_z(crc, reinterpret_cast<const Bytef *>(target), static_cast<z_size_t>(bytes));
    position += bytes;
  };
  std::vector<char> gap;
  for (const Entry & e : entries)
  {
    if (e.begin < position)
    {
      throw Error("The model file '" + path + "' has overlapping tensors ('" + e.name + "').");
    }
    gap.resize(static_cast<size_t>(e.begin - position));
    readInto(gap.data(), gap.size());
    torch::Tensor tensor = torch::empty(e.shape, torch::TensorOptions().dtype(e.type));
    readInto(static_cast<char *>(tensor.data_ptr()), e.end - e.begin);
    contents.tensors.emplace_back(e.name, tensor);
  }
  gap.resize(static_cast<size_t>(dataBytes - position));
  readInto(gap.data(), gap.size());
  if (Hex32(static_cast<uint32_t>(crc)) != metadata.value("data_crc32", ""))
  {
    throw Error("The model file '" + path + "' is damaged (checksum mismatch).");
  }
  return contents;
}

ModelDescription
ReadModelDescription(const std::string & path)
{
  std::ifstream in = OpenForReading(path);
  const uint64_t fileSize = FileSize(in);
  uint64_t headerBytes = 0;
  const Json header = ReadHeader(in, path, fileSize, headerBytes);
  const ModelDescription description = DescriptionFromJson(header["__metadata__"].value("description", ""), path);
  // The tensors are not loaded, but their bytes are checked as loading would: a truncated or damaged
  // file is never described as a valid model.
  const uint64_t dataBytes = fileSize - 8 - headerBytes;
  try
  {
    for (const auto & [name, entry] : header.items())
    {
      if (name != "__metadata__" && entry.at("data_offsets").at(1).get<uint64_t>() > dataBytes)
      {
        throw Error("The model file '" + path + "' is truncated.");
      }
    }
  }
  catch (const Json::exception &)
  {
    throw Error("The model file '" + path + "' has a damaged tensor table.");
  }
  uLong crc = crc32(0L, Z_NULL, 0);
  std::vector<char> buffer(1 << 20);
  for (uint64_t left = dataBytes; left > 0;)
  {
    const uint64_t chunk = std::min<uint64_t>(left, buffer.size());
    if (!in.read(buffer.data(), static_cast<std::streamsize>(chunk)))
    {
      throw Error("The model file '" + path + "' is truncated.");
    }
    crc = crc32_z(crc, reinterpret_cast<const Bytef *>(buffer.data()), static_cast<z_size_t>(chunk));
    left -= chunk;
  }
  if (Hex32(static_cast<uint32_t>(crc)) != header["__metadata__"].value("data_crc32", ""))
  {
    throw Error("The model file '" + path + "' is damaged (checksum mismatch).");
  }
  return description;
}

bool
IsModelFile(const std::string & path)
{
  try
  {
    std::ifstream in(path, std::ios::binary);
    if (!in)
    {
      return false;
    }
    const uint64_t fileSize = FileSize(in);
    uint64_t headerBytes = 0;
    ReadHeader(in, path, fileSize, headerBytes);
    return true;
  }
  catch (const Error &)
  {
    return false;
  }
}

int
ModelFileFormatVersion()
{
  return kFormatVersion;
}

} // namespace recontrast
