"""Library calls wrapped as background jobs for the app: the one home of every job target.

Each function here turns one experiment (a lab run, a teacher, a paper replay, a scheme
comparison) into a target for ``kdlab.jobs.JobRunner.submit``: the target reports overall
progress (``JobContext.set_progress``), logs the events a page polls for live curves, honours
the job's stop flag and returns the experiment's result.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

from kdlab.data import MnistData
from kdlab.distill import DistillConfig, StageEvent, run_distillation
from kdlab.jobs import Job, JobContext, JobRunner
from kdlab.progress import ProgressEvent, ProgressTracker, training_cost
from kdlab.replays import ReplayResult, run_replay
from kdlab.runs import RunStore, record_from_result
from kdlab.schemes import SchemeComparison, SchemeConfig, compare_schemes
from kdlab.teachers import Teacher, default_teacher_epochs, is_teacher_cached, load_or_train_teacher
from kdlab.train import EvalEvent

Target = Callable[[JobContext], object]
STAGE_NAMES = {"teacher": "Training the teacher", "distilled": "Distilling the student",
               "baseline": "Training the student alone (baseline)"}  # fmt: skip


@dataclass(frozen=True)
class TeacherReady:
    """Emitted by the lab job once its teacher is loaded or trained."""

    architecture: str
    test_accuracy: float
    test_errors: int
    status: str


def _report_progress(context: JobContext) -> Callable[[object], None]:
    def on_event(event) -> None:
        if isinstance(event, ProgressEvent):
            context.set_progress(event.fraction, event.message)

    return on_event


def submit_distillation(runner: JobRunner, config: DistillConfig, data: MnistData, store: RunStore, *,
                        owner: str | None = None) -> Job:  # fmt: skip
    """Queue a lab run on ``runner``: the teacher (from the cache, or trained first), the distilled
    student and the baseline. Returns the job at once.

    The job reports overall progress, logs ``StageEvent``, ``TeacherReady`` and ``EvalEvent``
    objects for live curves, honours stop requests (keeping the partial result) and files a
    ``RunRecord`` in ``store`` when it ends; its result is the record's ``run_id``.

    Raises:
        ValueError: the config does not fit the data (e.g. a batch bigger than the training set),
            before anything is queued.
    """
    transfer_size = len(config.transfer_indices(data))
    teacher_epochs = config.teacher_epochs or default_teacher_epochs(len(data.train))
    student_cost = training_cost(config.student, transfer_size, config.training.epochs)
    plan = {"teacher": training_cost(config.teacher, len(data.train), teacher_epochs), "distilled": student_cost}
    if is_teacher_cached(config.teacher, data, epochs=teacher_epochs, seed=config.teacher_seed):
        plan["teacher"] = 0.0
    if config.with_baseline:
        plan["baseline"] = student_cost
    number = store.reserve_number()
    run_id = uuid.uuid4().hex[:8]

    def target(context: JobContext) -> str:
        report = _report_progress(context)
        progress = ProgressTracker(report, plan)
        follow = progress.follow_runs({run: STAGE_NAMES[run] for run in plan})

        def on_event(event) -> None:
            follow(event)
            if isinstance(event, StageEvent) or (isinstance(event, EvalEvent) and event.run != "teacher"):
                context.emit(event)  # the log the page polls for live curves; step events only move the bar

        context.set_progress(0.0, f"Preparing teacher {config.teacher} ...")
        teacher = load_or_train_teacher(config.teacher, data, epochs=config.teacher_epochs, seed=config.teacher_seed,
                                        on_event=on_event, stop=context.stop_requested)  # fmt: skip
        context.emit(TeacherReady(config.teacher, teacher.record.test_accuracy, teacher.record.test_errors,
                                  teacher.status))  # fmt: skip
        result = run_distillation(config, data, teacher=teacher, on_event=on_event, stop=context.stop_requested)
        store.add(record_from_result(result, data.test.labels, number=number, run_id=run_id))
        context.set_progress(1.0, f"Finished: {result.status}.")
        return run_id

    return runner.submit(f"Run {number}: {config.student} from {config.teacher}", target, owner=owner)


def teacher_task(architecture: str, data: MnistData) -> Target:
    """Train (or load) the default teacher of ``architecture``; the job's result is the ``Teacher``."""
    epochs = default_teacher_epochs(len(data.train))

    def target(context: JobContext) -> Teacher:
        progress = ProgressTracker(_report_progress(context), {"teacher": 1.0})
        on_event = progress.start("teacher", f"Training teacher {architecture} ({epochs} epochs)")
        context.set_progress(0.0, f"Training teacher {architecture} ...")
        return load_or_train_teacher(architecture, data, on_event=on_event, stop=context.stop_requested)

    return target


def replay_task(name: str, budget: str, data: MnistData) -> Target:
    """Run one paper replay (``kdlab.replays.run_replay``); the job's result is the ``ReplayResult``."""

    def target(context: JobContext) -> ReplayResult:
        context.set_progress(0.0, f"Starting the {name} replay ...")
        return run_replay(name, data, budget, on_event=_report_progress(context), stop=context.stop_requested)

    return target


def schemes_task(config: SchemeConfig, schemes: tuple[str, ...], data: MnistData) -> Target:
    """The references, then every chosen scheme; the job's result is the ``SchemeComparison``."""

    def target(context: JobContext) -> SchemeComparison:
        context.set_progress(0.0, "Starting ...")
        # The teacher comes from the disk cache, or is trained (and cached) as the job's first stage.
        return compare_schemes(config, data, schemes, on_event=_report_progress(context), stop=context.stop_requested)

    return target
