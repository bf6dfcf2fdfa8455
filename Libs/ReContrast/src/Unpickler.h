/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  A restricted Python unpickler for checkpoints: data only, never code.
 *
 *=========================================================================*/
#ifndef ReContrast_Unpickler_h
#define ReContrast_Unpickler_h

#include "ReContrast/Checkpoint.h"

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <vector>

namespace recontrast
{
namespace pickle
{

/** Sequential input whose end is known, so every length read from the file can be checked
 * against the bytes that are really left before anything is allocated or copied. */
class ByteSource
{
public:
  virtual ~ByteSource() = default;

  virtual uint64_t Remaining() const = 0;

  /** Offset of the next byte, for error messages. */
  virtual uint64_t Position() const = 0;

  /** Copies exactly `count` bytes; callers check Remaining() first. */
  virtual void Read(uint8_t * destination, std::size_t count) = 0;
};

/** A ByteSource over bytes in memory (the data.pkl record of a zip checkpoint). */
class MemorySource : public ByteSource
{
public:
  MemorySource(const uint8_t * data, std::size_t size);

  uint64_t Remaining() const override;
  uint64_t Position() const override;
  void Read(uint8_t * destination, std::size_t count) override;

private:
  const uint8_t * m_Data;
  std::size_t m_Size;
  std::size_t m_Position = 0;
};

using ValueId = std::size_t;

enum class Kind
{
  None,
  Bool,
  Int,
  /** An integer beyond int64 (the legacy magic number); `index` names its bytes in Text(). */
  BigInt,
  Float,
  String,
  Bytes,
  Tuple,
  List,
  /** dict or collections.OrderedDict; Items() alternates key, value in insertion order. */
  Dict,
  /** One of the whitelisted Python objects, see Callable. */
  Global,
  Storage,
  Tensor
};

/** The whitelisted globals and what REDUCE does with them. */
enum class Callable
{
  OrderedDict,
  /** torch._utils._rebuild_tensor, which PyTorch 0.3 and older wrote. */
  RebuildTensor,
  RebuildTensorV2,
  RebuildParameter,
  /** torch.FloatStorage and friends: only the dtype of a persistent id, never called. */
  StorageType,
  /** torch.float32 and friends: plain values, never called. */
  TorchDType
};

/** One node of the unpickled object graph. Nodes live in the Unpickler and refer to each
 * other by ValueId, so shared and even cyclic references need no ownership. */
struct Value
{
  Kind kind = Kind::None;
  /** Bool and Int: the value; Global: its Callable. */
  int64_t integer = 0;
  /** Float: the value. */
  double real = 0.0;
  /** Index into the side table of the kind: Text() for String, Bytes, BigInt and Global (its
   * dotted name), Items() for Tuple, List and Dict, the storage views for Storage, Tensor()
   * for Tensor. */
  std::size_t index = 0;
  /** Element type of a Storage, a Tensor, or a Global that is a storage type or torch dtype. */
  DType dtype = DType::Float32;
};

/** A storage named in a persistent id: the unit of data the file stores separately. */
struct StorageRecord
{
  std::string key;
  DType dtype = DType::Float32;
  /** Elements declared by the pickle; the data read later must match. */
  int64_t numel = 0;
};

/** What a storage persistent id evaluates to: a whole record, or (legacy files) a slice of it. */
struct StorageView
{
  std::size_t record = 0;
  int64_t offset = 0;
  int64_t numel = 0;
};

/** A tensor rebuilt by torch._utils._rebuild_tensor(_v2), already checked to lie inside its view. */
struct TensorInfo
{
  std::size_t record = 0;
  /** In elements from the start of the record. */
  int64_t offset = 0;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
};

/** A pickle virtual machine that only knows the objects torch.save writes for a state_dict.
 *
 * It never imports or calls anything: GLOBAL resolves against a fixed whitelist, REDUCE
 * interprets the few whitelisted callables itself, and every other global is refused with an
 * Error naming it. Every length is checked against the input before it is used. */
class Unpickler
{
public:
  /** `subject` starts every error message, e.g. "The checkpoint 'x.pth'". */
  Unpickler(ByteSource & input, std::string subject);

  /** Runs one pickle (up to its STOP) and returns the object it builds. Can be called again for
   * the next pickle of the same input; storages and values of earlier pickles stay valid. */
  ValueId Load();

  const Value & At(ValueId id) const;
  /** The text of a String, Bytes, BigInt or Global value. */
  const std::string & Text(const Value & value) const;
  /** The elements of a Tuple or List, or the alternating keys and values of a Dict. */
  const std::vector<ValueId> & Items(const Value & value) const;
  const TensorInfo & Tensor(const Value & value) const;
  const std::vector<StorageRecord> & Storages() const;

  /** Whether the value is a String (or Bytes) with the given text. */
  bool IsString(ValueId id, const char * text) const;

private:
  [[noreturn]] void Corrupt(const std::string & detail) const;
  [[noreturn]] void Truncated() const;

  void Need(uint64_t count) const;
  uint8_t ReadByte();
  uint64_t ReadUnsigned(std::size_t byteCount);
  std::string ReadBytes(uint64_t count);
  std::string ReadLine();

  ValueId NewValue(Kind kind);
  ValueId NewText(Kind kind, std::string text);
  ValueId NewInt(int64_t integer);
  ValueId NewSequence(Kind kind, std::vector<ValueId> items);
  ValueId NewLong(const std::string & littleEndianBytes);

  void Push(ValueId id);
  ValueId Pop();
  ValueId & Top();
  /** Pops everything above the newest MARK and the MARK itself. */
  std::vector<ValueId> PopToMark();

  void Memoize(uint64_t index);
  ValueId Recall(uint64_t index) const;

  ValueId ResolveGlobal(const std::string & module, const std::string & name);
  ValueId Reduce(ValueId callable, ValueId arguments);
  ValueId RebuildTensor(const std::vector<ValueId> & arguments, std::size_t minimumCount, std::size_t maximumCount);
  ValueId MakeOrderedDict(const std::vector<ValueId> & arguments);
  ValueId PersistentLoad(ValueId persistentId);

  void Append(ValueId list, const std::vector<ValueId> & items);
  void SetItems(ValueId dict, const std::vector<ValueId> & keysAndValues);

  int64_t IntArgument(ValueId id, const char * what) const;
  std::string KeyArgument(ValueId id, const char * what) const;

  ByteSource & m_Input;
  std::string m_Subject;
  /** Offset of the instruction being executed, for error messages. */
  uint64_t m_OpcodePosition = 0;
  const char * m_OpcodeName = "";

  std::vector<Value> m_Values;
  std::vector<std::string> m_Texts;
  std::vector<std::vector<ValueId>> m_ItemLists;
  std::vector<StorageView> m_Views;
  std::vector<TensorInfo> m_Tensors;
  std::vector<StorageRecord> m_Storages;
  std::map<std::string, std::size_t> m_StorageByKey;
  std::map<std::string, ValueId> m_GlobalCache;

  std::vector<ValueId> m_Stack;
  std::vector<std::size_t> m_Marks;
  std::unordered_map<uint64_t, ValueId> m_Memo;

  ValueId m_None = 0;
  ValueId m_True = 0;
  ValueId m_False = 0;
};

} // namespace pickle
} // namespace recontrast

#endif
