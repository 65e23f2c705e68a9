"""li2021: the stippling network of the paper, a ResNet encoder and an AdaIN 3-D grid decoder.

The image is encoded (frozen ImageNet ResNet) into a style vector; a decoder grows a learned
constant into a G x G x G grid over (x, y, grey level) with AdaIN after every 3-D
convolution. Per cell, a density head scores "a dot lives here" and an offset head places
it inside the cell: ``x = (i + dx) / G``, ``y = (j + dy) / G``, ``grey = (k + dc) / G``.
The N best cells are the N dots, each coloured with its grey level (0 black, 1 white).

Grid axes: ``density[b, i, j, k]`` and ``offsets[b, :, i, j, k]`` with i along x (right),
j along y (down) and k along the grey level.

Known flaw of the published design, fixed here: picking the top-K cells passes no gradient
to the density head. :func:`extract_points` returns straight-through weights (exactly 1
forward, sigmoid gradient backward) to multiply per-point losses with, and ``forward``
exposes the density logits so training adds a term on every cell (the li2021 training
task compares them with the histogram of the teacher's dots).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from pathlib import Path

import torch
import torchvision
from torch import Tensor, nn
from torch.nn import functional as F

from stipplr.errors import StipplrError, one_line


@dataclass
class Config:
    """li2021 settings; the defaults are the published ones."""

    encoder: str = "resnet50"
    """Image encoder: ``resnet50`` (paper) or ``resnet18`` (small, CPU-trainable)."""
    encoder_weights: str | None = None
    """ImageNet state dict for the encoder; None looks in torchvision's cache (never downloads)."""
    freeze_encoder: bool = True
    input_size: int = 224
    """The image is resized to input_size x input_size before encoding (224 or 256)."""
    style_dim: int = 1024
    style_layers: int = 3
    grid: int = 32
    """Cells per axis of the (x, y, grey) grid: a power-of-two multiple of ``base_grid``."""
    base_grid: int = 2
    channels: tuple[int, ...] = (512, 512, 256, 256, 128, 128, 64, 64, 62)
    """Decoder widths: one block at the base grid, then two per x2 upsampling."""
    density_widths: tuple[int, ...] = (16, 8, 4)
    offset_widths: tuple[int, ...] = (64, 64, 32, 32, 16, 16, 8)
    dropout: float = 0.2
    temperature: float = 1.0
    """Softness of the straight-through top-K gradient (in logit units)."""


ENCODERS = ("resnet50", "resnet18")
IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _check(config: Config) -> int:
    """Validate ``config``; return the number of x2 upsamplings of the decoder."""
    if config.encoder not in ENCODERS:
        raise StipplrError(f"li2021: encoder must be one of {', '.join(ENCODERS)}")
    ups = math.log2(config.grid / config.base_grid)
    if config.grid < config.base_grid or ups != int(ups):
        raise StipplrError("li2021: grid must be base_grid times a power of two")
    if len(config.channels) != 1 + 2 * int(ups):
        raise StipplrError(
            f"li2021: grid {config.grid} needs {1 + 2 * int(ups)} decoder channels, "
            f"got {len(config.channels)}"
        )
    return int(ups)


class AdaIN(nn.Module):
    """Instance-normalise a 3-D feature map, then scale and shift it from the style vector."""

    def __init__(self, channels: int, style_dim: int) -> None:
        super().__init__()
        self.norm = nn.InstanceNorm3d(channels, affine=False)
        self.affine = nn.Linear(style_dim, 2 * channels)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        """Normalised ``x`` scaled by 1 + gamma and shifted by beta from ``style``."""
        gamma, beta = self.affine(style)[:, :, None, None, None].chunk(2, dim=1)
        return self.norm(x) * (1 + gamma) + beta


class DecoderBlock(nn.Module):
    """conv3d 3x3x3 -> AdaIN -> ELU -> dropout."""

    def __init__(self, c_in: int, c_out: int, style_dim: int, dropout: float) -> None:
        super().__init__()
        self.conv = nn.Conv3d(c_in, c_out, 3, padding=1)
        self.adain = AdaIN(c_out, style_dim)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: Tensor, style: Tensor) -> Tensor:
        """Convolution, AdaIN, ELU, dropout."""
        return self.dropout(F.elu(self.adain(self.conv(x), style)))


def _head(c_in: int, widths: tuple[int, ...], c_out: int) -> nn.Sequential:
    """1x1x1 convolutions ``c_in -> widths... -> c_out`` with ELU between them."""
    layers: list[nn.Module] = []
    for width in widths:
        layers += [nn.Conv3d(c_in, width, 1), nn.ELU()]
        c_in = width
    layers.append(nn.Conv3d(c_in, c_out, 1))
    return nn.Sequential(*layers)


def _encoder(name: str) -> tuple[nn.Module, int]:
    """A torchvision ResNet without its classifier (random init) and its feature width."""
    net = getattr(torchvision.models, name)(weights=None)
    features = net.fc.in_features
    net.fc = nn.Identity()
    return net, features


