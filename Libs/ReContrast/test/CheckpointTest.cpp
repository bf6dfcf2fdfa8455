/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Tests of the checkpoint reader and the unpickler on files PyTorch writes.
 *
 *=========================================================================*/
#include "PythonOracle.h"
#include "ReContrast/Checkpoint.h"
#include "ReContrast/Error.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#ifndef _WIN32
#  include <sys/wait.h>
#  include <unistd.h>
#endif

namespace
{

namespace fs = std::filesystem;
using recontrast::DType;
using recontrast::RawTensor;
using recontrast::ReadPyTorchCheckpoint;

std::string
Bytes(std::initializer_list<int> values)
{
  std::string bytes;
  for (const int value : values)
  {
    bytes.push_back(static_cast<char>(value));
  }
  return bytes;
}

std::string
LittleEndian(uint64_t value, std::size_t byteCount)
{
  std::string bytes;
  for (std::size_t i = 0; i < byteCount; ++i)
  {
    bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xff));
  }
  return bytes;
}

std::string
FloatBytes(std::initializer_list<float> values)
{
  std::string bytes;
  for (const float value : values)
  {
    uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    bytes += LittleEndian(bits, 4);
  }
  return bytes;
}

void
WriteFile(const fs::path & path, const std::string & content)
{
  std::ofstream stream(path, std::ios::binary | std::ios::trunc);
  stream.write(content.data(), static_cast<std::streamsize>(content.size()));
  ASSERT_TRUE(stream.good()) << "cannot write " << path;
}

std::string
ReadWholeFile(const fs::path & path)
{
  std::ifstream stream(path, std::ios::binary);
  std::ostringstream content;
  content << stream.rdbuf();
  return content.str();
}

/** The message of the recontrast::Error that reading `path` throws, or a failure. */
std::string
ReadError(const fs::path & path)
{
  try
  {
    ReadPyTorchCheckpoint(path.string());
  }
  catch (const recontrast::Error & error)
  {
    return error.what();
  }
  ADD_FAILURE() << "reading " << path << " did not throw recontrast::Error";
  return {};
}

