"""A scheduled run's temperature where a student sees it: the accuracy figure draws T in a panel under the
accuracy (live, watched again and in the result; nothing new for a constant T) and the result says in a sentence
how T moved."""

import pytest

from kdlab.plots.lab import TEMPERATURE_NAME, accuracy_curves, add_temperature
from kdlab.runs.record import RunRecord
from kdlab.ui.results import temperature_text


def points(temperatures=None):
    """Curve points at epochs 0.5, 1, 1.5, ... with a temperature each where given."""
    temperatures = temperatures or [None, None, None]
    return [
        {"epoch": 0.5 * (index + 1), "test_accuracy": 0.8 + 0.01 * index}
        | ({"temperature": value} if value is not None else {})
        for index, value in enumerate(temperatures)
    ]


def record(schedule: str, temperatures, temperature: float = 4.0, final: float | None = None) -> RunRecord:
    student = {"test_accuracy": 0.9} | ({"final_temperature": final} if final is not None else {})
    summary = {"config": {"schedule": schedule, "temperature": temperature}, "student": student}
    curves = {"distilled": points(temperatures), "baseline": points()}
    return RunRecord(run_id="r", number=1, created_at=0.0, status="completed", summary=summary, curves=curves)


def test_a_scheduled_run_draws_its_recorded_temperatures_in_a_panel_below():
    recorded = [3.9, 5.25, 7.6]
    figure = accuracy_curves({"distilled": points(recorded), "baseline": points()}, teacher_accuracy=0.92)
    traces = [trace for trace in figure.data if trace.name == TEMPERATURE_NAME]
    assert len(traces) == 1
    assert list(traces[0].y) == recorded and list(traces[0].x) == [0.5, 1.0, 1.5]
    assert traces[0].yaxis == "y2" and traces[0].line.dash == "dashdot"  # told apart by its dash, not colour alone
    assert figure.layout.yaxis2.domain[1] < figure.layout.yaxis.domain[0]  # a panel below the accuracy's
    assert figure.layout.yaxis2.range[0] == 0 and figure.layout.yaxis2.range[1] >= 7.6
    assert all(trace.yaxis in (None, "y") for trace in figure.data if trace.name != TEMPERATURE_NAME)


def test_a_constant_temperature_draws_nothing_new():
    figure = accuracy_curves({"distilled": points(), "baseline": points()}, teacher_accuracy=0.92)
    assert [trace.name for trace in figure.data] == ["Distilled student", "Student alone (baseline)"]
    assert "yaxis2" not in figure.to_plotly_json()["layout"]
    assert add_temperature(figure, points()) is figure and len(figure.data) == 2


def test_the_sentence_says_where_a_learned_temperature_went():
    text = temperature_text(record("learned", [4.1, 5.5, 7.61], final=7.6123))
    assert text == "T went from 4 to 7.61 (learned, CTKD): the temperature rose as the student learnt."


def test_the_sentence_names_a_dip_beyond_both_ends():
    text = temperature_text(record("learned", [3.9, 2.74, 3.17], final=3.167))
    assert text == (
        "T went from 4 to 3.17 (learned, CTKD; lowest 2.74 at epoch 1): the temperature fell as the student learnt."
    )


def test_the_sentence_of_an_annealed_run_gives_its_ends():
    text = temperature_text(record("annealed", [3.8, 2.5, 1.0], temperature=4.0))
    assert text == "T went from 4 to 1 (annealed along a cosine): the temperature fell as the student learnt."


@pytest.mark.parametrize("schedule, temperatures", [("constant", None), ("learned", None)])
def test_no_sentence_without_a_moving_temperature(schedule, temperatures):
    assert temperature_text(record(schedule, temperatures)) is None
    old = record("constant", None)
    del old.summary["config"]["schedule"]  # a run filed before the schedules
    assert temperature_text(old) is None
