"""The student trained alone, shared by every run that needs the same one.

A run's baseline depends on the data, the student, its training settings and seed, not on T, alpha
or the teacher (``kdlab.serve.keys.baseline_identity``), so a lesson where a class tries
thirty temperatures on one seed needs it once, not thirty times. Each lab job trains through a
``BaselineSharing``, its one step for all of it: a baseline in the result cache (a completed run with
the same baseline key) is reused; one that another job is training now (``kdlab.serve.live.LIVE_BASELINES``)
is waited for once the distilled student is trained; otherwise this job claims it, trains it and
publishes it. Every run is seeded on its own, so the record is the one the run would have made whole.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from kdlab.db.database import StorageError
from kdlab.experiments.distill import DistillationResult, StageEvent
from kdlab.i18n import N_
from kdlab.runs.record import BaselinePart, RunRecord, baseline_part, with_baseline_part
from kdlab.runs.store import RunStore
from kdlab.serve.live import LIVE_BASELINES, LiveBaseline
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobContext

log = logging.getLogger(__name__)
SHARED_NOTE = N_(  # English: shown with _(SHARED_NOTE)
    "The student alone was trained earlier for the same seed (same data, student and training settings: "
    "it never sees the teacher, T or alpha), so this run reuses it instead of training it again."
)
WAIT_SECONDS = 0.2  # how often a job waiting for another's baseline checks its own stop flag


class BaselineSharing:
    """One lab job's part in sharing baselines, used as a context manager around the job's training.

    On entry it knows where the baseline of ``request`` comes from: taken from an earlier run in
    ``store``'s result cache, or from the job training it now, else trained here (claimed, and published
    for the others). ``fresh`` requests ("Train it again live") and runs without a baseline share nothing.
    On exit a claimed baseline never published is published as None, so the jobs waiting for it train their own.
    """

    def __init__(self, request: TrainRequest, store: RunStore, context: JobContext) -> None:
        self._request, self._context = request, context
        self._cached: BaselinePart | None = None  # another run's, from the result cache
        self._follow: LiveBaseline | None = None  # another job's, in training now
        self._claim: LiveBaseline | None = None  # this job's, for the others
        self._shared: BaselinePart | None = None  # what the record takes in place of its own baseline
        key = request.baseline_key
        if key is None or request.fresh:
            return
        self._cached = _cached_part(store, key)
        if self._cached is None:
            live, mine = LIVE_BASELINES.claim_or_follow(key)
            self._claim, self._follow = (live, None) if mine else (None, live)

    def __enter__(self) -> BaselineSharing:
        return self

    def __exit__(self, *exception: Any) -> None:
        self._publish(None)  # a failed job lets the jobs waiting for its baseline train their own

    @property
    def stages(self) -> dict[str, float]:
        """The request's cost plan (stage -> cost) without the baseline when another run trains it."""
        return {run: cost for run, cost in self._request.plan.items() if run != "baseline" or not self._elsewhere}

    def distil(self, train: Callable[..., DistillationResult], **first: Any) -> DistillationResult:
        """The run's result: ``train(students=..., **first)`` trains the students this job trains (the distilled
        one alone when the baseline is shared, which is then waited for). When the run sharing it stopped or
        failed, ``train(students=("baseline",))`` trains it here after all, without ``first`` (the transfer
        indices and the stack: a job's stack takes its students once); a stopped job leaves it missing."""
        students = tuple(run for run in self._request.config.student_runs if run in self.stages)
        result = train(students=students, **first)
        if not self._elsewhere:
            return result
        if result.student is None or result.student.status == "stopped":
            return result  # a whole run stops before its baseline too
        stop = self._context.stop_requested
        self._shared = None if stop.is_set() else self._wait()
        if self._shared is None:
            if not stop.is_set():
                result.baseline = train(students=("baseline",)).baseline
            result.trained_here = tuple(result.config.student_runs)
        return result

    def complete(self, record: RunRecord) -> RunRecord:
        """``record`` with the shared baseline spliced in (and a note in the job's log that it was); this job's
        own baseline, if it claimed one, is handed to every job waiting for it."""
        if self._claim is not None:
            self._publish(baseline_part(record))
        if self._shared is None:
            return record
        self._context.emit(StageEvent("baseline", SHARED_NOTE))
        return with_baseline_part(record, self._shared)

    def remember(self, store: RunStore, run_id: str, record: RunRecord) -> None:
        """Enter the filed run ``run_id`` into ``store``'s result cache under its baseline key when its baseline
        completed, for later runs of the same seed to take."""
        key = self._request.baseline_key
        if key is None or baseline_part(record) is None:
            return
        try:
            store.remember_result(key, run_id)
        except StorageError as error:
            log.warning("could not add the baseline of run %s to the result cache: %s", run_id, error)

    @property
    def _elsewhere(self) -> bool:
        # Another run trained the baseline, or trains it now: this job trains the distilled student only.
        return self._cached is not None or self._follow is not None

    def _wait(self) -> BaselinePart | None:
        # The other run's baseline: at once, or when the job training it ends (None: that job stopped or
        # failed, or this one was stopped meanwhile; then this job trains its own).
        if self._cached is not None or self._follow is None:
            return self._cached
        while not self._follow.done.wait(WAIT_SECONDS):
            if self._context.stop_requested.is_set():
                return None
        return self._follow.part

    def _publish(self, part: BaselinePart | None) -> None:
        # Hand the claimed baseline to every job waiting for it, once.
        if self._claim is not None:
            LIVE_BASELINES.publish(self._claim, part)
            self._claim = None


def _cached_part(store: RunStore, key: str) -> BaselinePart | None:
    try:
        record = store.cached_result(key)
    except StorageError as error:
        log.warning("result cache unavailable, training the baseline instead: %s", error)
        return None
    return baseline_part(record) if record is not None else None