uint64_t
FloatBits(float value)
{
  uint32_t bits = 0;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

/** Writes pickle instructions by name, for checkpoints no torch version would write. */
class PickleBuilder
{
public:
  PickleBuilder()
    : m_Bytes(Bytes({ 0x80, 0x02 }))
  {}

  PickleBuilder & Op(char opcode)
  {
    m_Bytes.push_back(opcode);
    return *this;
  }
  PickleBuilder & Raw(const std::string & bytes)
  {
    m_Bytes += bytes;
    return *this;
  }
  PickleBuilder & Text(const std::string & text)
  {
    m_Bytes += "X" + LittleEndian(text.size(), 4) + text;
    return *this;
  }
  /** A Python 2 str (SHORT_BINSTRING). */
  PickleBuilder & ShortString(const std::string & text)
  {
    m_Bytes += "U" + LittleEndian(text.size(), 1) + text;
    return *this;
  }
  PickleBuilder & Int(int32_t value)
  {
    m_Bytes += "J" + LittleEndian(static_cast<uint32_t>(value), 4);
    return *this;
  }
  PickleBuilder & Global(const std::string & module, const std::string & name)
  {
    m_Bytes += "c" + module + "\n" + name + "\n";
    return *this;
  }
  std::string Stop() const { return m_Bytes + "."; }

private:
  std::string m_Bytes;
};

/** The first three pickles of a legacy torch.save file: magic number, protocol, sys_info. */
std::string
LegacyHeader()
{
  const std::string magic =
    Bytes({ 0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, '.' });
  const std::string protocol = Bytes({ 0x80, 0x02, 'M', 0xe9, 0x03, '.' });
  const std::string systemInfo = PickleBuilder().Op('}').Text("little_endian").Op('\x88').Op('s').Stop();
  return magic + protocol + systemInfo;
}

std::string
LegacyFile(const std::string & objectPickle)
{
  return LegacyHeader() + objectPickle + PickleBuilder().Op(']').Stop();
}

struct HandcraftedTensor
{
  int32_t declaredNumel = 2;
  int32_t offset = 0;
  int32_t size = 2;
  int32_t stride = 1;
  uint64_t storedCount = 2;
  std::string data = FloatBytes({ 1.5f, -2.0f });
};

/** {"w": tensor} in the legacy format, exactly as torch.save lays it out, from the parts given. */
std::string
HandcraftedLegacyFile(const HandcraftedTensor & tensor)
{
  const std::string object = PickleBuilder()
                               .Op('}')
                               .Text("w")
                               .Global("torch._utils", "_rebuild_tensor_v2")
                               .Op('(')
                               .Op('(')
                               .Text("storage")
                               .Global("torch", "FloatStorage")
                               .Text("94123")
                               .Text("cpu")
                               .Int(tensor.declaredNumel)
                               .Op('N')
                               .Op('t')
                               .Op('Q')
                               .Int(tensor.offset)
                               .Int(tensor.size)
                               .Raw(Bytes({ 0x85 }))
                               .Int(tensor.stride)
                               .Raw(Bytes({ 0x85 }))
                               .Raw(Bytes({ 0x89 }))
                               .Global("collections", "OrderedDict")
                               .Op(')')
                               .Op('R')
                               .Op('t')
                               .Op('R')
                               .Op('s')
                               .Stop();
  const std::string keys = PickleBuilder().Op(']').Text("94123").Op('a').Stop();
  return LegacyHeader() + object + keys + LittleEndian(tensor.storedCount, 8) + tensor.data;
}

/** A fresh directory per test, removed afterwards. */
class ScratchDirectory
{
public:
  ScratchDirectory()
  {
    std::random_device device;
    for (int attempt = 0; attempt < 100; ++attempt)
    {
      const fs::path candidate = fs::temp_directory_path() /
                                 ("recontrast_checkpoint_test_" + std::to_string(device()) + std::to_string(attempt));
      if (fs::create_directory(candidate))
      {
        m_Path = candidate;
        return;
      }
    }
    throw std::runtime_error("cannot create a temporary directory");
  }
  ~ScratchDirectory()
  {
    std::error_code ignored;
    fs::remove_all(m_Path, ignored);
  }
  ScratchDirectory(const ScratchDirectory &) = delete;
  ScratchDirectory & operator=(const ScratchDirectory &) = delete;

  fs::path operator/(const std::string & name) const { return m_Path / name; }
  const fs::path & Path() const { return m_Path; }

private:
  fs::path m_Path;
};

class HandcraftedCheckpoints : public ::testing::Test
{
protected:
  ScratchDirectory m_Directory;

  /** Writes `content` and returns the error of reading it, checking it names the file. */
  std::string ErrorOf(const std::string & content, const std::string & name = "bad.pth")
  {
    const fs::path path = m_Directory / name;
    WriteFile(path, content);
    const std::string message = ReadError(path);
    EXPECT_NE(message.find("'" + path.string() + "'"), std::string::npos) << message;
    return message;
  }
};

TEST_F(HandcraftedCheckpoints, MissingFile)
{
  const fs::path path = m_Directory / "missing.pth";
  EXPECT_EQ(ReadError(path), "The checkpoint '" + path.string() + "' does not exist.");
}

TEST_F(HandcraftedCheckpoints, EmptyFile)
{
  EXPECT_EQ(ErrorOf(""), "The checkpoint '" + (m_Directory / "bad.pth").string() + "' is empty.");
}

TEST_F(HandcraftedCheckpoints, Directory)
{
  EXPECT_NE(ReadError(m_Directory.Path()).find("is a directory"), std::string::npos);
}

TEST_F(HandcraftedCheckpoints, RandomBinaryIsNotACheckpoint)
{
  std::mt19937 generator(7);
  std::string noise(4096, '\0');
  for (char & byte : noise)
  {
    byte = static_cast<char>(generator() & 0xff);
  }
  noise[0] = 'x';
  EXPECT_NE(ErrorOf(noise).find("is not a PyTorch checkpoint"), std::string::npos);
  // Noise that starts like a pickle is still not a checkpoint without the torch magic number.
  noise[0] = '\x80';
  noise[1] = '\x02';
  EXPECT_NE(ErrorOf(noise).find("is not a PyTorch checkpoint"), std::string::npos);
  // A pickle of another magic number.
  EXPECT_NE(ErrorOf(PickleBuilder().Int(12345).Stop()).find("is not a PyTorch checkpoint"), std::string::npos);
  // Noise behind a zip signature.
  EXPECT_NE(ErrorOf("PK\x03\x04" + noise).find("is a truncated or corrupt zip archive"), std::string::npos);
}

TEST_F(HandcraftedCheckpoints, HandcraftedLegacyFileIsRead)
{
  const fs::path path = m_Directory / "handcrafted.pth";
  WriteFile(path, HandcraftedLegacyFile({}));
  const recontrast::StateDict stateDict = ReadPyTorchCheckpoint(path.string());
  ASSERT_EQ(stateDict.size(), 1u);
  EXPECT_EQ(stateDict[0].name, "w");
  EXPECT_EQ(stateDict[0].tensor.dtype, DType::Float32);
  EXPECT_EQ(stateDict[0].tensor.shape, std::vector<int64_t>{ 2 });
  EXPECT_EQ(stateDict[0].tensor.ToFloat32(), (std::vector<float>{ 1.5f, -2.0f }));
}

TEST_F(HandcraftedCheckpoints, PyTorch03EraLegacyFileIsRead)
{
  // Python 2 pickled OrderedDict with its items as argument and str as SHORT_BINSTRING;
  // PyTorch 0.3 rebuilt tensors with torch._utils._rebuild_tensor (no requires_grad, no hooks).
  const std::string object = PickleBuilder()
                               .Global("collections", "OrderedDict")
                               .Op(']')
                               .Op('(')
                               .ShortString("layer.weight")
                               .Global("torch._utils", "_rebuild_tensor")
                               .Op('(')
                               .Op('(')
                               .ShortString("storage")
                               .Global("torch", "DoubleStorage")
                               .ShortString("140234")
                               .ShortString("cuda:0")
                               .Int(3)
                               .Op('N')
                               .Op('t')
                               .Op('Q')
                               .Int(1)
                               .Int(2)
                               .Raw(Bytes({ 0x85 }))
                               .Int(1)
                               .Raw(Bytes({ 0x85 }))
                               .Op('t')
                               .Op('R')
                               .Raw(Bytes({ 0x86 }))
                               .Op('e')
                               .Raw(Bytes({ 0x85 }))
                               .Op('R')
                               .Op('}')
                               .ShortString("_metadata")
                               .Op('}')
                               .Op('s')
                               .Op('b')
                               .Stop();
  const std::string keys = PickleBuilder().Op(']').ShortString("140234").Op('a').Stop();
  std::string data = LittleEndian(3, 8);
  for (const double value : { 0.25, -1.0, 3.0 })
  {
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(bits));
    data += LittleEndian(bits, 8);
  }
  const fs::path path = m_Directory / "old.pth";
  WriteFile(path, LegacyHeader() + object + keys + data);
  const recontrast::StateDict stateDict = ReadPyTorchCheckpoint(path.string());
  ASSERT_EQ(stateDict.size(), 1u);
  EXPECT_EQ(stateDict[0].name, "layer.weight");
  EXPECT_EQ(stateDict[0].tensor.dtype, DType::Float64);
  EXPECT_EQ(stateDict[0].tensor.storageOffset, 1);
  EXPECT_EQ(stateDict[0].tensor.ToFloat32(), (std::vector<float>{ -1.0f, 3.0f }));
}

