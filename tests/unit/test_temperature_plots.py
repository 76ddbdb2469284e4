"""The explorer's figures of the high-temperature limit and of standardised logits: what they draw, from numbers."""

import pytest
import torch

from kdlab.classroom.links import parse_explorer_link
from kdlab.ml.temperature import effective_temperatures, standardised
from kdlab.plots.temperature import limit_curve, standardised_bars

TEMPERATURES = [1.0, 4.0, 50.0]


def test_the_limit_curve_draws_each_line_and_marks_the_chosen_temperature_on_it():
    figure = limit_curve(TEMPERATURES, {"this digit": [0.8, 0.9, 0.999], "batch": [0.7, 0.85, 0.998]}, 4.0)
    lines = [trace for trace in figure.data if trace.showlegend is not False]
    marks = [trace for trace in figure.data if trace.showlegend is False]
    assert [line.name for line in lines] == ["this digit", "batch"]
    assert list(lines[0].y) == [0.8, 0.9, 0.999] and list(lines[1].x) == TEMPERATURES
    assert [(list(mark.x), list(mark.y)) for mark in marks] == [([4.0], [0.9]), ([4.0], [0.85])]
    assert figure.layout.shapes[0].x0 == 4.0  # the vertical line at the chosen T
    assert figure.layout.yaxis.range[0] == pytest.approx(0.65)  # room under the lowest cosine
    assert "chosen T = 4" in figure.layout.title.text


def test_the_standardised_bars_are_softmax_at_the_effective_temperature():
    scores = torch.tensor([[9.0, 2.0, -1.0, 0.5, 3.0, -2.0, 0.0, 1.0, -0.5, 4.0]])
    effective = float(effective_temperatures(scores, 4.0)[0])
    raw = torch.softmax(scores / 4.0, dim=1)[0]
    shaped = torch.softmax(standardised(scores) / 4.0, dim=1)[0]
    assert torch.allclose(shaped, torch.softmax(scores / effective, dim=1)[0], atol=1e-6)  # the same thing
    figure = standardised_bars(raw.tolist(), shaped.tolist(), 4.0, effective, true_label=0)
    assert list(figure.data[0].y) == raw.tolist() and list(figure.data[1].y) == shaped.tolist()
    assert figure.data[0].x[0] == "0 (true)"
    assert f"like T = {effective:.3g} on z" in figure.data[1].name


def test_an_explorer_link_reads_standardise_as_on_or_off_and_refuses_anything_else():
    assert parse_explorer_link({"standardise": "on"}).values == {"standardise": True}
    link = parse_explorer_link({"standardise": "0", "lock": "standardise"})
    assert link.values == {"standardise": False} and link.is_locked("standardise")
    link = parse_explorer_link({"standardise": "2"})
    assert link.values == {} and link.problems == ("standardise=`2` is not 1 or 0; the logits are shown as they are",)
