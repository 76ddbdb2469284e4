"""The lab's live figures, built once per new curve point of a job and shared by every session watching it.

Each watching session reruns the live curves' view every few seconds (``kdlab.ui.lab_page``); building its
two Plotly figures was about three quarters of a tick's CPU (py-spy on bench/classroom_load.py: 1.6 % of the
server's samples in ``accuracy_curves`` and ``loss_anatomy`` out of 2.1 % in the live view; 14 ms a tick on
this machine).
Between two curve points the figures do not change, and students following one run (a lesson's equal
temperatures, the same link) see the same figures: so they are built once per (job, curve points)
and reused until the next point, and at most once every ``REBUILD_SECONDS`` while points arrive
faster (the offline sample's default run adds a point every half second: every tick would rebuild;
the progress bar above the curves still moves every tick). A built figure is shared between
sessions, so it is never changed after it is built (``st.plotly_chart`` only reads it). The figures' text is in
the language of the session that built them, so they are kept per (job, language): two students following one
run in two languages each see their own.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import plotly.graph_objects as go

from kdlab.experiments.distill import StageEvent
from kdlab.i18n import _, current_language
from kdlab.ml.data import ImageSet
from kdlab.ml.events import EvalEvent, FeatureViewEvent
from kdlab.ml.methods.registry import METHODS
from kdlab.plots import lab as plots
from kdlab.runs.record import curves_from_events, latest_view
from kdlab.serve.lab import TeacherReady
from kdlab.ui.feature_views import ViewFigures, digit_images, view_figures

MAX_JOBS = 64  # jobs whose latest figures are kept: more than a class has running at once
REBUILD_SECONDS = 4.0  # twice the lab's live interval: the curves move every other tick at most


@dataclass(frozen=True)
class LiveFigures:
    """What the live view of one job shows at one curve point."""

    accuracy: go.Figure
    loss: go.Figure
    stage: str | None  # the latest stage message ("Training the baseline ...")
    view: ViewFigures | None = None  # a feature- or relation-based method's live view, once the first point has it
    points: int = 0  # the curve points drawn (0: the axes only)


class LiveFigureCache:
    """The latest ``LiveFigures`` of each job in each language, by (job id, language code); entries of finished jobs
    are dropped. Thread safe."""

    def __init__(
        self, max_jobs: int = MAX_JOBS, rebuild_seconds: float = REBUILD_SECONDS, clock=time.monotonic
    ) -> None:
        self.max_jobs, self.rebuild_seconds, self._clock = max_jobs, rebuild_seconds, clock
        self._lock = threading.Lock()
        # (job id, language) -> (the job, what its figures show, when they were built, the figures)
        self._latest: OrderedDict[tuple[str, str], tuple[object, tuple, float, LiveFigures]] = OrderedDict()
        self.builds = 0  # figures built (a test and the benchmark read it)

    def figures(
        self, job, total_epochs: float | None, soft: str = "kd", test_set: ImageSet | None = None
    ) -> LiveFigures:
        """The live figures of ``job`` (a run of the distillation method ``soft``, on ``test_set``'s digits) now, in the
        current language: the cached ones while no new event changed them, or while only curve points arrived since
        a build less than ``rebuild_seconds`` ago."""
        events = job.events()
        shown = [
            event for event in events if isinstance(event, (EvalEvent, FeatureViewEvent, TeacherReady, StageEvent))
        ]
        stages = sum(1 for event in shown if not isinstance(event, EvalEvent | FeatureViewEvent))
        version, now = (len(shown), stages, total_epochs), self._clock()
        key = (job.id, current_language())
        with self._lock:
            cached = self._latest.get(key)
            if cached is not None and (cached[1] == version or self._recent(cached, version, now)):
                self._latest.move_to_end(key)
                return cached[3]
        built = build_live_figures(shown, total_epochs, soft, test_set)
        with self._lock:
            self.builds += 1
            self._latest[key] = (job, version, now, built)
            self._latest.move_to_end(key)
            self._forget_finished()
        return built

    def _recent(self, cached: tuple, version: tuple, now: float) -> bool:
        # Only new curve points since a build a moment ago: they wait for the next rebuild. A new stage
        # (the teacher ready, the baseline starting) or the first point shows at once.
        _, (points, stages, epochs), built_at, _ = cached
        return version[1:] == (stages, epochs) and points > stages and now - built_at < self.rebuild_seconds

    def _forget_finished(self) -> None:
        # Caller holds the lock. A finished job is never shown live again, and its entry would keep the job
        # (with its result) alive: dropped at the next build, and at most ``max_jobs`` kept in any case.
        for key in [key for key, (job, *rest) in self._latest.items() if job.is_finished]:
            del self._latest[key]
        while len(self._latest) > self.max_jobs:
            self._latest.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._latest)


def build_live_figures(
    events, total_epochs: float | None, soft: str = "kd", test_set: ImageSet | None = None
) -> LiveFigures:
    """Test accuracy (with the teacher's as a line) and the loss anatomy of the method ``soft`` from a job's events,
    and a feature method's latest live view (its fixed digits drawn from ``test_set`` when given)."""
    curves = curves_from_events(events)
    ready = [event for event in events if isinstance(event, TeacherReady)]
    stages = [event for event in events if isinstance(event, StageEvent)]
    accuracy = plots.accuracy_curves(
        curves,
        ready[-1].test_accuracy if ready else None,
        total_epochs=total_epochs,
        title=_("Test accuracy, live"),
    )
    view = latest_view(events)
    figures = None
    if view is not None and METHODS[soft].transfer is not None:
        images = digit_images(view, *((test_set.images, test_set.labels) if test_set is not None else (None, None)))
        figures = view_figures(soft, view, curves.get("distilled", []), images)
    stage = stages[-1].text() if stages else None
    points = sum(len(curve) for curve in curves.values())
    return LiveFigures(accuracy, plots.loss_anatomy(curves, soft), stage, figures, points)


LIVE_FIGURES = LiveFigureCache()