TEST_F(HandcraftedCheckpoints, ForbiddenGlobal)
{
  const std::string object =
    PickleBuilder().Global("os", "system").Text("echo hello").Raw(Bytes({ 0x85 })).Op('R').Stop();
  const fs::path path = m_Directory / "bad.pth";
  EXPECT_EQ(ErrorOf(LegacyFile(object)),
            "The checkpoint '" + path.string() +
              "' refers to the Python object 'os.system', which a state_dict never "
              "contains; refusing to load it.");

  // The same through STACK_GLOBAL (protocol 4).
  const std::string stacked = PickleBuilder().Text("builtins").Text("eval").Raw(Bytes({ 0x93 })).Stop();
  EXPECT_NE(ErrorOf(LegacyFile(stacked)).find("'builtins.eval'"), std::string::npos);

  // Storage types of dtypes the reader does not know are refused by name too.
  const std::string complex = PickleBuilder().Global("torch", "ComplexFloatStorage").Stop();
  EXPECT_NE(ErrorOf(LegacyFile(complex)).find("torch.ComplexFloatStorage"), std::string::npos);

  // Whitelisted globals are data, not functions to call with arbitrary arguments.
  const std::string call = PickleBuilder().Global("torch", "FloatStorage").Op(')').Op('R').Stop();
  EXPECT_NE(ErrorOf(LegacyFile(call)).find("calls torch.FloatStorage"), std::string::npos);
}

