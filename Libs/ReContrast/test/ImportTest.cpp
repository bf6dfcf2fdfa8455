/*=========================================================================
 *
 *  ReContrast for Slicer and ITK
 *  Licensed under the Apache License, Version 2.0 (see LICENSE).
 *
 *  Import round trips through the public API: checkpoints written by python3-torch in both
 *  serialization formats become model files whose predictions equal the PyTorch reference.
 *
 *=========================================================================*/
#include "PythonOracle.h"
#include "ReContrast/Error.h"
#include "ReContrast/Import.h"
#include "ReContrast/Predictor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

namespace
{
using recontrast::testing::PythonInterpreter;
using recontrast::testing::RunPythonScript;
using recontrast::testing::TemporaryDirectory;

// Writes, from one reference model (resnet18, random weights with non-trivial BatchNorm):
// official.zip.pth and official.legacy.pth (the state_dict as the official code saves it),
// torchvision.legacy.pth (an ImageNet-style torchvision file), input.bin (float32 images in [0, 1])
// and expected.json (the reference's smoothed-map maxima and a few map values).
const char * kWriteCheckpoints = R"PY(
import json, sys, numpy as np, torch, torchvision
sys.path.insert(0, sys.argv[1])
import recontrast_reference as ref
out = sys.argv[2]
g = ref.make_golden(backbone="resnet18", image_size=64, batch=2, seed=4)
state = {k[len("state."):]: v for k, v in g.items() if k.startswith("state.")}
torch.save(state, out + "/official.zip.pth")
torch.save(state, out + "/official.legacy.pth", _use_new_zipfile_serialization=False)
classifier = torchvision.models.resnet18()
torch.save(classifier.state_dict(), out + "/torchvision.legacy.pth", _use_new_zipfile_serialization=False)
mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
images = (g["input"] * std + mean).contiguous()
images.numpy().astype(np.float32).tofile(out + "/input.bin")
model = ref.build_model("resnet18")
model.load_state_dict(state)
model.eval()
with torch.no_grad():
    en, de = model((images - mean) / std)
    smoothed = ref.smooth(ref.anomaly_map(en, de, 64))
json.dump({"scores": [float(m.max()) for m in smoothed], "pixel_10_36": float(smoothed[0][10][36])},
          open(out + "/expected.json", "w"))
)PY";

TEST(Import, OfficialCheckpointsInBothFormatsPredictLikePyTorch)
{
  if (PythonInterpreter().empty())
  {
    GTEST_SKIP() << "no Python with torch (RECONTRAST_PYTHON is empty)";
  }
  TemporaryDirectory directory;
  const auto script = directory.Path() / "write_checkpoints.py";
  std::ofstream(script) << kWriteCheckpoints;
  const std::string command = "\"" + PythonInterpreter() + "\" \"" + script.string() + "\" \"" +
                              (recontrast::testing::SourceDirectory() / "Testing" / "Python").string() + "\" \"" +
                              directory.Path().string() + "\"";
  ASSERT_EQ(std::system(command.c_str()), 0);

  std::vector<float> images(2 * 3 * 64 * 64);
  std::ifstream(directory.Path() / "input.bin", std::ios::binary)
    .read(reinterpret_cast<char *>(images.data()), static_cast<std::streamsize>(images.size() * sizeof(float)));
  const nlohmann::json expected = nlohmann::json::parse(std::ifstream(directory.Path() / "expected.json"));

  for (const char * format : { "zip", "legacy" })
  {
    const std::string checkpoint = (directory.Path() / (std::string("official.") + format + ".pth")).string();
    const std::string model = (directory.Path() / (std::string("official.") + format + ".rcm")).string();
    recontrast::ImportOfficialModel(checkpoint, recontrast::Backbone::ResNet18, 64, model);
    recontrast::Predictor predictor(model);
    const auto predictions = predictor.Predict(images.data(), 2);
    for (size_t b = 0; b < 2; ++b)
    {
      EXPECT_NEAR(predictions[b].score, expected["scores"][b].get<double>(), 1e-4) << format << " image " << b;
    }
    EXPECT_NEAR(predictions[0].map[10 * 64 + 36], expected["pixel_10_36"].get<double>(), 1e-4) << format;
  }
}

TEST(Import, TorchvisionWeightsMakeAnUntrainedModel)
{
  if (PythonInterpreter().empty())
  {
    GTEST_SKIP() << "no Python with torch (RECONTRAST_PYTHON is empty)";
  }
  TemporaryDirectory directory;
  const std::string command =
    "\"" + PythonInterpreter() +
    "\" -c \"import torch, torchvision; torch.save(torchvision.models.resnet18().state_dict(), '" +
    (directory.Path() / "resnet18.pth").string() + "', _use_new_zipfile_serialization=False)\"";
  ASSERT_EQ(std::system(command.c_str()), 0);
  const std::string model = (directory.Path() / "model.rcm").string();
  const auto description = recontrast::CreateModelFromTorchvision(
    (directory.Path() / "resnet18.pth").string(), recontrast::Backbone::ResNet18, 64, model);
  EXPECT_EQ(description.training.encoderWeights, "resnet18.pth");
  EXPECT_EQ(description.training.iterations, 0);
  EXPECT_NO_THROW(recontrast::Predictor{ model });

  // The same weights are not those of another backbone.
  EXPECT_THROW(recontrast::CreateModelFromTorchvision((directory.Path() / "resnet18.pth").string(),
                                                      recontrast::Backbone::ResNet50,
                                                      64,
                                                      (directory.Path() / "other.rcm").string()),
               recontrast::Error);
  EXPECT_FALSE(std::filesystem::exists(directory.Path() / "other.rcm"));
}

TEST(Import, ForeignFilesAreRefusedWithoutWritingAModel)
{
  TemporaryDirectory directory;
  const auto foreign = directory.Path() / "notes.pth";
  std::ofstream(foreign) << "not a checkpoint at all";
  const auto model = directory.Path() / "model.rcm";
  try
  {
    recontrast::ImportOfficialModel(foreign.string(), recontrast::Backbone::ResNet18, 64, model.string());
    FAIL() << "a text file was imported";
  }
  catch (const recontrast::Error & e)
  {
    EXPECT_NE(std::string(e.what()).find("notes.pth"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(model));
}

} // namespace
