"""Draw your own digit: a canvas (streamlit-drawable-canvas) whose drawing becomes an MNIST digit.

On the explorer the teacher's soft targets for the drawing are explained; on the lab's result the
run's three models (teacher, distilled student, student alone) answer it side by side.
``canvas_pixels`` is the one call into the component, so a test can stand in for the browser's
drawing by replacing it; ``drawn_digit`` turns the drawing into a uint8 (28, 28) digit
(``kdlab.ml.drawing``) and shows it as the model sees it.

The component's value is whatever the websocket message says, so it is read as a stranger's file: the
PNG's bytes, header and size are checked (``kdlab.ml.drawing.canvas_from_png``) before a pixel is decoded,
never through the component's own ``image_data``, which decodes any size.
"""

from __future__ import annotations

import numpy as np
import streamlit as st
import torch

from kdlab.i18n import N_, _, percent
from kdlab.ml.drawing import CanvasError, canvas_from_png, digit_from_canvas
from kdlab.ml.train import predict_logits
from kdlab.plots import drawing as plots
from kdlab.runs.record import RunRecord, model_from_bytes
from kdlab.ui.card import ROLE_WORDS
from kdlab.ui.picture import picture, png_bytes
from kdlab.ui.resources import cached_teacher

CANVAS_SIZE = 280  # ten screen pixels per MNIST pixel
PEN_WIDTH = 20  # two MNIST pixels: about the stroke width of MNIST's digits
PREVIEW_ZOOM = 4
NOT_KEPT = {  # why a model has no answer (shown with _())
    "teacher": N_("not in the teacher cache"),
    "distilled": N_("weights not kept"),
    "baseline": N_("weights not kept"),
}
NOT_TRAINED = N_("not trained in this run")
OLD_RUN_NOTE = N_(
    "The student alone's weights are not kept for this run (an older run, a student alone stopped before the "
    "end, or weights dropped to save memory), so only the models that are kept answer your digit."
)
HINT = N_(
    "Draw a digit in the black square (white ink, mouse or finger); it is scaled and centred as MNIST's digits are."
)
UNREADABLE = N_("The drawing could not be read; clear the canvas and draw again.")


def canvas_pixels(key: str) -> np.ndarray | None:
    """The canvas and its drawing as RGBA pixels (H, W, 4) uint8, None before the browser sent any (or, with
    a message, when what it sent is not this canvas's drawing)."""
    from streamlit_drawable_canvas import st_canvas  # registers its component on first use

    st.space("small")  # the canvas's toolbar floats above it: room, so it covers nothing
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
    return checked_pixels(result)


def checked_pixels(result) -> np.ndarray | None:
    """The pixels of a ``st_canvas`` result, the PNG checked before it is decoded; None (with a warning) for
    anything a browser's canvas of this page would not send."""
    try:
        png = result.image_bytes  # the data URL's base64, decoded; bounded by server.maxMessageSize
    except (ValueError, TypeError, AttributeError):  # not a "data:image/png;base64,..." string: a forged value
        st.warning(_(UNREADABLE))
        return None
    if png is None:
        return None
    try:
        return canvas_from_png(png, (CANVAS_SIZE, CANVAS_SIZE))
    except CanvasError as error:
        st.warning(str(error))
        return None


def drawn_digit(key: str) -> torch.Tensor | None:
    """The canvas, and the drawing as an MNIST digit uint8 (28, 28); None (with a hint) while it is empty."""
    pixels = canvas_pixels(key)
    digit = None if pixels is None else digit_from_canvas(pixels)
    if digit is None:
        st.caption(_(HINT))
        return None
    preview = digit.numpy().repeat(PREVIEW_ZOOM, axis=0).repeat(PREVIEW_ZOOM, axis=1)
    picture(
        png_bytes(preview),
        alt=_("Your drawing as a 28 by 28 MNIST digit"),
        width=28 * PREVIEW_ZOOM,
        caption=_("Your digit as the model sees it (28 x 28)"),
    )
    return digit


def render_models_on_a_drawing(record: RunRecord, *, key: str) -> None:
    """The run's teacher, distilled student and student alone on a digit the student draws, side by side
    (on request); a model whose weights are not kept says so instead of answering."""
    if not st.toggle(_("Try the models on a digit you draw"), key=f"{key}.open"):
        return
    digit = drawn_digit(f"{key}.canvas")
    if digit is None:
        return
    config, models = record.config, {}
    teacher = cached_teacher(config["teacher"])
    if teacher is not None and teacher.record.test_errors == record.errors("teacher"):
        models["teacher"] = teacher.predict(digit[None])[0]
    if record.student_weights is not None:
        student = model_from_bytes(record.student_weights, config["student"])
        models["distilled"] = predict_logits(student, digit[None])[0]
    if record.baseline_weights is not None:
        alone = model_from_bytes(record.baseline_weights, config["student"])
        models["baseline"] = predict_logits(alone, digit[None])[0]
    probabilities = {role: logits.softmax(dim=0) for role, logits in models.items()}
    columns = st.columns(3)
    for column, role in zip(columns, ("teacher", "distilled", "baseline")):
        if role in probabilities:
            answer = int(probabilities[role].argmax())
            sure = _("{share} sure").format(share=percent(float(probabilities[role][answer]), 1))
            column.metric(ROLE_WORDS[role], str(answer), delta=sure, delta_color="off", delta_arrow="off")
        else:
            why = NOT_TRAINED if role == "baseline" and record.errors("baseline") is None else NOT_KEPT[role]
            column.metric(ROLE_WORDS[role], "-", delta=_(why), delta_color="off", delta_arrow="off")
    if "baseline" not in probabilities and record.errors("baseline") is not None:
        st.caption(_(OLD_RUN_NOTE))
    st.plotly_chart(
        plots.answers_on_a_digit({role: values.tolist() for role, values in probabilities.items()}),
        key=f"{key}.answers",
    )
