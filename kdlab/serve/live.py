"""Live runs: the job training a run request right now, and every student following it.

Identical requests (the same ``TrainRequest.key``) join the live run instead of queueing a copy, so
thirty students pressing Train on the defaults start one training; each follower gets their own
record when it ends. ``LIVE_RUNS`` is the process-wide registry. ``LIVE_BASELINES`` does the same for
the student trained alone, which runs of different temperatures share (``kdlab.serve.baselines``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from typing import Any

from kdlab.runs.store import RunStore


@dataclass
class Follower:
    """A student who gets a record of a live run when it ends (a replay's follower gets the job's result)."""

    student: str  # the store's student_key (or the session's owner id): finds the run again after a reload
    store: RunStore | None  # None: a replay's follower, who files no record (``kdlab.serve.replays``)
    number: int
    run_id: str
    source: str  # "trained" (started it) or "joined"


@dataclass
class LiveRun:
    """A job training one run request, and who follows it."""

    key: str
    request: Any  # the kdlab.serve.request.TrainRequest it trains
    job: Any = None  # kdlab.serve.runner.Job, set once submitted
    followers: list[Follower] = field(default_factory=list)
    closed: bool = False  # stopping or ending: nobody joins any more


class LiveRuns:
    """Process-wide registry of runs in progress, keyed by ``request_key``. Thread safe.

    Bounded by the runner's unfinished lab jobs (``max_queue`` waiting plus those running): a run enters
    with its job and leaves when the job ends, however it ends (``finish`` runs in the job's ``finally``).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, LiveRun] = {}

    def join_or_start(self, request: Any, follower: Follower, submit) -> tuple[LiveRun, Follower]:
        """Follow the live run of ``request.key`` if there is one; otherwise call ``submit(live_run)``, which
        must return the new job, and register it. Returns the live run and the follower's place in
        it: ``follower`` itself, marked "joined" when it joined, or the student's earlier place
        when they already follow this run (a second tab: one record, not two).

        ``submit`` runs under the registry's lock, so two identical requests never both start a job.
        """
        key = request.key
        with self._lock:
            live = self._runs.get(key)
            if live is not None and not live.closed and not live.job.is_finished:
                earlier = next((f for f in live.followers if f.student == follower.student), None)
                if earlier is not None:
                    return live, earlier
                follower = replace(follower, source="joined")
                live.followers.append(follower)
                return live, follower
            live = LiveRun(key, request, followers=[follower])
            live.job = submit(live)
            self._runs[key] = live
            return live, follower

    def take_first(self, live: LiveRun) -> Follower | None:
        """The follower whose record becomes the cached one (taken off the list), when the job ends."""
        with self._lock:
            return live.followers.pop(0) if live.followers else None

    def finish(self, live: LiveRun) -> list[Follower]:
        """Close ``live`` (nobody joins any more) and return its remaining followers."""
        with self._lock:
            live.closed = True
            if self._runs.get(live.key) is live:
                del self._runs[live.key]
            followers, live.followers = live.followers, []
            return followers

    def stop_or_leave(self, job, run_id: str) -> tuple[str, Follower | None]:
        """A follower's Stop: ("left", the follower) when others still follow the run (it keeps
        training for them, and this follower gets no record), else ("stop", None): the caller
        stops the job, whose partial result this follower keeps."""
        with self._lock:
            for live in self._runs.values():
                if live.job is job and not live.closed:
                    leaving = next((follower for follower in live.followers if follower.run_id == run_id), None)
                    others = [follower for follower in live.followers if follower is not leaving]
                    if leaving is None:  # not (or no longer) a follower: the run is the others' to stop
                        return "left", None
                    if others:
                        live.followers = others
                        return "left", leaving
                    live.closed = True
                    return "stop", None
        return "stop", None

    def find(self, student: str) -> tuple[LiveRun, Follower] | None:
        """The unfinished live run ``student`` follows and their place in it (after a reload), or None."""
        with self._lock:
            for live in self._runs.values():
                for follower in live.followers:
                    if follower.student == student and not live.job.is_finished:
                        return live, follower
        return None


LIVE_RUNS = LiveRuns()


@dataclass
class LiveBaseline:
    """The student alone of one baseline key, being trained by one lab job for every run that needs it."""

    key: str
    done: threading.Event = field(default_factory=threading.Event)
    part: Any = None  # kdlab.runs.record.BaselinePart once trained; None when its job stopped or failed


class LiveBaselines:
    """Process-wide registry of baselines in training, keyed by ``baseline_key``. Thread safe.

    Bounded like ``LiveRuns``: at most one entry per unfinished lab job, which publishes (and so removes)
    its claim in its ``finally``.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._baselines: dict[str, LiveBaseline] = {}

    def claim_or_follow(self, key: str) -> tuple[LiveBaseline, bool]:
        """The baseline of ``key`` in training, and whether the caller must train it: True when
        nobody was (the caller then ``publish``es it, also when it fails), False to wait for it."""
        with self._lock:
            live = self._baselines.get(key)
            if live is not None:
                return live, False
            live = self._baselines[key] = LiveBaseline(key)
            return live, True

    def publish(self, live: LiveBaseline, part: Any) -> None:
        """The claimed baseline is trained (``part``), or will not be (None: its followers train their own)."""
        with self._lock:
            if self._baselines.get(live.key) is live:
                del self._baselines[live.key]
            live.part = part
        live.done.set()


LIVE_BASELINES = LiveBaselines()
