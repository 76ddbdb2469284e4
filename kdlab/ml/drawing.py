"""A digit drawn by hand, made to look like an MNIST digit.

MNIST's own recipe (LeCun et al. 1998): the digit's bounding box is scaled to fit a 20 x 20 box,
keeping its aspect ratio, the scaling's anti-aliasing gives the grey levels, and the result is
placed in a 28 x 28 image so that its centre of mass sits at pixel (14, 14). ``digit_from_canvas``
does the same to a canvas of up to ``MAX_CANVAS_PIXELS``, light strokes on a dark background.

The canvas arrives from a browser as a PNG, and a PNG is a decompression bomb waiting to happen: a
100 kB file can say it holds 100 megapixels, gigabytes once decoded (and again as floats).
``canvas_from_png`` reads the header and every chunk's name before any pixel is decoded, and refuses
a file that is not a canvas of the expected size.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import torch
import torch.nn.functional as F

IMAGE_SIZE = 28
BOX_SIZE = 20
INK_LEVEL = 0.05  # a pixel at least this bright (of 1) belongs to the stroke's bounding box
# Less ink than this share of the canvas is no digit: one dot of the lab's 20-pixel pen on its
# 280 x 280 canvas covers 0.4%, a "1" drawn across it about 5%.
MIN_INK_FRACTION = 0.002
# A canvas at most this big (1 megapixel, 8 MB as floats): the lab's is 280 x 280, 0.08 megapixels.
MAX_CANVAS_PIXELS = 1024 * 1024
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that Pillow inflates while it opens a file, before any check of ours could run (text and colour
# profiles, up to 64 MB of them): a browser's canvas.toDataURL never writes them.
INFLATED_CHUNKS = frozenset({b"zTXt", b"iTXt", b"iCCP"})
PNG_OVERHEAD = 1024  # bytes a PNG may have beyond its pixels (signature, chunk headers, zlib's framing)


class CanvasError(ValueError):
    """A drawing that cannot be a canvas of this page: the message says what to do."""


def max_png_bytes(size: tuple[int, int]) -> int:
    """The largest PNG a canvas of ``size`` (width, height) can honestly be: its RGBA pixels stored
    uncompressed (zlib never grows data by more than a few bytes per 64 kB), one filter byte a row, headers."""
    width, height = size
    return height * (width * 4 + 1) + PNG_OVERHEAD


def canvas_from_png(data: bytes, size: tuple[int, int]) -> np.ndarray:
    """A PNG of a canvas ``size`` (width, height) pixels decoded to RGBA (height, width, 4) uint8, bounded
    before any pixel is decoded: at most ``max_png_bytes(size)`` bytes, a PNG whose header says exactly
    ``size``, and no chunk that Pillow would inflate while opening it.

    Raises:
        CanvasError: any other file (a forged drawing, or a canvas of another size).
    """
    from PIL import Image  # Pillow comes with Streamlit; only the canvas needs it

    width, height = size
    if not isinstance(data, (bytes, bytearray)) or len(data) > max_png_bytes(size):
        raise CanvasError(f"The drawing is larger than a {width} x {height} canvas can be; clear it and draw again.")
    header = _png_header(bytes(data))
    if header is None:
        raise CanvasError("The drawing is not a PNG image; clear the canvas and draw again.")
    if header != size:
        raise CanvasError(
            f"The drawing is {header[0]:,} x {header[1]:,} pixels, not the {width} x {height} canvas; draw again."
        )
    try:
        with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
            # What Pillow read must agree with the header checked above before it decodes a pixel.
            pixels = np.asarray(image.convert("RGBA")) if image.size == size else None  # (height, width, 4)
    except (OSError, EOFError, SyntaxError, ValueError, zlib.error, Image.DecompressionBombError) as error:
        raise CanvasError("The drawing could not be read; clear the canvas and draw again.") from error
    if pixels is None:
        raise CanvasError(f"The drawing is not the {width} x {height} canvas; draw again.")
    return pixels


def _png_header(data: bytes) -> tuple[int, int] | None:
    """The (width, height) a PNG's header states, after every chunk's name is checked; None when the bytes
    are not a PNG whose chunks all fit in the file, or name a chunk Pillow would inflate on opening."""
    if not data.startswith(PNG_SIGNATURE) or len(data) < len(PNG_SIGNATURE) + 8 + 13:
        return None
    position, size = len(PNG_SIGNATURE), None
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if position + 12 + length > len(data) or kind in INFLATED_CHUNKS:
            return None
        if size is None:
            if kind != b"IHDR" or length != 13:
                return None
            size = struct.unpack(">II", data[position + 8 : position + 16])
        if kind == b"IEND":
            break
        position += 12 + length
    return size


def canvas_grey(canvas: np.ndarray) -> np.ndarray:
    """A canvas as float grey levels in [0, 1] (H, W): RGBA or RGB (H, W, C) uint8 or (H, W) grey, of at most
    ``MAX_CANVAS_PIXELS``. With an alpha channel, transparent pixels count as background.

    Raises:
        ValueError: another shape or type, or a bigger canvas (checked before any float is made).
    """
    canvas = np.asarray(canvas)
    if canvas.dtype != np.uint8:
        raise ValueError(f"a canvas holds uint8 pixels; got {canvas.dtype}")
    if canvas.ndim not in (2, 3) or (canvas.ndim == 3 and canvas.shape[2] not in (3, 4)) or 0 in canvas.shape:
        raise ValueError(f"a canvas is (H, W), (H, W, 3) or (H, W, 4); got shape {canvas.shape}")
    if canvas.shape[0] * canvas.shape[1] > MAX_CANVAS_PIXELS:
        raise ValueError(
            f"a canvas has at most {MAX_CANVAS_PIXELS:,} pixels; got {canvas.shape[0]} x {canvas.shape[1]}"
        )
    pixels = canvas.astype(np.float64) / 255.0
    if pixels.ndim == 2:
        return pixels
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
