/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Reading PyTorch checkpoints (official ReContrast models, torchvision weights) without executing them.
 *
 *=========================================================================*/
#ifndef ReContrast_Checkpoint_h
#define ReContrast_Checkpoint_h

#include "ReContrast/ReContrastExport.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace recontrast
{

/** Element types a checkpoint tensor may have (the torch dtypes of real-valued tensors). */
enum class DType
{
  Float32,
  Float64,
  Float16,
  BFloat16,
  Int64,
  Int32,
  Int16,
  Int8,
  UInt8,
  Bool
};

/** Bytes per element of `dtype`, e.g. 4 for Float32. */
RECONTRAST_EXPORT std::size_t ElementSize(DType dtype);

/** The torch name of `dtype`, e.g. "float32", "bfloat16", "bool". */
RECONTRAST_EXPORT const char * DTypeName(DType dtype);

/** A tensor as torch.save stores it: a view (shape, strides, offset) on a storage of raw bytes.
 *
 * Views that share one storage in the file share `storage` here too, so nothing is copied until
 * ToFloat32() is called. */
struct RECONTRAST_EXPORT RawTensor
{
  DType dtype = DType::Float32;
  std::vector<int64_t> shape;
  /** In elements, one per dimension. */
  std::vector<int64_t> strides;
  /** In elements, from the start of `storage`. */
  int64_t storageOffset = 0;
  /** The whole storage in little-endian byte order. */
  std::shared_ptr<const std::vector<uint8_t>> storage;

  /** The product of `shape` (1 for a zero-dimensional tensor). */
  int64_t NumElements() const;

  /** A contiguous row-major copy of the view, converted to float (fp16/bf16 exactly, Float64
   * and 64-bit integers rounded to nearest, Bool as 0/1). Throws Error when the view does not
   * fit in its storage. */
  std::vector<float> ToFloat32() const;
};

struct StateDictEntry
{
  std::string name;
  RawTensor tensor;
};

/** The tensors of a checkpoint, in the order of the file. */
using StateDict = std::vector<StateDictEntry>;

/** Reads the tensors of a file written by `torch.save(state_dict, path)` without Python.
 *
 * Both formats of torch.save are understood: the zip archive (PyTorch >= 1.6) and the legacy
 * stream (PyTorch < 1.6, or `_use_new_zipfile_serialization=False`). The pickled object is
 * interpreted by a restricted reader that only knows the few Python objects a state_dict is
 * made of and refuses every other one, so a malicious file cannot run code.
 *
 * The top level must be a dictionary. Nested dictionaries (e.g. {"state_dict": {...}}) are
 * flattened to "."-joined names; values that are not tensors (epoch numbers, strings, lists)
 * are skipped. Throws Error, with one sentence naming the file, for anything unreadable. */
RECONTRAST_EXPORT StateDict ReadPyTorchCheckpoint(const std::string & path);

} // namespace recontrast

#endif
