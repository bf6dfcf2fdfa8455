/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Between the engine's torch-free buffers and LibTorch tensors.
 *
 *=========================================================================*/
#include "TorchConversion.h"

#include "ReContrast/Error.h"

#include <torch/torch.h>

namespace recontrast
{

namespace
{
torch::ScalarType
ScalarTypeOf(DType dtype)
{
  switch (dtype)
  {
    case DType::Float32:
      return torch::kFloat32;
    case DType::Float64:
      return torch::kFloat64;
    case DType::Float16:
      return torch::kFloat16;
    case DType::BFloat16:
      return torch::kBFloat16;
    case DType::Int64:
      return torch::kInt64;
    case DType::Int32:
      return torch::kInt32;
    case DType::Int16:
      return torch::kInt16;
    case DType::Int8:
      return torch::kInt8;
    case DType::UInt8:
      return torch::kUInt8;
    case DType::Bool:
      return torch::kBool;
  }
  throw Error("Unknown tensor type.");
}
} // namespace

torch::Tensor
ToTorchTensor(const RawTensor & raw, const std::string & name, const std::string & path)
{
  if (!raw.storage || raw.shape.size() != raw.strides.size() || raw.storageOffset < 0)
  {
    throw Error("The checkpoint '" + path + "' has an invalid tensor '" + name + "'.");
  }
  const int64_t elementSize = static_cast<int64_t>(ElementSize(raw.dtype));
  const int64_t storageElements = static_cast<int64_t>(raw.storage->size()) / elementSize;
  int64_t last = raw.storageOffset;
  for (size_t i = 0; i < raw.shape.size(); ++i)
  {
    if (raw.shape[i] < 0 || raw.strides[i] < 0)
    {
      throw Error("The checkpoint '" + path + "' has an invalid tensor '" + name + "'.");
    }
    if (raw.shape[i] == 0)
    {
      return torch::empty(raw.shape, torch::TensorOptions().dtype(ScalarTypeOf(raw.dtype)));
    }
    last += (raw.shape[i] - 1) * raw.strides[i];
  }
  if (last >= storageElements)
  {
    throw Error("The checkpoint '" + path + "' is damaged: tensor '" + name + "' does not fit in its storage.");
  }
  const torch::Tensor storage = torch::from_blob(const_cast<uint8_t *>(raw.storage->data()),
                                                 { storageElements },
                                                 torch::TensorOptions().dtype(ScalarTypeOf(raw.dtype)));
  return storage.as_strided(raw.shape, raw.strides, raw.storageOffset).clone(torch::MemoryFormat::Contiguous);
}

NamedTensors
ToNamedTensors(const StateDict & stateDict, const std::string & path)
{
  NamedTensors tensors;
  tensors.reserve(stateDict.size());
  for (const auto & entry : stateDict)
  {
    tensors.emplace_back(entry.name, ToTorchTensor(entry.tensor, entry.name, path));
  }
  return tensors;
}

} // namespace recontrast
