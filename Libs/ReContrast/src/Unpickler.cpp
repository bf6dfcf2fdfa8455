/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  A restricted Python unpickler for checkpoints: data only, never code.
 *
 *=========================================================================*/
#include "Unpickler.h"

#include "CheckedArithmetic.h"

#include "ReContrast/Error.h"

#include <cstring>
#include <limits>
#include <utility>

namespace recontrast
{
namespace pickle
{

namespace
{

// The pickle instructions, as named by Python's pickletools.
enum Opcode : uint8_t
{
  MARK = '(',
  STOP = '.',
  POP = '0',
  POP_MARK = '1',
  DUP = '2',
  BINFLOAT = 'G',
  BININT = 'J',
  BININT1 = 'K',
  BININT2 = 'M',
  NONE = 'N',
  BINPERSID = 'Q',
  REDUCE = 'R',
  BINSTRING = 'T',
  SHORT_BINSTRING = 'U',
  BINUNICODE = 'X',
  BINBYTES = 'B',
  SHORT_BINBYTES = 'C',
  APPEND = 'a',
  BUILD = 'b',
  GLOBAL = 'c',
  DICT = 'd',
  EMPTY_DICT = '}',
  APPENDS = 'e',
  BINGET = 'h',
  INST = 'i',
  LONG_BINGET = 'j',
  LIST = 'l',
  EMPTY_LIST = ']',
  OBJ = 'o',
  BINPUT = 'q',
  LONG_BINPUT = 'r',
  SETITEM = 's',
  TUPLE = 't',
  EMPTY_TUPLE = ')',
  SETITEMS = 'u',
  PROTO = 0x80,
  NEWOBJ = 0x81,
  TUPLE1 = 0x85,
  TUPLE2 = 0x86,
  TUPLE3 = 0x87,
  NEWTRUE = 0x88,
  NEWFALSE = 0x89,
  LONG1 = 0x8a,
  LONG4 = 0x8b,
  SHORT_BINUNICODE = 0x8c,
  BINUNICODE8 = 0x8d,
  BINBYTES8 = 0x8e,
  NEWOBJ_EX = 0x92,
  STACK_GLOBAL = 0x93,
  MEMOIZE = 0x94,
  FRAME = 0x95
};

const char *
OpcodeName(uint8_t opcode)
{
  switch (opcode)
  {
    case MARK:
      return "MARK";
    case STOP:
      return "STOP";
    case POP:
      return "POP";
    case POP_MARK:
      return "POP_MARK";
    case DUP:
      return "DUP";
    case BINFLOAT:
      return "BINFLOAT";
    case BININT:
      return "BININT";
    case BININT1:
      return "BININT1";
    case BININT2:
      return "BININT2";
    case NONE:
      return "NONE";
    case BINPERSID:
      return "BINPERSID";
    case REDUCE:
      return "REDUCE";
    case BINSTRING:
      return "BINSTRING";
    case SHORT_BINSTRING:
      return "SHORT_BINSTRING";
    case BINUNICODE:
      return "BINUNICODE";
    case BINBYTES:
      return "BINBYTES";
    case SHORT_BINBYTES:
      return "SHORT_BINBYTES";
    case APPEND:
      return "APPEND";
    case BUILD:
      return "BUILD";
    case GLOBAL:
      return "GLOBAL";
    case DICT:
      return "DICT";
    case EMPTY_DICT:
      return "EMPTY_DICT";
    case APPENDS:
      return "APPENDS";
    case BINGET:
      return "BINGET";
    case INST:
      return "INST";
    case LONG_BINGET:
      return "LONG_BINGET";
    case LIST:
      return "LIST";
    case EMPTY_LIST:
      return "EMPTY_LIST";
    case OBJ:
      return "OBJ";
    case BINPUT:
      return "BINPUT";
    case LONG_BINPUT:
      return "LONG_BINPUT";
    case SETITEM:
      return "SETITEM";
    case TUPLE:
      return "TUPLE";
    case EMPTY_TUPLE:
      return "EMPTY_TUPLE";
    case SETITEMS:
      return "SETITEMS";
    case PROTO:
      return "PROTO";
    case NEWOBJ:
      return "NEWOBJ";
    case TUPLE1:
      return "TUPLE1";
    case TUPLE2:
      return "TUPLE2";
    case TUPLE3:
      return "TUPLE3";
    case NEWTRUE:
      return "NEWTRUE";
    case NEWFALSE:
      return "NEWFALSE";
    case LONG1:
      return "LONG1";
    case LONG4:
      return "LONG4";
    case SHORT_BINUNICODE:
      return "SHORT_BINUNICODE";
    case BINUNICODE8:
      return "BINUNICODE8";
    case BINBYTES8:
      return "BINBYTES8";
    case NEWOBJ_EX:
      return "NEWOBJ_EX";
    case STACK_GLOBAL:
      return "STACK_GLOBAL";
    case MEMOIZE:
      return "MEMOIZE";
    case FRAME:
      return "FRAME";
    default:
      return nullptr;
  }
}

struct StorageTypeName
{
  const char * name;
  DType dtype;
};

// torch.<Name>Storage, as persistent ids name the element type of a storage.
const StorageTypeName storageTypes[] = { { "FloatStorage", DType::Float32 }, { "DoubleStorage", DType::Float64 },
                                         { "HalfStorage", DType::Float16 },  { "BFloat16Storage", DType::BFloat16 },
                                         { "LongStorage", DType::Int64 },    { "IntStorage", DType::Int32 },
                                         { "ShortStorage", DType::Int16 },   { "CharStorage", DType::Int8 },
                                         { "ByteStorage", DType::UInt8 },    { "BoolStorage", DType::Bool } };

// torch.<dtype>, which pickles as a global when a checkpoint stores a dtype as a value.
const StorageTypeName torchDTypes[] = { { "float32", DType::Float32 },   { "float", DType::Float32 },
                                        { "float64", DType::Float64 },   { "double", DType::Float64 },
                                        { "float16", DType::Float16 },   { "half", DType::Float16 },
                                        { "bfloat16", DType::BFloat16 }, { "int64", DType::Int64 },
                                        { "long", DType::Int64 },        { "int32", DType::Int32 },
                                        { "int", DType::Int32 },         { "int16", DType::Int16 },
                                        { "short", DType::Int16 },       { "int8", DType::Int8 },
                                        { "uint8", DType::UInt8 },       { "bool", DType::Bool } };

// A pickle of a state_dict needs a few dozen values per tensor; far more means a hostile file
// trying to exhaust memory.
constexpr std::size_t maximumValueCount = std::size_t(1) << 23;

constexpr std::size_t maximumGlobalNameLength = 1024;

// Zero strides let a tiny storage stand for a huge tensor (torch.expand). Real checkpoints
// hardly ever save such views; a hostile file uses them to make ToFloat32 exhaust memory.
constexpr int64_t maximumExpandedElementCount = int64_t(1) << 28;

} // namespace

MemorySource::MemorySource(const uint8_t * data, std::size_t size)
  : m_Data(data)
  , m_Size(size)
{}

uint64_t
MemorySource::Remaining() const
{
  return m_Size - m_Position;
}

uint64_t
MemorySource::Position() const
{
  return m_Position;
}

void
MemorySource::Read(uint8_t * destination, std::size_t count)
{
  if (count > m_Size - m_Position)
  {
    throw Error("Internal error: a pickle read past the end of its input.");
  }
  std::memcpy(destination, m_Data + m_Position, count);
  m_Position += count;
}

Unpickler::Unpickler(ByteSource & input, std::string subject)
  : m_Input(input)
  , m_Subject(std::move(subject))
{
  m_None = NewValue(Kind::None);
  m_True = NewValue(Kind::Bool);
  m_Values[m_True].integer = 1;
  m_False = NewValue(Kind::Bool);
}

void
Unpickler::Corrupt(const std::string & detail) const
{
  throw Error(m_Subject + " is corrupt: its pickle instruction " + m_OpcodeName + " at byte " +
              std::to_string(m_OpcodePosition) + " " + detail + ".");
}

void
Unpickler::Truncated() const
{
  throw Error(m_Subject + " is truncated: it ends inside its pickled data.");
}

void
Unpickler::Need(uint64_t count) const
{
  if (m_Input.Remaining() < count)
  {
    Truncated();
  }
}

uint8_t
Unpickler::ReadByte()
{
  Need(1);
  uint8_t byte = 0;
  m_Input.Read(&byte, 1);
  return byte;
}

uint64_t
Unpickler::ReadUnsigned(std::size_t byteCount)
{
  Need(byteCount);
  uint8_t bytes[8] = {};
  m_Input.Read(bytes, byteCount);
  uint64_t value = 0;
  for (std::size_t i = 0; i < byteCount; ++i)
  {
    value |= uint64_t(bytes[i]) << (8 * i);
  }
  return value;
}

std::string
Unpickler::ReadBytes(uint64_t count)
{
  Need(count);
  std::string bytes(static_cast<std::size_t>(count), '\0');
  if (count > 0)
  {
    m_Input.Read(reinterpret_cast<uint8_t *>(&bytes[0]), bytes.size());
  }
  return bytes;
}

std::string
Unpickler::ReadLine()
{
  std::string line;
  for (;;)
  {
    const uint8_t byte = ReadByte();
    if (byte == '\n')
    {
      return line;
    }
    if (line.size() >= maximumGlobalNameLength)
    {
      Corrupt("names a global longer than " + std::to_string(maximumGlobalNameLength) + " characters");
    }
    line.push_back(static_cast<char>(byte));
  }
}

ValueId
Unpickler::NewValue(Kind kind)
{
  if (m_Values.size() >= maximumValueCount)
  {
    throw Error(m_Subject + " holds far more pickled objects than any state_dict; refusing to load it.");
  }
  Value value;
  value.kind = kind;
  m_Values.push_back(value);
  return m_Values.size() - 1;
}

ValueId
Unpickler::NewText(Kind kind, std::string text)
{
  const ValueId id = NewValue(kind);
  m_Texts.push_back(std::move(text));
  m_Values[id].index = m_Texts.size() - 1;
  return id;
}

ValueId
Unpickler::NewInt(int64_t integer)
{
  const ValueId id = NewValue(Kind::Int);
  m_Values[id].integer = integer;
  return id;
}

ValueId
Unpickler::NewSequence(Kind kind, std::vector<ValueId> items)
{
  const ValueId id = NewValue(kind);
  m_ItemLists.push_back(std::move(items));
  m_Values[id].index = m_ItemLists.size() - 1;
  return id;
}

ValueId
Unpickler::NewLong(const std::string & littleEndianBytes)
{
  // Two's complement, little-endian; it fits in int64 when every byte beyond the eighth only
  // repeats the sign.
  const std::size_t size = littleEndianBytes.size();
  if (size == 0)
  {
    return NewInt(0);
  }
  const auto byteAt = [&](std::size_t i) { return static_cast<uint8_t>(littleEndianBytes[i]); };
  const std::size_t lowCount = size < 8 ? size : 8;
  const bool negative = (byteAt(lowCount - 1) & 0x80) != 0;
  for (std::size_t i = 8; i < size; ++i)
  {
    if (byteAt(i) != (negative ? 0xff : 0x00))
    {
      return NewText(Kind::BigInt, littleEndianBytes);
    }
  }
  uint64_t bits = negative ? ~uint64_t(0) : 0;
  for (std::size_t i = 0; i < lowCount; ++i)
  {
    bits &= ~(uint64_t(0xff) << (8 * i));
    bits |= uint64_t(byteAt(i)) << (8 * i);
  }
  int64_t value = 0;
  std::memcpy(&value, &bits, sizeof(value));
  return NewInt(value);
}

void
Unpickler::Push(ValueId id)
{
  m_Stack.push_back(id);
}

ValueId
Unpickler::Pop()
{
  const std::size_t floor = m_Marks.empty() ? 0 : m_Marks.back();
  if (m_Stack.size() <= floor)
  {
    Corrupt("finds too few values on the stack");
  }
  const ValueId id = m_Stack.back();
  m_Stack.pop_back();
  return id;
}

ValueId &
Unpickler::Top()
{
  const std::size_t floor = m_Marks.empty() ? 0 : m_Marks.back();
  if (m_Stack.size() <= floor)
  {
    Corrupt("finds too few values on the stack");
  }
  return m_Stack.back();
}

std::vector<ValueId>
Unpickler::PopToMark()
{
  if (m_Marks.empty())
  {
    Corrupt("finds no MARK on the stack");
  }
  const std::size_t mark = m_Marks.back();
  m_Marks.pop_back();
  std::vector<ValueId> items(m_Stack.begin() + static_cast<std::ptrdiff_t>(mark), m_Stack.end());
  m_Stack.resize(mark);
  return items;
}

void
Unpickler::Memoize(uint64_t index)
{
  m_Memo[index] = Top();
}

ValueId
Unpickler::Recall(uint64_t index) const
{
  const auto found = m_Memo.find(index);
  if (found == m_Memo.end())
  {
    Corrupt("reads memo entry " + std::to_string(index) + ", which was never stored");
  }
  return found->second;
}

const Value &
Unpickler::At(ValueId id) const
{
  return m_Values.at(id);
}

const std::string &
Unpickler::Text(const Value & value) const
{
  return m_Texts.at(value.index);
}

const std::vector<ValueId> &
Unpickler::Items(const Value & value) const
{
  return m_ItemLists.at(value.index);
}

const TensorInfo &
Unpickler::Tensor(const Value & value) const
{
  return m_Tensors.at(value.index);
}

const std::vector<StorageRecord> &
Unpickler::Storages() const
{
  return m_Storages;
}

bool
Unpickler::IsString(ValueId id, const char * text) const
{
  const Value & value = At(id);
  return (value.kind == Kind::String || value.kind == Kind::Bytes) && Text(value) == text;
}

ValueId
Unpickler::ResolveGlobal(const std::string & module, const std::string & name)
{
  const std::string fullName = module + "." + name;
  const auto cached = m_GlobalCache.find(fullName);
  if (cached != m_GlobalCache.end())
  {
    return cached->second;
  }

  bool known = false;
  Callable callable = Callable::OrderedDict;
  DType dtype = DType::Float32;
  if (fullName == "collections.OrderedDict")
  {
    known = true;
  }
  else if (fullName == "torch._utils._rebuild_tensor")
  {
    known = true;
    callable = Callable::RebuildTensor;
  }
  else if (fullName == "torch._utils._rebuild_tensor_v2")
  {
    known = true;
    callable = Callable::RebuildTensorV2;
  }
  else if (fullName == "torch._utils._rebuild_parameter")
  {
    known = true;
    callable = Callable::RebuildParameter;
  }
  else if (module == "torch")
  {
    for (const StorageTypeName & storageType : storageTypes)
    {
      if (name == storageType.name)
      {
        known = true;
        callable = Callable::StorageType;
        dtype = storageType.dtype;
      }
    }
    for (const StorageTypeName & torchDType : torchDTypes)
    {
      if (name == torchDType.name)
      {
        known = true;
        callable = Callable::TorchDType;
        dtype = torchDType.dtype;
      }
    }
    if (!known && name.size() > 7 && name.compare(name.size() - 7, 7, "Storage") == 0)
    {
      throw Error(m_Subject + " holds tensors of type torch." + name +
                  ", which this reader does not support (only real floating-point, integer and bool tensors).");
    }
  }
  if (!known)
  {
    throw Error(m_Subject + " refers to the Python object '" + fullName +
                "', which a state_dict never contains; refusing to load it.");
  }

  const ValueId id = NewText(Kind::Global, fullName);
  m_Values[id].integer = static_cast<int64_t>(callable);
  m_Values[id].dtype = dtype;
  m_GlobalCache.emplace(fullName, id);
  return id;
}

int64_t
Unpickler::IntArgument(ValueId id, const char * what) const
{
  const Value & value = At(id);
  if (value.kind != Kind::Int)
  {
    Corrupt(std::string("gives a ") + what + " that is not an integer");
  }
  return value.integer;
}

std::string
Unpickler::KeyArgument(ValueId id, const char * what) const
{
  const Value & value = At(id);
  if (value.kind == Kind::String || value.kind == Kind::Bytes)
  {
    return Text(value);
  }
  if (value.kind == Kind::Int)
  {
    return std::to_string(value.integer);
  }
  Corrupt(std::string("gives a ") + what + " that is neither a string nor an integer");
}

ValueId
Unpickler::PersistentLoad(ValueId persistentId)
{
  // torch.save replaces every storage by ('storage', storage_type, key, location, numel), and
  // the legacy format appends view_metadata: None or (view_key, offset, numel).
  const Value & idValue = At(persistentId);
  if (idValue.kind != Kind::Tuple)
  {
    Corrupt("loads a persistent id that is not a tuple");
  }
  const std::vector<ValueId> fields = Items(idValue);
  if (fields.empty() || !IsString(fields[0], "storage"))
  {
    if (!fields.empty() && IsString(fields[0], "module"))
    {
      throw Error(m_Subject + " holds a whole pickled model rather than a state_dict; save model.state_dict() "
                              "instead.");
    }
    Corrupt("loads a persistent id that is not a storage");
  }
  if (fields.size() != 5 && fields.size() != 6)
  {
    Corrupt("loads a storage persistent id with " + std::to_string(fields.size()) + " fields instead of 5 or 6");
  }
  const Value storageType = At(fields[1]);
  if (storageType.kind != Kind::Global || storageType.integer != static_cast<int64_t>(Callable::StorageType))
  {
    Corrupt("loads a storage whose type is not a torch storage type");
  }
  const std::string key = KeyArgument(fields[2], "storage key");
  const int64_t numel = IntArgument(fields[4], "storage size");
  int64_t byteCount = 0;
  if (numel < 0 || !MultiplyChecked(numel, static_cast<int64_t>(ElementSize(storageType.dtype)), byteCount))
  {
    Corrupt("declares a storage of impossible size " + std::to_string(numel));
  }

  std::size_t record = 0;
  const auto found = m_StorageByKey.find(key);
  if (found == m_StorageByKey.end())
  {
    StorageRecord newRecord;
    newRecord.key = key;
    newRecord.dtype = storageType.dtype;
    newRecord.numel = numel;
    m_Storages.push_back(newRecord);
    record = m_Storages.size() - 1;
    m_StorageByKey.emplace(key, record);
  }
  else
  {
    // As in torch.load, the first reference to a storage decides its type and size.
    record = found->second;
    if (m_Storages[record].dtype != storageType.dtype)
    {
      Corrupt("views storage '" + key + "' as two different element types");
    }
  }

  StorageView view;
  view.record = record;
  view.numel = m_Storages[record].numel;
  if (fields.size() == 6 && At(fields[5]).kind != Kind::None)
  {
    const Value & viewMetadata = At(fields[5]);
    if (viewMetadata.kind != Kind::Tuple || Items(viewMetadata).size() != 3)
    {
      Corrupt("gives storage view metadata that is not a (key, offset, size) tuple");
    }
    const std::vector<ValueId> viewFields = Items(viewMetadata);
    const int64_t offset = IntArgument(viewFields[1], "storage view offset");
    const int64_t size = IntArgument(viewFields[2], "storage view size");
    int64_t end = 0;
    if (offset < 0 || size < 0 || !AddChecked(offset, size, end) || end > view.numel)
    {
      Corrupt("gives a view of storage '" + key + "' that lies outside it");
    }
    view.offset = offset;
    view.numel = size;
  }
  m_Views.push_back(view);
  const ValueId id = NewValue(Kind::Storage);
  m_Values[id].index = m_Views.size() - 1;
  m_Values[id].dtype = storageType.dtype;
  return id;
}

ValueId
Unpickler::RebuildTensor(const std::vector<ValueId> & arguments, std::size_t minimumCount, std::size_t maximumCount)
{
  // _rebuild_tensor(storage, storage_offset, size, stride) and _rebuild_tensor_v2(same,
  // requires_grad, backward_hooks[, metadata]): the extra arguments do not change the data.
  if (arguments.size() < minimumCount || arguments.size() > maximumCount)
  {
    Corrupt("rebuilds a tensor with " + std::to_string(arguments.size()) + " arguments instead of " +
            std::to_string(minimumCount));
  }
  const Value storage = At(arguments[0]);
  if (storage.kind != Kind::Storage)
  {
    Corrupt("rebuilds a tensor from something that is not a storage");
  }
  const StorageView view = m_Views.at(storage.index);
  const int64_t offset = IntArgument(arguments[1], "tensor offset");
  const Value & sizes = At(arguments[2]);
  const Value & strides = At(arguments[3]);
  if (sizes.kind != Kind::Tuple || strides.kind != Kind::Tuple || Items(sizes).size() != Items(strides).size())
  {
    Corrupt("rebuilds a tensor whose size and stride are not tuples of equal length");
  }

  TensorInfo tensor;
  tensor.record = view.record;
  for (const ValueId size : Items(sizes))
  {
    tensor.shape.push_back(IntArgument(size, "tensor size"));
  }
  for (const ValueId stride : Items(strides))
  {
    tensor.strides.push_back(IntArgument(stride, "tensor stride"));
  }

  // The view must lie inside its storage: offset + sum((size - 1) * stride) < numel.
  bool valid = offset >= 0;
  int64_t elementCount = 1;
  int64_t lastElement = offset;
  for (std::size_t d = 0; valid && d < tensor.shape.size(); ++d)
  {
    const int64_t size = tensor.shape[d];
    const int64_t stride = tensor.strides[d];
    int64_t reach = 0;
    valid = size >= 0 && stride >= 0 && MultiplyChecked(elementCount, size, elementCount);
    valid =
      valid && (size == 0 || (MultiplyChecked(size - 1, stride, reach) && AddChecked(lastElement, reach, lastElement)));
  }
  if (!valid || (elementCount > 0 && lastElement >= view.numel))
  {
    Corrupt("rebuilds a tensor that does not fit in its storage '" + m_Storages[view.record].key + "'");
  }
  if (elementCount > view.numel && elementCount > maximumExpandedElementCount)
  {
    Corrupt("expands storage '" + m_Storages[view.record].key + "' of " + std::to_string(view.numel) +
            " elements into a tensor of " + std::to_string(elementCount));
  }
  tensor.offset = view.offset + offset;

  m_Tensors.push_back(std::move(tensor));
  const ValueId id = NewValue(Kind::Tensor);
  m_Values[id].index = m_Tensors.size() - 1;
  m_Values[id].dtype = storage.dtype;
  return id;
}

ValueId
Unpickler::MakeOrderedDict(const std::vector<ValueId> & arguments)
{
  // Python 3 pickles OrderedDict() and adds the items with SETITEMS; Python 2 passes them as
  // the argument, a list of [key, value] pairs.
  const ValueId dict = NewSequence(Kind::Dict, {});
  if (arguments.empty())
  {
    return dict;
  }
  const Value pairs = At(arguments[0]);
  if (arguments.size() != 1 || (pairs.kind != Kind::List && pairs.kind != Kind::Tuple))
  {
    Corrupt("calls collections.OrderedDict with arguments that are not a list of pairs");
  }
  std::vector<ValueId> keysAndValues;
  for (const ValueId pairId : Items(pairs))
  {
    const Value pair = At(pairId);
    if ((pair.kind != Kind::List && pair.kind != Kind::Tuple) || Items(pair).size() != 2)
    {
      Corrupt("calls collections.OrderedDict with an item that is not a (key, value) pair");
    }
    keysAndValues.insert(keysAndValues.end(), Items(pair).begin(), Items(pair).end());
  }
  SetItems(dict, keysAndValues);
  return dict;
}

ValueId
Unpickler::Reduce(ValueId callableId, ValueId argumentsId)
{
  const Value callable = At(callableId);
  const Value argumentTuple = At(argumentsId);
  if (callable.kind != Kind::Global)
  {
    Corrupt("calls something that is not a whitelisted global");
  }
  if (argumentTuple.kind != Kind::Tuple)
  {
    Corrupt("calls " + Text(callable) + " with arguments that are not a tuple");
  }
  const std::vector<ValueId> arguments = Items(argumentTuple);
  switch (static_cast<Callable>(callable.integer))
  {
    case Callable::OrderedDict:
      return MakeOrderedDict(arguments);
    case Callable::RebuildTensor:
      return RebuildTensor(arguments, 4, 4);
    case Callable::RebuildTensorV2:
      return RebuildTensor(arguments, 6, 7);
    case Callable::RebuildParameter:
      // _rebuild_parameter(data, requires_grad, backward_hooks): the parameter is its data.
      if (arguments.size() != 3 || At(arguments[0]).kind != Kind::Tensor)
      {
        Corrupt("calls torch._utils._rebuild_parameter without a tensor");
      }
      return arguments[0];
    case Callable::StorageType:
    case Callable::TorchDType:
      break;
  }
  Corrupt("calls " + Text(callable) + ", which a state_dict never does");
}

void
Unpickler::Append(ValueId list, const std::vector<ValueId> & items)
{
  const Value & target = At(list);
  if (target.kind != Kind::List)
  {
    Corrupt("appends to something that is not a list");
  }
  std::vector<ValueId> & elements = m_ItemLists[target.index];
  elements.insert(elements.end(), items.begin(), items.end());
}

void
Unpickler::SetItems(ValueId dict, const std::vector<ValueId> & keysAndValues)
{
  const Value & target = At(dict);
  if (target.kind != Kind::Dict)
  {
    Corrupt("sets items of something that is not a dictionary");
  }
  if (keysAndValues.size() % 2 != 0)
  {
    Corrupt("sets a key without a value");
  }
  std::vector<ValueId> & elements = m_ItemLists[target.index];
  elements.insert(elements.end(), keysAndValues.begin(), keysAndValues.end());
}

ValueId
Unpickler::Load()
{
  m_Stack.clear();
  m_Marks.clear();
  m_Memo.clear();
  for (;;)
  {
    m_OpcodePosition = m_Input.Position();
    const uint8_t opcode = ReadByte();
    const char * name = OpcodeName(opcode);
    m_OpcodeName = name != nullptr ? name : "";
    switch (opcode)
    {
      case PROTO: {
        const uint8_t protocol = ReadByte();
        if (protocol > 5)
        {
          Corrupt("asks for pickle protocol " + std::to_string(protocol) + ", which does not exist");
        }
        break;
      }
      case FRAME:
        // Frames only group bytes for buffered reading; their content is ordinary instructions.
        ReadUnsigned(8);
        break;
      case STOP: {
        const ValueId result = Pop();
        if (!m_Marks.empty())
        {
          Corrupt("ends the pickle inside an unclosed MARK");
        }
        return result;
      }
      case MARK:
        m_Marks.push_back(m_Stack.size());
        break;
      case POP:
        Pop();
        break;
      case POP_MARK:
        PopToMark();
        break;
      case DUP: {
        const ValueId top = Top();
        Push(top);
        break;
      }
      case NONE:
        Push(m_None);
        break;
      case NEWTRUE:
        Push(m_True);
        break;
      case NEWFALSE:
        Push(m_False);
        break;
      case BININT: {
        const auto bits = static_cast<uint32_t>(ReadUnsigned(4));
        int32_t value = 0;
        std::memcpy(&value, &bits, sizeof(value));
        Push(NewInt(value));
        break;
      }
      case BININT1:
        Push(NewInt(static_cast<int64_t>(ReadUnsigned(1))));
        break;
      case BININT2:
        Push(NewInt(static_cast<int64_t>(ReadUnsigned(2))));
        break;
      case LONG1: {
        const uint64_t size = ReadUnsigned(1);
        Push(NewLong(ReadBytes(size)));
        break;
      }
      case LONG4: {
        const uint64_t size = ReadUnsigned(4);
        if (size > uint64_t(std::numeric_limits<int32_t>::max()))
        {
          Corrupt("gives a negative length");
        }
        Push(NewLong(ReadBytes(size)));
        break;
      }
      case BINFLOAT: {
        // The only big-endian field of the format.
        Need(8);
        uint8_t bytes[8] = {};
        m_Input.Read(bytes, 8);
        uint64_t bits = 0;
        for (const uint8_t byte : bytes)
        {
          bits = (bits << 8) | byte;
        }
        const ValueId id = NewValue(Kind::Float);
        std::memcpy(&m_Values[id].real, &bits, sizeof(bits));
        Push(id);
        break;
      }
      case SHORT_BINUNICODE:
        Push(NewText(Kind::String, ReadBytes(ReadUnsigned(1))));
        break;
      case BINUNICODE:
        Push(NewText(Kind::String, ReadBytes(ReadUnsigned(4))));
        break;
      case BINUNICODE8:
        Push(NewText(Kind::String, ReadBytes(ReadUnsigned(8))));
        break;
      case SHORT_BINSTRING:
        // Python 2 str: a string key of an old checkpoint.
        Push(NewText(Kind::String, ReadBytes(ReadUnsigned(1))));
        break;
      case BINSTRING: {
        const uint64_t size = ReadUnsigned(4);
        if (size > uint64_t(std::numeric_limits<int32_t>::max()))
        {
          Corrupt("gives a negative length");
        }
        Push(NewText(Kind::String, ReadBytes(size)));
        break;
      }
      case SHORT_BINBYTES:
        Push(NewText(Kind::Bytes, ReadBytes(ReadUnsigned(1))));
        break;
      case BINBYTES:
        Push(NewText(Kind::Bytes, ReadBytes(ReadUnsigned(4))));
        break;
      case BINBYTES8:
        Push(NewText(Kind::Bytes, ReadBytes(ReadUnsigned(8))));
        break;
      case EMPTY_TUPLE:
        Push(NewSequence(Kind::Tuple, {}));
        break;
      case TUPLE1:
      case TUPLE2:
      case TUPLE3: {
        const std::size_t count = std::size_t(opcode - TUPLE1) + 1;
        std::vector<ValueId> items(count);
        for (std::size_t i = count; i > 0; --i)
        {
          items[i - 1] = Pop();
        }
        Push(NewSequence(Kind::Tuple, std::move(items)));
        break;
      }
      case TUPLE:
        Push(NewSequence(Kind::Tuple, PopToMark()));
        break;
      case EMPTY_LIST:
        Push(NewSequence(Kind::List, {}));
        break;
      case LIST:
        Push(NewSequence(Kind::List, PopToMark()));
        break;
      case APPEND: {
        const ValueId item = Pop();
        Append(Top(), { item });
        break;
      }
      case APPENDS: {
        const std::vector<ValueId> items = PopToMark();
        Append(Top(), items);
        break;
      }
      case EMPTY_DICT:
        Push(NewSequence(Kind::Dict, {}));
        break;
      case DICT: {
        const std::vector<ValueId> keysAndValues = PopToMark();
        const ValueId dict = NewSequence(Kind::Dict, {});
        SetItems(dict, keysAndValues);
        Push(dict);
        break;
      }
      case SETITEM: {
        const ValueId value = Pop();
        const ValueId key = Pop();
        SetItems(Top(), { key, value });
        break;
      }
      case SETITEMS: {
        const std::vector<ValueId> keysAndValues = PopToMark();
        SetItems(Top(), keysAndValues);
        break;
      }
      case GLOBAL: {
        const std::string module = ReadLine();
        const std::string globalName = ReadLine();
        Push(ResolveGlobal(module, globalName));
        break;
      }
      case STACK_GLOBAL: {
        const ValueId globalName = Pop();
        const ValueId module = Pop();
        if (At(globalName).kind != Kind::String || At(module).kind != Kind::String)
        {
          Corrupt("names a global with something that is not a string");
        }
        Push(ResolveGlobal(Text(At(module)), Text(At(globalName))));
        break;
      }
      case REDUCE: {
        const ValueId arguments = Pop();
        const ValueId callable = Pop();
        Push(Reduce(callable, arguments));
        break;
      }
      case BUILD: {
        // OrderedDict state_dicts carry their `_metadata` attribute (module versions) as state;
        // the tensors do not depend on it.
        Pop();
        if (At(Top()).kind != Kind::Dict)
        {
          Corrupt("sets the state of something that is not a dictionary");
        }
        break;
      }
      case BINPERSID:
        Push(PersistentLoad(Pop()));
        break;
      case BINPUT:
        Memoize(ReadUnsigned(1));
        break;
      case LONG_BINPUT:
        Memoize(ReadUnsigned(4));
        break;
      case MEMOIZE:
        Memoize(m_Memo.size());
        break;
      case BINGET:
        Push(Recall(ReadUnsigned(1)));
        break;
      case LONG_BINGET:
        Push(Recall(ReadUnsigned(4)));
        break;
      case INST:
      case OBJ:
      case NEWOBJ:
      case NEWOBJ_EX:
        Corrupt("creates an instance of a Python class, which a state_dict never contains");
      default: {
        static const char hexDigits[] = "0123456789abcdef";
        const std::string code = { '0', 'x', hexDigits[opcode >> 4], hexDigits[opcode & 15] };
        throw Error(m_Subject + " is corrupt or not a torch.save file: its pickle uses the unsupported instruction " +
                    code + " at byte " + std::to_string(m_OpcodePosition) + ".");
      }
    }
  }
}

} // namespace pickle
} // namespace recontrast
