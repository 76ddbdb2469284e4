"""The job runner: background threads for long trainings, fair and bounded.

Streamlit reruns a page's whole script on every click, so a training started directly inside
the script would block the page or be cut off by the next rerun. Instead the page submits the
training to a :class:`JobRunner` and on each rerun just reads the job's status, progress and
event log. A classroom server is one small machine shared by a class, so the runner:

- runs at most ``max_concurrent`` jobs at once; the rest wait in a fair order (round-robin between
  client addresses, and between owners where a job has none: the next job is the oldest one of the
  address whose last start is longest ago, so sixty tabs of one laptop take one turn between two of
  everyone else's; shared jobs take turns as one owner) and can show
  their place in line and when they should start and finish (``Job.starts_in_seconds``,
  ``Job.eta_seconds``), learned from the durations of recently finished jobs of the same kind;
- gives each student (``owner``) one active job (``OwnerBusy``), each client address ``max_per_client``, of them
  ``max_visitor_per_client`` of visitors (``ClientBusy``; ``kdlab.serve.clients.visitor_owner``), and at most
  ``max_queue`` waiting jobs (``QueueFull``), each a ``ValueError`` for the student; forgets finished jobs after
  ``job_ttl`` s or beyond the newest ``keep_finished``, and after ``hold_finished`` s holds them only while a
  session does.

Jobs stop cooperatively: a stop request sets ``context.stop_requested`` and the target is
expected to notice it and return early. A target runs its heavy library call through
``context.run(function, ...)``: here a plain call; ``kdlab.serve.ray_runner.RayRunner`` ships it to a
Ray cluster instead. ``kdlab.serve.jobs`` sizes the runner for the machine and picks the backend.
"""

from __future__ import annotations

import collections
import enum
import heapq
import logging
import threading
import time
import traceback
import uuid
import weakref
from collections.abc import Callable, Sequence
from typing import Any

from kdlab.ml.context import RunContext
from kdlab.serve.clients import is_visitor
from kdlab.serve.estimates import RECENT_DURATIONS, expected_seconds, remaining_seconds

DEFAULT_MAX_QUEUE = 60
DEFAULT_JOB_TTL = 3600.0  # seconds a finished job stays visible
DEFAULT_MAX_PER_CLIENT = 30  # a client address's unfinished jobs (kdlab.settings: KDLAB_MAX_JOBS_PER_CLIENT)
DEFAULT_MAX_VISITOR_PER_CLIENT = 4  # of those, visitors' (KDLAB_MAX_VISITOR_JOBS_PER_CLIENT)
KEEP_FINISHED = 500
# Twice Streamlit's disconnectedSessionTTL (60 s): kept an hour, a day's results stayed in memory (bench/soak.py).
HOLD_FINISHED = 120.0  # seconds the runner holds a finished job; then only the sessions that show it do
log = logging.getLogger(__name__)
SHARED_OWNER = "shared"  # jobs every session watches (a teacher): no per-owner limit, never refused
MAX_REMEMBERED_OWNERS = 1000  # owners the fair queue remembers the last turn of


# Why the runner refuses a job: each a ValueError whose message the student reads.


class QueueFull(ValueError):
    """The queue already holds ``max_queue`` waiting jobs."""


class OwnerBusy(ValueError):
    """The owner already has a queued or running job."""


class ClientBusy(ValueError):
    """The client address already has ``max_per_client`` queued or running jobs."""