TEST_F(HandcraftedCheckpoints, MemoIndexOutOfRange)
{
  const std::string shortGet = PickleBuilder().Op('}').Op('q').Raw(Bytes({ 0 })).Op('h').Raw(Bytes({ 5 })).Stop();
  EXPECT_NE(ErrorOf(LegacyFile(shortGet)).find("reads memo entry 5, which was never stored"), std::string::npos);
  const std::string longGet = PickleBuilder().Op('j').Raw(LittleEndian(0xfffffff0u, 4)).Stop();
  EXPECT_NE(ErrorOf(LegacyFile(longGet)).find("reads memo entry 4294967280"), std::string::npos);
}

TEST_F(HandcraftedCheckpoints, StackUnderflow)
{
  const std::vector<std::string> underflows = {
    PickleBuilder().Op('R').Stop(),                                 // REDUCE on an empty stack
    PickleBuilder().Op('}').Text("key").Op('s').Stop(),             // SETITEM without a value
    PickleBuilder().Op('(').Op('a').Stop(),                         // APPEND below a MARK
    PickleBuilder().Op('}').Op('u').Stop(),                         // SETITEMS without a MARK
    PickleBuilder().Stop(),                                         // STOP on an empty stack
    PickleBuilder().Op('Q').Stop(),                                 // BINPERSID on an empty stack
    PickleBuilder().Op('}').Op('(').Op('b').Stop(),                 // BUILD below a MARK
    PickleBuilder().Op(']').Op('(').Op('N').Op('e').Op('e').Stop(), // APPENDS twice
  };
  for (const std::string & pickle : underflows)
  {
    const std::string message = ErrorOf(LegacyFile(pickle));
    EXPECT_TRUE(message.find("too few values") != std::string::npos || message.find("no MARK") != std::string::npos)
      << message;
  }
}

TEST_F(HandcraftedCheckpoints, MalformedPickles)
{
  // A string longer than the file.
  const std::string longString = PickleBuilder().Raw("X" + LittleEndian(0xffffffffu, 4) + "abc").Stop();
  EXPECT_NE(ErrorOf(LegacyFile(longString)).find("is truncated"), std::string::npos);
  // An instruction no pickle protocol has.
  EXPECT_NE(ErrorOf(LegacyFile(PickleBuilder().Op('\xff').Stop())).find("unsupported instruction 0xff"),
            std::string::npos);
  // A class instance, even of a whitelisted class.
  const std::string instance = PickleBuilder().Global("collections", "OrderedDict").Op(')').Raw(Bytes({ 0x81 })).Stop();
  EXPECT_NE(ErrorOf(LegacyFile(instance)).find("instance of a Python class"), std::string::npos);
  // A dictionary that contains itself must not recurse forever.
  const std::string cycle =
    PickleBuilder().Op('}').Op('q').Raw(Bytes({ 0 })).Text("self").Op('h').Raw(Bytes({ 0 })).Op('s').Stop();
  EXPECT_NE(ErrorOf(LegacyFile(cycle)).find("levels deep"), std::string::npos);
  // A file that ends between the pickles.
  EXPECT_NE(ErrorOf(LegacyHeader()).find("is truncated"), std::string::npos);
}

TEST_F(HandcraftedCheckpoints, TopLevelMustBeADictionary)
{
  EXPECT_NE(ErrorOf(LegacyFile(PickleBuilder().Int(1).Stop())).find("holds an integer rather than a dictionary"),
            std::string::npos);
  EXPECT_NE(ErrorOf(LegacyFile(PickleBuilder().Op(']').Stop())).find("holds a list rather than a dictionary"),
            std::string::npos);
}

TEST_F(HandcraftedCheckpoints, DictionaryWithoutTensorsIsEmpty)
{
  const fs::path path = m_Directory / "empty_dict.pth";
  WriteFile(path, LegacyFile(PickleBuilder().Op('}').Text("epoch").Int(3).Op('s').Stop()));
  EXPECT_TRUE(ReadPyTorchCheckpoint(path.string()).empty());
}

