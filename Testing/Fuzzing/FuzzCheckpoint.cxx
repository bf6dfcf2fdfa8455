/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Fuzz target: the PyTorch checkpoint reader (torch.save zip archives and the legacy format, through
 *  the restricted unpickler), as `recontrast import` and `train --encoder-weights` use it.
 *
 *=========================================================================*/
#include "FuzzSupport.h"

#include "ReContrast/Checkpoint.h"
#include "ReContrast/Error.h"

extern "C" int
LLVMFuzzerTestOneInput(const uint8_t * data, size_t size)
{
  const std::string path = recontrast::fuzz::WriteFile(recontrast::fuzz::FreshFolder() / "input.pth", data, size);
  try
  {
    recontrast::ReadPyTorchCheckpoint(path);
  }
  catch (const recontrast::Error &)
  {
    // A refusal with a sentence is the expected answer; anything else escapes and is reported.
  }
  return 0;
}
