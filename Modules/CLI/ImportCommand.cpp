/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast import`: model files from official checkpoints or torchvision weights.
 *
 *=========================================================================*/
#include "Commands.h"

#include "ReContrast/Import.h"

#include <spdlog/fmt/fmt.h>

#include <cstdio>

namespace recontrast::cli
{

ImportCommand::ImportCommand(CLI::App & app)
  : m_Command(app.add_subcommand(
      "import",
      "Make a model file from a checkpoint of the official ReContrast code or from torchvision ImageNet weights."))
{
  auto * official =
    m_Command->add_option("--official", m_Official, "A torch.save(model.state_dict()) file of the official code")
      ->check(CLI::ExistingFile);
  auto * torchvision =
    m_Command->add_option("--torchvision", m_Torchvision, "torchvision ImageNet weights, e.g. resnet18-f37072fd.pth")
      ->check(CLI::ExistingFile);
  official->excludes(torchvision);
  m_Command->add_option("--backbone", m_Backbone, "Backbone of the checkpoint")
    ->capture_default_str()
    ->check(CLI::IsMember(BackboneNames()));
  m_Command->add_option("--image-size", m_ImageSize, "Input size the model will use (a multiple of 32)")
    ->capture_default_str();
  m_Command->add_option("--out", m_Output, "The model file to write")->required();
  m_Command->callback([this, official, torchvision]() {
    if (official->count() + torchvision->count() != 1)
    {
      throw CLI::ValidationError("import", "give exactly one of --official or --torchvision");
    }
  });
}

int
ImportCommand::Run() const
{
  const Backbone backbone = BackboneFromString(m_Backbone);
  if (!m_Official.empty())
  {
    // The official code's pre-processing travels with the model: pictures read as bytes, x / 255,
    // ImageNet normalisation, grey pictures as three equal channels, every pixel scored.
    ImportOfficialModel(m_Official,
                        backbone,
                        m_ImageSize,
                        m_Output,
                        { { "intensity", "bytes" },
                          { "channel_mode", "replicated" },
                          { "min_foreground", "0" },
                          { "resize", "stretch" } });
    std::printf(
      "recontrast: wrote %s (the official model %s, %s)\n", m_Output.c_str(), m_Official.c_str(), m_Backbone.c_str());
  }
  else
  {
    CreateModelFromTorchvision(m_Torchvision, backbone, m_ImageSize, m_Output);
    std::printf("recontrast: wrote %s (untrained; encoder from %s)\n", m_Output.c_str(), m_Torchvision.c_str());
  }
  return 0;
}

} // namespace recontrast::cli
