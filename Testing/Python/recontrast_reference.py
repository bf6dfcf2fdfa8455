#!/usr/bin/python3
# ReContrast for Slicer and ITK. Licensed under the Apache License, Version 2.0 (see LICENSE).
"""PyTorch reference ("oracle") for the C++/LibTorch ReContrast re-implementation.

Written from the method as Documentation/Engine.md ("The method") describes it (ReContrast,
NeurIPS 2023, official code guojiajeremy/ReContrast). The module rebuilds the official model
with the official ``state_dict`` key names, the hard-mining global cosine loss, the training
step and the anomaly map, and writes golden files the C++ tests compare against.

Run it with the Debian interpreter (the one that has torch 1.13 / torchvision 0.14):

    /usr/bin/python3 Testing/Python/recontrast_reference.py golden --out golden.pt
    /usr/bin/python3 Testing/Python/recontrast_reference.py info
    /usr/bin/python3 Testing/Python/recontrast_reference.py selfcheck

Golden file: one ``torch.save`` zip holding a flat ``dict[str, Tensor]``; see
``make_golden`` for the key names.
"""

import argparse
import copy
import sys
import time

import numpy as np
import scipy.ndimage
import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
from torchvision.models.resnet import BasicBlock, Bottleneck

BACKBONES = ("resnet18", "resnet34", "resnet50", "wide_resnet50_2")

# Parameter counts of the official wide_resnet50_2 model (Documentation/Engine.md, Method 1).
WRN50_EXPECTED_PARAMS = {
    "encoder": 24_862_528,
    "bottleneck": 67_277_824,
    "decoder": 27_673_600,
}


def backbone_config(backbone):
    """Block type, widths and depths of the encoder/bottleneck/decoder for one backbone."""
    configs = {
        # name: (block, base_width, bottleneck blocks, decoder stage depths)
        "resnet18": (BasicBlock, 64, 2, (2, 2, 2)),
        "resnet34": (BasicBlock, 64, 3, (3, 4, 6)),
        "resnet50": (Bottleneck, 64, 3, (3, 4, 6)),
        "wide_resnet50_2": (Bottleneck, 128, 3, (3, 4, 6)),
    }
    if backbone not in configs:
        raise ValueError(f"unknown backbone {backbone!r}; expected one of {BACKBONES}")
    block, base_width, bottleneck_blocks, decoder_layers = configs[backbone]
    return {
        "block": block,
        "expansion": block.expansion,
        "base_width": base_width,
        "bottleneck_blocks": bottleneck_blocks,
        "decoder_layers": decoder_layers,
    }


