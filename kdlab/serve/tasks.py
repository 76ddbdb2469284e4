"""Library calls wrapped as background jobs for the app: the one home of every job target.

Each function here turns one experiment (a lab run, a teacher, a paper replay, a scheme
comparison) into a target for ``kdlab.serve.runner.JobRunner.submit``: the target reports overall
progress (``JobContext.set_progress``), logs the events a page polls for live curves, honours
the job's stop flag and returns the experiment's result.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from kdlab.db.database import StorageError
from kdlab.db.runs import copy_into, new_run_id
from kdlab.experiments.distill import DistillConfig, StageEvent, run_distillation
from kdlab.experiments.plans import PlannedRun, student_pair_plan
from kdlab.experiments.replays import ReplayResult, run_replay
from kdlab.experiments.schemes import SchemeComparison, SchemeConfig, compare_schemes
from kdlab.ml.data import MnistData
from kdlab.ml.progress import ProgressEvent, ProgressTracker
from kdlab.ml.train import EvalEvent
from kdlab.runs.record import RunRecord, record_from_result
from kdlab.serve.limits import check_run_cost
from kdlab.serve.result_cache import (
    LIVE_RUNS,
    Follower,
    LiveRun,
    cached_result,
    remember_result,
    request_key,
    result_key,
    teacher_matches,
)
from kdlab.serve.runner import Job, JobContext, JobRunner
from kdlab.teachers.cache import is_teacher_cached, resolve_teacher
from kdlab.teachers.teacher import Teacher, default_teacher_epochs

log = logging.getLogger(__name__)
Target = Callable[[JobContext], object]
STAGE_NAMES = {
    "teacher": "Training the teacher",
    "distilled": "Distilling the student",
    "baseline": "Training the student alone (baseline)",
}


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


@dataclass
class LabOutcome:
    """The lab job's result: the record filed for every student who followed the run."""

    status: str  # the run's: "completed", "stopped" or "diverged"
    records: dict[str, RunRecord] = field(default_factory=dict)  # run_id -> that student's record
    unsaved: dict[str, str] = field(default_factory=dict)  # run_id -> why it is not in the database


@dataclass
class LabTicket:
    """What pressing Train gave a student: a result from the cache at once, or a live run to follow."""

    how: str  # "cache": trained earlier, copied now; "joined": an identical run in progress; "trained": a new job
    run_id: str  # the student's run (its record appears under this id)
    number: int
    job: Job | None = None  # the live run ("joined", "trained")
    record: RunRecord | None = None  # the copied result ("cache")


def request_distillation(
    runner: JobRunner,
    config: DistillConfig,
    data: MnistData,
    store,
    *,
    owner: str | None = None,
    teacher: Teacher | None = None,
    use_cache: bool = True,
) -> LabTicket:
    """The lab's Train button: the same run trained earlier (from the result cache, at once), else
    the identical run in progress (followed live), else a new job (``submit_distillation``).

    Args:
        store: the student's runs (``kdlab.db.DatabaseRunStore``, or an in-memory
            ``kdlab.runs.record.RunStore``, which has no result cache).
        owner: the job owner, for a new job.
        teacher: the cached teacher, if the caller has it; without it the cache is not consulted
            (the key needs the teacher's results).
        use_cache: False trains it again live ("Train it again live"); identical live runs are still joined.

    Raises:
        ValueError: the config does not fit the data, before anything is queued.
        StorageError: the student's store cannot be written.
    """
    config.transfer_indices(data)
    database = getattr(store, "database", None)
    if use_cache and database is not None and teacher is not None and teacher_matches(config, data, teacher.record):
        try:
            cached = cached_result(database, result_key(config, data, teacher.record))
        except StorageError as error:
            log.warning("result cache unavailable, training instead: %s", error)
            cached = None
        if cached is not None:
            record = copy_into(cached, store, source="cache", created_at=time.time())
            return LabTicket("cache", record.run_id, record.number, record=record)
    check_run_cost(config, data)  # the instructor's cap (KDLAB_MAX_RUN_COST) on new runs
    number, run_id = store.reserve_number(), new_run_id()
    _note_start(store, run_id, number, config)  # before the job: a quick run may file its record at once
    student = getattr(store, "student_key", None) or owner or f"run:{run_id}"
    follower = Follower(student, store, number, run_id, "trained")
    try:
        live, follower = LIVE_RUNS.join_or_start(
            request_key(config, data), follower, lambda live: _submit(runner, config, data, live, number, owner)
        )
    except BaseException:  # no job (a full queue, say): no run to remember
        _forget_start(store, run_id)
        raise
    if follower.run_id != run_id:  # a second tab of a student who already follows this run: their earlier place
        _forget_start(store, run_id)
    return LabTicket(follower.source, follower.run_id, follower.number, job=live.job)


