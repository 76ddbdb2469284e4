"""Unlabelled transfer sets for model compression: MUNGE images and random noise (Bucila et al. 2006).

Bucila, Caruana & Niculescu-Mizil (2006) compress an ensemble by labelling a large set of
*unlabelled* examples with the ensemble and training a small model on them. When there is no
unlabelled data they make some with MUNGE: for each training example e, find its nearest
neighbour e'; then, for each attribute, with probability p swap the two values, a continuous
value being drawn from a normal centred on the other example's value with standard deviation
|e_a - e'_a| / s. Repeating this k times over the training set gives k times as many examples,
all close to the data's manifold.

**The adaptation to images.** Each of the 784 pixels is one continuous attribute. Nearest
neighbours are found in pixel space (Euclidean, among the small labelled set's images; 2,000 x
2,000 distances take a fraction of a second, so no downsampling is needed). For each synthetic
image, every pixel of its base image is, with probability p, replaced by a draw from
N(neighbour's value, |base - neighbour| / s), then rounded and clipped to 0..255. Pixels where the
two images agree (most of the black background) never change, because the spread is zero there;
strokes where they differ blend and jitter. The paper alters both e and e' as it walks the set in
order; drawing every synthetic image from its original (base, neighbour) pair instead makes
generation one vectorised, order-free and seeded operation with the same per-pixel rule.

MUNGE never sees a label: ``munge_images`` takes images only. Sets are seeded and cached on
disk (``KDLAB_CACHE_DIR/transfer_sets``), written atomically and loaded with
``torch.load(weights_only=True)``.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import torch

from kdlab.ml.data import default_cache_dir
from kdlab.ml.files import write_atomically

DEFAULT_SWAP_PROBABILITY = 0.5
DEFAULT_SPREAD = 1.0  # the paper's s: the normal's sd is |a - b| / s
KINDS = ("munge", "noise")
_NEIGHBOUR_CHUNK = 1024  # rows of the distance matrix computed at once (memory stays small)


def _check_images(images: torch.Tensor) -> None:
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.dim() != 3:
        raise ValueError("MUNGE needs uint8 images shaped (N, height, width), as kdlab's ImageSet holds them.")
    if len(images) < 2:
        raise ValueError(
            f"MUNGE pairs each image with its nearest neighbour: give at least 2 images (got {len(images)})."
        )


def nearest_neighbours(images: torch.Tensor) -> torch.Tensor:
    """For each image (N, H, W), the index (N,) of the closest *other* image in pixel space."""
    _check_images(images)
    flat = images.flatten(1).float()  # (N, H * W)
    squared = (flat * flat).sum(1)  # (N,)
    found = []
    for start in range(0, len(flat), _NEIGHBOUR_CHUNK):
        block = flat[start : start + _NEIGHBOUR_CHUNK]  # (B, H * W)
        distances = squared[start : start + len(block), None] - 2 * block @ flat.T + squared[None, :]  # (B, N)
        rows = torch.arange(len(block))
        distances[rows, rows + start] = math.inf  # an image is not its own neighbour
        found.append(distances.argmin(1))
    return torch.cat(found)


def munge_images(
    images: torch.Tensor,
    size: int,
    *,
    swap_probability: float = DEFAULT_SWAP_PROBABILITY,
    spread: float = DEFAULT_SPREAD,
    seed: int = 0,
) -> torch.Tensor:
    """``size`` synthetic images made from ``images`` with MUNGE (see the module docstring).

    Synthetic image t starts from image ``t mod N`` (so the set is walked over and over, as the
    paper's k passes do) and its nearest neighbour.

    Args:
        images: uint8 (N, H, W), N >= 2; no labels, ever.
        size: how many synthetic images to make.
        swap_probability: the paper's p, the chance that a pixel takes the neighbour's value.
        spread: the paper's s; the sd of the draw is |base - neighbour| / s.
        seed: the same seed and images give the same set.

    Returns:
        uint8 (size, H, W) images with values 0..255.
    """
    _check_images(images)
    if not (isinstance(size, int) and size >= 1):
        raise ValueError(f"The MUNGE set needs at least one image (got {size}).")
    if not 0.0 <= swap_probability <= 1.0:
        raise ValueError(f"The swap probability p must be between 0 and 1 (got {swap_probability}).")
    if not (math.isfinite(spread) and spread > 0):
        raise ValueError(f"The spread s must be above 0 (got {spread}); the paper's sd is |a - b| / s.")
    generator = torch.Generator().manual_seed(seed)
    neighbours = nearest_neighbours(images)
    base_index = torch.arange(size) % len(images)  # (size,)
    base = images[base_index].float()  # (size, H, W)
    other = images[neighbours[base_index]].float()
    swap = torch.rand(base.shape, generator=generator) < swap_probability
    draw = other + torch.randn(base.shape, generator=generator) * (base - other).abs() / spread
    return torch.where(swap, draw, base).round_().clamp_(0, 255).to(torch.uint8)


def noise_images(size: int, shape: tuple[int, int] = (28, 28), *, seed: int = 0) -> torch.Tensor:
    """``size`` images of independent uniform pixel values 0..255: a transfer set with no digit in it."""
    if not (isinstance(size, int) and size >= 1):
        raise ValueError(f"The noise set needs at least one image (got {size}).")
    generator = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (size, *shape), generator=generator, dtype=torch.uint8)


def transfer_set_path(
    cache_dir: Path, kind: str, images: torch.Tensor | None, size: int, seed: int, **parameters
) -> Path:
    """Where a generated set is cached: its kind, size, seed, parameters and a digest of the source images."""
    digest = hashlib.sha256(images.numpy().tobytes()).hexdigest()[:12] if images is not None else "none"
    settings = "".join(f"-{key[0]}{value:g}" for key, value in sorted(parameters.items()))
    return cache_dir / "transfer_sets" / f"{kind}-{digest}-n{size}-s{seed}{settings}.pt"


def cached_transfer_images(
    kind: str,
    size: int,
    *,
    images: torch.Tensor | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
    **parameters,
) -> tuple[torch.Tensor, bool]:
    """A generated transfer set from the disk cache, or made now and cached.

    Args:
        kind: "munge" (made from ``images``, with ``swap_probability`` and ``spread``) or "noise".
        size: how many images.
        images: the labelled set's images, for MUNGE.
        seed: the generator's seed.
        cache_dir: the kdlab cache (default ``KDLAB_CACHE_DIR``).

    Returns:
        The uint8 images (size, 28, 28) and whether they came from the cache. A cache that cannot
        be read is regenerated; one that cannot be written is skipped.
    """
    if kind not in KINDS:
        raise ValueError(f"Unknown transfer set '{kind}': choose one of {', '.join(KINDS)}.")
    if kind == "munge" and images is None:
        raise ValueError("MUNGE makes its images from the labelled set's images: pass images=...")
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = transfer_set_path(cache, kind, images if kind == "munge" else None, size, seed, **parameters)
    if path.exists():
        try:
            stored = torch.load(path, weights_only=True, map_location="cpu")
            if stored.dtype == torch.uint8 and len(stored) == size:
                return stored, True
        except Exception:  # truncated or corrupt: torch raises many error types; make it again
            pass
    if kind == "munge":
        made = munge_images(images, size, seed=seed, **parameters)
    else:
        made = noise_images(size, seed=seed, **parameters)
    try:
        write_atomically(path, lambda file: torch.save(made, file))
    except OSError:
        pass  # a read-only or full cache: the set is cheap to make again
    return made, False
