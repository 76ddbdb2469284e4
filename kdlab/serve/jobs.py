"""Background jobs for the app: the process-wide runner, sized for the machine.

The runner itself (queue, fairness, estimates, pruning) is ``kdlab.serve.runner``; this module picks
its size from the cores and the environment (``KDLAB_MAX_JOBS``, ``KDLAB_MAX_QUEUE``,
``KDLAB_JOB_TTL``, ``KDLAB_MAX_JOBS_PER_CLIENT``, ``KDLAB_MAX_VISITOR_JOBS_PER_CLIENT``), caps torch's threads so
concurrent trainings fit the cores, and chooses the
backend: on Ray when ``KDLAB_RAY_ADDRESS`` is set, else worker processes of this machine on a CPU
(``kdlab.serve.process_runner``) or threads of this process (``local_runner``).
"""

from __future__ import annotations

import os
import threading

from kdlab.ml.train import pick_device
from kdlab.serve.process_runner import ProcessRunner
from kdlab.serve.runner import JobRunner
from kdlab.serve.stacking import StackingRunner, stacking_enabled
from kdlab.settings import current_settings


def usable_cores() -> int:
    """CPU cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def default_max_concurrent(cores: int) -> int:
    """Trainings at once on a machine with ``cores`` cores: one per core, keeping one core for the
    web server from 4 cores up. On 2 cores that is 2 (one torch thread each, see ``torch_threads``):
    the lab's small models use a second thread poorly. Measured with bench/concurrency.py on 2
    pinned cores of an idle Xeon: 4 default lab runs took 43.5 s one after another with 2 threads,
    28.9 s two at a time with 1 thread each."""
    return max(1, cores - 1) if cores >= 4 else max(1, cores)


def torch_threads(cores: int, workers: int) -> int:
    """torch threads for each of ``workers`` concurrent trainings on ``cores`` cores.

    torch's intra-op thread count is one setting for the whole process, and every training
    thread starts its own team of that size, so workers x threads must fit in the cores left
    after one for the web server, or the teams oversubscribe the cores and every step stalls
    (measured on a shared 2-core machine: the default lab run took 378 s with 2 threads, 63 s
    with 1). At least 1.
    """
    return max(1, (cores - 1) // max(1, workers))


def cap_torch_threads(workers: int) -> int:
    """Set torch's thread count for ``workers`` concurrent trainings (``torch_threads``) unless
    ``OMP_NUM_THREADS`` is set; returns the count in effect. Cheap and idempotent."""
    import torch  # here, not at the top: the runner itself never needs torch

    if "OMP_NUM_THREADS" not in os.environ:
        threads = torch_threads(usable_cores(), workers)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
    return torch.get_num_threads()


def runner_settings() -> dict:
    """The runner's limits from ``kdlab.settings``: ``KDLAB_MAX_JOBS`` (default: from the cores),
    ``KDLAB_MAX_QUEUE`` (60), ``KDLAB_JOB_TTL`` (3,600 s), ``KDLAB_MAX_JOBS_PER_CLIENT`` (30) and
    ``KDLAB_MAX_VISITOR_JOBS_PER_CLIENT`` (4)."""
    settings = current_settings()
    return {
        "max_concurrent": settings.max_jobs or default_max_concurrent(usable_cores()),
        "max_queue": settings.max_queue,
        "job_ttl": settings.job_ttl,
        "max_per_client": settings.max_jobs_per_client,
        "max_visitor_per_client": settings.max_visitor_jobs_per_client,
    }


_default_runner: JobRunner | None = None
_default_runner_lock = threading.Lock()


def default_runner() -> JobRunner:
    """The process-wide runner, created on first use with ``runner_settings()``.

    With ``KDLAB_RAY_ADDRESS`` set (``local``, ``auto`` or ``ray://host:port``) it is a
    ``kdlab.serve.ray_runner.RayRunner`` and trainings run on Ray; without it nothing imports Ray
    and ``local_runner`` picks worker processes or threads of this process (torch's threads capped to fit
    the cores: ``torch_threads``, ``cap_torch_threads``).
    """
    global _default_runner
    with _default_runner_lock:
        if _default_runner is None:
            address = current_settings().ray_address
            if address:
                from kdlab.serve.ray_runner import RayRunner  # imports ray only when asked for

                settings = runner_settings()
                if current_settings().max_jobs is None:
                    del settings["max_concurrent"]  # this machine's cores say nothing of the cluster's
                _default_runner = RayRunner(address, local_cpus=usable_cores(), **settings)
            else:
                _default_runner = local_runner(runner_settings())
        return _default_runner


def processes_enabled() -> bool:
    """``KDLAB_PROCESSES``, or by default on where trainings run on the CPU: there two trainings on two
    threads of one process wait for each other's interpreter lock (``kdlab.serve.process_runner``). A GPU
    is one device that one process drives best, so there they stay threads (and stack)."""
    setting = current_settings().processes
    return setting if setting is not None else pick_device().type == "cpu"


def local_runner(settings: dict) -> JobRunner:
    """The runner for this machine with ``settings`` (``runner_settings()``): one that stacks compatible lab
    runs (``kdlab.serve.stacking``) where ``KDLAB_STACK`` (default: on with CUDA) says so; else one whose
    trainings run in worker processes where ``KDLAB_PROCESSES`` (default: on with the CPU) says so, each
    with ``torch_threads`` threads; else threads of this process."""
    if stacking_enabled():
        return StackingRunner(**settings)
    if processes_enabled():
        return ProcessRunner(**settings, threads=torch_threads(usable_cores(), settings["max_concurrent"]))
    return JobRunner(**settings)