def check_client(unfinished: Sequence[Any], visitor: bool, max_per_client: int, max_visitor_per_client: int) -> None:
    """Refuse a client address's next job when its ``unfinished`` jobs (``kdlab.serve.runner.Job``) are
    ``max_per_client``, or, for a ``visitor``'s job, when ``max_visitor_per_client`` of them are visitors'.

    Raises:
        ClientBusy: with a message that says what to do.
    """
    if len(unfinished) >= max_per_client:
        raise ClientBusy(
            f"Your network already has as many runs queued or running as one network may ({len(unfinished)}): wait "
            "for one to finish (an instructor whose class shares one network raises KDLAB_MAX_JOBS_PER_CLIENT)."
        )
    visitors = sum(is_visitor(job.owner) for job in unfinished)
    if visitor and visitors >= max_visitor_per_client:
        raise ClientBusy(
            f"Your network already has {visitors} jobs queued or running from pages opened without a student "
            "code, as many as one network may: wait for one to finish, or press Train in the lab first (your "
            "jobs then count as your own). An instructor whose class shares one network raises "
            "KDLAB_MAX_VISITOR_JOBS_PER_CLIENT."
        )


class JobStatus(enum.StrEnum):
    """Lifecycle of a job; values compare equal to plain strings."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"  # returned after a stop request, or cancelled while queued
    FAILED = "failed"  # the target raised


FINISHED_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.STOPPED, JobStatus.FAILED})


class JobContext:
    """What a running target gets: a stop flag, an event log, progress, and ``run``."""

    def __init__(self, job: Job) -> None:
        self._job = job
        self.stop_requested: threading.Event = job._stop_requested

    def emit(self, event: Any) -> None:
        """Append any object to the job's event log (thread safe)."""
        with self._job._log_lock:
            self._job._events.append(event)

    def set_progress(self, fraction: float, message: str = "") -> None:
        """Record progress as a fraction clamped to 0..1, with a short message."""
        with self._job._log_lock:
            self._job.progress = min(1.0, max(0.0, float(fraction)))
            self._job.progress_message = message

    def run(self, function: Callable[..., Any], *args: Any, on_event: Callable | None = None, **kwargs: Any) -> Any:
        """``function(*args, context=RunContext(on_event=on_event, stop=<this job's stop flag>), **kwargs)``: the
        job's heavy library call (``run_distillation``, ``run_replay``, ...), which a Ray runner runs on
        the cluster while ``on_event`` still receives every event here."""
        return function(*args, context=RunContext(on_event=on_event, stop=self.stop_requested), **kwargs)

    def together(self, alike: Any) -> Callable | None:
        """What ``run_distillation(together=...)`` calls to train this job's students with those of queued jobs
        submitted ``alike`` (``kdlab.serve.stacking``); None, to train them alone: this runner does not."""
        return None


class Job:
    """One submitted run. Created by :meth:`JobRunner.submit`, not directly."""

    def __init__(
        self, runner: JobRunner, job_id: str, name: str, owner: str | None, kind: str, cost: float | None
    ) -> None:
        self._runner = runner
        self.id = job_id
        self.name = name
        self.owner = owner
        self.client: str | None = None  # the address that asked (kdlab.serve.clients), for ``max_per_client``
        self.kind = kind  # jobs of one kind share duration estimates
        self.cost = cost  # relative work (e.g. ``kdlab.serve.limits.run_cost``), scales the estimate
        self.status = JobStatus.QUEUED
        self.result: Any = None
        self.error: str | None = None
        self.traceback: str | None = None  # full text for logs, not for users
        self.created_at = time.time()
        self.started_at: float | None = None
        self.finished_at: float | None = None
        self.progress = 0.0
        self.progress_message = ""
        self._events: list[Any] = []
        self._log_lock = threading.Lock()
        self._stop_requested = threading.Event()
        self._finished = threading.Event()

    def events(self) -> list[Any]:
        """A snapshot copy of every event emitted so far."""
        with self._log_lock:
            return list(self._events)

    def request_stop(self) -> None:
        """Ask the job to stop; a job still in the queue is cancelled at once."""
        self._stop_requested.set()
        self._runner._cancel_if_queued(self)

    @property
    def error_kind(self) -> str:
        """What a student may see of a failure: the exception's type only ("ValueError"), since its
        message can name server paths; the traceback is in the server's log."""
        return (self.error or "error").partition(":")[0]

    @property
    def is_finished(self) -> bool:
        """True once the job completed, stopped or failed."""
        return self.status in FINISHED_STATUSES

    @property
    def elapsed_seconds(self) -> float:
        """Running time so far, or in total once finished; 0 if it never started."""
        if self.started_at is None:
            return 0.0
        end = self.finished_at if self.finished_at is not None else time.time()
        return end - self.started_at

    def queue_position(self) -> int:
        """1 for the next job to start, 2 after it, ...; 0 when not queued."""
        return self._runner._queue_position(self)

    def starts_in_seconds(self) -> float | None:
        """Estimated seconds until a queued job starts (0 once it runs); None while unknown."""
        return self._runner._estimate(self)[0]

    def eta_seconds(self) -> float | None:
        """Estimated seconds until the job finishes (0 once finished); None while unknown."""
        return self._runner._estimate(self)[1]

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, name={self.name!r}, status={self.status.value!r})"


