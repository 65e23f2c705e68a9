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

Stacked dots, the second flaw, and its fix (``Config.selection``). With ``"paper"`` (the
default, and what every checkpoint without the field loads as) the cells of one (x, y)
column at different grey levels all put their dot at nearly the same x, y: a 16^3 grid has
256 columns for 2 048 dots, so almost every dot lands on top of another. With
``"subcell"`` the third axis no longer means grey: slot k of column (i, j) is a fixed
position of an a x b sub-grid of the cell (a * b = G, e.g. 4 x 4 for G = 16), and the
offsets move its dot only over the middle ``SUBCELL_SPREAD`` of that sub-cell, so no two
dots are ever closer than half a sub-cell. Why not top-K over these cells: top-K of a smooth
density is a hard threshold (dark areas full, light ones empty). So each column gets its
share of N from its softmax mass (capped at G, rounded to exactly N in total) and fills its
slots in one fixed dispersed (ordered-dither) order: any count of dots is spread over the
cell, and tone is what the network learns, per column. The dots are coloured from the photo
(``predict`` returns None; the engine samples it); the grey offset channel stays a learned
grey estimate for the colour loss. The density head is trained by the density term alone
(see :func:`subcell_points`).

``"guided"``, the second fix (the one ``training/configs/li2021-fix.toml`` trains): the
network still decides how much ink each (x, y) column gets (its softmax mass,
:func:`column_mass`), and the image's darkness decides where inside the column the dots go.
The darkness is rescaled per column to the network's shares (:func:`guided_darkness`) and
dithered into exactly N dots by the blue-noise ``dither`` engine. So no column has a fixed
slot order (no lattice) or a cap of G dots (dark columns at large N), and a column's tone
follows the image at the dither's resolution instead of the column's. The offsets are not
used; only the density head is trained (training.tasks.li2021).