TEST_F(HandcraftedCheckpoints, TensorOutsideItsStorage)
{
  HandcraftedTensor tooLong;
  tooLong.size = 3;
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(tooLong)).find("does not fit in its storage"), std::string::npos);
  HandcraftedTensor shifted;
  shifted.offset = 1;
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(shifted)).find("does not fit in its storage"), std::string::npos);
  HandcraftedTensor negativeStride;
  negativeStride.stride = -1;
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(negativeStride)).find("does not fit in its storage"), std::string::npos);
  HandcraftedTensor negativeSize;
  negativeSize.size = -2;
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(negativeSize)).find("does not fit in its storage"), std::string::npos);
  HandcraftedTensor expanded;
  expanded.size = 0x7fffffff;
  expanded.stride = 0;
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(expanded)).find("into a tensor of 2147483647"), std::string::npos);
  HandcraftedTensor huge;
  huge.declaredNumel = 0x7fffffff;
  huge.storedCount = 0x7fffffff;
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(huge)).find("is truncated: its storage '94123' should hold"),
            std::string::npos);
}

TEST_F(HandcraftedCheckpoints, StorageShorterThanDeclared)
{
  HandcraftedTensor wrongCount;
  wrongCount.storedCount = 3;
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(wrongCount)).find("holds 3 elements but its tensors declare 2"),
            std::string::npos);
  HandcraftedTensor shortData;
  shortData.data = FloatBytes({ 1.5f });
  EXPECT_NE(ErrorOf(HandcraftedLegacyFile(shortData)).find("should hold 8 bytes but the file ends after 4"),
            std::string::npos);
}

TEST_F(HandcraftedCheckpoints, EveryTruncationOfALegacyFileIsAnError)
{
  const std::string whole = HandcraftedLegacyFile({});
  for (std::size_t length = 1; length < whole.size(); ++length)
  {
    const fs::path path = m_Directory / "prefix.pth";
    WriteFile(path, whole.substr(0, length));
    EXPECT_THROW(ReadPyTorchCheckpoint(path.string()), recontrast::Error) << "prefix of " << length << " bytes";
  }
}

TEST_F(HandcraftedCheckpoints, CorruptedBytesNeverCrash)
{
  const std::string whole = HandcraftedLegacyFile({});
  std::mt19937 generator(11);
  const fs::path path = m_Directory / "corrupt.pth";
  for (int trial = 0; trial < 400; ++trial)
  {
    std::string corrupt = whole;
    const int flips = 1 + static_cast<int>(generator() % 3);
    for (int i = 0; i < flips; ++i)
    {
      corrupt[generator() % corrupt.size()] = static_cast<char>(generator() & 0xff);
    }
    WriteFile(path, corrupt);
    try
    {
      for (const recontrast::StateDictEntry & entry : ReadPyTorchCheckpoint(path.string()))
      {
        entry.tensor.ToFloat32();
      }
    }
    catch (const recontrast::Error &)
    {}
  }
}

TEST(RawTensor, ConvertsHalfAndBFloat16Exactly)
{
  RawTensor half;
  half.dtype = DType::Float16;
  half.shape = { 7 };
  half.strides = { 1 };
  // 1.0, -2.5, 65504 (largest), 2^-24 (smallest subnormal), -0.0, inf, nan
  half.storage = std::make_shared<const std::vector<uint8_t>>(
    std::vector<uint8_t>{ 0x00, 0x3c, 0x00, 0xc1, 0xff, 0x7b, 0x01, 0x00, 0x00, 0x80, 0x00, 0x7c, 0x00, 0x7e });
  const std::vector<float> values = half.ToFloat32();
  ASSERT_EQ(values.size(), 7u);
  EXPECT_EQ(values[0], 1.0f);
  EXPECT_EQ(values[1], -2.5f);
  EXPECT_EQ(values[2], 65504.0f);
  EXPECT_EQ(values[3], 5.9604644775390625e-8f);
  EXPECT_EQ(FloatBits(values[4]), 0x80000000u);
  EXPECT_EQ(FloatBits(values[5]), 0x7f800000u);
  EXPECT_EQ(FloatBits(values[6]), 0x7fc00000u);

  RawTensor bfloat;
  bfloat.dtype = DType::BFloat16;
  bfloat.shape = {};
  bfloat.strides = {};
  bfloat.storage = std::make_shared<const std::vector<uint8_t>>(std::vector<uint8_t>{ 0xc0, 0x3f });
  EXPECT_EQ(bfloat.NumElements(), 1);
  EXPECT_EQ(bfloat.ToFloat32(), std::vector<float>{ 1.5f });
}

