"""The job runner on Ray, for a class bigger than one machine.

With ``KDLAB_RAY_ADDRESS`` set (``local`` starts a Ray instance on this machine, ``auto`` joins
the one running here, ``ray://host:port`` a remote cluster), ``kdlab.serve.jobs.default_runner()``
returns a :class:`RayRunner`. It keeps ``kdlab.serve.runner.JobRunner``'s queue, fairness, estimates and pruning
on this process (the Streamlit server, Ray's "driver"), and each job's target still runs on a
thread here; but the heavy library call the target makes through ``context.run(function, ...)``
runs as a Ray task on the cluster. So the job sends Ray a function and its arguments (a config,
a spec), never a closure, and the driver files the result exactly as in-process jobs do (into
the same database).

- Data and teachers go through Ray's object store once: ``share`` puts each ``MnistData`` and
  ``Teacher`` object the first time a job passes it and hands every later job the same reference;
  the newest ``MAX_SHARED`` stay pinned, an older one is put again when a job passes it.
- Progress: the task buffers its events and pushes them every ``FLUSH_SECONDS`` to one small
  channel actor; the driver's job thread drains them and calls the job's ``on_event``, so live
  curves and the progress bar behave as they do in process.
- Stop: the driver marks the job in the channel; the task learns it on its next push and sets
  its local stop flag, so the run ends early and returns its partial result.

Nothing here imports Ray at module level: ``import kdlab.serve.ray_runner`` is free, ``RayRunner()``
connects.
"""

from __future__ import annotations

import pickle
import threading
import time
from collections import OrderedDict
from pathlib import Path
from typing import Any

from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.serve.runner import Job, JobContext, JobRunner
from kdlab.teachers.teacher import Teacher

FLUSH_SECONDS = 0.5  # how often a task pushes its events (and learns of a stop request)
POLL_SECONDS = 0.25  # how often the driver drains them
CPUS_PER_TASK = 1  # Ray then sets OMP_NUM_THREADS=1 in the task: one torch thread per training
# Objects kept pinned in the object store (and alive here): the data sets in use and the teacher memory's
# size (kdlab.teachers.memory.MAX_TEACHERS_IN_MEMORY = 12), so a teacher the memory keeps stays shared.
MAX_SHARED = 16


class _Channel:
    """Per-job event buffers and stop marks, shared by every task (one Ray actor, no CPU).

    Events travel as pickled bytes, so the actor never needs kdlab to unpickle them."""

    def __init__(self) -> None:
        self._events: dict[str, list[bytes]] = {}
        self._stops: set[str] = set()

    def push(self, job_id: str, payload: bytes) -> bool:
        self._events.setdefault(job_id, []).append(payload)
        return job_id in self._stops

    def drain(self, job_id: str) -> list[bytes]:
        return self._events.pop(job_id, [])

    def stop(self, job_id: str) -> None:
        self._stops.add(job_id)

    def forget(self, job_id: str) -> None:
        self._events.pop(job_id, None)
        self._stops.discard(job_id)


def _run_task(_channel, _job_id: str, _function, *args, **kwargs):
    """The Ray task: ``_function(*args, context=RunContext(on_event=..., stop=...), **kwargs)`` with events pushed to
    the channel in batches and the stop flag following the driver's requests."""
    import ray

    stop = threading.Event()
    buffer: list[Any] = []
    last_push = time.monotonic()

    def push() -> None:
        nonlocal last_push
        if ray.get(_channel.push.remote(_job_id, pickle.dumps(buffer))):
            stop.set()
        buffer.clear()
        last_push = time.monotonic()

    def on_event(event) -> None:
        buffer.append(event)
        if time.monotonic() - last_push >= FLUSH_SECONDS:
            push()

    try:
        return _function(*args, context=RunContext(on_event=on_event, stop=stop), **kwargs)
    finally:
        push()  # the last events arrive before the result does


def _warm_up() -> None:
    import kdlab.experiments.distill  # noqa: F401  (torch and the library load once per worker, before the first job)