def _init_conv_and_bn(module):
    """Official init: kaiming fan_out for nn.Conv2d (not ConvTranspose2d), BN weight 1 / bias 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.constant_(m.weight, 1)
            nn.init.constant_(m.bias, 0)


def _conv3x3(in_ch, out_ch, stride=1):
    return nn.Conv2d(in_ch, out_ch, kernel_size=3, stride=stride, padding=1, bias=False)


def _conv1x1(in_ch, out_ch, stride=1):
    return nn.Conv2d(in_ch, out_ch, kernel_size=1, stride=stride, bias=False)


def _deconv2x2(in_ch, out_ch, stride=2):
    return nn.ConvTranspose2d(in_ch, out_ch, kernel_size=2, stride=stride, bias=False)


# --------------------------------------------------------------------------------------
# Encoder (Documentation/Engine.md, Method 2)
# --------------------------------------------------------------------------------------
class Encoder(nn.Module):
    """torchvision ResNet stem + layer1..layer3; layer4 and fc are not kept (no keys)."""

    def __init__(self, resnet):
        super().__init__()
        self.conv1 = resnet.conv1
        self.bn1 = resnet.bn1
        self.relu = resnet.relu
        self.maxpool = resnet.maxpool
        self.layer1 = resnet.layer1
        self.layer2 = resnet.layer2
        self.layer3 = resnet.layer3

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        f1 = self.layer1(x)
        f2 = self.layer2(f1)
        f3 = self.layer3(f2)
        return [f1, f2, f3]


# --------------------------------------------------------------------------------------
# Bottleneck: multi-scale fusion + one-class embedding (official BN_layer; Documentation/Engine.md, Method 3)
# --------------------------------------------------------------------------------------
class FusionBottleneck(nn.Module):
    def __init__(self, block, num_blocks, base_width):
        super().__init__()
        exp = block.expansion
        fused_ch = 3 * 256 * exp
        out_ch = 512 * exp

        # The OCE stage: torchvision blocks, the first one stride 2 with a 1x1 shortcut.
        downsample = nn.Sequential(_conv1x1(fused_ch, out_ch, stride=2), nn.BatchNorm2d(out_ch))
        blocks = [block(fused_ch, 512, stride=2, downsample=downsample, base_width=base_width)]
        for _ in range(1, num_blocks):
            blocks.append(block(out_ch, 512, base_width=base_width))
        self.bn_layer = nn.Sequential(*blocks)

        self.conv1 = _conv3x3(64 * exp, 128 * exp, stride=2)
        self.bn1 = nn.BatchNorm2d(128 * exp)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(128 * exp, 256 * exp, stride=2)
        self.bn2 = nn.BatchNorm2d(256 * exp)
        self.conv3 = _conv3x3(128 * exp, 256 * exp, stride=2)
        self.bn3 = nn.BatchNorm2d(256 * exp)
        # Dead parameters kept only so the key set (and parameter count) is the official one.
        self.conv4 = _conv1x1(1024 * exp, 512 * exp)
        self.bn4 = nn.BatchNorm2d(512 * exp)

        _init_conv_and_bn(self)

    def forward(self, feats):
        z1, z2, z3 = feats
        b1 = self.relu(self.bn2(self.conv2(self.relu(self.bn1(self.conv1(z1))))))
        b2 = self.relu(self.bn3(self.conv3(z2)))
        return self.bn_layer(torch.cat([b1, b2, z3], dim=1)).contiguous()


# --------------------------------------------------------------------------------------
# Decoder (official de_resnet with output_conv=2; Documentation/Engine.md, Method 4)
# --------------------------------------------------------------------------------------
class DeBasicBlock(nn.Module):
    expansion = 1

    def __init__(self, inplanes, planes, stride=1, upsample=None, base_width=64):
        super().__init__()
        del base_width  # BasicBlock has no width parameter; kept for a uniform signature
        # The resolution change happens in conv1 (transposed conv) for basic blocks.
        self.conv1 = _deconv2x2(inplanes, planes, stride) if stride == 2 else _conv3x3(inplanes, planes)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = _conv3x3(planes, planes)
        self.bn2 = nn.BatchNorm2d(planes)
        self.upsample = upsample

    def forward(self, x):
        # Main path before the shortcut (torchvision order): the autograd accumulation
        # order, and so the gradients bit for bit, follow the official model.
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        identity = x if self.upsample is None else self.upsample(x)
        return self.relu(out + identity)


class DeBottleneck(nn.Module):
    expansion = 4

    def __init__(self, inplanes, planes, stride=1, upsample=None, base_width=64):
        super().__init__()
        width = int(planes * (base_width / 64.0))
        self.conv1 = _conv1x1(inplanes, width)
        self.bn1 = nn.BatchNorm2d(width)
        # The resolution change happens in conv2 (transposed conv) for bottleneck blocks.
        self.conv2 = _deconv2x2(width, width, stride) if stride == 2 else _conv3x3(width, width)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = _conv1x1(width, planes * self.expansion)
        self.bn3 = nn.BatchNorm2d(planes * self.expansion)
        self.relu = nn.ReLU(inplace=True)
        self.upsample = upsample

    def forward(self, x):
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        identity = x if self.upsample is None else self.upsample(x)  # after main path, as above
        return self.relu(out + identity)


class Decoder(nn.Module):
    def __init__(self, encoder_block, layers, base_width):
        super().__init__()
        block = DeBottleneck if encoder_block is Bottleneck else DeBasicBlock
        exp = block.expansion
        self.base_width = base_width
        self.inplanes = 512 * exp
        self.layer1 = self._make_stage(block, 256, layers[0])
        self.layer2 = self._make_stage(block, 128, layers[1])
        self.layer3 = self._make_stage(block, 64, layers[2])
        # Two head sets: index 0 serves the trainable-encoder view, 1 the frozen view.
        self.out1 = nn.ModuleList([nn.Conv2d(64 * exp, 64 * exp, kernel_size=1) for _ in range(2)])
        self.out2 = nn.ModuleList([nn.Conv2d(128 * exp, 128 * exp, kernel_size=1) for _ in range(2)])
        self.out3 = nn.ModuleList([nn.Conv2d(256 * exp, 256 * exp, kernel_size=1) for _ in range(2)])
        _init_conv_and_bn(self)

    def _make_stage(self, block, planes, num_blocks):
        # Every stage doubles the resolution, so the shortcut is always a transposed conv.
        upsample = nn.Sequential(
            _deconv2x2(self.inplanes, planes * block.expansion, stride=2),
            nn.BatchNorm2d(planes * block.expansion),
        )
        blocks = [block(self.inplanes, planes, stride=2, upsample=upsample, base_width=self.base_width)]
        self.inplanes = planes * block.expansion
        for _ in range(1, num_blocks):
            blocks.append(block(self.inplanes, planes, base_width=self.base_width))
        return nn.Sequential(*blocks)

    def body(self, x):
        """Decoder body only: returns [g1, g2, g3] (finest first)."""
        g3 = self.layer1(x)
        g2 = self.layer2(g3)
        g1 = self.layer3(g2)
        return [g1, g2, g3]

    def forward(self, x):
        g1, g2, g3 = self.body(x)
        return [
            self.out1[0](g1), self.out2[0](g2), self.out3[0](g3),
            self.out1[1](g1), self.out2[1](g2), self.out3[1](g3),
        ]


# --------------------------------------------------------------------------------------
# Whole model (Documentation/Engine.md, Method 1)
# --------------------------------------------------------------------------------------
class ReContrastReference(nn.Module):
    def __init__(self, encoder, bottleneck, decoder):
        super().__init__()
        self.encoder = encoder
        self.encoder_freeze = copy.deepcopy(encoder)
        self.bottleneck = bottleneck
        self.decoder = decoder

    def train(self, mode=True, encoder_bn_train=True):
        # The frozen copy always uses its stored statistics, also while training.
        self.training = mode
        self.encoder.train(mode and encoder_bn_train)
        self.encoder_freeze.train(False)
        self.bottleneck.train(mode)
        self.decoder.train(mode)
        return self

    def forward(self, x):
        en = self.encoder(x)
        with torch.no_grad():
            ef = self.encoder_freeze(x)
        # Both views go through bottleneck/decoder as one batch (shared train-mode BN stats).
        z = [torch.cat([a, b], dim=0) for a, b in zip(en, ef)]
        de = self.decoder(self.bottleneck(z))
        halves = [d.chunk(2, dim=0) for d in de]
        de = [halves[0][0], halves[1][0], halves[2][0], halves[3][1], halves[4][1], halves[5][1]]
        return ef + en, de


def build_model(backbone):
    cfg = backbone_config(backbone)
    encoder = Encoder(getattr(torchvision.models, backbone)())
    bottleneck = FusionBottleneck(cfg["block"], cfg["bottleneck_blocks"], cfg["base_width"])
    decoder = Decoder(cfg["block"], cfg["decoder_layers"], cfg["base_width"])
    return ReContrastReference(encoder, bottleneck, decoder)


def train_mode(model, encoder_bn_train):
    """Training mode as in the official scripts; encoder BN train/eval is a per-class switch."""
    return model.train(True, encoder_bn_train=encoder_bn_train)


# --------------------------------------------------------------------------------------
# Loss (Documentation/Engine.md, Method 5)
# --------------------------------------------------------------------------------------
def global_cosine_hm(targets, preds, alpha, factor=0.0, method="hook", masks_out=None):
    """Global cosine loss with gradient hard mining.

    Value: sum over scales of mean_b(1 - cos(vec t_b, vec p_b)); hard mining only scales the
    gradient reaching ``p`` at easy positions (d < mean + alpha*std) by ``factor``.
    ``method`` "hook" registers a gradient hook on p (official); "detach" uses
    p_eff = k*p + (1-k)*p.detach(), which is bit-identical for k in {0, 1}.
    ``masks_out`` (a list) receives one [B,1,h,w] float mask per scale, 1 = hard (kept).
    """
    loss = 0
    for target, pred in zip(targets, preds):
        t = target.detach()
        with torch.no_grad():
            dist = 1 - F.cosine_similarity(t, pred, dim=1, eps=1e-8).unsqueeze(1)
            thresh = dist.mean() + alpha * dist.reshape(-1).std()
            easy = dist < thresh
            keep = torch.ones_like(dist).masked_fill(easy, factor)
        if masks_out is not None:
            masks_out.append((~easy).to(torch.float32))

        p = pred
        if pred.requires_grad:
            if method == "hook":
                pred.register_hook(lambda grad, keep=keep: grad * keep)
            elif method == "detach":
                p = keep * pred + (1 - keep) * pred.detach()
            else:
                raise ValueError(f"unknown hard-mining method {method!r}")

        batch = t.shape[0]
        cos = F.cosine_similarity(t.reshape(batch, -1), p.reshape(batch, -1), dim=1, eps=1e-8)
        loss = loss + torch.mean(1 - cos)
    return loss


def recontrast_loss(en, de, alpha, method="hook", details=None):
    """0.5*GCHM(frozen targets) + 0.5*GCHM(trainable targets); ``details`` gets terms and masks."""
    masks = []
    term0 = global_cosine_hm(en[:3], de[:3], alpha, factor=0.0, method=method, masks_out=masks)
    term1 = global_cosine_hm(en[3:], de[3:], alpha, factor=0.0, method=method, masks_out=masks)
    if details is not None:
        details.update(term0=term0, term1=term1, masks=masks)
    return term0 / 2 + term1 / 2


def alpha_at(it, total):
    """Hard-mining alpha ramp: -3 -> 1 over the first 10 % of iterations, then 1."""
    return min(-3 + 4 * it / (0.1 * total), 1)


# --------------------------------------------------------------------------------------
# Anomaly map (Documentation/Engine.md, Method 7)
# --------------------------------------------------------------------------------------
def anomaly_map(en, de, out_size):
    """Raw map [B,H,W] float64: sum over the 6 pairs of upsampled (1 - channel cosine)."""
    batch = en[0].shape[0]
    total = np.zeros((batch, out_size, out_size), dtype=np.float64)
    for target, pred in zip(en, de):
        dist = 1 - F.cosine_similarity(target, pred, dim=1, eps=1e-8)
        dist = F.interpolate(dist.unsqueeze(1), size=out_size, mode="bilinear", align_corners=True)
        # float32 map added into a float64 accumulator, pair by pair, as the official code.
        total += dist[:, 0].detach().cpu().numpy()
    return torch.from_numpy(total)


def smooth(raw):
    """scipy gaussian_filter(sigma=4) with scipy defaults, applied per image; float64."""
    raw_np = raw.detach().cpu().numpy() if torch.is_tensor(raw) else np.asarray(raw)
    out = np.stack([scipy.ndimage.gaussian_filter(m, sigma=4) for m in raw_np.astype(np.float64)])
    return torch.from_numpy(out)


def image_score_max(smoothed):
    return smoothed.reshape(smoothed.shape[0], -1).max(dim=1).values


# --------------------------------------------------------------------------------------
# Golden data
# --------------------------------------------------------------------------------------
def _bn_modules(module):
    return [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]


def _uniform_(tensor, low, high, generator):
    tensor.copy_(torch.rand(tensor.shape, generator=generator) * (high - low) + low)


@torch.no_grad()
def perturb_batchnorm(model, generator):
    """Random BN affine/statistics so eval-mode BN is not an identity; the two encoder
    copies share affine params but get different running statistics (as after training)."""
    for bn in _bn_modules(model.encoder):
        _uniform_(bn.weight, 0.5, 1.5, generator)
        _uniform_(bn.bias, -0.2, 0.2, generator)
        _uniform_(bn.running_mean, -0.2, 0.2, generator)
        _uniform_(bn.running_var, 0.5, 1.5, generator)
    model.encoder_freeze.load_state_dict(model.encoder.state_dict())
    for bn in _bn_modules(model.bottleneck) + _bn_modules(model.decoder):
        _uniform_(bn.weight, 0.5, 1.5, generator)
        _uniform_(bn.bias, -0.2, 0.2, generator)
        _uniform_(bn.running_mean, -0.2, 0.2, generator)
        _uniform_(bn.running_var, 0.5, 1.5, generator)
    for bn in _bn_modules(model.encoder):
        _uniform_(bn.running_mean, -0.2, 0.2, generator)
        _uniform_(bn.running_var, 0.5, 1.5, generator)


def make_optimizers(model):
    """The official two AdamW optimisers (decoder+bottleneck incl. dead conv4/bn4; encoder)."""
    decoder_params = list(model.decoder.parameters()) + list(model.bottleneck.parameters())
    opt_decoder = torch.optim.AdamW(decoder_params, lr=2e-3, betas=(0.9, 0.999),
                                    weight_decay=1e-5, eps=1e-8)
    opt_encoder = torch.optim.AdamW(model.encoder.parameters(), lr=1e-5, betas=(0.9, 0.999),
                                    weight_decay=1e-5, eps=1e-8)
    return opt_decoder, opt_encoder


def _state_copy(model):
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def make_golden(backbone="resnet18", image_size=64, batch=2, seed=0, alpha=-1.0,
                encoder_bn_train=True, gradient_rounding=False):
    """Build the golden dict.

    Keys (float32 unless noted; BN ``num_batches_tracked`` entries keep int64):
      state.<state_dict key>     initial (perturbed) state
      input                      [B,3,S,S] standard normal
      eval.en.<i>, eval.de.<i>   i = 0..5, model.eval() outputs
      eval.amap_raw, eval.amap   [B,S,S] float64 (raw sum of 6 maps; gaussian sigma 4)
      eval.score_max             [B] float64
      train.alpha                0-d float64, the alpha used
      train.en.<i>, train.de.<i> outputs of the train-mode forward
      train.loss                 0-d = train.loss_term0 / 2 + train.loss_term1 / 2
      train.loss_term0/1         0-d, GCHM value of each view (unscaled)
      train.hm_mask.<j>          j = 0..5, [B,1,h,w], 1 = hard (gradient kept)
      train.grad.<param name>    gradient after backward (zeros where none)
      train.grad_rounding.<param name>
                                 0-d float64, with gradient_rounding only: max |that gradient - the
                                 same step's in float64|, how far float32 rounding alone moves it
      after.<state_dict key>     state after both AdamW steps (incl. updated BN stats)
    """
    torch.manual_seed(seed)
    model = build_model(backbone)
    generator = torch.Generator()
    generator.manual_seed(seed + 1)
    perturb_batchnorm(model, generator)
    x = torch.randn(batch, 3, image_size, image_size, generator=generator)

    golden = {f"state.{k}": v for k, v in _state_copy(model).items()}
    golden["input"] = x.clone()

    model.eval()
    with torch.no_grad():
        en, de = model(x)
    for i in range(6):
        golden[f"eval.en.{i}"] = en[i].clone()
        golden[f"eval.de.{i}"] = de[i].clone()
    raw = anomaly_map(en, de, image_size)
    smoothed = smooth(raw)
    golden["eval.amap_raw"] = raw
    golden["eval.amap"] = smoothed
    golden["eval.score_max"] = image_score_max(smoothed)

    # The same step in float64 first (from the same state), to measure float32's own rounding.
    grads64 = {}
    if gradient_rounding:
        model64 = copy.deepcopy(model).double()
        train_mode(model64, encoder_bn_train)
        en64, de64 = model64(x.double())
        recontrast_loss(en64, de64, alpha).backward()
        grads64 = {name: p.grad for name, p in model64.named_parameters()}
        del model64, en64, de64

    # One official training step from the same initial state (eval forward changed nothing).
    train_mode(model, encoder_bn_train)
    opt_decoder, opt_encoder = make_optimizers(model)
    en, de = model(x)
    details = {}
    loss = recontrast_loss(en, de, alpha, details=details)
    opt_decoder.zero_grad()
    opt_encoder.zero_grad()
    loss.backward()

    golden["train.alpha"] = torch.tensor(float(alpha), dtype=torch.float64)
    for i in range(6):
        golden[f"train.en.{i}"] = en[i].detach().clone()
        golden[f"train.de.{i}"] = de[i].detach().clone()
    golden["train.loss"] = loss.detach().clone()
    golden["train.loss_term0"] = details["term0"].detach().clone()
    golden["train.loss_term1"] = details["term1"].detach().clone()
    for j, mask in enumerate(details["masks"]):
        golden[f"train.hm_mask.{j}"] = mask
    for name, param in model.named_parameters():
        grad = param.grad
        golden[f"train.grad.{name}"] = torch.zeros_like(param) if grad is None else grad.clone()
        if grad is not None and grads64.get(name) is not None:
            golden[f"train.grad_rounding.{name}"] = (grad.double() - grads64[name]).abs().max()

    opt_decoder.step()
    opt_encoder.step()
    golden.update({f"after.{k}": v for k, v in _state_copy(model).items()})
    return golden


# --------------------------------------------------------------------------------------
# Parameter counts and shapes
# --------------------------------------------------------------------------------------
def _count(params):
    return sum(p.numel() for p in params)


def parameter_counts(model):
    bott = model.bottleneck
    dead = _count(bott.conv4.parameters()) + _count(bott.bn4.parameters())
    dec = model.decoder
    heads = _count(dec.out1.parameters()) + _count(dec.out2.parameters()) + _count(dec.out3.parameters())
    return {
        "encoder": _count(model.encoder.parameters()),
        "encoder_freeze": _count(model.encoder_freeze.parameters()),
        "bottleneck": _count(bott.parameters()),
        "bottleneck_used": _count(bott.parameters()) - dead,
        "bottleneck_dead_conv4_bn4": dead,
        "decoder": _count(dec.parameters()),
        "decoder_body": _count(dec.parameters()) - heads,
        "decoder_heads": heads,
        "total": _count(model.parameters()),
    }


@torch.no_grad()
def intermediate_shapes(model, image_size, batch=1):
    """Shapes of e_k, the bottleneck output, g_k and the model outputs (eval mode)."""
    model.eval()
    x = torch.zeros(batch, 3, image_size, image_size)
    feats = model.encoder(x)
    z = [torch.cat([f, f], dim=0) for f in feats]
    b = model.bottleneck(z)
    g = model.decoder.body(b)
    en, de = model(x)
    shapes = {f"e{k + 1}": tuple(f.shape) for k, f in enumerate(feats)}
    shapes["bottleneck"] = tuple(b.shape)
    shapes.update({f"g{k + 1}": tuple(t.shape) for k, t in enumerate(g)})
    shapes["en"] = [tuple(t.shape) for t in en]
    shapes["de"] = [tuple(t.shape) for t in de]
    return shapes


# --------------------------------------------------------------------------------------
# Self-check
# --------------------------------------------------------------------------------------
def _bit_equal(a, b):
    return a.shape == b.shape and torch.equal(a, b)


def self_check(verbose=True):
    """(a) easy-position gradients are exactly 0 and hook == detach bit-exactly (random
    tensors and a full resnet18 training step); (b) hard mining leaves the loss value
    unchanged; (c) wide_resnet50_2 shapes at 256^2 and parameter counts."""
    results = {}

    def report(name, ok, detail=""):
        results[name] = ok
        if verbose:
            print(f"[{'PASS' if ok else 'FAIL'}] {name}{': ' + detail if detail else ''}")

    # (a)/(b) on random tensors, B=4, C=8, 6x6, alpha=1: the setting in which the official function was
    # compared with the detach form (Documentation/Engine.md, Method 5).
    gen = torch.Generator()
    gen.manual_seed(1234)
    sizes = [(4, 8, 6, 6), (4, 16, 3, 3), (4, 4, 12, 12)]
    targets = [torch.randn(s, generator=gen) for s in sizes]
    base = [torch.randn(s, generator=gen) for s in sizes]
    grads, values, masks = {}, {}, {}
    for method in ("hook", "detach"):
        preds = [b.clone().requires_grad_(True) for b in base]
        masks[method] = []
        value = global_cosine_hm(targets, preds, alpha=1.0, method=method, masks_out=masks[method])
        value.backward()
        values[method] = value.detach()
        grads[method] = [p.grad.clone() for p in preds]
    easy_zero = all(torch.all(g[m.expand_as(g) == 0] == 0).item()
                    for g, m in zip(grads["hook"], masks["hook"]))
    # Every hard position keeps a non-zero gradient vector (some channel non-zero).
    hard_nonzero = all(torch.all(g.abs().sum(1, keepdim=True)[m == 1] > 0).item()
                       for g, m in zip(grads["hook"], masks["hook"]))
    easy_frac = float(sum((m == 0).sum() for m in masks["hook"]) / sum(m.numel() for m in masks["hook"]))
    report("a1 easy-position gradients exactly 0 (hook)", easy_zero,
           f"easy fraction {easy_frac:.3f}")
    report("a2 every hard position has non-zero gradient", hard_nonzero)
    same = (_bit_equal(values["hook"], values["detach"])
            and all(_bit_equal(a, b) for a, b in zip(grads["hook"], grads["detach"])))
    report("a3 hook vs masked-detach: loss and gradients bit-exact", same)

    with torch.no_grad():
        plain = 0
        for t, p in zip(targets, base):
            plain = plain + torch.mean(1 - F.cosine_similarity(t.reshape(4, -1), p.reshape(4, -1), dim=1))
    report("b1 loss value unchanged by hard mining (random tensors)",
           _bit_equal(plain, values["hook"]) and _bit_equal(plain, values["detach"]),
           f"{values['hook'].item():.9g} vs plain {plain.item():.9g}")

    # (a)/(b) through a whole resnet18 training step (64^2, B=2, alpha=-1 and 1).
    for alpha in (-1.0, 1.0):
        torch.manual_seed(0)
        model = build_model("resnet18")
        gen = torch.Generator()
        gen.manual_seed(1)
        perturb_batchnorm(model, gen)
        x = torch.randn(2, 3, 64, 64, generator=gen)
        init_state = _state_copy(model)
        out = {}
        for method in ("hook", "detach", "none"):
            model.load_state_dict(init_state)
            train_mode(model, True)
            model.zero_grad(set_to_none=True)
            en, de = model(x)
            if method == "none":
                loss = recontrast_loss(en, de, alpha=-float("inf"))  # no position is easy
            else:
                loss = recontrast_loss(en, de, alpha, method=method)
            loss.backward()
            out[method] = (loss.detach(), {n: p.grad.clone() for n, p in model.named_parameters()
                                           if p.grad is not None})
        same = (_bit_equal(out["hook"][0], out["detach"][0])
                and out["hook"][1].keys() == out["detach"][1].keys()
                and all(_bit_equal(out["hook"][1][n], out["detach"][1][n]) for n in out["hook"][1]))
        report(f"a4 resnet18 step alpha={alpha:g}: hook vs detach, loss + {len(out['hook'][1])} "
               "parameter gradients bit-exact", same)
        report(f"b2 resnet18 step alpha={alpha:g}: loss equals no-mining loss",
               _bit_equal(out["hook"][0], out["none"][0]), f"{out['hook'][0].item():.9g}")
        differs = any(not torch.equal(out["hook"][1][n], out["none"][1][n]) for n in out["hook"][1])
        report(f"a5 resnet18 step alpha={alpha:g}: mining changes the gradients", differs)

    # (c) wide_resnet50_2 at 256^2.
    torch.manual_seed(0)
    model = build_model("wide_resnet50_2")
    counts = parameter_counts(model)
    for key, expected in WRN50_EXPECTED_PARAMS.items():
        report(f"c1 wide_resnet50_2 {key} parameters = {expected:,}", counts[key] == expected,
               f"got {counts[key]:,}")
    shapes = intermediate_shapes(model, 256)
    expected_shapes = {
        "e1": (1, 256, 64, 64), "e2": (1, 512, 32, 32), "e3": (1, 1024, 16, 16),
        "bottleneck": (2, 2048, 8, 8),
        "g3": (2, 1024, 16, 16), "g2": (2, 512, 32, 32), "g1": (2, 256, 64, 64),
        "en": [(1, 256, 64, 64), (1, 512, 32, 32), (1, 1024, 16, 16)] * 2,
        "de": [(1, 256, 64, 64), (1, 512, 32, 32), (1, 1024, 16, 16)] * 2,
    }
    for key, expected in expected_shapes.items():
        report(f"c2 wide_resnet50_2 @256 {key} shape", shapes[key] == expected, str(shapes[key]))
    return all(results.values())


# --------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------
def cmd_golden(args):
    start = time.time()
    golden = make_golden(args.backbone, args.image_size, args.batch, args.seed, args.alpha,
                         encoder_bn_train=(args.encoder_bn == "train"),
                         gradient_rounding=args.gradient_rounding)
    torch.save(golden, args.out)
    print(f"golden: wrote {len(golden)} tensors to {args.out} "
          f"(backbone {args.backbone}, {args.image_size}^2, batch {args.batch}, seed {args.seed}, "
          f"encoder BN {args.encoder_bn}, alpha {args.alpha:g}); "
          f"loss {golden['train.loss'].item():.9g} "
          f"(terms {golden['train.loss_term0'].item():.9g}, {golden['train.loss_term1'].item():.9g}); "
          f"{time.time() - start:.2f} s")
    return 0


def cmd_info(args):
    ok = True
    for backbone in args.backbones:
        torch.manual_seed(0)
        model = build_model(backbone)
        counts = parameter_counts(model)
        print(f"{backbone}:")
        for key, value in counts.items():
            line = f"  {key:27s} {value:>13,}"
            if backbone == "wide_resnet50_2" and key in WRN50_EXPECTED_PARAMS:
                match = value == WRN50_EXPECTED_PARAMS[key]
                ok &= match
                line += "  (matches Documentation/Engine.md)" if match else \
                    f"  MISMATCH, expected {WRN50_EXPECTED_PARAMS[key]:,}"
            print(line)
        if not args.no_shapes:
            shapes = intermediate_shapes(model, args.image_size)
            print(f"  shapes @{args.image_size}^2 (batch 1; bottleneck/decoder see batch 2):")
            for key in ("e1", "e2", "e3", "bottleneck", "g3", "g2", "g1"):
                print(f"    {key:10s} {shapes[key]}")
    return 0 if ok else 1


def cmd_selfcheck(args):
    ok = self_check(verbose=True)
    print("selfcheck:", "ALL PASS" if ok else "FAILURES")
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    golden = sub.add_parser("golden", help="write a golden torch.save file")
    golden.add_argument("--backbone", default="resnet18", choices=BACKBONES)
    golden.add_argument("--image-size", type=int, default=64)
    golden.add_argument("--batch", type=int, default=2)
    golden.add_argument("--seed", type=int, default=0)
    golden.add_argument("--alpha", type=float, default=-1.0, help="hard-mining alpha")
    golden.add_argument("--encoder-bn", choices=("train", "eval"), default="train",
                        help="trainable encoder BN mode during the training step")
    golden.add_argument("--gradient-rounding", action="store_true",
                        help="also run the training step in float64 and record float32's rounding per gradient")
    golden.add_argument("--out", default="recontrast_golden.pt")
    golden.set_defaults(func=cmd_golden)

    info = sub.add_parser("info", help="parameter counts (and shapes) per backbone")
    info.add_argument("--backbones", nargs="+", default=list(BACKBONES), choices=BACKBONES)
    info.add_argument("--image-size", type=int, default=256)
    info.add_argument("--no-shapes", action="store_true", help="skip the shape forward pass")
    info.set_defaults(func=cmd_info)

    check = sub.add_parser("selfcheck", help="hard-mining, loss and shape/parameter checks")
    check.set_defaults(func=cmd_selfcheck)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
