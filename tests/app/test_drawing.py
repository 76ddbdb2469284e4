"""Draw your own digit: the canvas stands in for the browser's drawing (``kdlab.ui.drawing.canvas_pixels``)."""

import dataclasses

import numpy as np
import pytest

from kdlab.ui import drawing, lab_run
from kdlab.ui.card import ROLE_WORDS
from tests.app.helpers import chart_spec, open_alone, run_until, texts
from tests.unit.png_bombs import bomb, data_url, install_component

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


def lab_result(seed: int):
    """The lab page with a finished run of its own ``seed`` (not served from the result cache)."""
    at = open_alone("pages/distillation_lab.py", {"lab.teacher": TEACHER})
    at.slider(key="lab.epochs").set_value(1)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(seed)
    at.run()
    at.button(key="lab.train").click().run()
    return run_until(at, lambda at: "Result of run 1" in texts(at.subheader))


def answers(at) -> dict:
    return {metric.label: metric for metric in at.metric if metric.label in ROLE_WORDS.values()}


def test_the_lab_result_shows_the_three_models_on_a_drawn_digit(drawn):
    at = lab_result(32)
    assert not any(chart.proto.id.endswith("lab.drawing.answers") for chart in at.get("plotly_chart"))
    at.toggle(key="lab.drawing.open").set_value(True).run()
    assert not at.exception
    shown = answers(at)
    assert [shown[word].value in "0123456789" for word in ROLE_WORDS.values()] == [True, True, True]
    bars = chart_spec(at, "lab.drawing.answers")["data"]
    assert [trace["name"] for trace in bars] == ["Teacher", "Distilled student", "Student alone (baseline)"]
    assert all(sum(trace["y"]) == pytest.approx(1) for trace in bars)
    assert bars[1]["y"] != bars[2]["y"]  # two models: the same architecture, trained two ways
    assert drawing.OLD_RUN_NOTE not in texts(at.caption)


def test_a_run_without_the_student_alones_weights_says_so(drawn, monkeypatch):
    shown_as_old = drawing.render_models_on_a_drawing
    monkeypatch.setattr(  # the lab's run as an older run shows it: no weights kept for the student alone
        lab_run,
        "render_models_on_a_drawing",
        lambda record, **kwargs: shown_as_old(dataclasses.replace(record, baseline_weights=None), **kwargs),
    )
    at = lab_result(33)
    at.toggle(key="lab.drawing.open").set_value(True).run()
    assert not at.exception
    shown = answers(at)
    assert shown["Teacher"].value in "0123456789" and shown["Distilled student"].value in "0123456789"
    assert shown["Student alone"].value == "-"
    assert drawing.OLD_RUN_NOTE in texts(at.caption)
    assert [trace["name"] for trace in chart_spec(at, "lab.drawing.answers")["data"]] == [
        "Teacher",
        "Distilled student",
    ]


@pytest.mark.parametrize(
    "value, warning",
    [
        (data_url(bomb()), "10,000 x 10,000 pixels, not the 280 x 280 canvas"),  # a decompression bomb
        ("data:image/png;base64,!!!!", "The drawing is not a PNG image"),
        ("data:image/png,no-base64", drawing.UNREADABLE),
        (12345, drawing.UNREADABLE),  # a forged message's value of another type
    ],
    ids=["decompression bomb", "base64 of nothing", "not base64", "not a string"],
)
def test_a_forged_drawing_is_refused_with_a_message(monkeypatch, value, warning):
    install_component(monkeypatch, value)
    at = open_drawing_explorer()
    assert not at.exception
    assert warning in texts(at.warning)
    assert drawing.HINT in texts(at.caption)  # the page goes on as with an empty canvas