``image_skip`` (off by default, so the faithful variant and old checkpoints are unchanged;
``training/configs/li2021-fix-skip.toml`` turns it on) is an architecture fix for
``guided``: the decoder also sees the image at its own grid resolution. The call's
darkness (its tone; in training the default tone, 1 - Rec. 709 luminance) is averaged over
the (x, y) columns of each decoder resolution (:func:`grid_darkness`); it and its log (plus
GUIDED_FLOOR), broadcast along the grey axis, are two extra input channels of every decoder
block and of the density head, and a learned gain (starting at 0) times the log column
darkness is added to the density logits. It is an input of the network, computed from the
image it is given. Without it the style vector has to carry 256 column shares through a
4^3 constant and AdaIN, which a short CPU training does not learn (tone 22 dB against 29
dB for the image's own shares). With it, said plainly, the network passes the skip on: the
training target is a function of the skip input, the trained shares are as good as the
image's own, and a pass-through of the skip alone (gain 1, density head zeroed, untrained)
scores within 0.05 dB of the trained network; the encoder adds nothing measurable.
``area_shares`` (prediction only) weights each column's share by its pixel count, for
images whose sides are not multiples of the grid (:func:`guided_mass`).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import lru_cache
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
    encoder_width: int = 64
    """Channels of the encoder's first stage (doubled at each of its four stages); 64 is
    torchvision's ResNet, and ImageNet weights fit that width only. A narrower ResNet keeps
    the checkpoint small."""
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
    selection: str = "paper"
    """How cells become dots: ``paper`` (top-K over (x, y, grey) cells, grey-coloured dots,
    the published design), ``subcell`` (the third axis is sub-cell slots, dots allotted
    per column; the first stacked-dots fix) or ``guided`` (column shares from the network,
    dots placed inside each column by dithering the image's darkness); see the module
    docstring."""
    image_skip: bool = False
    """Give the decoder the image's column darkness at each grid resolution as extra input
    channels (and a learned gain on its log in the density logits); see the module
    docstring. Off in the published design."""
    area_shares: bool = False
    """With ``guided``: read the network's column shares per unit area and weight each by its
    column's pixel count before placing the dots (:func:`column_areas`). Training images are
    square and cut into equal columns, but an image whose sides are not multiples of the grid
    has columns a pixel wider or taller than others. Off: the shares are used as they are
    (what checkpoints without the field do)."""


ENCODERS = ("resnet50", "resnet18")
SKIP_CHANNELS = 2
"""Extra decoder input channels with ``image_skip``: column darkness and its log."""
SELECTIONS = ("paper", "subcell", "guided")
SUBCELL_SPREAD = 0.5
"""With ``subcell``, the share of its sub-cell (per axis, centred) a dot's offset covers."""
GUIDED_FLOOR = 1e-3
"""With ``guided``, darkness added to every pixel before a column's share is spread over it
(relative to black): a column the network inks but the image leaves white gets even dots."""
GUIDED_MIN_INK = 1e-6
"""With ``guided``, the least ink of a pixel relative to the darkest one, so that every
dither cell is inked and exactly N dots come out."""

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def _check(config: Config) -> int:
    """Validate ``config``; return the number of x2 upsamplings of the decoder."""
    if config.encoder not in ENCODERS:
        raise StipplrError(f"li2021: encoder must be one of {', '.join(ENCODERS)}")
    if config.selection not in SELECTIONS:
        raise StipplrError(f"li2021: selection must be one of {', '.join(SELECTIONS)}")
    if config.encoder_width < 1:
        raise StipplrError("li2021: encoder_width must be at least 1")
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


def _encoder(name: str, width: int = 64) -> tuple[nn.Module, int]:
    """A torchvision ResNet without its classifier (random init) and its feature width;
    ``width`` other than 64 rebuilds its stem and four stages ``width`` x 1, 2, 4, 8 wide
    (the same blocks and depths)."""
    net = getattr(torchvision.models, name)(weights=None)
    if width != 64:
        block = type(net.layer1[0])
        depths = [len(getattr(net, f"layer{i}")) for i in range(1, 5)]
        net.inplanes = width
        net.conv1 = nn.Conv2d(3, width, 7, stride=2, padding=3, bias=False)
        net.bn1 = nn.BatchNorm2d(width)
        for i, depth in enumerate(depths):
            stage = net._make_layer(block, width * 2**i, depth, stride=1 if i == 0 else 2)
            setattr(net, f"layer{i + 1}", stage)
        net.fc = nn.Linear(width * 8 * block.expansion, 1)
    features = net.fc.in_features
    net.fc = nn.Identity()
    return net, features


class Li2021(nn.Module):
    """The li2021 network: ``forward`` gives the grids, ``predict`` gives N dots."""

    def __init__(self, config: Config) -> None:
        super().__init__()
        ups = _check(config)
        self.config = config
        self.encoder, features = _encoder(config.encoder, config.encoder_width)
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
        extra = SKIP_CHANNELS if config.image_skip else 0
        self.blocks = nn.ModuleList(
            DecoderBlock(a + extra, b, config.style_dim, config.dropout)
            for a, b in zip(widths[:-1], widths[1:], strict=True)
        )
        self.upsample_before = [i > 0 and i % 2 == 1 for i in range(1 + 2 * ups)]
        self.density_head = _head(config.channels[-1] + extra, config.density_widths, 1)
        if config.image_skip:
            self.skip_gain = nn.Parameter(torch.zeros(()))
        self.offset_head = _head(config.channels[-1], config.offset_widths, 3)
        self.n_range = (1, None if config.selection == "guided" else config.grid**3)
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

    def forward(self, rgb: Tensor, darkness: Tensor | None = None) -> dict[str, Tensor]:
        """Density logits (B, G, G, G) and offsets in [0, 1] (B, 3, G, G, G) for an image.
        ``darkness`` (B, H, W): what ``image_skip`` reads (the call's tone); None: the
        default tone of ``rgb``, as in training."""
        style = self.encode(rgb)
        x = self.constant.expand(len(rgb), -1, -1, -1, -1)
        skip = self.config.image_skip
        dark = grid_darkness(rgb, self.config.grid, darkness) if skip else None
        for block, upsample in zip(self.blocks, self.upsample_before, strict=True):
            if upsample:
                x = F.interpolate(x, scale_factor=2, mode="nearest")
            x = block(self._with_image(x, dark), style)
        density = self.density_head(self._with_image(x, dark))[:, 0]
        if dark is not None:
            density = density + self.skip_gain * torch.log(dark + GUIDED_FLOOR)[..., None]
        offsets = torch.sigmoid(self.offset_head(x))
        return {"density": density, "offsets": offsets}

    @staticmethod
    def _with_image(x: Tensor, dark: Tensor | None) -> Tensor:
        """``x`` (B, C, g, g, g) with ``image_skip``'s channels: the column darkness
        (B, G, G) averaged to g x g and its log, broadcast along the grey axis."""
        if dark is None:
            return x
        g = x.shape[-1]
        small = (
            F.avg_pool2d(dark[:, None], dark.shape[-1] // g)
            if g < dark.shape[-1]
            else dark[:, None]
        )
        skip = torch.cat((small, torch.log(small + GUIDED_FLOOR)), 1)[..., None]
        return torch.cat((x, skip.expand(-1, -1, -1, -1, g).to(x.dtype)), 1)

    def predict(self, rgb: Tensor, darkness: Tensor | None, n: int) -> tuple[Tensor, Tensor | None]:
        """N dots per image: xy (B, N, 2) and grey rgb (B, N, 3), or None with ``subcell``
        and ``guided`` (the engine samples the photo). ``darkness`` (B, 1, H, W) is used by
        ``guided``, to place the dots inside each column, and by ``image_skip`` (None: the
        default tone of ``rgb``)."""
        grids = self(rgb, None if darkness is None else darkness[:, 0])
        if self.config.selection == "guided":
            return guided_points(grids, darkness[:, 0], n, self.config.area_shares), None
        points, _ = select_points(grids, n, self.config)
        if self.config.selection == "subcell":
            return points[..., :2], None
        return points[..., :2], points[..., 2:3].expand(-1, -1, 3)


def select_points(grids: dict[str, Tensor], n: int, config: Config) -> tuple[Tensor, Tensor]:
    """The N dots of ``config.selection``: :func:`extract_points` or :func:`subcell_points`."""
    if config.selection == "subcell":
        return subcell_points(grids, n)
    return extract_points(grids, n, config.temperature)


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


def subgrid(grid: int) -> tuple[int, int]:
    """Sub-cell slots (a across, b down) of one column, a * b = grid, a >= b, nearest square."""
    down = max(d for d in range(1, math.isqrt(grid) + 1) if grid % d == 0)
    return grid // down, down


@lru_cache(maxsize=8)
def dispersed_order(across: int, down: int) -> Tensor:
    """Rank (a * b,) of each slot (k = row * a + column) in a farthest-point order on the
    torus of the a x b sub-grid (4 x 4 gives a Bayer-like ordered-dither matrix): any first
    m slots are spread over the cell."""
    x = torch.arange(across * down) % across
    y = torch.arange(across * down) // across
    dx = (x[:, None] - x[None, :]).abs()
    dy = (y[:, None] - y[None, :]).abs()
    dx = torch.minimum(dx, across - dx) / across
    dy = torch.minimum(dy, down - dy) / down
    dist = dx.double().square() + dy.double().square()
    chosen = [0]
    nearest = dist[0].clone()
    for _ in range(across * down - 1):
        nearest[chosen] = -1.0
        best = int(nearest.argmax())  # first of the farthest: deterministic
        chosen.append(best)
        nearest = torch.minimum(nearest, dist[best])
    rank = torch.empty(across * down, dtype=torch.long)
    rank[torch.tensor(chosen)] = torch.arange(across * down)
    return rank


def column_counts(mass: Tensor, n: int, cap: int) -> Tensor:
    """Integer dot counts (B, C), each <= ``cap`` and summing to ``n``, from column masses
    (B, C) >= 0: scaled to n, capped by water-filling, then rounded by largest remainder."""
    want = mass.double().clamp(min=0) + 1e-12
    want = want * (n / want.sum(dim=1, keepdim=True))
    for _ in range(4 * cap + 8):
        over = want > cap
        if not bool(over.any()):
            break
        excess = (want - cap).clamp(min=0).sum(dim=1, keepdim=True)
        want = want.clamp(max=cap)
        room = torch.where(want < cap, want, torch.zeros_like(want))
        want = want + excess * room / room.sum(dim=1, keepdim=True).clamp(min=1e-300)
    want = want.clamp(max=cap)
    counts = want.floor()
    left = n - counts.sum(dim=1, keepdim=True)
    frac = torch.where(counts < cap, want - counts, torch.full_like(want, -1.0))
    order = frac.argsort(dim=1, descending=True).argsort(dim=1)
    counts = counts + (order < left).double()
    return counts.long()


def slot_index(xy: Tensor, grid: int) -> Tensor:
    """Flat ``subcell`` cell index (..., ) = (i * G + j) * G + k of positions (..., 2) in [0, 1]."""
    across, down = subgrid(grid)
    sx = (xy[..., 0].clamp(0, 1) * grid * across).long().clamp(max=grid * across - 1)
    sy = (xy[..., 1].clamp(0, 1) * grid * down).long().clamp(max=grid * down - 1)
    column = (sx // across) * grid + sy // down
    return column * grid + (sy % down) * across + sx % across


def slot_histogram(xy: Tensor, grid: int) -> Tensor:
    """Counts (B, G, G, G) of (B, N, 2) dots over the ``subcell`` cells (the density target)."""
    flat = slot_index(xy, grid)
    counts = xy.new_zeros(len(xy), grid**3).scatter_add(1, flat, xy.new_ones(flat.shape))
    return counts.view(len(xy), grid, grid, grid)


def subcell_points(grids: dict[str, Tensor], n: int) -> tuple[Tensor, Tensor]:
    """``subcell`` selection: N dots (B, N, 3) = (x, y, grey) in [0, 1], plus weights (B, N).

    Column (i, j) gets its share of N by its softmax mass (capped at G dots); its dots take
    the first slots of :func:`dispersed_order` (the same order in every column). Dot k of column
    (i, j) lies in sub-cell (k mod a, k div a) of an a x b split of the cell, moved by the
    offsets over the middle ``SUBCELL_SPREAD`` of it; grey is the third offset directly.
    The weights are plain ones: the counts are a function of the column masses only, which
    the density term supervises directly (softmax over all cells vs the teacher's dots per
    column, see training.tasks.li2021). A straight-through gradient as in
    :func:`extract_points` made the density loss diverge here (KL 0.7 to 800 in six epochs:
    every positive per-dot loss pushes its slot's logit down).
    """
    logits = grids["density"]
    batch, g = logits.shape[0], logits.shape[-1]
    if not 1 <= n <= g**3:
        raise StipplrError(f"li2021: can place 1 to {g**3} dots with this grid, not {n}")
    across, down = subgrid(g)
    counts = column_counts(column_mass(logits.detach()).flatten(1), n, g)
    slot = dispersed_order(across, down).argsort().to(logits.device).expand(batch, g * g, g)
    taken = torch.arange(g, device=logits.device) < counts[..., None]  # n per image
    column = torch.arange(g * g, device=logits.device)[None, :, None].expand_as(slot)
    flat = (column * g + slot)[taken].view(batch, n)
    k = flat % g
    col = flat // g
    i, j = col // g, col % g
    offsets = grids["offsets"].flatten(2).gather(2, flat[:, None, :].expand(-1, 3, -1))
    inner = 0.5 + SUBCELL_SPREAD * (offsets[:, :2] - 0.5)  # (B, 2, N)
    x = (i + ((k % across) + inner[:, 0]) / across) / g
    y = (j + ((k // across) + inner[:, 1]) / down) / g
    return torch.stack((x, y, offsets[:, 2]), dim=-1), torch.ones_like(x)


def column_mass(logits: Tensor) -> Tensor:
    """Share (B, G, G) of the softmax over all cells of (B, G, G, G) logits in each (x, y)
    column, index [b, i, j] with i along x: the ink the network gives each column."""
    return torch.softmax(logits.flatten(1), 1).view_as(logits).sum(-1)


def grid_darkness(rgb: Tensor, grid: int, darkness: Tensor | None = None) -> Tensor:
    """Mean darkness (B, G, G) of each (x, y) column of images (B, 3, H, W) in [0, 1],
    index [b, i, j] with i along x, over the pixels :func:`column_of_pixels` gives each
    column (``image_skip``'s input): of ``darkness`` (B, H', W') if given, else
    1 - Rec. 709 luminance of ``rgb`` (the default tone, what training sees)."""
    if darkness is None:
        luma = rgb.new_tensor((0.2126, 0.7152, 0.0722)).view(1, 3, 1, 1)
        darkness = (1 - (rgb * luma).sum(1)).clamp(0, 1)  # (B, H, W)
    dark = darkness.to(rgb.dtype)
    batch, height, width = dark.shape
    cx = column_of_pixels(width, grid, rgb.device)
    cy = column_of_pixels(height, grid, rgb.device)
    index = (cx[None, :] * grid + cy[:, None]).flatten()
    sums = dark.new_zeros(batch, grid * grid).index_add_(1, index, dark.flatten(1))
    counts = dark.new_zeros(grid * grid).index_add_(0, index, dark.new_ones(index.shape))
    return (sums / counts.clamp(min=1)).view(batch, grid, grid)


def column_of_pixels(size: int, grid: int, device: torch.device | None = None) -> Tensor:
    """Column index (size,) of each pixel along an axis of ``size`` pixels cut into ``grid``."""
    return torch.arange(size, device=device) * grid // size


def guided_darkness(darkness: Tensor, mass: Tensor) -> Tensor:
    """Darkness (B, H, W) rescaled per column so that column (i, j) holds the share
    ``mass[b, i, j]`` of the ink, spread over the column as the image's own darkness (plus
    GUIDED_FLOOR); scaled to a maximum of 1 and floored at GUIDED_MIN_INK for the dither."""
    batch, height, width = darkness.shape
    grid = mass.shape[-1]
    cx = column_of_pixels(width, grid, darkness.device)
    cy = column_of_pixels(height, grid, darkness.device)
    ink = darkness.double().clamp(0, 1) + GUIDED_FLOOR
    index = (cx[None, :] * grid + cy[:, None]).flatten()  # flat (i, j) of each pixel
    sums = ink.new_zeros(batch, grid * grid).index_add_(1, index, ink.flatten(1))
    share = mass.double().flatten(1) / sums.clamp(min=1e-300)
    scaled = ink * share[:, index].view(batch, height, width)
    peak = scaled.flatten(1).amax(1).clamp(min=1e-300)[:, None, None]
    return (scaled / peak).clamp(min=GUIDED_MIN_INK)


def column_areas(height: int, width: int, grid: int, device=None) -> Tensor:
    """Pixel count (G, G) of each (x, y) column of an image, index [i, j] with i along x."""
    cx = torch.bincount(column_of_pixels(width, grid, device), minlength=grid)
    cy = torch.bincount(column_of_pixels(height, grid, device), minlength=grid)
    return (cx[:, None] * cy[None, :]).double()


def guided_mass(logits: Tensor, height: int, width: int, by_area: bool = False) -> Tensor:
    """The ink share (B, G, G) of each column for an image of height x width pixels: the
    network's :func:`column_mass`, with ``by_area`` weighted by :func:`column_areas` (shares
    per unit area, as learnt on square images of equal columns) and summing to 1 again."""
    mass = column_mass(logits)
    if not by_area:
        return mass
    mass = mass.double() * column_areas(height, width, mass.shape[-1], mass.device)
    return mass / mass.flatten(1).sum(1)[:, None, None]


def guided_points(
    grids: dict[str, Tensor], darkness: Tensor, n: int, by_area: bool = False
) -> Tensor:
    """``guided`` selection: N dots (B, N, 2) from the blue-noise dither
    (:func:`stipplr.engines.dither.dither`) of :func:`guided_darkness`.

    The network decides how much ink each (x, y) column gets (:func:`column_mass`); the
    image's darkness decides where inside the column it goes, at the dither's resolution.
    Dither cells never hold two dots (no stacking) and have no per-column cap, and the
    threshold texture differs from column to column (no repeated slot order). With
    ``by_area`` the shares are per unit area: each is weighted by its column's pixel count.
    """
    from stipplr.engines.dither import dither

    if n < 1:
        raise StipplrError(f"li2021: needs at least 1 dot, not {n}")
    mass = guided_mass(grids["density"].detach(), *darkness.shape[-2:], by_area)
    maps = guided_darkness(darkness, mass)
    xy = [torch.from_numpy(dither(m, n)) for m in maps.cpu().numpy()]
    return torch.stack(xy).to(grids["density"].device, grids["offsets"].dtype)


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
    if config.encoder_width != 64:
        warnings.warn(
            f"li2021: no ImageNet weights fit a {config.encoder} {config.encoder_width} wide; "
            "the encoder starts from random weights",
            stacklevel=2,
        )
        return False
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