TEST(RawTensor, HonoursStridesAndOffset)
{
  RawTensor tensor;
  tensor.dtype = DType::Int16;
  std::vector<uint8_t> bytes;
  for (int value = 0; value < 8; ++value)
  {
    bytes.push_back(static_cast<uint8_t>(value));
    bytes.push_back(0);
  }
  tensor.storage = std::make_shared<const std::vector<uint8_t>>(bytes);
  // The transpose of the 2x3 matrix stored from element 2: [[2, 3, 4], [5, 6, 7]].
  tensor.shape = { 3, 2 };
  tensor.strides = { 1, 3 };
  tensor.storageOffset = 2;
  EXPECT_EQ(tensor.ToFloat32(), (std::vector<float>{ 2, 5, 3, 6, 4, 7 }));

  tensor.storageOffset = 3;
  EXPECT_THROW(tensor.ToFloat32(), recontrast::Error);
  tensor.storageOffset = 0;
  tensor.strides = { 1 };
  EXPECT_THROW(tensor.ToFloat32(), recontrast::Error);
}

/** Runs make_checkpoints.py once for all tests that read real torch.save output. */
class GeneratedCheckpoints : public ::testing::Test
{
protected:
  static void SetUpTestSuite()
  {
    const char * python = std::getenv("RECONTRAST_PYTHON");
    const fs::path sourceDirectory = recontrast::testing::SourceDirectory();
    if (python == nullptr || *python == '\0')
    {
      s_SkipReason = "RECONTRAST_PYTHON is not set to a Python interpreter with torch and torchvision.";
      return;
    }
    s_Directory = new ScratchDirectory();
    const fs::path script = sourceDirectory / "Testing" / "Python" / "make_checkpoints.py";
    const fs::path log = *s_Directory / "make_checkpoints.log";
    const std::string command = "\"" + std::string(python) + "\" \"" + script.string() + "\" \"" +
                                s_Directory->Path().string() + "\" > \"" + log.string() + "\" 2>&1";
    int status = std::system(command.c_str());
#ifndef _WIN32
    status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
#endif
    if (status == 77)
    {
      s_SkipReason = ReadWholeFile(log);
    }
    else if (status != 0)
    {
      s_Failure = "make_checkpoints.py failed (exit status " + std::to_string(status) + "):\n" + ReadWholeFile(log);
    }
  }

  static void TearDownTestSuite()
  {
    delete s_Directory;
    s_Directory = nullptr;
  }

  void SetUp() override
  {
    if (!s_SkipReason.empty())
    {
      GTEST_SKIP() << s_SkipReason;
    }
    ASSERT_TRUE(s_Failure.empty()) << s_Failure;
  }

  static fs::path Path(const std::string & name)
  {
    return *s_Directory / name;
  }

  static ScratchDirectory * s_Directory;
  static std::string s_SkipReason;
  static std::string s_Failure;
};

ScratchDirectory * GeneratedCheckpoints::s_Directory = nullptr;
std::string GeneratedCheckpoints::s_SkipReason;
std::string GeneratedCheckpoints::s_Failure;

std::vector<std::string>
Split(const std::string & text, char separator)
{
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (;;)
  {
    const std::size_t end = text.find(separator, start);
    parts.push_back(text.substr(start, end - start));
    if (end == std::string::npos)
    {
      return parts;
    }
    start = end + 1;
  }
}

std::string
Join(const std::vector<int64_t> & values)
{
  std::string text;
  for (std::size_t i = 0; i < values.size(); ++i)
  {
    text += (i > 0 ? "," : "") + std::to_string(values[i]);
  }
  return text;
}

/** The exact values of an integer or bool tensor, walking its strides. */
std::vector<int64_t>
Integers(const RawTensor & tensor)
{
  std::vector<int64_t> values;
  const std::size_t elementSize = recontrast::ElementSize(tensor.dtype);
  const int64_t count = tensor.NumElements();
  for (int64_t flat = 0; flat < count; ++flat)
  {
    int64_t position = tensor.storageOffset;
    int64_t remainder = flat;
    for (std::size_t d = tensor.shape.size(); d > 0; --d)
    {
      position += (remainder % tensor.shape[d - 1]) * tensor.strides[d - 1];
      remainder /= tensor.shape[d - 1];
    }
    const uint8_t * bytes = tensor.storage->data() + position * static_cast<int64_t>(elementSize);
    uint64_t bits = 0;
    for (std::size_t i = 0; i < elementSize; ++i)
    {
      bits |= uint64_t(bytes[i]) << (8 * i);
    }
    const unsigned shift = static_cast<unsigned>(64 - 8 * elementSize);
    // Sign-extend the signed types; uint8 and bool are unsigned.
    const bool isSigned = tensor.dtype != DType::UInt8 && tensor.dtype != DType::Bool;
    int64_t value = 0;
    if (isSigned)
    {
      std::memcpy(&value, &bits, sizeof(value));
      value = shift == 0 ? value : static_cast<int64_t>(bits << shift) >> shift;
    }
    else
    {
      value = static_cast<int64_t>(bits);
    }
    values.push_back(value);
  }
  return values;
}

