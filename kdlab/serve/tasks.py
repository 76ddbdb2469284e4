"""The job targets of the app's other experiments (a teacher, a paper replay, a scheme comparison),
the one job that trains each teacher, and how a job trains a teacher (on Ray when it is configured).

Each target reports overall progress (``JobContext.set_progress``), honours the job's stop flag
and returns the experiment's result. The lab's own job is ``kdlab.serve.lab``.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, replace

from kdlab.experiments.replays import ReplayResult, replay_config, run_over_seeds, run_replay
from kdlab.experiments.schemes import SchemeComparison, SchemeConfig, compare_schemes
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.ml.progress import ProgressEvent, ProgressTracker
from kdlab.serve.runner import SHARED_OWNER, Job, JobContext, JobRunner
from kdlab.teachers.cache import is_teacher_cached, keep_teacher, resolve_teacher, teacher_cache_path
from kdlab.teachers.teacher import Teacher, default_teacher_epochs

Target = Callable[[JobContext], object]
MAX_TEACHER_JOBS = 64  # teacher jobs remembered (the newest): each is one architecture's training, kept for its result


def report_progress(context: JobContext) -> Callable[[object], None]:
    """An ``on_event`` that moves the job's progress bar with every ``ProgressEvent``."""

    def on_event(event) -> None:
        if isinstance(event, ProgressEvent):
            context.set_progress(event.fraction, event.message)

    return on_event


@dataclass(frozen=True)
class TeacherOutcome:
    """A teacher job's result. The trained teacher itself is on disk and in the bounded teacher memory
    (``kdlab.teachers.cache``), where every page resolves it; the job keeps only what it says of it."""

    architecture: str
    status: str  # "completed" or "stopped"
    test_accuracy: float


def train_teacher(
    context: JobContext, name: str, data: MnistData, *, epochs: int | None = None, seed: int = 0, on_event=None
) -> Teacher:
    """The teacher ``name``: loaded here when cached; else trained through ``context.run`` (a Ray task
    with KDLAB_RAY_ADDRESS set, so the web process never trains it) and kept in this process's cache."""
    if is_teacher_cached(name, data, epochs=epochs, seed=seed):
        here = RunContext(on_event=on_event, stop=context.stop_requested)
        return resolve_teacher(name, data, epochs=epochs, seed=seed, context=here)
    teacher = context.run(resolve_teacher, name, data, epochs=epochs, seed=seed, on_event=on_event)
    keep_teacher(teacher, data)
    return teacher


def teacher_task(architecture: str, data: MnistData, epochs: int | None = None) -> Target:
    """Train (or load) the teacher of ``architecture`` at ``epochs`` (default: its default epochs on ``data``);
    the job's result is a ``TeacherOutcome``."""
    epochs = epochs or default_teacher_epochs(len(data.train))

    def target(context: JobContext) -> TeacherOutcome:
        progress = ProgressTracker(report_progress(context), {"teacher": 1.0})
        on_event = progress.start("teacher", f"Training teacher {architecture} ({epochs} epochs)")
        context.set_progress(0.0, f"Training teacher {architecture} ...")
        teacher = train_teacher(context, architecture, data, epochs=epochs, on_event=on_event)
        return TeacherOutcome(architecture, teacher.status, teacher.record.test_accuracy)

    return target


def replay_task(name: str, budget: str, data: MnistData, seeds: int = 1) -> Target:
    """Run one paper replay (``kdlab.experiments.replays.run_replay``); the job's result is the ``ReplayResult``.
    With ``seeds`` above 1 (a replay that compares settings): the replay at each seed, one after another, the
    first seed's result with the spreads and paired comparisons of all (``kdlab.experiments.replays.run_over_seeds``)."""

    def target(context: JobContext) -> ReplayResult:
        context.set_progress(0.0, f"Starting the {name} replay ...")
        # context.run: a plain call, or a Ray task with KDLAB_RAY_ADDRESS set (its events still reach the bar)
        if seeds == 1:
            return context.run(run_replay, name, data, budget, on_event=report_progress(context))
        results: list[ReplayResult] = []

        def one_seed(config) -> dict:
            results.append(context.run(run_replay, name, data, config=config, on_event=report_progress(context)))
            return results[-1].summary

        summary = run_over_seeds(name, replay_config(name, budget), seeds, one_seed)
        return replace(results[0], summary=summary)

    return target


def schemes_task(config: SchemeConfig, schemes: tuple[str, ...], data: MnistData) -> Target:
    """The references, then every chosen scheme; the job's result is the ``SchemeComparison``."""

    def target(context: JobContext) -> SchemeComparison:
        context.set_progress(0.0, "Starting ...")
        # The teacher comes from the disk cache, or is trained (and cached) as the job's first stage.
        return context.run(compare_schemes, config, data, schemes, on_event=report_progress(context))

    return target


class TeacherJobs:
    """The one job that trains each teacher, whichever session asks first; later askers get the same job.

    Keyed by the teacher's cache file, so a teacher is trained once per process however many pages
    and sessions want it; the newest ``MAX_TEACHER_JOBS`` are remembered. ``epochs`` None is the
    teacher's default epochs on the data (the lab's and the explorer's teachers); the quick teacher
    (``kdlab.teachers.quick``) names its own.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._jobs: OrderedDict[str, str] = OrderedDict()  # teacher cache path -> job id

    @staticmethod
    def _key(architecture: str, data: MnistData, cache_dir, epochs: int | None = None) -> str:
        epochs = epochs or default_teacher_epochs(len(data.train))
        return str(teacher_cache_path(cache_dir, architecture, data, epochs, 0))

    def existing(
        self, runner: JobRunner, architecture: str, data: MnistData, cache_dir, *, epochs: int | None = None
    ) -> Job | None:
        """The job training (or that trained) this teacher, if the runner still knows it."""
        with self._lock:
            job_id = self._jobs.get(self._key(architecture, data, cache_dir, epochs))
        return runner.get(job_id) if job_id else None

    def start(
        self,
        runner: JobRunner,
        architecture: str,
        data: MnistData,
        cache_dir,
        *,
        epochs: int | None = None,
        owner: str = SHARED_OWNER,
        client: str | None = None,
    ) -> Job:
        """The unfinished job training this teacher, else a new one owned by ``owner`` (every session
        watches it; ``kdlab.serve.gate.admit_teacher`` decides the owner).

        Raises:
            OwnerBusy, ClientBusy, QueueFull: from ``JobRunner.submit`` for a student's job.
        """
        key = self._key(architecture, data, cache_dir, epochs)
        with self._lock:
            job_id = self._jobs.get(key)
            job = runner.get(job_id) if job_id else None
            if job is None or job.is_finished:
                # a teacher at other than its default epochs (the quick one) is a kind of job of its own: its estimates
                name = f"Teacher {architecture}" + (f" ({epochs} epoch{'s' * (epochs != 1)})" if epochs else "")
                job = runner.submit(name, teacher_task(architecture, data, epochs), owner=owner, client=client)
                self._jobs[key] = job.id
            self._jobs.move_to_end(key)
            while len(self._jobs) > MAX_TEACHER_JOBS:
                self._jobs.popitem(last=False)
            return job


TEACHER_JOBS = TeacherJobs()
