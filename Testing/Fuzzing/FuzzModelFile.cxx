/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Fuzz target: the model file reader, as `info` (description and checksum) and every loading of a
 *  model (header, tensor table, data) use it.
 *
 *=========================================================================*/
#include "FuzzSupport.h"
#include "ModelFile.h"

#include "ReContrast/Error.h"
#include "ReContrast/ModelDescription.h"

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t size)
{
  const std::string path = recontrast::fuzz::WriteFile(recontrast::fuzz::FreshFolder() / "input.rcm", data, size);
  try
  {
    recontrast::ReadModelDescription(path);
  }
  catch (const recontrast::Error &)
  {}
  try
  {
    recontrast::ReadModelFile(path);
  }
  catch (const recontrast::Error &)
  {}
  return 0;
}
