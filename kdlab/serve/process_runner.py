"""The job runner on worker processes of this machine: trainings beside the web server, not inside it.

Threads of one Python process share one interpreter lock, and a small training holds it for most of
its step (the dispatch of small tensor operations). Measured on the idle 2-core machine (2026-12-03,
the lab's default student, 40 epochs on 5,000 images, one torch thread each): one training alone took
3.4 s; two at once on two threads took 5.4 s each (4.35 s of CPU each, the rest waiting for the lock);
two at once in two processes 3.4 s each. So a ``ProcessRunner`` keeps ``JobRunner``'s queue, fairness,
estimates and pruning here, each job's target still runs on a thread here, and the heavy library call
the target makes through ``context.run(function, ...)`` runs in a worker process of a standard
``concurrent.futures.ProcessPoolExecutor`` (one worker per slot, started with the runner, reused).

- Arguments travel through ``torch.multiprocessing``'s shared memory: a data set or teacher moves to
  shared memory the first time it is sent (about 0.1 s for full MNIST) and costs about 1 ms to send
  again. The result comes back pickled, with every argument it holds (the teacher, the data)
  replaced by a reference to the object here, so nothing large travels back.
- Progress: the worker buffers the call's events and sends them every ``FLUSH_SECONDS`` on one queue;
  a router thread here hands each batch to its job's thread, which calls ``on_event`` as in process.
- Stop: the job's stop flag here marks the call in a small shared table; the worker reads it when it
  flushes and sets the call's own stop flag, so the run ends early with its partial result.
- A worker that dies (killed, out of memory) fails the jobs it ran with a clear message; the runner
  starts a new pool for the next job. A worker whose server dies exits too.
- Every ``KDLAB_*`` variable of this process goes with each call, so a worker reads the same settings.

Needs room in ``/dev/shm`` for the data and teachers (full MNIST: about 60 MB; in Docker, ``--shm-size``).
"""

from __future__ import annotations

import concurrent.futures
import io
import itertools
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import queue
import threading
import time
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from kdlab.ml.context import RunContext
from kdlab.serve.runner import Job, JobContext, JobRunner
from kdlab.settings import PREFIX

FLUSH_SECONDS = 0.25  # how often a worker sends its events and learns of a stop request
POLL_SECONDS = 0.1  # how often a job's thread looks for a stop request while it waits
LAST_EVENTS_SECONDS = 10.0  # how long a finished call's last events may take to arrive
WARM_UP_SECONDS = 120.0  # a worker imports torch in 2 to 3 s on an idle 2-core machine
STOP_SLOTS = 256  # stop requests remembered; a call learns of its own within FLUSH_SECONDS
log = logging.getLogger(__name__)
_DIED = "The training process stopped unexpectedly (killed, or out of memory); try again."

# In a worker: its queue of events, the shared table of stopped calls, the pool's start barrier (``_start_worker``).
_worker_events: Any = None
_worker_stops: Any = None
_worker_barrier: Any = None


def _start_worker(events, stops, barrier, threads: int) -> None:
    """A worker's start: its channels, ``threads`` torch threads, the library loaded, and an exit with its server."""
    global _worker_events, _worker_stops, _worker_barrier
    _worker_events, _worker_stops, _worker_barrier = events, stops, barrier
    import torch

    import kdlab.experiments.distill  # noqa: F401  (torch and the library load once, before the first job)

    torch.set_num_threads(threads)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True).start()


def _exit_with(sentinel) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(0)  # the server is gone: nobody will read this worker's results


def _warm_up() -> int:
    """One per worker: each waits for the others, so the pool starts all its workers now, not at the first jobs."""
    try:
        _worker_barrier.wait(WARM_UP_SECONDS)
    except threading.BrokenBarrierError:
        pass  # a worker slow to start (a busy machine) starts with its first job instead
    return os.getpid()


def _stopped(token: int) -> bool:
    with _worker_stops.get_lock():
        return token in _worker_stops[1:]


def _use_settings(environment: dict[str, str]) -> None:
    for name in [name for name in os.environ if name.startswith(PREFIX) and name not in environment]:
        del os.environ[name]
    os.environ.update(environment)


