"""The explorer shows what the teacher's features hold for the digit on the page: a conv teacher's attention maps
and feature maps with their sentences, read once per (teacher, digit); an MLP teacher and an ensemble say why
they have none.

The teachers are the session's quickly trained ones (tests/conftest.py), handed to the page in place of the
menu's, which would train for minutes here."""

import pytest

from kdlab.teachers.cache import resolve_teacher
from kdlab.ui import drawing, explorer_features
from tests.app.helpers import chart_spec, open_alone, texts
from tests.app.test_drawing import bar_canvas

PAGE = "pages/dark_knowledge.py"


pytestmark = pytest.mark.usefixtures("training_threads_as_in_the_app")  # tests/app/conftest.py


@pytest.fixture
def teachers(monkeypatch, small_teacher, sample_data):
    """The page's teacher by name, from the session's quick ones (lenet5: 8 epochs on the sample)."""
    by_name = {
        "lenet5": small_teacher,
        "mlp-20x1": resolve_teacher("mlp-20x1", sample_data, epochs=2),
        "ensemble:linear*2": resolve_teacher("ensemble:linear*2", sample_data, epochs=2),
    }
    monkeypatch.setattr("kdlab.ui.explorer.teacher_or_stand_in", lambda name, key: (by_name[name], None))
    return by_name


def test_a_conv_teacher_shows_its_attention_and_feature_maps_with_their_numbers(teachers, monkeypatch):
    reads = []
    read = explorer_features.feature_view
    monkeypatch.setattr(explorer_features, "feature_view", lambda *args: reads.append(1) or read(*args))
    at = open_alone(PAGE, query={"explorer.teacher": "lenet5"})
    assert not at.exception, [e.value for e in at.exception]
    assert "What the teacher's features hold" in texts(at.subheader)
    attention = chart_spec(at, "explorer.attention")
    assert [len(trace["z"]) for trace in attention["data"]] == [28, 28, 14, 28, 5]  # digit; digit + each block's map
    assert attention["layout"]["title"]["subtitle"]["text"].startswith("Teacher lenet5: 8 epochs")
    channels = chart_spec(at, "explorer.channels")
    assert len(channels["data"]) == 6 + 8  # all 6 channels of block 1, the 8 most active of block 2's 16
    words = texts(at.markdown)
    assert "**Block 1** (6 maps of 14 x 14): its attention peaks at row " in words
    assert "**Block 2** (16 maps of 5 x 5)" in words and "most active of its 16 channels average" in words
    assert "**Its last hidden layer has 84 units; " in words
    assert "](glossary#attention-map)" in words and "](glossary#feature-based-distillation)" in words
    first = attention["data"][2]["z"]
    at.select_slider(key="explorer.temperature").set_value(10.0).run()  # the same digit: the view is kept
    assert len(reads) == 1
    at.radio(key="explorer.digit").set_value(7).run()  # another digit: read again
    assert len(reads) == 2 and chart_spec(at, "explorer.attention")["data"][2]["z"] != first


def test_a_drawn_digit_shows_the_teachers_maps_of_the_drawing(teachers, monkeypatch):
    monkeypatch.setattr(drawing, "canvas_pixels", bar_canvas)  # a "1": a vertical bar
    at = open_alone(PAGE, {"explorer.mode": "Draw your own"}, query={"explorer.teacher": "lenet5"})
    assert not at.exception, [e.value for e in at.exception]
    digit = chart_spec(at, "explorer.attention")["data"][0]["z"]
    ink = [column for column in range(28) if any(row[column] for row in digit)]
    assert ink and max(ink) - min(ink) < 8  # the drawing, as the model sees it: a narrow bar
    assert "**Block 1** (6 maps of 14 x 14)" in texts(at.markdown)


def test_an_mlp_teacher_says_it_has_no_maps_and_why(teachers):
    at = open_alone(PAGE, query={"explorer.teacher": "mlp-20x1"})
    assert not at.exception, [e.value for e in at.exception]
    assert "mlp-20x1 has no feature maps to show: it has no conv blocks." in texts(at.info)
    assert not [chart for chart in at.get("plotly_chart") if chart.proto.id.endswith(("attention", "channels"))]
    assert "**Its last hidden layer has 20 units; " in texts(at.markdown)


def test_an_ensemble_says_it_has_no_one_set_of_features(teachers):
    at = open_alone(PAGE, query={"explorer.teacher": "ensemble:linear*2"})
    assert not at.exception, [e.value for e in at.exception]
    assert "An ensemble has no one set of features:** each of its 2 networks (linear, linear)" in texts(at.info)
    assert "last hidden layer has" not in texts(at.markdown)
