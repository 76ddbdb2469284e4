"""The live view of a job: the progress bar's ticks and the live curves' redraws are views of their own."""

from dataclasses import dataclass

import pytest

from kdlab.serve.runner import JobStatus
from kdlab.ui import progress


@dataclass
class FakeJob:
    status: JobStatus
    is_finished: bool = False
    id: str = "job-1"
    left: float | None = 60.0  # the server's estimate of the seconds left; None: unknown
    elapsed_seconds: float = 1.0

    def eta_seconds(self) -> float | None:
        return self.left


class PageRerun(Exception):
    """``st.rerun()`` of the whole page."""


@pytest.fixture
def views(monkeypatch) -> list[dict]:
    """Each ``st.fragment`` follow_job defines, with its ``run_every`` and what one run of it draws."""
    defined = []

    def fragment(run_every=None):
        def wrap(function):
            def run():
                defined.append({"run_every": run_every, "draws": []})
                function()

            return run

        return wrap

    monkeypatch.setattr(progress.st, "fragment", fragment)
    monkeypatch.setattr(progress.st, "session_state", {})
    monkeypatch.setattr(progress.st, "rerun", lambda: (_ for _ in ()).throw(PageRerun()))
    monkeypatch.setattr(progress, "render_job_progress", lambda job, **_: defined[-1]["draws"].append("progress"))
    return defined


def body_into(views: list[dict], points: bool = True):
    """A body that draws curves, with curve points in them or (``points=False``) the empty axes only."""

    def body(job) -> bool:
        views[-1]["draws"].append("curves")
        return points

    return body


def test_the_curves_redraw_at_their_own_pace_and_a_progress_tick_draws_no_chart(views):
    progress.follow_job(FakeJob(JobStatus.RUNNING), body_into(views), key="k", interval=2.0, body_interval=6.0)
    assert [(view["run_every"], view["draws"]) for view in views] == [(2.0, ["progress"]), (6.0, ["curves"])]


def test_a_short_run_ticks_its_curves_with_the_progress_bar(views):
    """A run expected to last less than SHORT_RUN_SECONDS: its curves would show once or never at their own pace
    (deploy/rehearse.sh's first run on the offline sample once showed none)."""
    job = FakeJob(JobStatus.RUNNING, left=progress.SHORT_RUN_SECONDS - 2.0)
    progress.follow_job(job, body_into(views), key="k", interval=2.0, body_interval=6.0)  # a point: no rerun
    assert [(view["run_every"], view["draws"]) for view in views] == [(2.0, ["progress", "curves"])]


def test_without_an_estimate_the_curves_tick_with_the_progress_bar_until_the_first_point(views):
    """The server's first run of a kind has no estimate: the empty axes tick with the progress bar, and the tick
    that draws the first point reruns the page, which then paces the run by the estimate it has by then."""
    job = FakeJob(JobStatus.RUNNING, left=None)
    progress.follow_job(job, body_into(views, points=False), key="k", interval=2.0, body_interval=6.0)
    assert [(view["run_every"], view["draws"]) for view in views] == [(2.0, ["progress", "curves"])]
    assert "k.body_shown" not in progress.st.session_state
    with pytest.raises(PageRerun):
        progress.follow_job(job, body_into(views), key="k", interval=2.0, body_interval=6.0)
    assert progress.st.session_state["k.body_shown"] == job.id
    views.clear()
    progress.follow_job(job, body_into(views), key="k", interval=2.0, body_interval=6.0)  # the page's rerun
    assert [(view["run_every"], view["draws"]) for view in views] == [(2.0, ["progress"]), (6.0, ["curves"])]
    views.clear()
    progress.follow_job(
        FakeJob(JobStatus.RUNNING, id="job-2", left=None),
        body_into(views, False),
        key="k",
        interval=2.0,
        body_interval=6.0,
    )
    assert [(view["run_every"], view["draws"]) for view in views] == [(2.0, ["progress", "curves"])]  # the next run


def test_without_a_body_interval_the_body_ticks_with_the_progress_bar(views):
    progress.follow_job(FakeJob(JobStatus.RUNNING), body_into(views), key="k", interval=2.0)
    assert [(view["run_every"], view["draws"]) for view in views] == [(2.0, ["progress", "curves"])]


def test_a_queued_job_has_only_its_place_in_line(views):
    progress.follow_job(FakeJob(JobStatus.QUEUED), body_into(views), key="k", interval=2.0, body_interval=6.0)
    assert [(view["run_every"], view["draws"]) for view in views] == [(progress.QUEUED_SECONDS, ["progress"])]


@dataclass
class TimedJob:
    elapsed_seconds: float
    left: float | None

    def eta_seconds(self) -> float | None:
        return self.left


def test_a_longer_run_refreshes_less_often_within_the_bounds():
    assert progress.paced_interval(TimedJob(0.0, None), 2.0, 5.0) == 2.0  # no estimate yet: the shortest
    assert progress.paced_interval(TimedJob(1.0, 9.0), 2.0, 5.0) == 2.0  # a 10 s run
    assert progress.paced_interval(TimedJob(15.0, 45.0), 2.0, 5.0) == 60.0 / progress.LIVE_UPDATES
    assert progress.paced_interval(TimedJob(10.0, 590.0), 2.0, 5.0) == 5.0  # ten minutes
