/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The numbers that define each backbone family's encoder, bottleneck and decoder.
 *
 *=========================================================================*/
#include "Architecture.h"

#include "ReContrast/Error.h"

namespace recontrast
{

Architecture
ArchitectureOf(Backbone backbone)
{
  // The official factories: resnet18 -> BN_layer(BasicBlock, 2) + de_resnet18 [2,2,2];
  // resnet34 -> BN_layer(BasicBlock, 3) + de_resnet34 [3,4,6]; (wide_)resnet50 -> 3 Bottlenecks + [3,4,6].
  switch (backbone)
  {
    case Backbone::ResNet18:
      return { false, 1, 64, { 2, 2, 2 }, 2, { 2, 2, 2 } };
    case Backbone::ResNet34:
      return { false, 1, 64, { 3, 4, 6 }, 3, { 3, 4, 6 } };
    case Backbone::ResNet50:
      return { true, 4, 64, { 3, 4, 6 }, 3, { 3, 4, 6 } };
    case Backbone::WideResNet50_2:
      return { true, 4, 128, { 3, 4, 6 }, 3, { 3, 4, 6 } };
  }
  throw Error("Unknown backbone value.");
}

} // namespace recontrast
