"""PNG files made by hand for the canvas tests: a real canvas, and decompression bombs that a few kB of
file make gigabytes of pixels."""

from __future__ import annotations

import base64
import math
import struct
import zlib

import numpy as np


def chunk(kind: bytes, body: bytes) -> bytes:
    """One PNG chunk: length, name, body, CRC."""
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png(width: int, height: int, *, bit_depth: int = 8, colour_type: int = 6, extra: bytes = b"") -> bytes:
    """A PNG of ``width`` x ``height`` blank pixels, compressed row by row (never held whole in memory)."""
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = b"\0" * (1 + math.ceil(width * channels * bit_depth / 8))  # filter byte, then the row's pixels
    compressor = zlib.compressobj(9)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + extra + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def bomb() -> bytes:
    """100 megapixels (10,000 x 10,000, one bit each) in about 12 kB: 100 MB as Pillow's pixels, 800 MB as
    the float64 grey levels the digit is made from."""
    return png(10_000, 10_000, bit_depth=1, colour_type=0)


def canvas_png(pixels: np.ndarray) -> bytes:
    """An RGBA (H, W, 4) uint8 canvas as the browser's canvas.toDataURL() encodes it."""
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def data_url(data: bytes) -> str:
    """What the drawing component sends: the PNG as a base64 data URL."""
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


class CanvasValue:
    """The drawing component's result as ``streamlit_drawable_canvas`` 0.13.0's ``CanvasResult`` gives it (its
    two image properties copied): that module registers its component on import, which only works inside a
    running Streamlit server, so tests stand this in for ``st_canvas``'s answer."""

    def __init__(self, image_data_url: object) -> None:
        self._image_data_url = image_data_url

    @property
    def image_data(self) -> np.ndarray | None:
        import io

        from PIL import Image

        if self._image_data_url is None:
            return None
        _, encoded = self._image_data_url.split(";base64,", 1)
        return np.asarray(Image.open(io.BytesIO(base64.b64decode(encoded))))

    @property
    def image_bytes(self) -> bytes | None:
        if self._image_data_url is None:
            return None
        _, encoded = self._image_data_url.split(";base64,", 1)
        return base64.b64decode(encoded)


def install_component(monkeypatch, image_data_url: object) -> None:
    """Make ``from streamlit_drawable_canvas import st_canvas`` answer ``image_data_url`` as the drawing."""
    import sys
    import types

    module = types.SimpleNamespace(st_canvas=lambda **kwargs: CanvasValue(image_data_url))
    monkeypatch.setitem(sys.modules, "streamlit_drawable_canvas", module)