def _call(token: int, environment: dict[str, str], function, args: tuple, kwargs: dict) -> tuple[bytes, float]:
    """In a worker: ``function(*args, context=RunContext(on_event=..., stop=...), **kwargs)``, its events sent in batches, its
    stop flag following the server's table; the result pickled with the arguments as references, and the
    CPU seconds the call took."""
    cpu_before = time.process_time()
    _use_settings(environment)
    stop = threading.Event()
    buffer: list[Any] = []
    last_flush = time.monotonic()

    def flush(done: bool) -> None:
        nonlocal last_flush
        _worker_events.put((token, list(buffer), done))
        buffer.clear()
        last_flush = time.monotonic()
        if _stopped(token):
            stop.set()

    def on_event(event) -> None:
        buffer.append(event)
        if time.monotonic() - last_flush >= FLUSH_SECONDS:
            flush(False)

    try:
        result = function(*args, context=RunContext(on_event=on_event, stop=stop), **kwargs)
        file = io.BytesIO()
        _ArgumentPickler(file, _arguments(args, kwargs)).dump(result)
        return file.getvalue(), time.process_time() - cpu_before
    finally:
        flush(True)  # the last events arrive before the job's thread returns the result


def _arguments(args: tuple, kwargs: dict) -> list[Any]:
    return [*args, *kwargs.values()]


