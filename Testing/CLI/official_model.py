#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""An official checkpoint, imported with `recontrast import --official` and run by `recontrast infer`
without any pre-processing flag, gives the official code's maps and scores: the model file records
the official pre-processing (pictures as bytes, x / 255, ImageNet normalisation, grey as three equal
channels, every pixel scored).

The official side is Testing/Python/recontrast_reference.py (PyTorch, the official model, forward and
anomaly map) fed as the official data loader feeds it: PIL's RGB conversion, ToTensor, Normalize.

Usage: official_model.py <bin folder> <work folder>"""
import json
import os
import shutil
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Python"))
import test_support  # noqa: E402

SIZE = 64
# The largest difference allowed between the official map and infer's: float32 forward passes of two
# implementations (measured 2026-12-05: at most 3.6e-7 on these pictures, whose maps range 5.7-6.0).
MAP_TOLERANCE = 2e-5


def official_map(model, picture_path):
    """The official test-time path: PIL RGB, resize to the model size, ToTensor, Normalize, forward,
    the six-pair cosine map, Gaussian sigma 4; score = the map's maximum."""
    import torch
    import torchvision.transforms as T
    from PIL import Image
    import recontrast_reference as ref

    transform = T.Compose([T.Resize((SIZE, SIZE)), T.ToTensor(),
                           T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])
    x = transform(Image.open(picture_path).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        en, de = model(x)
        smoothed = ref.smooth(ref.anomaly_map(en, de, SIZE))
    return smoothed[0].numpy(), float(ref.image_score_max(smoothed)[0])


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    binaries, work = sys.argv[1:3]
    try:
        import torch
        import recontrast_reference as ref
        from PIL import Image
    except ImportError as e:
        print(f"SKIP: the PyTorch oracle is not available ({e})")
        return 0
    recontrast = os.path.join(binaries, "recontrast")
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    check = test_support.Checks()

    torch.manual_seed(5)
    model = ref.build_model("resnet18")
    ref.perturb_batchnorm(model, torch.Generator().manual_seed(6))  # eval BN that is not an identity
    model.eval()
    state = os.path.join(work, "official.pth")
    torch.save(model.state_dict(), state)
    imported = os.path.join(work, "official.rcm")
    result = test_support.run([recontrast, "import", "--official", state, "--backbone", "resnet18",
                               "--image-size", str(SIZE), "--out", imported])
    if not check(result.returncode == 0, "import --official succeeds"):
        print(result.stderr)
        check.finish("")
    info = json.loads(test_support.run([recontrast, "info", imported, "--json"]).stdout)
    check(info.get("properties", {}).get("intensity") == "bytes",
          f"the imported model records the official byte scaling (properties {info.get('properties')})")

    # Smooth pictures with some structure, as photographs have; grey and colour.
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[0:SIZE, 0:SIZE]
    base = 120 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0)
    pictures = {
        "colour.png": np.stack([base, base[::-1], base.T], axis=-1) + rng.normal(0, 8, (SIZE, SIZE, 3)),
        "grey.png": base + rng.normal(0, 8, (SIZE, SIZE)),
    }
    for name, values in pictures.items():
        path = os.path.join(work, name)
        Image.fromarray(np.clip(values, 0, 255).astype(np.uint8)).save(path)
        expected_map, expected_score = official_map(model, path)
        output = os.path.join(work, name + ".mha")
        report_path = os.path.join(work, name + ".json")
        result = test_support.run([recontrast, "infer", "--model", imported, "--input", path, "--output", output,
                                   "--report", report_path, "--precision", "exact", "--threads", "2"])
        if not check(result.returncode == 0, f"{name}: infer succeeds with no pre-processing flag"):
            print(result.stderr)
            continue
        report = json.load(open(report_path))
        check(report["intensity"] == "bytes", f"{name}: infer used the model's byte scaling ({report['intensity']})")
        got = test_support.read_mha(output).reshape(SIZE, SIZE)
        difference = float(np.abs(got - expected_map).max())
        check(difference <= MAP_TOLERANCE,
              f"{name}: map within {MAP_TOLERANCE} of the official map (largest difference {difference:.3g}, "
              f"map range {expected_map.min():.3f}-{expected_map.max():.3f})")
        check(abs(report["score"] - expected_score) <= MAP_TOLERANCE,
              f"{name}: score {report['score']:.7f} equals the official {expected_score:.7f}")
    check.finish("official model passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
