"""The lab's Train button, from the press to the records filed for every student who followed the run.

One press builds one frozen ``TrainRequest`` (the config, its transfer set, its cost plan and its
request key, all computed once); ``request_distillation`` answers it in one of three ways, as a
``LabTicket`` that carries the request: the same run trained earlier (copied from the result cache
at once), the identical run in progress (followed live, ``kdlab.serve.live``), or a new job on the
runner. The job reads as its story: the teacher (loaded, or trained if needed), then
``kdlab.experiments.distill.run_distillation`` for the distilled student and the baseline, then a copy of
the record filed in every follower's store. How it trains is the runner's business (``JobContext.run``:
threads, worker processes or Ray; ``JobContext.together``: stacking), and whether the baseline is trained
here or taken from another run of the same seed is ``kdlab.serve.baselines.BaselineSharing``'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import partial

from kdlab.db.database import StorageError
from kdlab.experiments.distill import DistillConfig, StageEvent, run_distillation
from kdlab.i18n import N_
from kdlab.ml.data import MnistData
from kdlab.ml.events import EvalEvent, FeatureViewEvent
from kdlab.ml.progress import ProgressTracker
from kdlab.runs.record import RunRecord, new_run_id, record_from_result
from kdlab.runs.store import RunLimitReached, RunStore, address_too_fast
from kdlab.serve.baselines import BaselineSharing
from kdlab.serve.limits import check_cost
from kdlab.serve.live import LIVE_RUNS, Follower, LiveRun
from kdlab.serve.rate import RUNS_PER_ADDRESS, address_key
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import Job, JobContext, JobRunner
from kdlab.serve.tasks import report_progress, train_teacher
from kdlab.teachers.teacher import Teacher, TeacherRecord

log = logging.getLogger(__name__)
# The progress bar's stage names, in English in the job (shared by its watchers); marked, so that the live view
# shows them in each reader's language (kdlab.ui.progress.progress_text).
STAGE_NAMES = {
    "teacher": N_("Training the teacher"),
    "distilled": N_("Distilling the student"),
    "baseline": N_("Training the student alone (baseline)"),
}


@dataclass(frozen=True)
class TeacherReady:
    """Emitted by the lab job once its teacher is loaded or trained."""

    architecture: str
    test_accuracy: float
    test_errors: int
    status: str


@dataclass
class LabOutcome:
    """The lab job's result, which the runner keeps while a session shows it: which records were filed, not the records.

    A record holds the student's weights (up to 15 MB for ``mlp-1200x3``): once filed, every page reads it
    from the follower's store, so the job keeps its id only. A record that could not be filed is kept
    here, the only copy, for its student's page to show (and keep in the session).
    """

    status: str  # the run's: "completed", "stopped" or "diverged"
    filed: list[str] = field(default_factory=list)  # run ids filed in their students' stores
    unsaved: dict[str, str] = field(default_factory=dict)  # run_id -> why it is not in the database
    unsaved_records: dict[str, RunRecord] = field(default_factory=dict)  # run_id -> the record not filed

    def has(self, run_id: str) -> bool:
        """True when the run ``run_id`` got a record (filed, or kept here)."""
        return run_id in self.filed or run_id in self.unsaved_records


@dataclass
class LabTicket:
    """What pressing Train gave a student: a result from the cache at once, or a live run to follow."""

    how: str  # "cache": trained earlier, copied now; "joined": an identical run in progress; "trained": a new job
    run_id: str  # the student's run (its record appears under this id)
    number: int
    request: TrainRequest
    job: Job | None = None  # the live run ("joined", "trained")
    record: RunRecord | None = None  # the copied result ("cache")


def request_distillation(
    runner: JobRunner,
    request: TrainRequest,
    data: MnistData,
    store: RunStore,
    *,
    owner: str | None = None,
    client: str | None = None,
    teacher: Teacher | None = None,
) -> LabTicket:
    """The lab's Train button: the same run trained earlier (from the result cache, at once), else
    the identical run in progress (followed live), else a new job.

    Args:
        store: the student's runs; the record is filed there with the request's class code and prediction.
        owner: the job owner, for a new job; client: the address that asked (``kdlab.serve.clients``): its
            jobs and the runs it files a minute are limited (``KDLAB_MAX_RUNS_PER_CLIENT_PER_MINUTE``).
        teacher: the cached teacher, if the caller has it; without it the cache is not consulted
            (the result key needs the teacher's results).

    Raises:
        CostTooHigh: a new run above the server's cap (a cached result is served whatever its cost).
        QueueFull, OwnerBusy, ClientBusy: the runner refuses a new job.
        RunLimitReached: the student, their class board or their client address is at a limit on runs.
        StorageError: the student's store cannot be written.
    """
    if request.class_code is not None or request.prediction is not None:
        store = store.tagged(class_code=request.class_code, prediction=request.prediction)
    address = None if client is None else address_key(client)
    if not RUNS_PER_ADDRESS.allows(address):
        raise RunLimitReached(address_too_fast(RUNS_PER_ADDRESS.limit, RUNS_PER_ADDRESS.seconds_left(address)))
    if not request.fresh:
        cached = cached_result(request, store, teacher)
        if cached is not None:
            record = copy_into(cached, store, source="cache", created_at=time.time())
            RUNS_PER_ADDRESS.record(address)
            return LabTicket("cache", record.run_id, record.number, request, record=record)
    check_cost(request.config, len(request.transfer_indices), request.plan["teacher"])
    number, run_id = store.reserve_number(), new_run_id()
    _note_start(store, run_id, number, request.config)  # before the job: a quick run may file its record at once
    follower = Follower(store.student_key, store, number, run_id, "trained")
    try:
        live, follower = LIVE_RUNS.join_or_start(
            request, follower, lambda live: _submit(runner, data, live, owner, client)
        )
    except BaseException:  # no job (a full queue, say): no run to remember
        _forget_start(store, run_id)
        raise
    if follower.run_id != run_id:  # a second tab of a student who already follows this run: their earlier place
        _forget_start(store, run_id)
    else:
        RUNS_PER_ADDRESS.record(address)
    return LabTicket(follower.source, follower.run_id, follower.number, live.request, job=live.job)


def submit_distillation(
    runner: JobRunner,
    request: TrainRequest,
    data: MnistData,
    store: RunStore,
    *,
    owner: str | None = None,
    client: str | None = None,
) -> Job:
    """Train ``request`` live (never from the cache; an identical run in progress is joined): the job."""
    return request_distillation(runner, request.again(), data, store, owner=owner, client=client).job


def stop_lab_run(job: Job, run_id: str) -> str:
    """A student's Stop on the live run ``job``: "stop" stops it (the student keeps the partial
    result); "left" when other students follow the same run, which goes on for them."""
    action, leaving = LIVE_RUNS.stop_or_leave(job, run_id)
    if action == "stop":
        job.request_stop()
    elif leaving is not None:
        _forget_start(leaving.store, run_id)  # the run goes on for the others; this student gets no record
    return action


def copy_into(
    record: RunRecord,
    store: RunStore,
    *,
    source: str,
    number: int | None = None,
    run_id: str | None = None,
    created_at: float | None = None,
) -> RunRecord:
    """``record`` as a new run of ``store``'s student (new id and number), marked with ``source``."""
    copy = replace(
        record,
        run_id=run_id or new_run_id(),
        number=number if number is not None else store.reserve_number(),
        source=source,
        created_at=created_at if created_at is not None else record.created_at,
    )
    store.add(copy)
    return copy


