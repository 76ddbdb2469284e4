"""The model zoo: named MNIST architectures, any of which can be teacher or student.

Architectures are a plain dict of builders (no decorator registry). Besides the fixed
entries there is a parametric MLP family ``mlp-<width>x<depth>`` (width 10..1200,
depth 1..3) so the lab can shrink a student smoothly. Every model takes a batch of
normalised images shaped (B, 1, 28, 28) and returns logits shaped (B, 10).

Dropout layers draw their masks from a per-run ``torch.Generator`` (see
``SeededDropout``) so that runs in concurrent threads stay reproducible.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

NUM_CLASSES = 10
IMAGE_PIXELS = 28 * 28
MLP_WIDTH_RANGE = (10, 1200)
MLP_DEPTH_RANGE = (1, 3)
# [0-9], not \d: \d also matches other scripts' digits ("mlp-١٠٠x1"), which would name the same model twice.
_MLP_PATTERN = re.compile(r"^mlp-([0-9]+)x([0-9]+)$")
MAX_ARCHITECTURE_NAME_LENGTH = 40  # names arrive from links and forms: bound them before parsing
_BUILD_LOCK = threading.Lock()


class SeededDropout(nn.Module):
    """Dropout whose masks come from ``self.generator`` when one is attached.

    ``nn.Dropout`` draws from the global RNG, which concurrent training threads share;
    the trainer attaches its own seeded generator so every run is reproducible alone.
    """

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = 1.0 - self.p
        mask = torch.empty_like(x).bernoulli_(keep, generator=self.generator)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f"p={self.p}"


def _mlp(widths: list[int], input_dropout: float = 0.0, hidden_dropout: float = 0.0) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Flatten()]
    if input_dropout:
        layers.append(SeededDropout(input_dropout))
    previous = IMAGE_PIXELS
    for width in widths:
        layers += [nn.Linear(previous, width), nn.ReLU()]
        if hidden_dropout:
            layers.append(SeededDropout(hidden_dropout))
        previous = width
    layers.append(nn.Linear(previous, NUM_CLASSES))
    return nn.Sequential(*layers)


def _lenet5() -> nn.Sequential:
    # LeCun et al. 1998 with ReLU and max pooling, the common modern reading.
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 6, 14, 14)
        nn.Conv2d(6, 16, 5),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, 16, 5, 5)
        nn.Flatten(),
        nn.Linear(16 * 5 * 5, 120),
        nn.ReLU(),
        nn.Linear(120, 84),
        nn.ReLU(),
        nn.Linear(84, NUM_CLASSES),
    )


def _cnn(maps: tuple[int, int], hidden: int, dropout: float) -> nn.Sequential:
    # Two conv blocks with batch norm, then one hidden layer: "cnn" converges in two epochs on a
    # laptop CPU; "cnn-wide" is the same layout at twice the maps and a 1,024-unit layer, so it is
    # clearly bigger and better than the lab's students (7x the default student's parameters).
    first, second = maps
    return nn.Sequential(
        nn.Conv2d(1, first, 5, bias=False),
        nn.BatchNorm2d(first),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, first, 12, 12)
        nn.Conv2d(first, second, 5, bias=False),
        nn.BatchNorm2d(second),
        nn.ReLU(),
        nn.MaxPool2d(2),  # (B, second, 4, 4)
        nn.Flatten(),
        nn.Linear(second * 4 * 4, hidden),
        nn.ReLU(),
        SeededDropout(dropout),
        nn.Linear(hidden, NUM_CLASSES),
    )


@dataclass(frozen=True)
class Architecture:
    """A named architecture: what it is and how to build it."""

    name: str
    description: str
    build: Callable[[], nn.Module]


ARCHITECTURES: dict[str, Architecture] = {
    arch.name: arch
    for arch in [
        Architecture(
            "cnn",
            "Small CNN: 2 conv blocks with batch norm (16, 32 maps), 128-unit layer, dropout",
            lambda: _cnn((16, 32), hidden=128, dropout=0.25),
        ),
        Architecture(
            "cnn-wide",
            "Wide CNN: 2 conv blocks with batch norm (32, 64 maps), 1,024-unit layer, dropout",
            lambda: _cnn((32, 64), hidden=1024, dropout=0.5),
        ),
        Architecture("lenet5", "LeNet-5 (LeCun et al. 1998): 2 conv + 3 dense layers, ReLU, max pooling", _lenet5),
        Architecture(
            "mlp-1200x2",
            "Hinton et al.'s teacher: 2 x 1200 ReLU units, dropout 0.2 input / 0.5 hidden",
            lambda: _mlp([1200, 1200], input_dropout=0.2, hidden_dropout=0.5),
        ),
        Architecture("linear", "Multinomial logistic regression: one linear layer, 784 -> 10", lambda: _mlp([])),
        Architecture(
            "cnn-small",
            "Small CNN student: 2 conv blocks with batch norm (8, 16 maps), 64-unit layer; its blocks pair with cnn-wide's",
            lambda: _cnn((8, 16), hidden=64, dropout=0.0),
        ),
    ]
}


def _parametric_mlp(name: str) -> Architecture | None:
    match = _MLP_PATTERN.match(name)
    if not match:
        return None
    width, depth = int(match.group(1)), int(match.group(2))
    low_w, high_w = MLP_WIDTH_RANGE
    low_d, high_d = MLP_DEPTH_RANGE
    if not (low_w <= width <= high_w and low_d <= depth <= high_d):
        raise ValueError(
            f"MLP '{name}' is out of range: width must be {low_w}..{high_w} and depth {low_d}..{high_d} "
            f"(for example mlp-100x1)."
        )
    layers = " x ".join([str(width)] * depth)
    # The canonical name drops leading zeros: mlp-0100x1 is mlp-100x1, one model and one cache entry.
    return Architecture(
        mlp_name(width, depth), f"MLP: {layers} ReLU units, no regularisation", lambda: _mlp([width] * depth)
    )


def mlp_name(width: int, depth: int) -> str:
    """The registry name of the MLP with ``depth`` hidden layers of ``width`` units."""
    return f"mlp-{width}x{depth}"


def architecture_names() -> list[str]:
    """The fixed architecture names plus the MLP family pattern, for messages and menus."""
    return list(ARCHITECTURES) + ["mlp-<width>x<depth>"]


def get_architecture(name: str) -> Architecture:
    """Look up an architecture by name; unknown names raise ``ValueError`` listing valid ones.

    The returned architecture's ``name`` is the canonical one (see ``canonical_architecture``).
    """
    if not isinstance(name, str):
        raise ValueError(f"An architecture is named by text, such as cnn or mlp-100x1 (got {name!r}).")
    name = name.strip()
    if len(name) > MAX_ARCHITECTURE_NAME_LENGTH:
        raise ValueError(
            f"That architecture name is {len(name)} characters long; at most {MAX_ARCHITECTURE_NAME_LENGTH} are allowed."
        )
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    parametric = _parametric_mlp(name)
    if parametric is None:
        valid = ", ".join(architecture_names())
        raise ValueError(
            f"Unknown architecture '{name}'. Valid names: {valid} "
            f"(width {MLP_WIDTH_RANGE[0]}..{MLP_WIDTH_RANGE[1]}, "
            f"depth {MLP_DEPTH_RANGE[0]}..{MLP_DEPTH_RANGE[1]}, digits 0-9)."
        )
    return parametric


def canonical_architecture(name: str) -> str:
    """The one name of an architecture: surrounding spaces and leading zeros dropped (``mlp-0100x1`` is
    ``mlp-100x1``), ASCII digits only. Every entry point calls it before anything is cached or queued.

    Raises:
        ValueError: an unknown, too long or out-of-range name (see ``get_architecture``).
    """
    return get_architecture(name).name


def build_model(name: str, seed: int | None = None) -> nn.Module:
    """Build a fresh model; with ``seed``, its initial weights depend only on the seed.

    The global RNG is forked so that building a model never disturbs other code, and a
    lock makes concurrent builds in different threads reproducible.
    """
    architecture = get_architecture(name)
    if seed is None:
        return architecture.build()
    with _BUILD_LOCK, torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return architecture.build()


@dataclass(frozen=True)
class ModelInfo:
    """Size facts about an architecture, for tables and the compression ratio."""

    name: str
    description: str
    parameters: int
    flops_per_image: int  # forward pass, multiply and add counted separately


def describe_model(name: str) -> ModelInfo:
    """Parameter count and forward FLOPs per image (from the Linear and Conv2d layers), under the canonical name."""
    return _describe_canonical(canonical_architecture(name))


@lru_cache(maxsize=256)
def _describe_canonical(name: str) -> ModelInfo:
    architecture = get_architecture(name)
    model = architecture.build().eval()
    macs = 0

    def count(module: nn.Module, inputs, output) -> None:
        nonlocal macs
        if isinstance(module, nn.Linear):
            macs += module.in_features * module.out_features
        elif isinstance(module, nn.Conv2d):
            kernel = module.kernel_size[0] * module.kernel_size[1] * module.in_channels // module.groups
            macs += output[0].numel() * kernel  # output[0]: (C_out, H, W) for one image

    hooks = [m.register_forward_hook(count) for m in model.modules() if isinstance(m, (nn.Linear, nn.Conv2d))]
    with torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
    for hook in hooks:
        hook.remove()
    parameters = sum(p.numel() for p in model.parameters())
    return ModelInfo(name, architecture.description, parameters, 2 * macs)


def attach_dropout_generator(model: nn.Module, generator: torch.Generator | None) -> None:
    """Make every ``SeededDropout`` in ``model`` draw its masks from ``generator``."""
    for module in model.modules():
        if isinstance(module, SeededDropout):
            module.generator = generator
