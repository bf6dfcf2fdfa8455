/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The project's version.
 *
 *=========================================================================*/
#include "ReContrast/Version.h"

#include "ReContrastConfigure.h"

#include <torch/cuda.h>
#include <torch/version.h>

namespace recontrast
{

std::string
Version()
{
  return RECONTRAST_VERSION_STRING;
}

std::string
TorchVersion()
{
  return TORCH_VERSION;
}

bool
CudaAvailable()
{
  return torch::cuda::is_available();
}

} // namespace recontrast
