"""The lab's "Watch it train again": a result from the cache redraws its two curves point by point at the speed
they were recorded, by a button or by itself with a link's ``live=1``. AppTest never ticks the fragment, so the
tests move the watch's clock and rerun the page, as the fragment's ticks would."""

import json

import pytest

import kdlab.ui.lab_run as lab_run
from kdlab.runs.record import curves_at, curves_seconds
from tests.app.helpers import open_alone, run_until, texts

LAB = "pages/distillation_lab.py"
LINK = {"teacher": "linear", "student": "mlp-10x1", "epochs": "2", "train_size": "500", "lock": "all"}


class Clock:
    """The watch's clock, moved by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(lab_run, "clock", clock)
    return clock


def accuracy_points(at) -> int:
    """Curve points in the watch's accuracy chart (every trace's; the teacher is a line, not a trace)."""
    (chart,) = [chart for chart in at.get("plotly_chart") if "Test accuracy, as it trained" in chart.proto.spec]
    return sum(len(trace["x"]) for trace in json.loads(chart.proto.spec)["data"])


def trained_once(seed: int, query: dict | None = None):
    """The link's run trained once (by another student), then pressed again in a new session: from the cache."""
    first = open_alone(LAB, query=LINK | {"seed": str(seed)})
    first.button(key="lab.train").click().run()
    run_until(first, lambda at: "Result of run 1" in texts(at.subheader), timeout=180)
    again = open_alone(LAB, query=LINK | {"seed": str(seed)} | (query or {}))
    again.button(key="lab.train").click().run()
    assert "trained earlier on this server" in texts(again.info)
    return again


def test_watch_it_train_again_draws_the_recorded_points_at_their_speed(clock):
    at = trained_once(seed=51)
    curves = at.session_state["lab.ticket"].record.curves
    total = curves_seconds(curves)
    assert set(curves) == {"distilled", "baseline"} and total > 0
    at.button(key="lab.watch").click().run()
    assert not at.exception and "training again as recorded" in texts(at.subheader)
    drawn = []
    for fraction in (0.0, 0.3, 0.7):
        clock.now = 1000.0 + fraction * total
        at.run()
        assert not at.exception
        drawn.append(accuracy_points(at))
        assert drawn[-1] == sum(len(points) for points in curves_at(curves, fraction * total).values())
    assert drawn[0] < drawn[1] < drawn[2] < sum(len(points) for points in curves.values())  # growing
    clock.now = 1000.0 + total + 0.1  # the recording is over: the result
    at.run()
    assert not at.exception and "training again as recorded" not in texts(at.subheader)
    assert "Result of run 1" in texts(at.subheader)


def test_a_link_with_live_starts_watching_a_cached_result_by_itself(clock):
    at = trained_once(seed=52, query={"live": "1"})
    assert not at.exception and "training again as recorded" in texts(at.subheader)
    at.button(key="lab.watch.skip").click().run()
    assert "training again as recorded" not in texts(at.subheader) and "Result of run 1" in texts(at.subheader)