def _turn_owner(job: Job) -> str:
    # A job from a client address takes its turns with that address's other jobs: a laptop's tabs are one
    # turn. Jobs without an owner take their turns together with the shared ones.
    return f"client:{job.client}" if job.client is not None else job.owner or SHARED_OWNER


class JobRunner:
    """Runs submitted jobs on daemon threads, FIFO, at most ``max_concurrent`` at once.

    Args:
        max_concurrent: jobs running at once.
        max_queue: waiting jobs at most; one more raises ``QueueFull``.
        one_per_owner: refuse (``OwnerBusy``) a job whose owner has an unfinished one; max_per_client: the
            same for a client address's ``max_per_client``-th (``ClientBusy``), max_visitor_per_client for a visitor's.
        job_ttl: seconds a finished job is kept; keep_finished: finished jobs kept at most.
        hold_finished: seconds the runner itself holds a finished job; later only a session's reference does.
    """

    def __init__(
        self,
        max_concurrent: int = 1,
        *,
        max_queue: int = DEFAULT_MAX_QUEUE,
        one_per_owner: bool = True,
        job_ttl: float = DEFAULT_JOB_TTL,
        keep_finished: int = KEEP_FINISHED,
        max_per_client: int = DEFAULT_MAX_PER_CLIENT,
        max_visitor_per_client: int = DEFAULT_MAX_VISITOR_PER_CLIENT,
        hold_finished: float = HOLD_FINISHED,
    ) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        if max_queue < 0 or keep_finished < 0 or job_ttl < 0:
            raise ValueError("max_queue, keep_finished and job_ttl must not be negative")
        self.max_concurrent = max_concurrent
        self.max_queue = max_queue
        self.one_per_owner = one_per_owner
        self.job_ttl = job_ttl
        self.keep_finished = keep_finished
        self.max_per_client = max(1, max_per_client)
        self.max_visitor_per_client = max(1, max_visitor_per_client)
        self.hold_finished = hold_finished
        self._lock = threading.Lock()  # guards the fields below and job status changes
        self._jobs: dict[str, Job] = {}
        self._released: weakref.WeakValueDictionary[str, Job] = weakref.WeakValueDictionary()
        self._queue: collections.deque[tuple[Job, Callable[[JobContext], Any]]] = collections.deque()
        self._running: set[Job] = set()
        self._durations: dict[str, collections.deque[tuple[float | None, float]]] = {}
        self._turns = 0  # jobs started so far: the round-robin's clock
        self._last_turn: dict[str, int] = {}  # owner -> the turn their latest job started on

    def submit(
        self,
        name: str,
        target: Callable[[JobContext], Any],
        *,
        owner: str | None = None,
        kind: str | None = None,
        cost: float | None = None,
        client: str | None = None,
        alike: Any = None,
    ) -> Job:
        """Queue ``target(context)`` to run in the background and return its job.

        Args:
            name: what the job is, for people ("Run 3: mlp-300x2 from cnn").
            target: called with a ``JobContext`` on a worker thread; its return value is the result.
            owner: who submitted it (a session or student); ``SHARED_OWNER`` or None: no limits.
            kind: jobs of one kind share duration estimates (default: the name, e.g. "Replay table (quick)").
            cost: the job's relative work; estimates scale with it when given.
            client: the client address that asked (``kdlab.serve.clients``), for a personal job's
                ``max_per_client`` and its turns; None: not from a browser (the command line, a test).
            alike: a key shared by jobs whose students train alike (``TrainRequest.alike``), for a runner that
                trains look-alikes together (``kdlab.serve.stacking``); this one ignores it.

        Raises:
            OwnerBusy: the owner already has a queued or running job.
            ClientBusy: the client has ``max_per_client`` unfinished jobs (``max_visitor_per_client`` of visitors').
            QueueFull: ``max_queue`` jobs are already waiting.
        """
        kind = kind or name
        with self._lock:
            self._prune(time.time())
            personal = owner is not None and owner != SHARED_OWNER
            if personal and self.one_per_owner:
                active = next((job for job in self._jobs.values() if job.owner == owner and not job.is_finished), None)
                if active is not None:
                    raise OwnerBusy(
                        f"You already have a run in progress ({active.name}, {active.status.value}). Wait for it to "
                        "finish or stop it before starting another: one run per student keeps the queue fair."
                    )
            if personal and client is not None:
                mine = [job for job in self._jobs.values() if job.client == client and not job.is_finished]
                check_client(mine, is_visitor(owner), self.max_per_client, self.max_visitor_per_client)
            if personal and len(self._queue) >= self.max_queue:
                raise QueueFull(f"The training queue is full ({len(self._queue)} runs waiting); try again in a minute.")
            job_id = uuid.uuid4().hex[:8]
            while job_id in self._jobs or job_id in self._released:
                job_id = uuid.uuid4().hex[:8]
            job = Job(self, job_id, name, owner, kind, cost)
            job.client = client if personal else None
            self._jobs[job_id] = job
            self._queue.append((job, target))
            self._start_queued_jobs()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None (also once a finished job was pruned, or released and unheld)."""
        with self._lock:
            job = self._jobs.get(job_id) or self._released.get(job_id)
            return None if job is not None and job.is_finished and time.time() - job.finished_at > self.job_ttl else job

    def jobs(self, owner: str | None = None) -> list[Job]:
        """All jobs in submission order, optionally only those of one owner."""
        with self._lock:
            return [job for job in self._jobs.values() if owner is None or job.owner == owner]

    def queued_count(self) -> int:
        """How many jobs are waiting for a free slot."""
        with self._lock:
            return len(self._queue)

    def running_count(self) -> int:
        """How many jobs are running right now."""
        with self._lock:
            return len(self._running)

    def wait(self, job: Job, timeout: float | None = None) -> bool:
        """Block until ``job`` finishes or ``timeout`` seconds pass; True if finished."""
        return job._finished.wait(timeout)

    def _context(self, job: Job) -> JobContext:
        return JobContext(job)  # a backend's own context overrides ``run``

    def _start_queued_jobs(self) -> None:
        # Caller holds self._lock.
        while self._queue and len(self._running) < self.max_concurrent:
            job, target = self._fair_order()[0]
            self._queue.remove((job, target))
            self._start(job, target, self._running)

    def _start(self, job: Job, target: Callable[[JobContext], Any], running: set[Job]) -> None:
        # Caller holds self._lock and took the job out of the queue; ``running``: the set it counts in.
        self._turns += 1
        self._last_turn[_turn_owner(job)] = self._turns
        if len(self._last_turn) > MAX_REMEMBERED_OWNERS:  # bounded: keep the owners still waiting
            waiting = {_turn_owner(queued) for queued, _ in self._queue}
            self._last_turn = {owner: turn for owner, turn in self._last_turn.items() if owner in waiting}
        job.status = JobStatus.RUNNING
        job.started_at = time.time()
        running.add(job)
        thread = threading.Thread(target=self._run, args=(job, target), name=f"kdlab-job-{job.id}", daemon=True)
        thread.start()

    def _run(self, job: Job, target: Callable[[JobContext], Any]) -> None:
        status, result, error, trace = JobStatus.FAILED, None, None, None
        try:
            result = target(self._context(job))
            status = JobStatus.STOPPED if job._stop_requested.is_set() else JobStatus.COMPLETED
        except BaseException as exc:  # KeyboardInterrupt/SystemExit must not leak the slot either
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            trace = traceback.format_exc()
            log.error("Job %s (%s, owner %s) failed:\n%s", job.id, job.name, job.owner, trace)
        finally:
            with self._lock:
                job.result, job.error, job.traceback = result, error, trace
                job.finished_at = time.time()
                job.status = status
                self._running.discard(job)
                if status == JobStatus.COMPLETED:
                    recent = self._durations.setdefault(job.kind, collections.deque(maxlen=RECENT_DURATIONS))
                    recent.append((job.cost, job.finished_at - job.started_at))
                self._start_queued_jobs()
            job._finished.set()

    def _cancel_if_queued(self, job: Job) -> None:
        with self._lock:
            for index, (queued_job, _target) in enumerate(self._queue):
                if queued_job is job:
                    del self._queue[index]
                    job.status = JobStatus.STOPPED
                    job.finished_at = time.time()
                    job._finished.set()
                    return

    def _fair_order(self) -> list[tuple[Job, Callable[[JobContext], Any]]]:
        # Caller holds self._lock. The queue in the order jobs will start: each pick is the oldest job
        # of the owner whose latest start is longest ago (never started first).
        last_turn, turn, order = dict(self._last_turn), self._turns, []
        waiting = list(self._queue)
        while waiting:
            index = min(range(len(waiting)), key=lambda i: (last_turn.get(_turn_owner(waiting[i][0]), 0), i))
            picked = waiting.pop(index)
            turn += 1
            last_turn[_turn_owner(picked[0])] = turn
            order.append(picked)
        return order

    def _queue_position(self, job: Job) -> int:
        with self._lock:
            for position, (queued_job, _target) in enumerate(self._fair_order(), start=1):
                if queued_job is job:
                    return position
            return 0

    def _prune(self, now: float) -> None:
        # Caller holds self._lock. A pruned job reads as None; a released one while a session holds it.
        finished = sorted((job for job in self._jobs.values() if job.is_finished), key=lambda job: job.finished_at)
        overflow = len(finished) - self.keep_finished
        for index, job in enumerate(finished):
            if index < overflow or now - job.finished_at > self.job_ttl:
                del self._jobs[job.id]
            elif now - job.finished_at > self.hold_finished:
                self._released[job.id] = self._jobs.pop(job.id)

    def _estimate(self, job: Job) -> tuple[float | None, float | None]:
        """(seconds until ``job`` starts, seconds until it finishes), each None while unknown:
        the running jobs' remaining time, then the jobs ahead in line, handed to the first free slot."""
        with self._lock:
            now, recent = time.time(), self._durations
            if job.is_finished:
                return 0.0, 0.0
            if job.status == JobStatus.RUNNING:
                return 0.0, remaining_seconds(job, recent.get(job.kind, ()), now)
            slots = [remaining_seconds(running, recent.get(running.kind, ()), now) for running in self._running]
            if None in slots:
                return None, None
            slots += [0.0] * (self.max_concurrent - len(slots))
            heapq.heapify(slots)
            for queued, _target in self._fair_order():
                expected = expected_seconds(recent.get(queued.kind, ()), queued.cost)
                if expected is None:
                    return None, None
                if queued is job:
                    return slots[0], slots[0] + expected
                heapq.heappush(slots, heapq.heappop(slots) + expected)
            return None, None  # pruned or cancelled meanwhile
