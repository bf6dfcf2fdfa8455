/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  `recontrast info`: what a model file says about itself.
 *
 *=========================================================================*/
#include "Commands.h"

#include "ReContrast/ModelDescription.h"

#include <nlohmann/json.hpp>
#include <spdlog/fmt/fmt.h>

#include <cstdio>

namespace recontrast::cli
{

InfoCommand::InfoCommand(CLI::App & app)
  : m_Command(app.add_subcommand("info", "Show what a model file holds: backbone, input, training, calibration."))
{
  m_Command->add_option("model", m_Model, "Model file (recognised by its content, whatever its name)")
    ->required()
    ->check(CLI::ExistingFile);
  m_Command->add_flag("--json", m_Json, "Print the description as JSON");
}

int
InfoCommand::Run() const
{
  const ModelDescription d = ReadModelDescription(m_Model);
  if (m_Json)
  {
    nlohmann::json positions = nlohmann::json::array();
    for (const PositionBin & bin : d.calibration.positions)
    {
      positions.push_back(
        { { "position", bin.position }, { "mean", bin.mean }, { "std", bin.std }, { "samples", bin.samples } });
    }
    nlohmann::json json{ { "backbone", ToString(d.config.backbone) },
                         { "image_size", d.config.imageSize },
                         { "map_pairs", ToString(d.config.mapPairs) },
                         { "format_version", ModelFileFormatVersion() },
                         { "training",
                           { { "iterations", d.training.iterations },
                             { "batch_size", d.training.batchSize },
                             { "seed", d.training.seed },
                             { "encoder_batchnorm", ToString(d.training.encoderBatchNorm) },
                             { "encoder_weights", d.training.encoderWeights },
                             { "training_samples", d.training.trainingSamples },
                             { "data", d.training.dataSummary },
                             { "final_loss", d.training.finalLoss },
                             { "created_at", d.training.createdAt },
                             { "engine_version", d.training.engineVersion } } },
                         { "calibration",
                           { { "valid", d.calibration.valid },
                             { "mean", d.calibration.mean },
                             { "std", d.calibration.std },
                             { "samples", d.calibration.samples },
                             { "recommended_threshold", d.calibration.recommendedThreshold },
                             { "calibrated_threshold", ScoreCalibration::CalibratedThreshold },
                             { "positions", positions },
                             { "position_level", d.calibration.positionLevel },
                             { "position_scale", d.calibration.positionScale },
                             // The profile's values are the model's business; its shape and units are shown.
                             { "map_profile",
                               d.calibration.HasMapProfile() ? nlohmann::json{ { "grid", d.calibration.mapGrid },
                                                                               { "level", d.calibration.mapLevel },
                                                                               { "scale", d.calibration.mapScale } }
                                                             : nlohmann::json() } } },
                         { "properties", d.properties } };
    std::puts(json.dump(2).c_str());
    return 0;
  }
  std::string text = fmt::format("model        {}\n", m_Model);
  text += fmt::format("backbone     {}\n", ToString(d.config.backbone));
  text += fmt::format("input        {0}x{0} RGB, mean ({1:.3f}, {2:.3f}, {3:.3f}), std ({4:.3f}, {5:.3f}, {6:.3f})\n",
                      d.config.imageSize,
                      d.config.mean[0],
                      d.config.mean[1],
                      d.config.mean[2],
                      d.config.std[0],
                      d.config.std[1],
                      d.config.std[2]);
  text +=
    fmt::format("map          {}\n",
                d.config.mapPairs == MapPairs::All ? "the six feature pairs (the paper)"
                                                   : "the three pairs whose targets are the frozen encoder's features");
  if (d.training.iterations > 0)
  {
    text += fmt::format("training     {} iterations, batch {}, seed {}, encoder BatchNorm {}, final loss {:.4f}\n",
                        d.training.iterations,
                        d.training.batchSize,
                        d.training.seed,
                        ToString(d.training.encoderBatchNorm),
                        d.training.finalLoss);
    text += fmt::format("data         {} ({} training samples)\n", d.training.dataSummary, d.training.trainingSamples);
  }
  else
  {
    text += "training     none (an imported or untrained model)\n";
  }
  text += fmt::format("encoder from {}\n", d.training.encoderWeights.empty() ? "-" : d.training.encoderWeights);
  if (d.calibration.valid)
  {
    text +=
      fmt::format("calibration  normal scores {:.4f} +- {:.4f} ({} held-out images); recommended threshold {:.4f} "
                  "raw, {} standard deviations in calibrated maps\n",
                  d.calibration.mean,
                  d.calibration.std,
                  d.calibration.samples,
                  d.calibration.recommendedThreshold,
                  ScoreCalibration::CalibratedThreshold);
    if (!d.calibration.positions.empty())
    {
      // The normal level along the slice axis, first to last slice of the foreground.
      text += fmt::format("             position-aware ({} bins): normal score", d.calibration.positions.size());
      for (const double position : { 0.0, 0.25, 0.5, 0.75, 1.0 })
      {
        const auto [mean, spread] = d.calibration.NormalAt(position);
        text += fmt::format(" {:.4f}+-{:.4f} at {:.2f}", mean, spread, position);
      }
      text += "\n";
    }
    if (d.calibration.HasMapProfile())
    {
      text +=
        fmt::format("             maps calibrated pixel by pixel: a {0}x{0} grid of normal map values per position "
                    "bin\n",
                    d.calibration.mapGrid);
    }
  }
  else
  {
    text += "calibration  none\n";
  }
  for (const auto & [key, value] : d.properties)
  {
    text += fmt::format("{:<12} {}\n", key, value);
  }
  text += fmt::format("created      {} by ReContrast {}\n",
                      d.training.createdAt.empty() ? "-" : d.training.createdAt,
                      d.training.engineVersion.empty() ? "-" : d.training.engineVersion);
  std::fputs(text.c_str(), stdout);
  return 0;
}

} // namespace recontrast::cli
