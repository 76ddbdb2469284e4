"""What one network's features hold for one image: the explorer's look inside a teacher before it is distilled.

``feature_view`` reads a network's taps (``kdlab.ml.features``: the two conv blocks' maps and the last hidden
layer) for one digit and keeps what a student can look at: each block's spatial attention map (Zagoruyko &
Komodakis, what attention transfer copies), its most active channels, and how many units of the last hidden
layer fire (what hints, RKD and SP use). No Streamlit; the explorer draws it (``kdlab.plots.features``).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
from torch import nn

from kdlab.ml.features import BLOCK_TAPS, EMBEDDING, attention_map, predict_features, tap_modules

TOP_CHANNELS = 8  # the most active channels the explorer shows of each block
BRIGHTEST_FRACTION = 0.1  # "the brightest 10% of the cells hold x% of the attention"


@dataclass(frozen=True)
class BlockView:
    """One conv block's features for one image: ``shape`` (C, H, W) of its maps; ``attention`` (H, W), the
    spatial attention map (unit L2 norm); ``channels``, the most active channels' indices, most active first,
    with their ``maps`` (k, H, W) and ``activity`` (k,), each channel's mean activation; ``grid``, where the
    cells sit on the digit (``pixel_grid``)."""

    tap: str
    shape: tuple[int, int, int]
    attention: torch.Tensor
    channels: tuple[int, ...]
    maps: torch.Tensor
    activity: torch.Tensor
    grid: tuple[float, float] = (0.0, 1.0)

    def pixel(self, cell: int) -> float:
        """The digit's pixel (row or column, 0 to 27) at the centre of the map's row or column ``cell``."""
        origin, step = self.grid
        return origin + cell * step

    @property
    def peak(self) -> tuple[int, int]:
        """The (row, column) of the map's cell with the most attention."""
        row, column = divmod(int(self.attention.argmax()), self.shape[2])
        return row, column

    @property
    def shares(self) -> torch.Tensor:
        """Each cell's share of the attention (H, W), summing to 1 (the map as a fraction of its total)."""
        return self.attention / self.attention.sum().clamp_min(1e-12)

    def brightest_share(self, fraction: float = BRIGHTEST_FRACTION) -> tuple[int, float]:
        """How many cells are the brightest ``fraction`` of the map, and the share of the attention they hold."""
        cells = max(1, round(fraction * self.attention.numel()))
        return cells, float(self.shares.flatten().topk(cells).values.sum())


@dataclass(frozen=True)
class HiddenView:
    """The last hidden layer for one image: its ``size`` (units), how many are ``active`` (above 0), and the
    strongest unit's index and value."""

    size: int
    active: int
    strongest: int
    strongest_value: float


@dataclass(frozen=True)
class FeatureView:
    """A network's features for one image: its conv blocks (none for an MLP) and its last hidden layer (None
    for a network without one, ``linear``)."""

    blocks: tuple[BlockView, ...]
    hidden: HiddenView | None


def feature_view(model: nn.Module, image: torch.Tensor, top: int = TOP_CHANNELS) -> FeatureView:
    """``model``'s features for one uint8 ``image`` (28, 28), read without gradients in eval mode.

    The hooks go on a private copy of the model: a teacher's model is shared by every session and training
    thread, and a forward hook on it would catch their passes too. Measured for ``cnn-wide`` (1.1 M parameters)
    on one thread of a busy 2-core machine: the whole view, copy included, 11 to 19 ms (medians of 20 digits);
    the explorer keeps one view per session."""
    if image.shape != (28, 28) or image.dtype != torch.uint8:
        raise ValueError(f"feature_view needs one uint8 28 x 28 digit, not {image.dtype} {tuple(image.shape)}.")
    private = copy.deepcopy(model).cpu().eval()
    modules = tap_modules(private)
    if not modules:
        return FeatureView((), None)
    features = predict_features(private, image[None], tuple(modules), device=torch.device("cpu"))
    blocks = tuple(
        block_view(tap, features[tap][0], top, pixel_grid(private, modules[tap]))
        for tap in BLOCK_TAPS
        if tap in features
    )
    hidden = None
    if EMBEDDING in features:
        units = features[EMBEDDING][0]  # (D,)
        strongest = int(units.argmax())
        hidden = HiddenView(len(units), int((units > 0).sum()), strongest, float(units[strongest]))
    return FeatureView(blocks, hidden)


def pixel_grid(model: nn.Sequential, tap: nn.Module) -> tuple[float, float]:
    """Where the cells of ``tap``'s maps sit on the input digit: the centre of cell 0, in the digit's pixels,
    and the step from one cell's centre to the next. Each conv or pooling layer up to ``tap`` (kernel k,
    stride s, padding p) puts its output cell j at j * s + (k - 1) / 2 - p of its input (``cnn-wide``:
    block 1's 12 cells at pixels 2.5, 4.5, ..., 24.5; block 2's 4 at 7.5, 11.5, 15.5, 19.5)."""
    origin, step = 0.0, 1.0
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.MaxPool2d)):
            kernel, stride, padding = (_first(getattr(layer, name)) for name in ("kernel_size", "stride", "padding"))
            origin += step * ((kernel - 1) / 2 - padding)
            step *= stride
        if layer is tap:
            break
    return origin, step


def _first(value: int | tuple[int, ...]) -> int:
    return value[0] if isinstance(value, tuple) else value


def block_view(
    tap: str, maps: torch.Tensor, top: int = TOP_CHANNELS, grid: tuple[float, float] = (0.0, 1.0)
) -> BlockView:
    """A block's view from its maps (C, H, W) for one image: its attention map, its ``top`` most active
    channels (by mean activation), and ``grid``, where its cells sit on the digit (``pixel_grid``)."""
    channels, height, width = maps.shape
    attention = attention_map(maps[None])[0].reshape(height, width)  # (H, W)
    activity = maps.mean(dim=(1, 2))  # (C,)
    strongest = activity.argsort(descending=True)[: min(top, channels)]
    return BlockView(
        tap=tap,
        shape=(channels, height, width),
        attention=attention,
        channels=tuple(int(index) for index in strongest),
        maps=maps[strongest].clone(),
        activity=activity[strongest].clone(),
        grid=grid,
    )