void
ExpectMatchesPython(const fs::path & path)
{
  SCOPED_TRACE(path.string());
  const recontrast::StateDict stateDict = ReadPyTorchCheckpoint(path.string());
  std::ifstream expectedFile(path.string() + ".expected");
  ASSERT_TRUE(expectedFile.good());
  std::string line;
  std::size_t index = 0;
  while (std::getline(expectedFile, line))
  {
    if (line.empty())
    {
      continue;
    }
    const std::vector<std::string> fields = Split(line, '\t');
    ASSERT_EQ(fields.size(), 9u) << line;
    ASSERT_LT(index, stateDict.size()) << "missing " << fields[0];
    const recontrast::StateDictEntry & entry = stateDict[index++];
    SCOPED_TRACE(entry.name);
    EXPECT_EQ(entry.name, fields[0]);
    EXPECT_EQ(recontrast::DTypeName(entry.tensor.dtype), fields[1]);
    EXPECT_EQ(Join(entry.tensor.shape), fields[2]);
    EXPECT_EQ(Join(entry.tensor.strides), fields[3]);
    EXPECT_EQ(std::to_string(entry.tensor.storageOffset), fields[4]);
    EXPECT_EQ(std::to_string(entry.tensor.NumElements()), fields[5]);

    const std::vector<float> values = entry.tensor.ToFloat32();
    ASSERT_EQ(std::to_string(values.size()), fields[5]);
    uint64_t checksum = 0;
    for (std::size_t i = 0; i < values.size(); ++i)
    {
      checksum += (i + 1) * FloatBits(values[i]);
    }
    EXPECT_EQ(std::to_string(checksum), fields[6]);
    if (fields[7] != "-")
    {
      std::string bits;
      for (std::size_t i = 0; i < values.size(); ++i)
      {
        char hex[9];
        std::snprintf(hex, sizeof(hex), "%08x", static_cast<unsigned>(FloatBits(values[i])));
        bits += (i > 0 ? "," : "") + std::string(hex);
      }
      EXPECT_EQ(bits, fields[7]);
    }
    if (fields[8] != "-")
    {
      EXPECT_EQ(Join(Integers(entry.tensor)), fields[8]);
    }
  }
  EXPECT_EQ(index, stateDict.size()) << "the reader returned more tensors than torch saved";
}

TEST_F(GeneratedCheckpoints, ResNet18MatchesPython)
{
  ExpectMatchesPython(Path("resnet18_zip.pth"));
  ExpectMatchesPython(Path("resnet18_legacy.pth"));
}

TEST_F(GeneratedCheckpoints, DTypesViewsAndSkippedValuesMatchPython)
{
  ExpectMatchesPython(Path("mixed_zip.pth"));
  ExpectMatchesPython(Path("mixed_legacy.pth"));
}

TEST_F(GeneratedCheckpoints, PickleProtocol4)
{
  ExpectMatchesPython(Path("mixed_protocol4_zip.pth"));
  ExpectMatchesPython(Path("mixed_protocol4_legacy.pth"));
}

TEST_F(GeneratedCheckpoints, NestedDictionariesAreFlattened)
{
  ExpectMatchesPython(Path("nested_zip.pth"));
  ExpectMatchesPython(Path("nested_legacy.pth"));
  const recontrast::StateDict stateDict = ReadPyTorchCheckpoint(Path("nested_zip.pth").string());
  ASSERT_FALSE(stateDict.empty());
  EXPECT_EQ(stateDict.front().name, "state_dict.0.weight");
  EXPECT_EQ(stateDict.back().name, "optimizer.state.0.momentum_buffer");
}

TEST_F(GeneratedCheckpoints, ParametersAreTensors)
{
  ExpectMatchesPython(Path("parameter_zip.pth"));
  ExpectMatchesPython(Path("parameter_legacy.pth"));
}

