/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Checkpoint tensors into the network: names, shapes and refusals.
 *
 *=========================================================================*/
#ifndef ReContrast_CheckpointImport_h
#define ReContrast_CheckpointImport_h

#include "ReContrastNetwork.h"

#include <string>

namespace recontrast
{

/** Loads torchvision ImageNet weights into the trainable encoder and copies them to the frozen one. */
void LoadTorchvisionEncoder(ReContrastNetwork & network, const std::string & weightsPath);

/** Loads an official ReContrast state_dict into the whole network. */
void LoadOfficialCheckpoint(ReContrastNetwork & network, const std::string & checkpointPath);

} // namespace recontrast

#endif
