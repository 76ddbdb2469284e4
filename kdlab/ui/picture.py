"""A picture with a text alternative. ``st.image`` writes no ``alt`` attribute, even with a caption, so a screen
reader meets an unnamed image (axe-core's image-alt, a critical violation): kdlab's pictures are PNG bytes drawn
as an ``<img>`` with ``alt`` through ``st.html``, their caption under them as Streamlit draws one."""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import streamlit as st


def picture(png: bytes, *, alt: str, width: int, caption: str = "") -> None:
    """``png`` at ``width`` CSS pixels, named ``alt`` for a screen reader (escaped), ``caption`` under it."""
    source = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    st.html(f'<img src="{source}" alt="{html.escape(alt)}" width="{int(width)}" style="max-width: 100%">')
    if caption:
        st.caption(caption)


def png_bytes(pixels: np.ndarray) -> bytes:
    """A greyscale uint8 array (H, W) as PNG bytes."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(pixels, dtype=np.uint8)).save(buffer, format="PNG")
    return buffer.getvalue()