class Li2021(nn.Module):
    """The li2021 network: ``forward`` gives the grids, ``predict`` gives N dots."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        ups = _check(config)
        self.config = config
        self.encoder, features = _encoder(config.encoder)
        if config.freeze_encoder:
            self.encoder.requires_grad_(False)
        self.project = nn.Linear(features, config.style_dim)
        mlp: list[nn.Module] = []
        for _ in range(config.style_layers):
            mlp += [nn.Linear(config.style_dim, config.style_dim), nn.ReLU()]
        self.style = nn.Sequential(*mlp)
        c0 = config.channels[0]
        self.constant = nn.Parameter(torch.randn(1, c0, *(config.base_grid,) * 3))
        widths = (c0, *config.channels)
        self.blocks = nn.ModuleList(
            DecoderBlock(a, b, config.style_dim, config.dropout)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.upsample_before = [i > 0 and i % 2 == 1 for i in range(1 + 2 * ups)]
        self.density_head = _head(config.channels[-1], config.density_widths, 1)
        self.offset_head = _head(config.channels[-1], config.offset_widths, 3)
        self.n_range = (1, config.grid**3)
        self.fixed_n = None

    def train(self, mode: bool = True) -> Li2021:
        """Train mode everywhere except a frozen encoder (its batch norms stay in eval)."""
        super().train(mode)
        if self.config.freeze_encoder:
            self.encoder.eval()
        return self

    def encode(self, rgb: Tensor) -> Tensor:
        """(B, 3, H, W) RGB in [0, 1] -> (B, style_dim) style vector."""
        size = self.config.input_size
        x = F.interpolate(rgb, size=(size, size), mode="bilinear", antialias=True)
        mean = x.new_tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
        x = (x - mean) / x.new_tensor(IMAGENET_STD).view(1, 3, 1, 1)
        with torch.set_grad_enabled(torch.is_grad_enabled() and not self.config.freeze_encoder):
            features = self.encoder(x)
        return self.style(self.project(features))

    def forward(self, rgb: Tensor) -> dict[str, Tensor]:
        """Density logits (B, G, G, G) and offsets in [0, 1] (B, 3, G, G, G) for an image."""
        style = self.encode(rgb)
        x = self.constant.expand(len(rgb), -1, -1, -1, -1)
        for block, upsample in zip(self.blocks, self.upsample_before, strict=True):
            if upsample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = block(x, style)
        density = self.density_head(x)[:, 0]
        offsets = torch.sigmoid(self.offset_head(x))
        return {"density": density, "offsets": offsets}

    def predict(self, rgb: Tensor, darkness: Tensor, n: int) -> tuple[Tensor, Tensor]:
        """N dots per image: xy (B, N, 2) and grey rgb (B, N, 3). Uses the RGB image only."""
        points, _ = extract_points(self(rgb), n, self.config.temperature)
        return points[..., :2], points[..., 2:3].expand(-1, -1, 3)


def extract_points(
    grids: dict[str, Tensor], n: int, temperature: float = 1.0
) -> tuple[Tensor, Tensor]:
    """The N densest cells as points (B, N, 3) = (x, y, grey) in [0, 1], plus weights (B, N).

    Points are differentiable through the offsets; the weights are exactly 1 but carry a
    straight-through gradient to the density logits (sigmoid around the top-K threshold).
    """
    logits = grids["density"].flatten(1)
    cells = logits.shape[1]
    if not 1 <= n <= cells:
        raise StipplrError(f"li2021: can place 1 to {cells} dots with this grid, not {n}")
    top = logits.topk(min(n + 1, cells), dim=1)
    chosen, index = top.values[:, :n], top.indices[:, :n]
    threshold = top.values[:, -1] if n < cells else chosen[:, -1] - temperature
    threshold = ((chosen[:, -1] + threshold) / 2).detach()
    soft = torch.sigmoid((chosen - threshold[:, None]) / temperature)
    weights = 1 + soft - soft.detach()
    g = grids["density"].shape[-1]
    cell = torch.stack((index // (g * g), (index // g) % g, index % g), dim=-1)
    offsets = grids["offsets"].flatten(2).gather(2, index[:, None, :].expand(-1, 3, -1))
    points = (cell.to(offsets.dtype) + offsets.transpose(1, 2)) / g
    return points, weights


def find_encoder_weights(config: Config) -> Path | None:
    """The local ImageNet weights for the encoder: ``encoder_weights`` or torchvision's cache."""
    if config.encoder_weights:
        path = Path(config.encoder_weights).expanduser()
        return path if path.is_file() else None
    cache = Path(torch.hub.get_dir()) / "checkpoints"
    found = sorted(cache.glob(f"{config.encoder}-*.pth"))
    return found[0] if found else None


def init_encoder(model: Li2021, config: Config) -> bool:
    """Load local ImageNet weights into the encoder (never downloads); False when missing.

    For training: a missing file gives a one-line warning and the encoder keeps its
    random init (then train with ``freeze_encoder = false``).
    """
    path = find_encoder_weights(config)
    if path is None:
        where = config.encoder_weights or Path(torch.hub.get_dir()) / "checkpoints"
        warnings.warn(
            f"li2021: no ImageNet weights for {config.encoder} in {where}; "
            "the encoder starts from random weights",
            stacklevel=2,
        )
        return False
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        model.encoder.load_state_dict(state)
    except Exception as exc:  # any unreadable or mismatched file is one line for the user
        reason = one_line(exc)
        raise StipplrError(f"{path}: not {config.encoder} ImageNet weights ({reason})") from None
    return True


def build(config: Config) -> Li2021:
    """An untrained li2021 network (call :func:`init_encoder` to start training from ImageNet)."""
    return Li2021(config)
