"""Draw your own digit: a canvas (streamlit-drawable-canvas) whose drawing becomes an MNIST digit.

``canvas_pixels`` is the one call into the component, so a test can stand in for the browser's
drawing by replacing it; ``drawn_digit`` turns the drawing into a uint8 (28, 28) digit
(``kdlab.ml.drawing``) and shows it as the model sees it.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from kdlab.ml.drawing import digit_from_canvas

CANVAS_SIZE = 280  # ten screen pixels per MNIST pixel
PEN_WIDTH = 20  # two MNIST pixels: about the stroke width of MNIST's digits
PREVIEW_ZOOM = 4
HINT = "Draw a digit in the black square (white ink, mouse or finger); it is scaled and centred as MNIST's digits are."


def canvas_pixels(key: str) -> np.ndarray | None:
    """The canvas and its drawing as RGBA pixels (H, W, 4) uint8, None before the browser sent any."""
    from streamlit_drawable_canvas import st_canvas  # registers its component on first use

    result = st_canvas(
        stroke_width=PEN_WIDTH,
        stroke_color="#FFFFFF",
        background_color="#000000",
        height=CANVAS_SIZE,
        width=CANVAS_SIZE,
        drawing_mode="freedraw",
        return_image_data=True,
        key=key,
    )
    return result.image_data


def drawn_digit(key: str) -> torch.Tensor | None:
    """The canvas, and the drawing as an MNIST digit uint8 (28, 28); None (with a hint) while it is empty."""
    pixels = canvas_pixels(key)
    digit = None if pixels is None else digit_from_canvas(pixels)
    if digit is None:
        st.caption(HINT)
        return None
    preview = digit.numpy().repeat(PREVIEW_ZOOM, axis=0).repeat(PREVIEW_ZOOM, axis=1)
    st.image(preview, width=28 * PREVIEW_ZOOM, caption="Your digit as the model sees it (28 x 28)")
    return digit
