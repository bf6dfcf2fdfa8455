/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Making model files from the official code's checkpoints and from torchvision weights.
 *
 *=========================================================================*/
#ifndef ReContrast_Import_h
#define ReContrast_Import_h

#include "ReContrast/ModelDescription.h"
#include "ReContrast/ReContrastExport.h"

#include <map>
#include <string>

namespace recontrast
{

/** Makes a complete model file from a model trained by the official ReContrast Python code
 * (a torch.save(model.state_dict()) file with encoder, encoder_freeze, bottleneck and decoder
 * entries; the unused bottleneck conv4/bn4 are dropped). Python is not needed. `properties` are
 * recorded in the file as training records its own (how the official code prepared its pictures,
 * so that inference repeats it). Throws Error when the checkpoint is not readable or was made for
 * another backbone. */
RECONTRAST_EXPORT ModelDescription ImportOfficialModel(const std::string & checkpointPath, Backbone backbone,
                                                       int imageSize, const std::string & modelPath,
                                                       const std::map<std::string, std::string> & properties = {});

/** Makes an untrained model file whose two encoder views start from torchvision ImageNet weights
 * (e.g. wide_resnet50_2-95faca4d.pth, legacy or zip serialization); layer4 and fc are dropped.
 * Training can then continue from it (TrainingOptions::initialModel). */
RECONTRAST_EXPORT ModelDescription CreateModelFromTorchvision(const std::string & weightsPath, Backbone backbone,
                                                              int imageSize, const std::string & modelPath);

} // namespace recontrast

#endif
