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