def _note_start(store, run_id: str, number: int, config: DistillConfig) -> None:
    try:
        store.note_start(run_id, number, config.as_dict())
    except StorageError as error:  # the run still trains; only a restart would lose it without a trace
        log.warning("could not note the start of run %s: %s", run_id, error)


def _forget_start(store, run_id: str) -> None:
    try:
        store.forget_start(run_id)
    except StorageError as error:
        log.warning("could not forget the start of run %s: %s", run_id, error)


def submit_distillation(
    runner: JobRunner, config: DistillConfig, data: MnistData, store, *, owner: str | None = None
) -> Job:
    """Queue a lab run on ``runner`` (or join the identical run in progress): the teacher (from the
    cache, or trained first), the distilled student and the baseline. Returns the job at once.

    The job reports overall progress, logs ``StageEvent``, ``TeacherReady`` and ``EvalEvent``
    objects for live curves, honours stop requests (keeping the partial result) and files a
    ``RunRecord`` in the store of every student following it when it ends; its result is a
    ``LabOutcome``. ``request_distillation`` also serves runs trained earlier from the cache.

    Raises:
        ValueError: the config does not fit the data (e.g. a batch bigger than the training set),
            before anything is queued.
    """
    return request_distillation(runner, config, data, store, owner=owner, use_cache=False).job


def stop_lab_run(job: Job, run_id: str) -> str:
    """A student's Stop on the live run ``job``: "stop" stops it (the student keeps the partial
    result); "left" when other students follow the same run, which goes on for them."""
    action, leaving = LIVE_RUNS.stop_or_leave(job, run_id)
    if action == "stop":
        job.request_stop()
    elif leaving is not None:
        _forget_start(leaving.store, run_id)  # the run goes on for the others; this student gets no record
    return action


def _submit(
    runner: JobRunner, config: DistillConfig, data: MnistData, live: LiveRun, number: int, owner: str | None
) -> Job:
    transfer_size = len(config.transfer_indices(data))
    teacher_epochs = config.teacher_epochs or default_teacher_epochs(len(data.train))
    cached = is_teacher_cached(config.teacher, data, epochs=teacher_epochs, seed=config.teacher_seed)
    teacher_run = None if cached else PlannedRun(config.teacher, len(data.train), teacher_epochs)
    student_run = PlannedRun(config.student, transfer_size, config.training.epochs)
    plan = student_pair_plan(teacher_run, student_run, config.student_runs)

    def target(context: JobContext) -> LabOutcome:
        try:
            report = _report_progress(context)
            progress = ProgressTracker(report, plan)
            follow = progress.follow_runs({run: STAGE_NAMES[run] for run in plan})

            def on_event(event) -> None:
                follow(event)
                if isinstance(event, StageEvent) or (isinstance(event, EvalEvent) and event.run != "teacher"):
                    context.emit(event)  # the log the page polls for live curves; step events only move the bar

            context.set_progress(0.0, f"Preparing teacher {config.teacher} ...")
            teacher = resolve_teacher(
                config.teacher,
                data,
                epochs=config.teacher_epochs,
                seed=config.teacher_seed,
                on_event=on_event,
                stop=context.stop_requested,
            )
            context.emit(
                TeacherReady(config.teacher, teacher.record.test_accuracy, teacher.record.test_errors, teacher.status)
            )
            # context.run: a plain call, or a Ray task with KDLAB_RAY_ADDRESS set
            result = context.run(run_distillation, config, data, teacher=teacher, on_event=on_event)
            outcome = _file_records(
                record_from_result(result, data.test.labels, number=number), config, data, result.teacher, live
            )
            context.set_progress(1.0, f"Finished: {result.status}.")
            return outcome
        finally:
            for follower in LIVE_RUNS.finish(live):  # a failed run lets its followers go too, without a record
                _forget_start(follower.store, follower.run_id)

    # kind and cost let the queue estimate when this run starts and ends
    return runner.submit(
        f"Run {number}: {config.student} from {config.teacher}",
        target,
        owner=owner,
        kind="lab",
        cost=sum(plan.values()),
    )


