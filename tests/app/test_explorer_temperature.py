"""The explorer's temperature beyond one number: the high-temperature limit (KD's gradient against logit
matching's, computed on the page for the digit and the test digits), and the standardisation toggle with each
digit's effective temperature, which a link's ?standardise= may set or lock.

The teacher is the session's quick lenet5 (tests/conftest.py), handed to the page in place of the menu's."""

import re

import pytest
import torch

from kdlab.classroom.links import EXPLORER_TEMPERATURES
from kdlab.ml.temperature import effective_temperatures
from tests.app.helpers import chart_spec, open_alone, texts

PAGE = "pages/dark_knowledge.py"
GLOSSARY_LINK = re.compile(r"\[([^\]]+)\]\(glossary#[\w-]+\)")


def prose(elements) -> str:
    """``texts(elements)`` with the glossary's links turned back into their words."""
    return GLOSSARY_LINK.sub(r"\1", texts(elements))


pytestmark = pytest.mark.usefixtures("training_threads_as_in_the_app")  # tests/app/conftest.py


@pytest.fixture
def teacher(monkeypatch, small_teacher):
    monkeypatch.setattr("kdlab.ui.explorer.teacher_or_stand_in", lambda name, key: (small_teacher, None))
    return small_teacher


def first_three(sample_data) -> int:
    """The test image the page shows by default: the first 3."""
    return int(torch.nonzero(sample_data.test.labels == 3)[0])


def test_the_limit_section_shows_cosines_that_rise_to_one_with_T(teacher):
    at = open_alone(PAGE)
    assert not at.exception, [e.value for e in at.exception]
    assert "The high-temperature limit" in texts(at.subheader)
    spec = chart_spec(at, "explorer.limit")
    lines = [trace for trace in spec["data"] if trace.get("showlegend") is not False]
    assert [line["name"] for line in lines] == ["this digit", "1,000 test digits"]
    for line in lines:
        assert line["x"] == list(EXPLORER_TEMPERATURES)
        cosine = dict(zip(line["x"], line["y"]))
        assert cosine[1.0] < cosine[4.0] < cosine[20.0] < cosine[50.0] <= 1.0
        assert cosine[50.0] > 0.98  # the limit: KD at T = 50 pushes almost as logit matching does
    digit_at_4 = dict(zip(lines[0]["x"], lines[0]["y"]))[4.0]
    words = texts(at.markdown)
    assert f"At T = 4 KD pushes this digit's scores **{digit_at_4:.3f}** of the way logit matching would" in words
    assert "untrained (seed 0" in texts(at.caption)
    at.select_slider(key="explorer.temperature").set_value(50.0).run()
    digit_at_50 = dict(zip(lines[0]["x"], lines[0]["y"]))[50.0]
    assert f"At T = 50 KD pushes this digit's scores **{digit_at_50:.3f}**" in texts(at.markdown)
    table = at.table[0].value
    assert list(table["T"]) == [f"{t:g}" for t in EXPLORER_TEMPERATURES]


def test_the_toggle_shows_the_standardised_distribution_and_the_effective_temperature(teacher, sample_data):
    at = open_alone(PAGE)
    assert "effective temperature" not in prose(at.markdown)
    at.toggle(key="explorer.standardise").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    scores = teacher.test_logits[first_three(sample_data)]
    effective = float(effective_temperatures(scores[None], 4.0)[0])
    words = prose(at.markdown)
    assert f"**effective temperature of {effective:.3g}**" in words
    everyone = effective_temperatures(teacher.test_logits, 4.0)
    assert f"runs from **{float(everyone.min()):.3g}**" in words and f"to **{float(everyone.max()):.3g}**" in words
    bars = chart_spec(at, "explorer.standardised")["data"]
    assert torch.allclose(torch.tensor(bars[1]["y"]), torch.softmax(scores / effective, dim=0), atol=1e-5)


def test_a_link_sets_or_locks_the_toggle_and_a_bad_value_says_so(teacher):
    at = open_alone(PAGE, query={"standardise": "1", "lock": "standardise"})
    assert not at.exception, [e.value for e in at.exception]
    toggle = at.toggle(key="explorer.standardise")
    assert toggle.value and toggle.disabled
    assert re.search(r"effective temperature of [0-9.]+", prose(at.markdown))
    at = open_alone(PAGE, query={"standardise": "maybe"})
    assert not at.exception, [e.value for e in at.exception]
    assert "standardise=`maybe` is not 1 or 0; the logits are shown as they are" in texts(at.warning)
    assert not at.toggle(key="explorer.standardise").value
