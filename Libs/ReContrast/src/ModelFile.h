/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  The model file: a versioned, checksummed, self-describing container of the weights.
 *
 *=========================================================================*/
#ifndef ReContrast_ModelFile_h
#define ReContrast_ModelFile_h

#include "ReContrast/ModelDescription.h"

#include <torch/types.h>

#include <string>
#include <utility>
#include <vector>

namespace recontrast
{

using NamedTensors = std::vector<std::pair<std::string, torch::Tensor>>;

/** The model file: one self-describing, versioned, checksummed file that loading never executes.
 *
 * Layout (compatible with the safetensors layout, so other tools can read the weights):
 *   8 bytes   little-endian uint64 N, the length of the header
 *   N bytes   UTF-8 JSON header, padded with spaces to a multiple of 8:
 *             { "__metadata__": { "format": "recontrast-model", "format_version": "1",
 *                                 "description": "<JSON text of the ModelDescription>",
 *                                 "data_crc32": "<8 hex digits over the data section>",
 *                                 "kind": "model" | "checkpoint" },
 *               "<tensor name>": { "dtype": "F32"|"I64", "shape": [...], "data_offsets": [begin, end] }, ... }
 *   data      the tensors' bytes, little-endian, row-major, at their offsets
 * Written atomically: a temporary file next to the target, then a rename. */
struct ModelFileContents
{
  ModelDescription description;
  NamedTensors tensors;
  std::string kind;                         ///< "model" or "checkpoint".
  std::map<std::string, std::string> extra; ///< Checkpoint state (iteration, ...).
};

void WriteModelFile(const std::string & path, const ModelFileContents & contents);

ModelFileContents ReadModelFile(const std::string & path);

/** JSON text of a description (also used in reports). */
std::string DescriptionToJson(const ModelDescription & description);
ModelDescription DescriptionFromJson(const std::string & json, const std::string & path);

} // namespace recontrast

#endif
