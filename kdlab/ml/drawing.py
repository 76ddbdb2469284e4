"""A digit drawn by hand, made to look like an MNIST digit.

MNIST's own recipe (LeCun et al. 1998): the digit's bounding box is scaled to fit a 20 x 20 box,
keeping its aspect ratio, the scaling's anti-aliasing gives the grey levels, and the result is
placed in a 28 x 28 image so that its centre of mass sits at pixel (14, 14). ``digit_from_canvas``
does the same to a canvas of any size, light strokes on a dark background.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_SIZE = 28
BOX_SIZE = 20
INK_LEVEL = 0.05  # a pixel at least this bright (of 1) belongs to the stroke's bounding box
# Less ink than this share of the canvas is no digit: one dot of the lab's 20-pixel pen on its
# 280 x 280 canvas covers 0.4%, a "1" drawn across it about 5%.
MIN_INK_FRACTION = 0.002


def canvas_grey(canvas: np.ndarray) -> np.ndarray:
    """A canvas as float grey levels in [0, 1] (H, W): RGBA or RGB (H, W, C) uint8 or (H, W) grey.

    With an alpha channel, transparent pixels count as background.
    """
    pixels = np.asarray(canvas, dtype=np.float64) / 255.0
    if pixels.ndim == 2:
        return pixels
    if pixels.ndim != 3 or pixels.shape[2] not in (3, 4):
        raise ValueError(f"a canvas is (H, W), (H, W, 3) or (H, W, 4); got shape {pixels.shape}")
    grey = pixels[..., :3] @ np.array([0.299, 0.587, 0.114])  # (H, W) luminance
    return grey * pixels[..., 3] if pixels.shape[2] == 4 else grey


def digit_from_canvas(canvas: np.ndarray) -> torch.Tensor | None:
    """The drawn digit as an MNIST image: uint8 (28, 28), or None for an empty or nearly empty canvas."""
    grey = canvas_grey(canvas)
    if (grey > 0.5).mean() < MIN_INK_FRACTION:
        return None
    rows, columns = np.nonzero(grey >= INK_LEVEL)
    crop = grey[rows.min() : rows.max() + 1, columns.min() : columns.max() + 1]
    scale = BOX_SIZE / max(crop.shape)
    height, width = (max(1, round(side * scale)) for side in crop.shape)
    small = F.interpolate(
        torch.from_numpy(crop)[None, None], size=(height, width), mode="bilinear", antialias=True, align_corners=False
    )[0, 0].clamp(0, 1)  # (height, width)
    return _centre_by_mass(small)


def _centre_by_mass(digit: torch.Tensor) -> torch.Tensor:
    """``digit`` (h, w) floats placed in 28 x 28 with its centre of mass at the centre, as uint8."""
    height, width = digit.shape
    total = digit.sum()
    centre_row = float((digit.sum(1) * torch.arange(height, dtype=digit.dtype)).sum() / total)
    centre_column = float((digit.sum(0) * torch.arange(width, dtype=digit.dtype)).sum() / total)
    middle = IMAGE_SIZE / 2  # where MNIST's centres of mass sit: 13.97 and 14.04 on the sample's test digits
    top = min(max(round(middle - centre_row), 0), IMAGE_SIZE - height)  # the whole digit stays in the frame
    left = min(max(round(middle - centre_column), 0), IMAGE_SIZE - width)
    image = torch.zeros(IMAGE_SIZE, IMAGE_SIZE, dtype=digit.dtype)
    image[top : top + height, left : left + width] = digit
    return (image * 255).round().to(torch.uint8)