class _ArgumentPickler(pickle.Pickler):
    """Pickles a result with each of the call's arguments in it (by identity) as its position."""

    def __init__(self, file, arguments: list[Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._positions = {id(value): position for position, value in enumerate(arguments) if _by_reference(value)}

    def persistent_id(self, obj: Any) -> int | None:
        return self._positions.get(id(obj))


def _by_reference(value: Any) -> bool:
    return not isinstance(value, (str, bytes, int, float, bool, type(None)))  # immutable scalars pickle as they are


class _ArgumentUnpickler(pickle.Unpickler):
    def __init__(self, file, arguments: list[Any]) -> None:
        super().__init__(file)
        self._arguments = arguments

    def persistent_load(self, position: int) -> Any:
        return self._arguments[position]


class _Pool:
    """One generation of workers with its channels: a new one replaces it when a worker dies."""

    def __init__(self, workers: int, threads: int) -> None:
        context = multiprocessing.get_context("spawn")  # never fork a process with threads (Streamlit's)
        self.events = context.Queue()
        self.stops = context.Array("q", STOP_SLOTS + 1)  # [0]: the next slot to write; then stopped tokens
        channels = (self.events, self.stops, context.Barrier(workers), threads)
        self.executor = concurrent.futures.ProcessPoolExecutor(
            workers, mp_context=context, initializer=_start_worker, initargs=channels
        )
        self.inboxes: dict[int, queue.SimpleQueue] = {}
        self.lock = threading.Lock()
        self.router = threading.Thread(target=self._route, name="kdlab-process-events", daemon=True)
        self.router.start()
        self.warming = [self.executor.submit(_warm_up) for _ in range(workers)]

    def _route(self) -> None:
        while True:
            try:
                token, events, done = self.events.get()
            except (EOFError, OSError, ValueError):  # the queue was closed: this pool is gone
                return
            if token is None:
                return
            with self.lock:
                inbox = self.inboxes.get(token)
            if inbox is not None:
                inbox.put((events, done))

    def stop(self, token: int) -> None:
        with self.stops.get_lock():
            slot = self.stops[0]
            self.stops[1 + slot] = token
            self.stops[0] = (slot + 1) % STOP_SLOTS

    def close(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
        self.events.put((None, [], True))


class ProcessJobContext(JobContext):
    """A job's context whose ``run`` executes the library call in a worker process."""

    def __init__(self, job: Job, runner: ProcessRunner) -> None:
        super().__init__(job)
        self._runner = runner

    def run(self, function, *args: Any, on_event=None, **kwargs: Any) -> Any:
        return self._runner._call(self, function, args, kwargs, on_event or (lambda event: None))


class ProcessRunner(JobRunner):
    """``JobRunner`` whose jobs' ``context.run`` calls run in worker processes (see the module docstring).

    Args:
        max_concurrent: jobs at once, and worker processes.
        threads: torch threads in each worker.
        other keyword arguments: as for ``JobRunner``.
    """

    def __init__(self, max_concurrent: int = 1, *, threads: int = 1, **settings) -> None:
        super().__init__(max_concurrent, **settings)
        self.threads = threads
        self._tokens = itertools.count(1)
        self._cpu_lock = threading.Lock()
        self._worker_cpu = 0.0
        self._pool_lock = threading.Lock()
        self._pool: _Pool | None = _Pool(max_concurrent, threads)
        # Before concurrent.futures' own exit hook (these run last registered first), which waits for every
        # running call: stopping them first lets a server exit within a flush instead of after a replay.
        threading._register_atexit(self.shutdown)

    def _context(self, job: Job) -> JobContext:
        return ProcessJobContext(job, self)

    def worker_pids(self) -> list[int]:
        """The process ids of the current workers, once all have started."""
        pool = self._current_pool()
        return sorted(future.result(timeout=WARM_UP_SECONDS + 60) for future in pool.warming)

    @property
    def worker_cpu_seconds(self) -> float:
        """CPU seconds the workers spent in the calls that returned so far (every thread of theirs)."""
        with self._cpu_lock:
            return self._worker_cpu

    def shutdown(self) -> None:
        """Stop every call in progress and the workers; later calls start a new pool."""
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            with pool.lock:
                tokens = list(pool.inboxes)
            for token in tokens:
                pool.stop(token)
            pool.close()

    def _current_pool(self) -> _Pool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = _Pool(self.max_concurrent, self.threads)
            return self._pool

    def _replace_broken(self, pool: _Pool) -> None:
        with self._pool_lock:
            if self._pool is not pool:
                return
            self._pool = None
        log.warning("a training worker process died; the next run starts new workers")
        pool.close()

    def _submit(self, call: tuple) -> tuple[_Pool, int, queue.SimpleQueue, concurrent.futures.Future]:
        """``call`` sent to a worker: its pool, token, inbox of events and future. A pool found broken (a worker
        died between jobs) is replaced once."""
        for _attempt in range(2):
            pool, token, inbox = self._current_pool(), next(self._tokens), queue.SimpleQueue()
            with pool.lock:
                pool.inboxes[token] = inbox
            try:
                return pool, token, inbox, pool.executor.submit(_call, token, *call)
            except BrokenProcessPool:
                with pool.lock:
                    pool.inboxes.pop(token, None)
                self._replace_broken(pool)
        raise RuntimeError(_DIED)

    def _call(self, context: JobContext, function, args: tuple, kwargs: dict, deliver) -> Any:
        environment = {name: value for name, value in os.environ.items() if name.startswith(PREFIX)}
        pool, token, inbox, future = self._submit((environment, function, args, kwargs))
        try:
            stop_sent, finished_at = False, None
            while True:
                try:
                    events, done = inbox.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    events, done = [], False
                for event in events:
                    deliver(event)
                if done or (finished_at is not None and time.monotonic() - finished_at > LAST_EVENTS_SECONDS):
                    break
                if future.done() and finished_at is None:
                    if isinstance(future.exception(), BrokenProcessPool):
                        break  # the worker died: its last events never come
                    finished_at = time.monotonic()
                if context.stop_requested.is_set() and not stop_sent:
                    pool.stop(token)
                    stop_sent = True
            try:
                payload, cpu = future.result()
            except BrokenProcessPool as error:
                self._replace_broken(pool)
                raise RuntimeError(_DIED) from error
            with self._cpu_lock:
                self._worker_cpu += cpu
            return _ArgumentUnpickler(io.BytesIO(payload), _arguments(args, kwargs)).load()
        finally:
            if not future.done():  # this thread failed (an ``on_event`` raised): the worker must not go on alone
                pool.stop(token)
            with pool.lock:
                pool.inboxes.pop(token, None)
