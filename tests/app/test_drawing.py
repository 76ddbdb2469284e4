"""Draw your own digit: the canvas stands in for the browser's drawing (``kdlab.ui.drawing.canvas_pixels``)."""

import numpy as np
import pytest

from kdlab.ui import drawing
from tests.app.helpers import chart_spec, open_alone, run_until, texts

TEACHER = "linear"


def open_drawing_explorer():
    """The explorer in its drawing mode, once its teacher is ready (it may train first)."""
    at = open_alone("pages/dark_knowledge.py", {"explorer.teacher": TEACHER, "explorer.mode": "Draw your own"})
    return run_until(at, lambda at: "Which digits look alike to the teacher" in texts(at.subheader))


def bar_canvas(*_args, **_kwargs) -> np.ndarray:
    """A "1" as the browser would send it: RGBA, white ink on black."""
    canvas = np.zeros((drawing.CANVAS_SIZE, drawing.CANVAS_SIZE, 4), np.uint8)
    canvas[..., 3] = 255
    canvas[40:240, 130:150, :3] = 255
    return canvas


@pytest.fixture
def drawn(monkeypatch):
    monkeypatch.setattr(drawing, "canvas_pixels", bar_canvas)


def test_an_empty_canvas_shows_the_hint(monkeypatch):
    monkeypatch.setattr(drawing, "canvas_pixels", lambda key: None)
    at = open_drawing_explorer()
    assert not at.exception
    assert drawing.HINT in texts(at.caption)
    assert "What the teacher knows" not in texts(at.subheader)


def test_the_explorer_explains_the_teachers_view_of_a_drawn_digit(drawn):
    at = open_drawing_explorer()
    assert not at.exception
    words = texts(at.markdown)
    assert "for your drawing" in words and "The runner-ups are" in words and "At T = 4 the same runner-ups" in words
    bars = chart_spec(at, "explorer.bars")
    assert len(bars["data"]) == 2  # T = 1 and the chosen T
    assert "(true)" not in str(bars["data"][0]["x"])  # a drawing has no label to mark
