# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Models the benchmarks time: torchvision's architecture with random weights (seed 0; no ImageNet
weights can be fetched offline), imported into a model file with `recontrast import --torchvision`."""
import os
import subprocess


def import_torchvision_model(recontrast, backbone, work, image_size=None):
    """Writes <work>/<backbone>.rcm and returns its path."""
    import torch
    import torchvision

    torch.manual_seed(0)
    weights = os.path.join(work, backbone + ".pth")
    torch.save(getattr(torchvision.models, backbone)().state_dict(), weights)
    model = os.path.join(work, backbone + ".rcm")
    command = [recontrast, "import", "--torchvision", weights, "--backbone", backbone, "--out", model]
    if image_size:
        command += ["--image-size", str(image_size)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    os.remove(weights)
    return model
