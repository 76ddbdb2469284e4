"""The student trained alone, shared by every run that needs the same one.

A run's baseline depends on the data, the student, its training settings and seed, not on T, alpha
or the teacher (``kdlab.serve.keys.baseline_identity``), so a lesson where a class tries
thirty temperatures on one seed needs it once, not thirty times. Each lab job asks ``plan_baseline``
before it trains: a baseline in the result cache (a completed run with the same baseline key) is
reused; one that another job is training now (``kdlab.serve.live.LIVE_BASELINES``) is waited for
once the distilled student is trained; otherwise this job claims it, trains it and publishes it.
Every run is seeded on its own, so the record is the one the run would have made whole.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from kdlab.db.database import StorageError
from kdlab.runs.record import BaselinePart, baseline_part
from kdlab.runs.store import RunStore
from kdlab.serve.live import LIVE_BASELINES, LiveBaseline

log = logging.getLogger(__name__)
SHARED_NOTE = (
    "The student alone was trained earlier for the same seed (same data, student and training settings: "
    "it never sees the teacher, T or alpha), so this run reuses it instead of training it again."
)
WAIT_SECONDS = 0.2  # how often a job waiting for another's baseline checks its own stop flag


@dataclass
class BaselinePlan:
    """Where a lab job's baseline comes from: taken from an earlier run (``part``) or from the job
    training it now (``follow``), else trained here (``claim``: then published for others too)."""

    part: BaselinePart | None = None
    follow: LiveBaseline | None = None
    claim: LiveBaseline | None = None

    @property
    def shared(self) -> bool:
        """True when another run trained the baseline, or trains it now: this job trains the distilled student only."""
        return self.part is not None or self.follow is not None


def plan_baseline(key: str | None, store: RunStore, *, fresh: bool) -> BaselinePlan:
    """The plan for a run whose baseline has ``key`` (None: the run trains none), looked up in
    ``store``'s result cache; ``fresh`` ("Train it again live") trains its own, shared with nobody."""
    if key is None or fresh:
        return BaselinePlan()
    part = _cached_part(store, key)
    if part is not None:
        return BaselinePlan(part=part)
    live, mine = LIVE_BASELINES.claim_or_follow(key)
    return BaselinePlan(claim=live) if mine else BaselinePlan(follow=live)


def wait_for(plan: BaselinePlan, stop: threading.Event) -> BaselinePart | None:
    """The baseline a plan that does not train it takes: at once, or when the job training it ends
    (None: that job stopped or failed, or ``stop`` was set meanwhile; the caller trains its own)."""
    if plan.part is not None or plan.follow is None:
        return plan.part
    while not plan.follow.done.wait(WAIT_SECONDS):
        if stop.is_set():
            return None
    return plan.follow.part


def publish(plan: BaselinePlan, part: BaselinePart | None) -> None:
    """Hand the claimed baseline (None: not trained) to every job waiting for it, once; nothing unclaimed."""
    if plan.claim is not None:
        LIVE_BASELINES.publish(plan.claim, part)
        plan.claim = None


def remember_baseline(store: RunStore, key: str | None, run_id: str, part: BaselinePart | None) -> None:
    """Enter the run ``run_id`` into the result cache under its baseline key when its baseline completed."""
    if key is None or part is None:
        return
    try:
        store.remember_result(key, run_id)
    except StorageError as error:
        log.warning("could not add the baseline of run %s to the result cache: %s", run_id, error)


def _cached_part(store: RunStore, key: str) -> BaselinePart | None:
    try:
        record = store.cached_result(key)
    except StorageError as error:
        log.warning("result cache unavailable, training the baseline instead: %s", error)
        return None
    return baseline_part(record) if record is not None else None
