#!/usr/bin/env python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""Writes the checkpoints that CheckpointTest.cpp reads, with the values it must find.

Usage: make_checkpoints.py OUTDIR

Every checkpoint is written twice, as `<name>_zip.pth` (torch.save's zip format) and as
`<name>_legacy.pth` (the format of PyTorch < 1.6), with pickle protocol 2 as torch.save uses by
default (and once more with protocol 4). Readable ones get `<file>.expected`, one
tab-separated line per tensor in the order the reader must return them:

    name  dtype  shape  strides  storage_offset  numel  checksum  float32_bits  integers

shape and strides are comma-separated (empty for a zero-dimensional tensor). checksum is
sum((i + 1) * bits(x_i)) modulo 2**64 over the float32 bit patterns of the tensor converted to
float32 in row-major order, so the reader's float32 copy can be compared bit for bit without
storing it. float32_bits lists those bit patterns in hex and integers the exact values of
integer and bool tensors, both only for tensors of at most 64 elements ("-" otherwise).

Files with forbidden globals are only written, never loaded here. Exits with 77 when torch or
torchvision cannot be imported, so the test can tell "cannot run" from "failed".
"""

import collections
import os
import sys
import zipfile

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as error:
    print(f"{sys.executable} cannot import what the checkpoints need: {error}")
    sys.exit(77)

SMALL = 64


def save_both(obj, outdir, stem, protocol=2):
    paths = []
    for suffix, use_zip in (("zip", True), ("legacy", False)):
        path = os.path.join(outdir, f"{stem}_{suffix}.pth")
        torch.save(obj, path, pickle_protocol=protocol, _use_new_zipfile_serialization=use_zip)
        paths.append(path)
    return paths


def flatten(obj, prefix=""):
    """The tensors of nested dicts with "."-joined names, as the C++ reader returns them."""
    for key, value in obj.items():
        if isinstance(key, bool) or not isinstance(key, (str, int)):
            continue
        name = prefix + str(key)
        if isinstance(value, torch.Tensor):
            yield name, value
        elif isinstance(value, dict):
            yield from flatten(value, name + ".")


def describe(name, tensor):
    tensor = tensor.detach()
    as_float = tensor.float().contiguous().reshape(-1).numpy()
    bits = as_float.view(np.uint32).astype(np.uint64)
    positions = np.arange(1, bits.size + 1, dtype=np.uint64)
    checksum = int((bits * positions).sum(dtype=np.uint64)) if bits.size else 0
    small = tensor.numel() <= SMALL
    float_bits = ",".join(f"{int(b):08x}" for b in bits) if small else "-"
    exact = tensor.dtype in (torch.int64, torch.int32, torch.int16, torch.int8, torch.uint8, torch.bool)
    integers = ",".join(str(int(v)) for v in tensor.reshape(-1).tolist()) if small and exact else "-"
    fields = [
        name,
        str(tensor.dtype).replace("torch.", ""),
        ",".join(str(s) for s in tensor.shape),
        ",".join(str(s) for s in tensor.stride()),
        str(tensor.storage_offset()),
        str(tensor.numel()),
        str(checksum),
        float_bits,
        integers,
    ]
    return "\t".join(fields)


def write_expected(obj, paths):
    lines = [describe(name, tensor) for name, tensor in flatten(obj)]
    for path in paths:
        with open(path + ".expected", "w") as f:
            f.write("\n".join(lines) + "\n")


def write_truncated(path, keep_fraction):
    with open(path, "rb") as f:
        data = f.read()
    stem, ext = os.path.splitext(path)
    with open(stem + "_truncated" + ext, "wb") as f:
        f.write(data[: int(len(data) * keep_fraction)])


class SystemCall:
    """Pickles as a call of os.system, the classic pickle exploit."""

    def __reduce__(self):
        return (os.system, ("echo this checkpoint ran a shell command",))


class CustomObject:
    """Pickles as an instance of a class of this script (__main__.CustomObject)."""

    def __init__(self):
        self.payload = 42


def main():
    outdir = sys.argv[1]
    os.makedirs(outdir, exist_ok=True)
    torch.manual_seed(0)

    resnet = torchvision.models.resnet18().state_dict()
    paths = save_both(resnet, outdir, "resnet18")
    write_expected(resnet, paths)
    for path in paths:
        # The zip loses its central directory; the legacy file loses the end of its last storage.
        write_truncated(path, 0.5 if path.endswith("_zip.pth") else 0.999)

    base = torch.arange(24, dtype=torch.float32) * 0.5
    mixed = {
        "half": torch.randn(3, 4).half(),
        "half_special": torch.tensor([float("inf"), -float("inf"), float("nan"), -0.0, 6e-8, 65504.0, 1e-5]).half(),
        "bfloat": torch.randn(5).bfloat16(),
        "double": torch.randn(2, 3, dtype=torch.float64),
        "long": torch.tensor([-(2**40), 0, 7, 2**62, -1], dtype=torch.int64),
        "int": torch.tensor([[-(2**31), 2**31 - 1], [5, -6]], dtype=torch.int32),
        "short": torch.tensor([-32768, 32767, 3], dtype=torch.int16),
        "char": torch.tensor([-128, 127, 0], dtype=torch.int8),
        "byte": torch.tensor([0, 255, 17], dtype=torch.uint8),
        "bool": torch.tensor([True, False, True, True]),
        "transposed": torch.randn(3, 5).t(),
        "view_a": base[2:8],
        "view_b": base[10:].view(2, 7),
        "expanded": torch.arange(3, dtype=torch.float32).expand(4, 3),
        "scalar": torch.tensor(3.25),
        "empty": torch.zeros(0, 3),
        "epoch": 7,
        "learning_rate": 0.01,
        "architecture": "resnet",
        "nothing": None,
    }
    write_expected(mixed, save_both(mixed, outdir, "mixed"))
    # torch.save(..., pickle_protocol=4) adds FRAME, MEMOIZE, SHORT_BINUNICODE and STACK_GLOBAL.
    write_expected(mixed, save_both(mixed, outdir, "mixed_protocol4", protocol=4))

    tiny = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    nested = {
        "state_dict": tiny.state_dict(),
        "epoch": 5,
        "optimizer": {
            "state": {0: {"momentum_buffer": torch.randn(4, 3, 3, 3)}},
            "param_groups": [{"lr": 0.1, "params": [0]}],
        },
        "meta": {"arch": "tiny", "dtype": torch.float16, "sizes": (1, 2)},
    }
    write_expected(nested, save_both(nested, outdir, "nested"))

    parameters = collections.OrderedDict(
        weight=torch.nn.Parameter(torch.randn(2, 3)),
        bias=torch.nn.Parameter(torch.randn(2), requires_grad=False),
    )
    write_expected(parameters, save_both(parameters, outdir, "parameter"))

    save_both({"weight": torch.ones(2), "payload": SystemCall()}, outdir, "forbidden_system")
    save_both({"weight": torch.ones(2), "payload": CustomObject()}, outdir, "forbidden_class")
    save_both([torch.ones(2)], outdir, "top_list")
    save_both(torch.ones(2), outdir, "top_tensor")

    # Zip archives that torch.save did not write.
    torch.jit.script(torch.nn.Linear(2, 2)).save(os.path.join(outdir, "torchscript.pt"))
    with zipfile.ZipFile(os.path.join(outdir, "foreign.zip"), "w") as archive:
        archive.writestr("notes.txt", "not a checkpoint")


if __name__ == "__main__":
    main()