def connect(address: str, local_cpus: int | None = None) -> None:
    """``ray.init`` for ``address`` ("local", "auto", "ray://host:port"), unless already connected;
    "local" starts Ray with ``local_cpus`` CPUs (default: Ray's count).

    Off this machine the workers get the kdlab package shipped with the job (``py_modules``); they
    need kdlab's dependencies installed (``python -m pip install -e .`` in a checkout, see pyproject.toml).

    Raises:
        ValueError: Ray could not start or connect, with the address and Ray's reason.
    """
    import ray

    if ray.is_initialized():
        return
    try:
        if address == "local":
            ray.init(num_cpus=local_cpus, include_dashboard=False, log_to_driver=False)
        else:
            package = str(Path(__file__).resolve().parents[1])  # the kdlab package, shipped to the workers
            ray.init(address=address, runtime_env={"py_modules": [package]}, log_to_driver=False)
    except Exception as error:  # Ray raises ConnectionError, RuntimeError, ...
        raise ValueError(
            f"Could not connect to Ray at KDLAB_RAY_ADDRESS={address!r} ({type(error).__name__}: {error}). "
            "Use 'local', 'auto' or 'ray://host:port', or unset it to train in this process."
        ) from error


class RayJobContext(JobContext):
    """A job's context whose ``run`` executes the library call as a Ray task."""

    def __init__(self, job: Job, runner: RayRunner) -> None:
        super().__init__(job)
        self._runner = runner

    def run(self, function, *args: Any, on_event=None, **kwargs: Any) -> Any:
        import ray

        runner, job_id = self._runner, self._job.id
        deliver = on_event or (lambda event: None)
        args = tuple(runner.share(value) for value in args)
        kwargs = {name: runner.share(value) for name, value in kwargs.items()}
        task = runner._task.remote(runner._channel, job_id, function, *args, **kwargs)
        stop_sent = False
        try:
            while True:
                done, _ = ray.wait([task], timeout=POLL_SECONDS)
                for payload in ray.get(runner._channel.drain.remote(job_id)):
                    for event in pickle.loads(payload):
                        deliver(event)
                if done:
                    break
                if self.stop_requested.is_set() and not stop_sent:
                    runner._channel.stop.remote(job_id)
                    stop_sent = True
            return ray.get(task)
        except ray.exceptions.RayTaskError as error:
            cause = getattr(error, "cause", None)
            if isinstance(cause, BaseException):
                raise cause from error  # the library's own error and message; the log keeps Ray's traceback
            raise
        finally:
            runner._channel.forget.remote(job_id)


class RayRunner(JobRunner):
    """``JobRunner`` whose jobs' ``context.run`` calls run as Ray tasks (see the module docstring).

    Args:
        address: "local", "auto" or "ray://host:port" (``connect``); the test suite connects first.
        local_cpus: the CPUs of a "local" Ray (default: Ray's count).
        max_concurrent: jobs at once; default: the cluster's CPUs (one per task).
        shared_types: argument types put in the object store once and passed by reference.
        other keyword arguments: as for ``JobRunner``.
    """

    def __init__(
        self,
        address: str = "local",
        *,
        local_cpus: int | None = None,
        max_concurrent: int | None = None,
        shared_types: tuple[type, ...] = (MnistData, Teacher),
        **settings,
    ) -> None:
        import ray

        connect(address, local_cpus)
        if max_concurrent is None:
            max_concurrent = max(1, int(ray.cluster_resources().get("CPU", 1) // CPUS_PER_TASK))
        super().__init__(max_concurrent, **settings)
        self.address = address
        self.shared_types = shared_types
        # id(object) -> (object, ObjectRef), newest last; the object pins its id while it is here
        self._shared: OrderedDict[int, tuple[Any, Any]] = OrderedDict()
        self._shared_lock = threading.Lock()
        self._channel = ray.remote(num_cpus=0)(_Channel).remote()
        self._task = ray.remote(num_cpus=CPUS_PER_TASK, max_retries=0)(_run_task)
        # Start the workers now: the first task on a fresh worker spent about a minute importing
        # torch on a busy 2-core machine; fire and forget, workers are reused by later tasks.
        warm_up = ray.remote(num_cpus=CPUS_PER_TASK)(_warm_up)
        self._warming = [warm_up.remote() for _ in range(max_concurrent)]

    def share(self, value: Any) -> Any:
        """An ObjectRef for a data set or teacher (put once, then reused while among the newest
        ``MAX_SHARED``); other values as they are. A running task holds its own reference, so letting
        go of one here frees nothing that a task still reads."""
        if not isinstance(value, self.shared_types):
            return value
        import ray

        with self._shared_lock:
            entry = self._shared.get(id(value))
            if entry is None or entry[0] is not value:
                entry = (value, ray.put(value))
                self._shared[id(value)] = entry
            self._shared.move_to_end(id(value))
            while len(self._shared) > MAX_SHARED:
                self._shared.popitem(last=False)
            return entry[1]

    @property
    def shared_count(self) -> int:
        """How many objects this runner has put in the object store."""
        with self._shared_lock:
            return len(self._shared)

    def _context(self, job: Job) -> JobContext:
        return RayJobContext(job, self)
