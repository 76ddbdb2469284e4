"""What a network holds between its input and its logits: its named feature taps, read with forward hooks.

Every zoo model is an ``nn.Sequential``, so its taps are found by structure, never by a table per
architecture:

- ``block1``, ``block2``: the outputs of a convolutional network's pooling layers, (B, C, H, W): the
  feature maps after each conv block (``cnn-wide``: 32 x 12 x 12 and 64 x 4 x 4; ``lenet5``: 6 x 14 x 14
  and 16 x 5 x 5). An MLP has none.
- ``embedding``: the output of the last ReLU, (B, D): the last hidden layer, the features the logits are a
  linear function of (``cnn-wide``: 1,024 units; ``mlp-200x1``: 200). ``linear`` has none.

``FeatureHooks`` records a model's taps at each forward pass (a student's, while it trains);
``predict_features`` reads them once for a set of images (a teacher's, for its transfer set).
``attention_map`` is Zagoruyko & Komodakis's spatial attention of a block's maps.
"""

from __future__ import annotations

from functools import lru_cache

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.i18n import N_
from kdlab.ml.data import normalize
from kdlab.ml.models import build_model, canonical_architecture

BLOCK_TAPS = ("block1", "block2")
EMBEDDING = "embedding"
TAP_WORDS = {
    "block1": N_("the first conv block's feature maps"),
    "block2": N_("the second conv block's feature maps"),
    EMBEDDING: N_("the last hidden layer"),
}


def tap_modules(model: nn.Module) -> dict[str, nn.Module]:
    """The modules whose outputs are ``model``'s taps, by tap name (see the module docstring)."""
    if not isinstance(model, nn.Sequential):
        return {}
    layers = list(model)
    pools = [layer for layer in layers if isinstance(layer, nn.MaxPool2d)]
    relus = [layer for layer in layers if isinstance(layer, nn.ReLU)]
    taps = dict(zip(BLOCK_TAPS, pools))
    if relus and len(relus) > len(pools):  # a ReLU after the last pooling layer: a hidden dense layer
        taps[EMBEDDING] = relus[-1]
    return taps


@lru_cache(maxsize=64)
def feature_shapes(architecture: str) -> dict[str, tuple[int, ...]]:
    """Each tap of ``architecture`` and the shape of one image's features there: ``{"embedding": (200,)}``."""
    model = build_model(canonical_architecture(architecture), seed=0).eval()
    with FeatureHooks(model, tuple(tap_modules(model))) as hooks, torch.no_grad():
        model(torch.zeros(1, 1, 28, 28))
        return {name: tuple(value.shape[1:]) for name, value in hooks.outputs.items()}


class FeatureHooks:
    """Forward hooks that keep the latest outputs of ``model``'s ``taps`` in ``outputs`` (tap name: tensor, with
    their graph, so a loss on them trains the model). A context manager; ``remove`` takes the hooks off."""

    def __init__(self, model: nn.Module, taps: tuple[str, ...]) -> None:
        modules = tap_modules(model)
        missing = [tap for tap in taps if tap not in modules]
        if missing:
            raise ValueError(f"This network has no {', '.join(TAP_WORDS.get(tap, tap) for tap in missing)}.")
        self.outputs: dict[str, torch.Tensor] = {}
        self._handles = [modules[tap].register_forward_hook(self._keeper(tap)) for tap in taps]

    def _keeper(self, tap: str):
        def keep(module, inputs, output) -> None:
            self.outputs[tap] = output

        return keep

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> FeatureHooks:
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


@torch.no_grad()
def predict_features(
    model: nn.Module,
    images: torch.Tensor,
    taps: tuple[str, ...],
    device: torch.device | None = None,
    batch_size: int = 512,
) -> dict[str, torch.Tensor]:
    """``model``'s features at ``taps`` for uint8 ``images`` (N, 28, 28), in eval mode, on the CPU."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: dict[str, list[torch.Tensor]] = {tap: [] for tap in taps}
    with FeatureHooks(model, taps) as hooks:
        for start in range(0, len(images), batch_size):
            model(normalize(images[start : start + batch_size].to(device)))
            for tap in taps:
                parts[tap].append(hooks.outputs[tap].float().cpu())
    model.train(was_training)
    return {tap: torch.cat(chunks) for tap, chunks in parts.items()}


def attention_map(features: torch.Tensor, p: float = 2.0, size: int | None = None) -> torch.Tensor:
    """Spatial attention (Zagoruyko & Komodakis, ICLR 2017), (B, H * W)::

        Q = sum_c |A_c|^p over the C channels of the maps A (B, C, H, W),  then  Q / ||Q||_2

    with the map first average-pooled to ``size`` x ``size`` when given (to pair a student's maps with a
    teacher's of another size, as RepDistiller does). Each row has unit L2 norm.
    """
    if size is not None and features.shape[-1] != size:
        features = F.adaptive_avg_pool2d(features, (size, size))
    return F.normalize(features.abs().pow(p).sum(dim=1).flatten(1), dim=1)
