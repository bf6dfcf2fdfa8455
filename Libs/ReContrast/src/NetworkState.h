/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The network's tensors by name, for the model file and checkpoints.
 *
 *=========================================================================*/
#ifndef ReContrast_NetworkState_h
#define ReContrast_NetworkState_h

#include "ModelFile.h"
#include "ReContrastNetwork.h"

#include <string>

namespace recontrast
{

/** All parameters and buffers of a module with their state_dict names, in registration order. */
NamedTensors StateOf(const torch::nn::Module & module);

/** Copies `state` into `module`. Every parameter and buffer must be present with the same shape;
 * otherwise throws Error naming `source` and the first mismatch (e.g. a model file of another
 * backbone). Entries whose names start with one of `ignoredPrefixes` are skipped.
 *
 * With adoptStorage, a tensor of the module's type and device is taken over instead of copied (no
 * second copy of the weights while loading); the caller promises that no two entries share
 * memory and that nothing else writes to them. */
void LoadState(torch::nn::Module & module, const NamedTensors & state, const std::string & source,
               const std::vector<std::string> & ignoredPrefixes = {}, bool adoptStorage = false);

/** Builds the network a model file describes and loads its weights. */
ReContrastNetwork NetworkFromModelFile(const ModelFileContents & contents, const std::string & path);

/** Turns a LibTorch exception into one sentence for the user (no LibTorch source locations). */
std::string SummarizeTorchError(const std::exception & error);

} // namespace recontrast

#endif
