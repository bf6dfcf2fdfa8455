/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Choosing and describing the device a model runs on (CPU threads, CUDA).
 *
 *=========================================================================*/
#ifndef ReContrast_Device_h
#define ReContrast_Device_h

#include <torch/types.h>

#include <string>

namespace recontrast
{

/** Parses "cpu", "cuda" or "cuda:N" and checks that the device is usable now; throws Error otherwise. */
torch::Device ParseDevice(const std::string & name);

/** Whether bfloat16 convolutions run natively on `device`: a GPU with cuDNN 8 and compute capability
 * 8.0 or newer, or a CPU whose flags list AVX-512 BF16 or AMX-BF16 (elsewhere bf16 is emulated,
 * slower than float32). */
bool SupportsBFloat16(const torch::Device & device);

/** Sets LibTorch's intra-op thread count: `threads`, or every core when 0; throws Error when negative. */
void ApplyThreadCount(int threads);

} // namespace recontrast

#endif