TEST_F(GeneratedCheckpoints, ViewsShareTheirStorage)
{
  for (const char * name : { "mixed_zip.pth", "mixed_legacy.pth" })
  {
    const recontrast::StateDict stateDict = ReadPyTorchCheckpoint(Path(name).string());
    const RawTensor * first = nullptr;
    const RawTensor * second = nullptr;
    for (const recontrast::StateDictEntry & entry : stateDict)
    {
      first = entry.name == "view_a" ? &entry.tensor : first;
      second = entry.name == "view_b" ? &entry.tensor : second;
    }
    ASSERT_TRUE(first != nullptr && second != nullptr) << name;
    EXPECT_EQ(first->storage.get(), second->storage.get()) << name;
    EXPECT_EQ(first->storage->size(), 24u * 4u) << name;
  }
}

TEST_F(GeneratedCheckpoints, ForbiddenGlobalsAreRefused)
{
  for (const char * format : { "zip", "legacy" })
  {
    const fs::path system = Path(std::string("forbidden_system_") + format + ".pth");
    // os.system pickles under its implementing module: posix on Unix, nt on Windows.
    EXPECT_NE(ReadError(system).find(".system', which a state_dict never contains; refusing to load it."),
              std::string::npos);
    const fs::path instance = Path(std::string("forbidden_class_") + format + ".pth");
    EXPECT_EQ(ReadError(instance),
              "The checkpoint '" + instance.string() +
                "' refers to the Python object '__main__.CustomObject', which a state_dict "
                "never contains; refusing to load it.");
  }
}

TEST_F(GeneratedCheckpoints, TopLevelThatIsNotADictionary)
{
  for (const char * format : { "zip", "legacy" })
  {
    EXPECT_NE(ReadError(Path(std::string("top_list_") + format + ".pth")).find("holds a list rather than"),
              std::string::npos);
    EXPECT_NE(ReadError(Path(std::string("top_tensor_") + format + ".pth")).find("holds a single tensor rather than"),
              std::string::npos);
  }
}

TEST_F(GeneratedCheckpoints, ZipArchivesNotWrittenByTorchSave)
{
  EXPECT_NE(ReadError(Path("torchscript.pt")).find("is a TorchScript archive"), std::string::npos);
  EXPECT_NE(ReadError(Path("foreign.zip"))
              .find("is a zip archive but not a torch.save checkpoint: its entry "
                    "'notes.txt' is not inside a folder."),
            std::string::npos);
}

TEST_F(GeneratedCheckpoints, TruncatedFiles)
{
  EXPECT_NE(ReadError(Path("resnet18_zip_truncated.pth")).find("is a truncated or corrupt zip archive"),
            std::string::npos);
  EXPECT_NE(ReadError(Path("resnet18_legacy_truncated.pth")).find("is truncated"), std::string::npos);

  // Prefixes of the small checkpoints (each a file round trip, so sampled): every third of the
  // legacy file; for the zip, whose reader fails at the missing directory at its end whatever
  // the cut, every 16th plus its last bytes.
  for (const char * name : { "mixed_zip.pth", "mixed_legacy.pth" })
  {
    const std::string whole = ReadWholeFile(Path(name));
    const std::size_t step = std::string(name).find("_zip") != std::string::npos ? 16 : 3;
    const fs::path prefix = Path("prefix.pth");
    for (std::size_t length = 0; length < whole.size(); ++length)
    {
      if (length % step != 0 && length + 64 < whole.size())
      {
        continue;
      }
      WriteFile(prefix, whole.substr(0, length));
      EXPECT_THROW(ReadPyTorchCheckpoint(prefix.string()), recontrast::Error) << name << " cut at " << length;
    }
  }
}

TEST_F(GeneratedCheckpoints, CorruptedBytesNeverCrash)
{
  std::mt19937 generator(5);
  for (const char * name : { "mixed_zip.pth", "mixed_legacy.pth", "nested_legacy.pth" })
  {
    const std::string whole = ReadWholeFile(Path(name));
    const fs::path path = Path("corrupt.pth");
    for (int trial = 0; trial < 150; ++trial)
    {
      std::string corrupt = whole;
      corrupt[generator() % corrupt.size()] = static_cast<char>(generator() & 0xff);
      WriteFile(path, corrupt);
      try
      {
        for (const recontrast::StateDictEntry & entry : ReadPyTorchCheckpoint(path.string()))
        {
          entry.tensor.ToFloat32();
        }
      }
      catch (const recontrast::Error &)
      {}
    }
  }
}

} // namespace
