#ifndef ReContrast_Device_h
#define ReContrast_Device_h

#include <torch/types.h>

#include <string>

namespace recontrast
{

/** Parses "cpu", "cuda" or "cuda:N" and checks that the device is usable now; throws Error otherwise. */
torch::Device ParseDevice(const std::string & name);

/** Sets LibTorch's intra-op thread count: `threads`, or every core when 0; throws Error when negative. */
void ApplyThreadCount(int threads);

} // namespace recontrast

#endif
