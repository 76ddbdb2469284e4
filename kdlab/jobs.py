"""Background jobs for long trainings, built on plain ``threading``.

Streamlit reruns a page's whole script on every click, so a training started
directly inside the script would block the page or be cut off by the next
rerun.  Instead the page submits the training to a :class:`JobRunner` and on
each rerun just reads the job's status, progress and event log.

A classroom server is usually a small CPU shared by many students.  Running
every training at once would make all of them crawl, so the runner starts
jobs in submission order and lets at most ``max_concurrent`` run at a time;
the rest wait in a queue and can show their place in line.

Jobs stop cooperatively: a stop request sets ``context.stop_requested`` and
the target is expected to notice it and return early.
"""

from __future__ import annotations

import collections
import enum
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from typing import Any


class JobStatus(enum.StrEnum):
    """Lifecycle of a job; values compare equal to plain strings."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    STOPPED = "stopped"  # returned after a stop request, or cancelled while queued
    FAILED = "failed"  # the target raised


FINISHED_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.STOPPED, JobStatus.FAILED})


class JobContext:
    """What a running target gets: a stop flag, an event log and progress."""

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


class Job:
    """One submitted run. Created by :meth:`JobRunner.submit`, not directly."""

    def __init__(self, runner: JobRunner, job_id: str, name: str, owner: str | None) -> None:
        self._runner = runner
        self.id = job_id
        self.name = name
        self.owner = owner
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

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, name={self.name!r}, status={self.status.value!r})"


class JobRunner:
    """Runs submitted jobs on daemon threads, FIFO, at most ``max_concurrent`` at once."""

    def __init__(self, max_concurrent: int = 1) -> None:
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.max_concurrent = max_concurrent
        self._lock = threading.Lock()  # guards the fields below and job status changes
        self._jobs: dict[str, Job] = {}
        self._queue: collections.deque[tuple[Job, Callable[[JobContext], Any]]] = collections.deque()
        self._running = 0

    def submit(self, name: str, target: Callable[[JobContext], Any], *, owner: str | None = None) -> Job:
        """Queue ``target(context)`` to run in the background and return its job."""
        with self._lock:
            job_id = uuid.uuid4().hex[:8]
            while job_id in self._jobs:
                job_id = uuid.uuid4().hex[:8]
            job = Job(self, job_id, name, owner)
            self._jobs[job_id] = job
            self._queue.append((job, target))
            self._start_queued_jobs()
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, or None."""
        with self._lock:
            return self._jobs.get(job_id)

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
            return self._running

    def wait(self, job: Job, timeout: float | None = None) -> bool:
        """Block until ``job`` finishes or ``timeout`` seconds pass; True if finished."""
        return job._finished.wait(timeout)

    def _start_queued_jobs(self) -> None:
        # Caller holds self._lock.
        while self._queue and self._running < self.max_concurrent:
            job, target = self._queue.popleft()
            job.status = JobStatus.RUNNING
            job.started_at = time.time()
            self._running += 1
            thread = threading.Thread(target=self._run, args=(job, target), name=f"kdlab-job-{job.id}", daemon=True)
            thread.start()

    def _run(self, job: Job, target: Callable[[JobContext], Any]) -> None:
        status, result, error, trace = JobStatus.FAILED, None, None, None
        try:
            result = target(JobContext(job))
            status = JobStatus.STOPPED if job._stop_requested.is_set() else JobStatus.COMPLETED
        except BaseException as exc:  # KeyboardInterrupt/SystemExit must not leak the slot either
            error = f"{type(exc).__name__}: {exc}".splitlines()[0]
            trace = traceback.format_exc()
        finally:
            with self._lock:
                job.result, job.error, job.traceback = result, error, trace
                job.finished_at = time.time()
                job.status = status
                self._running -= 1
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

    def _queue_position(self, job: Job) -> int:
        with self._lock:
            for position, (queued_job, _target) in enumerate(self._queue, start=1):
                if queued_job is job:
                    return position
            return 0


_default_runner: JobRunner | None = None
_default_runner_lock = threading.Lock()


def _max_jobs_from_env() -> int:
    try:
        value = int(os.environ.get("KDLAB_MAX_JOBS", "1").strip())
    except ValueError:
        return 1
    return value if value >= 1 else 1


def default_runner() -> JobRunner:
    """The process-wide runner; its size comes from ``KDLAB_MAX_JOBS`` (default 1)."""
    global _default_runner
    with _default_runner_lock:
        if _default_runner is None:
            _default_runner = JobRunner(max_concurrent=_max_jobs_from_env())
        return _default_runner