def cached_result(request: TrainRequest, store: RunStore, teacher: Teacher | None) -> RunRecord | None:
    """The completed run with this request's settings and ``teacher``, trained earlier by anyone on this server;
    None when there is none, without the teacher's results (no result key to look it up by), or when the
    cache cannot be read (the run trains instead)."""
    if teacher is None or not request.teacher_matches(teacher.record):
        return None
    try:
        return store.cached_result(request.result_key(teacher.record))
    except StorageError as error:
        log.warning("result cache unavailable, training instead: %s", error)
        return None


def _note_start(store: RunStore, run_id: str, number: int, config: DistillConfig) -> None:
    try:
        store.note_start(run_id, number, config.as_dict())
    except StorageError as error:  # the run still trains; only a restart would lose it without a trace
        log.warning("could not note the start of run %s: %s", run_id, error)


def _forget_start(store: RunStore, run_id: str) -> None:
    try:
        store.forget_start(run_id)
    except StorageError as error:
        log.warning("could not forget the start of run %s: %s", run_id, error)


def _submit(runner: JobRunner, data: MnistData, live: LiveRun, owner: str | None, client: str | None) -> Job:
    request: TrainRequest = live.request
    config, number = request.config, live.followers[0].number

    def target(context: JobContext) -> LabOutcome:
        try:
            with BaselineSharing(request, live.followers[0].store, context) as baseline:
                on_event = _follow(context, baseline.stages)
                teacher = _prepare_teacher(context, config, data, on_event)
                # context.run: a plain call, a worker process, or a Ray task with KDLAB_RAY_ADDRESS set
                distil = partial(context.run, run_distillation, config, data, teacher=teacher, on_event=on_event)
                result = baseline.distil(  # together: None unless the runner trains look-alikes together
                    distil, indices=request.transfer_indices, together=context.together(request.alike)
                )
                record = baseline.complete(record_from_result(result, data.test.labels, number=number))
                outcome = _file_records(record, request, result.teacher.record, live, baseline)
                context.set_progress(1.0, f"Finished: {record.status}.")
                return outcome
        finally:
            for follower in LIVE_RUNS.finish(live):  # a failed run lets its followers go too, without a record
                _forget_start(follower.store, follower.run_id)

    # kind and cost let the queue estimate when this run starts and ends
    name = f"Run {number}: {config.student} from {config.teacher}"
    return runner.submit(name, target, owner=owner, kind="lab", cost=request.cost, client=client, alike=request.alike)


