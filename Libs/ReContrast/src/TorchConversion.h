/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Between the engine's torch-free buffers and LibTorch tensors.
 *
 *=========================================================================*/
#ifndef ReContrast_TorchConversion_h
#define ReContrast_TorchConversion_h

#include "ModelFile.h"
#include "ReContrast/Checkpoint.h"

#include <torch/types.h>

#include <string>

namespace recontrast
{

/** A contiguous LibTorch copy of a checkpoint tensor (same dtype). Throws Error naming `path`
 * when the view does not fit in its storage. */
torch::Tensor ToTorchTensor(const RawTensor & raw, const std::string & name, const std::string & path);

/** All tensors of a checkpoint as LibTorch tensors, with their names. */
NamedTensors ToNamedTensors(const StateDict & stateDict, const std::string & path);

} // namespace recontrast

#endif
