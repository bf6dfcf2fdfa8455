#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Where the image AUROC of `recontrast train` + `eval` and of the official training differ, on the
magnetic tiles of the optional data folder (issue 20, item 4).

Split: the first 60 MT_Free pictures by name to train on, the next 40 as normal tests, the first 8 of
each defect class as anomalies; resnet18 at 128 px, batch 8, 150 iterations, random encoder (the
budget the issue names). Variants, each over the given seeds:

  official  the official recipe in PyTorch, with the repository's reference model and loss
            (Testing/Python/recontrast_reference.py): PIL RGB, Resize((128, 128)) (the aspect ratio not
            kept), ToTensor, ImageNet Normalize; a shuffled loader (drop_last False); the two AdamW;
            the alpha ramp; scores = max of the Gaussian-smoothed map
  default   `recontrast train` with its defaults (10 % held out, slices with < 5 % foreground skipped,
            8-bit pictures stretched to the square as the official resize: `--resize auto`), then
            `recontrast eval`
  fit       default with `--resize fit` (the aspect ratio kept, padded: the default before)
  all       fit + `--calibration-fraction 0` (all 60 pictures trained on, as the official)
  all-fg0   all + `--min-foreground 0` (no picture skipped for its foreground)
  squashed  all-fg0 on pictures resized to 128 x 128 beforehand as the official resize does (PIL
            bilinear, antialiased), so the only remaining difference is the engine itself

Usage: magnetic_tiles_decomposition.py <build folder> <work folder> [--variants a,b,...] [seed ...]
(default: every variant, seeds 111 1 2)
"""
import glob
import json
import os
import subprocess
import sys

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "..", "..", "..", "shared", "data", "magnetic_tile_defects")
SIZE, ITERATIONS, BATCH = 128, 150, 8
DEFECTS = ["MT_Blowhole", "MT_Break", "MT_Crack", "MT_Fray", "MT_Uneven"]


def split():
    free = sorted(glob.glob(os.path.join(DATA, "MT_Free", "Imgs", "*.jpg")))
    tests = {"good": free[60:100]}
    for defect in DEFECTS:
        tests[defect] = sorted(glob.glob(os.path.join(DATA, defect, "Imgs", "*.jpg")))[:8]
    return free[:60], tests


def make_folder(root, train, tests, squash):
    """An MVTec-style folder; `squash`: each picture resized to SIZE x SIZE as the official resize."""
    if os.path.exists(os.path.join(root, "done")):
        return
    for name, files in [("train/good", train)] + [("test/" + k, v) for k, v in tests.items()]:
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        for f in files:
            picture = Image.open(f).convert("L")
            if squash:
                picture = picture.resize((SIZE, SIZE), Image.BILINEAR)
            picture.save(os.path.join(folder, os.path.splitext(os.path.basename(f))[0] + ".png"))
    open(os.path.join(root, "done"), "w").write("ok\n")


def cli_variant(build, work, folder, seed, extra):
    recontrast = os.path.join(build, "bin", "recontrast")
    model = os.path.join(work, f"model-{seed}-{abs(hash(tuple(extra))) % 10**8}.rcm")
    subprocess.run([recontrast, "train", "--data", folder, "--out", model, "--backbone", "resnet18", "--image-size",
                    str(SIZE), "--iterations", str(ITERATIONS), "--batch-size", str(BATCH), "--seed", str(seed),
                    *extra], check=True, capture_output=True)
    report = model[:-4] + ".json"
    subprocess.run([recontrast, "eval", "--model", model, "--data", folder, "--report", report], check=True,
                   capture_output=True)
    return json.load(open(report))["image_auroc"]


def official_variant(train, tests, seed):
    import torch
    import torchvision.transforms as T
    from sklearn.metrics import roc_auc_score
    sys.path.insert(0, os.path.join(HERE, "..", "Python"))
    import recontrast_reference as ref

    transform = T.Compose([T.Resize((SIZE, SIZE)), T.ToTensor(),
                           T.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])])

    def load(files):
        return torch.stack([transform(Image.open(f).convert("RGB")) for f in files])

    torch.manual_seed(seed)
    model = ref.build_model("resnet18")
    x_train = load(train)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x_train), batch_size=BATCH, shuffle=True,
                                         drop_last=False)
    opt_decoder, opt_encoder = ref.make_optimizers(model)
    iteration = 0
    while iteration < ITERATIONS:
        ref.train_mode(model, encoder_bn_train=True)
        for (x,) in loader:
            en, de = model(x)
            loss = ref.recontrast_loss(en, de, ref.alpha_at(iteration, ITERATIONS))
            opt_decoder.zero_grad()
            opt_encoder.zero_grad()
            loss.backward()
            opt_decoder.step()
            opt_encoder.step()
            iteration += 1
            if iteration >= ITERATIONS:
                break
    model.eval()
    scores, labels = [], []
    with torch.no_grad():
        for name, files in tests.items():
            for i in range(0, len(files), 8):
                en, de = model(load(files[i:i + 8]))
                scores += ref.image_score_max(ref.smooth(ref.anomaly_map(en, de, SIZE))).tolist()
                labels += [0 if name == "good" else 1] * len(files[i:i + 8])
    return roc_auc_score(labels, scores)


def main():
    build, work = sys.argv[1:3]
    if not os.path.isdir(DATA):
        print(f"SKIP: {DATA} is not here")
        return 0
    rest = sys.argv[3:]
    variants = ["official", "default", "fit", "all", "all-fg0", "squashed"]
    if rest[:1] == ["--variants"]:
        variants, rest = rest[1].split(","), rest[2:]
    seeds = [int(s) for s in rest] or [111, 1, 2]
    os.makedirs(work, exist_ok=True)
    train, tests = split()
    pictures = os.path.join(work, "pictures")
    squashed = os.path.join(work, "squashed")
    make_folder(pictures, train, tests, squash=False)
    make_folder(squashed, train, tests, squash=True)
    print(f"train {len(train)}, test normal {len(tests['good'])}, anomalies {sum(len(v) for k, v in tests.items() if k != 'good')}")
    print("variant    " + "  ".join(f"seed {s:<4}" for s in seeds) + "  mean")
    for variant in variants:
        results = []
        for seed in seeds:
            if variant == "official":
                results.append(official_variant(train, tests, seed))
            elif variant == "default":
                results.append(cli_variant(build, work, pictures, seed, []))
            elif variant == "fit":
                results.append(cli_variant(build, work, pictures, seed, ["--resize", "fit"]))
            elif variant == "all":
                results.append(cli_variant(build, work, pictures, seed, ["--calibration-fraction", "0", "--resize", "fit"]))
            elif variant == "all-fg0":
                results.append(cli_variant(build, work, pictures, seed,
                                           ["--calibration-fraction", "0", "--min-foreground", "0", "--resize", "fit"]))
            elif variant == "squashed":
                results.append(cli_variant(build, work, squashed, seed,
                                           ["--calibration-fraction", "0", "--min-foreground", "0"]))
            else:
                sys.exit(f"unknown variant {variant}")
        print(f"{variant:<10} " + "  ".join(f"{r:9.3f}" for r in results) + f"  {np.mean(results):.3f}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
