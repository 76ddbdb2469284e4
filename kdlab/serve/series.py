"""A press of Train: the same run at seeds s, s + 1, ... (one seed or up to five), each beside its student alone.

Every press goes this one way. Each seed is a run of its own (``Press.runs``): its own result key, so it
is served from the result cache or joins an identical run in progress like any run
(``kdlab.serve.lab.request_distillation``), and a class whose students pressed Train at different seeds
fills the same cache entries and the board's intervals together. The seeds start one after another,
since a student has one job at a time (``OwnerBusy``): ``advance_series`` starts the next seed once the
one before has its result (a cached seed at once). The cap counts every seed that has to train. The
per-seed errors then give the paired interval of ``kdlab.experiments.seeds.PairedSeeds``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from kdlab.db.database import StorageError
from kdlab.experiments.seeds import PairedSeeds
from kdlab.ml.data import MnistData
from kdlab.runs.record import RunRecord
from kdlab.runs.store import RunStore
from kdlab.serve.lab import LabOutcome, LabTicket, cached_result, request_distillation
from kdlab.serve.limits import check_cost
from kdlab.serve.request import Press
from kdlab.serve.runner import JobRunner
from kdlab.teachers.teacher import Teacher


@dataclass
class SeedSeries:
    """A press of Train: its seeds' requests, and the ticket of every seed started so far."""

    press: Press
    store: RunStore  # the student's runs, where each seed's record is filed
    tickets: list[LabTicket] = field(default_factory=list)
    halted: str | None = None  # why the seeds stopped before the last (a seed stopped, failed, was refused)
    found: dict[str, RunRecord] = field(default_factory=dict, repr=False)  # run_id -> its record, read once

    @property
    def seeds(self) -> tuple[int, ...]:
        return tuple(run.config.training.seed for run in self.press.runs)

    @property
    def finished(self) -> bool:
        """True once every seed has its result, or the series halted."""
        return self.halted is not None or (
            len(self.tickets) == self.press.seeds and self.record(self.tickets[-1]) is not None
        )

    def record(self, ticket: LabTicket) -> RunRecord | None:
        """``ticket``'s result (``ticket_record``), read from the store once."""
        if ticket.run_id not in self.found:
            record = ticket_record(ticket, self.store)
            if record is None:
                return None
            self.found[ticket.run_id] = record
        return self.found[ticket.run_id]

    def records(self) -> list[RunRecord]:
        """The result of every seed that has one, in seed order."""
        return [record for record in map(self.record, self.tickets) if record is not None]

    def paired(self) -> PairedSeeds | None:
        """The completed seeds' errors, distilled against alone; None before the first."""
        pairs = [
            (record.config["seed"], record.errors("baseline"), record.errors("distilled"))
            for record in self.records()
            if record.status == "completed" and None not in (record.errors("baseline"), record.errors("distilled"))
        ]
        if not pairs:
            return None
        seeds, alone, distilled = zip(*pairs)
        return PairedSeeds(seeds, alone, distilled)


def ticket_record(ticket: LabTicket, store: RunStore) -> RunRecord | None:
    """The run's result for this student: the cached copy, or the finished job's record (filed in
    ``store``, or kept in the job when it could not be filed); None before."""
    if ticket.record is not None:
        return ticket.record
    job = ticket.job
    if job is None or not job.is_finished or not isinstance(job.result, LabOutcome):
        return None
    if ticket.run_id in job.result.unsaved_records:
        return job.result.unsaved_records[ticket.run_id]
    if ticket.run_id not in job.result.filed:
        return None
    try:
        return store.get(ticket.run_id)
    except StorageError:  # the database is down for a moment: the next rerun reads it again
        return None


def series_cost(press: Press, store: RunStore, teacher: Teacher | None) -> float:
    """Check the cost of the seeds that have to train (a cached one costs nothing): their number
    times one seed's, plus the teacher's training once.

    Raises:
        CostTooHigh: above the server's cap.
    """
    training = [run for run in press.runs if run.fresh or cached_result(run, store, teacher) is None]
    if not training:
        return 0.0
    first = press.first
    return check_cost(first.config, len(first.transfer_indices), first.plan["teacher"], seeds=len(training))


def start_series(
    runner: JobRunner,
    press: Press,
    data: MnistData,
    store: RunStore,
    *,
    owner: str | None = None,
    client: str | None = None,
    teacher: Teacher | None = None,
) -> SeedSeries:
    """Press Train: the cost of all the seeds checked, the first seed started (the next ones too while each
    comes from the cache at once).

    Raises:
        CostTooHigh: the seeds that have to train cost more than the cap together.
        QueueFull, OwnerBusy, RunLimitReached, StorageError: as ``request_distillation`` for the first seed.
    """
    series_cost(press, store, teacher)
    series = SeedSeries(press, store)
    first = request_distillation(runner, press.first, data, store, owner=owner, client=client, teacher=teacher)
    series.tickets.append(first)
    advance_series(series, runner, data, owner=owner, client=client, teacher=teacher)
    return series


def advance_series(
    series: SeedSeries,
    runner: JobRunner,
    data: MnistData,
    *,
    owner: str | None = None,
    client: str | None = None,
    teacher: Teacher | None = None,
) -> LabTicket | None:
    """Start the next seeds whose turn it is: each once the seed before has its result (cached seeds
    one after another at once); a seed that did not complete, or a refusal, halts the series (said in
    ``halted``). Returns the newest ticket started, or None."""
    started = None
    while not series.finished and len(series.tickets) < series.press.seeds:
        last = series.record(series.tickets[-1])
        if last is None:
            job = series.tickets[-1].job
            if job is not None and job.is_finished:
                series.halted = f"the run at seed {series.seeds[len(series.tickets) - 1]} ended without a result"
            return started
        if last.status != "completed":
            series.halted = f"the run at seed {last.config['seed']} {last.status}"
            return started
        run = series.press.runs[len(series.tickets)]
        try:
            started = request_distillation(runner, run, data, series.store, owner=owner, client=client, teacher=teacher)
        except (
            ValueError,
            StorageError,
        ) as error:  # a full queue, the cap (the seeds' teacher was retrained?): said, not raised
            series.halted = f"the run at seed {run.config.training.seed} could not start: {error}"
            return started
        series.tickets.append(started)
    return started