def _follow(context: JobContext, stages: dict[str, float]) -> Callable[[object], None]:
    """The job's ``on_event``: every event moves the progress bar over ``stages``; stage, test-curve and live-view
    events also go to the job's log, which the page polls for live curves and views."""
    follow = ProgressTracker(report_progress(context), stages).follow_runs({run: STAGE_NAMES[run] for run in stages})

    def on_event(event) -> None:
        follow(event)
        if isinstance(event, StageEvent) or (
            isinstance(event, EvalEvent | FeatureViewEvent) and event.run != "teacher"
        ):
            context.emit(event)  # step events only move the bar

    return on_event


def _prepare_teacher(context: JobContext, config: DistillConfig, data: MnistData, on_event) -> Teacher:
    """The run's teacher, loaded or trained (on Ray too when it is configured), announced as ``TeacherReady``."""
    context.set_progress(0.0, f"Preparing teacher {config.teacher} ...")
    teacher = train_teacher(
        context, config.teacher, data, epochs=config.teacher_epochs, seed=config.teacher_seed, on_event=on_event
    )
    record = teacher.record
    context.emit(TeacherReady(config.teacher, record.test_accuracy, record.test_errors, teacher.status))
    return teacher


def _file_records(
    record: RunRecord, request: TrainRequest, teacher: TeacherRecord, live: LiveRun, baseline: BaselineSharing
) -> LabOutcome:
    """Give every follower their own copy of ``record``; a completed run also enters the result cache (under
    its result key, and under its baseline key when its baseline completed)."""
    outcome = LabOutcome(record.status)
    if record.status == "completed":  # a stopped or diverged run is never served as "the" result
        record.cache_key = request.result_key(teacher)
    first = LIVE_RUNS.take_first(live)  # filed and cached before the run closes to newcomers, so that
    if first is not None and _file(outcome, record, first):  # a request never misses both
        baseline.remember(first.store, first.run_id, record)
        if record.cache_key:
            try:
                first.store.remember_result(record.cache_key, first.run_id)
            except StorageError as error:
                log.warning("could not add run %s to the result cache: %s", first.run_id, error)
    for follower in LIVE_RUNS.finish(live):
        _file(outcome, record, follower)
    return outcome


def _file(outcome: LabOutcome, record: RunRecord, follower: Follower) -> bool:
    copy = replace(record, run_id=follower.run_id, number=follower.number, source=follower.source)
    try:
        follower.store.add(copy)
    except StorageError as error:
        outcome.unsaved[follower.run_id] = str(error)
        outcome.unsaved_records[follower.run_id] = copy
        return False
    outcome.filed.append(follower.run_id)
    return True