def _file_records(
    record: RunRecord, config: DistillConfig, data: MnistData, teacher: Teacher, live: LiveRun
) -> LabOutcome:
    """Give every follower their own copy of ``record``; a completed run also enters the result cache."""
    outcome = LabOutcome(record.status)
    if record.status == "completed":  # a stopped or diverged run is never served as "the" result
        record.cache_key = result_key(config, data, teacher.record)
    first = LIVE_RUNS.take_first(live)  # filed and cached before the run closes to newcomers, so that
    if first is not None and _file(outcome, record, first) and record.cache_key:  # a request never misses both
        database = getattr(first.store, "database", None)
        if database is not None:
            try:
                remember_result(database, record.cache_key, first.run_id)
            except StorageError as error:
                log.warning("could not add run %s to the result cache: %s", first.run_id, error)
    for follower in LIVE_RUNS.finish(live):
        _file(outcome, record, follower)
    return outcome


def _file(outcome: LabOutcome, record: RunRecord, follower: Follower) -> bool:
    copy = replace(record, run_id=follower.run_id, number=follower.number, source=follower.source)
    outcome.records[follower.run_id] = copy
    try:
        follower.store.add(copy)
    except StorageError as error:
        outcome.unsaved[follower.run_id] = str(error)
        return False
    return True


def teacher_task(architecture: str, data: MnistData) -> Target:
    """Train (or load) the default teacher of ``architecture``; the job's result is the ``Teacher``."""
    epochs = default_teacher_epochs(len(data.train))

    def target(context: JobContext) -> Teacher:
        progress = ProgressTracker(_report_progress(context), {"teacher": 1.0})
        on_event = progress.start("teacher", f"Training teacher {architecture} ({epochs} epochs)")
        context.set_progress(0.0, f"Training teacher {architecture} ...")
        return resolve_teacher(architecture, data, on_event=on_event, stop=context.stop_requested)

    return target


def replay_task(name: str, budget: str, data: MnistData) -> Target:
    """Run one paper replay (``kdlab.experiments.replays.run_replay``); the job's result is the ``ReplayResult``."""

    def target(context: JobContext) -> ReplayResult:
        context.set_progress(0.0, f"Starting the {name} replay ...")
        # context.run: a plain call, or a Ray task with KDLAB_RAY_ADDRESS set (its events still reach the bar)
        return context.run(run_replay, name, data, budget, on_event=_report_progress(context))

    return target


def schemes_task(config: SchemeConfig, schemes: tuple[str, ...], data: MnistData) -> Target:
    """The references, then every chosen scheme; the job's result is the ``SchemeComparison``."""

    def target(context: JobContext) -> SchemeComparison:
        context.set_progress(0.0, "Starting ...")
        # The teacher comes from the disk cache, or is trained (and cached) as the job's first stage.
        return context.run(compare_schemes, config, data, schemes, on_event=_report_progress(context))

    return target
