"""The job runner's stacked training (``kdlab.serve.stacking``): queued look-alike jobs train in one stack,
each with exactly its own result, its own events and its own stop."""

from __future__ import annotations

import threading
from dataclasses import asdict, replace

import pytest
import torch

from kdlab.db import database as schema
from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.experiments.distill import run_distillation
from kdlab.ml.config import TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import TransferSetSpec, select_transfer_indices
from kdlab.ml.events import EvalEvent, StepEvent
from kdlab.ml.losses import LabelsLoss
from kdlab.ml.models import build_model
from kdlab.ml.progress import ProgressEvent, ProgressTracker
from kdlab.ml.stacked import StackMember, batched_products_exact
from kdlab.ml.train import train_models
from kdlab.runs.record import record_from_result
from kdlab.serve import stacking
from kdlab.serve.lab import request_distillation
from kdlab.serve.request import TrainRequest
from kdlab.serve.stacking import StackingRunner
from tests.conftest import same_numbers, tiny_config

CONFIG = TrainConfig(epochs=2, batch_size=50, evals_per_epoch=2, curve_test_images=200)


@pytest.fixture(autouse=True)
def one_thread():
    """Jobs train with one torch thread each; stacked runs are exact there (``kdlab.ml.stacked``)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def stacks(monkeypatch):
    """The sizes of the stacks the runner trains, as it trains them."""
    sizes, train = [], stacking.train_stacked

    def counted(members, test):
        sizes.append(len(members))
        return train(members, test)

    monkeypatch.setattr(stacking, "train_stacked", counted)
    return sizes


def member(data, seed: int, stop=None, on_event=None) -> StackMember:
    indices = select_transfer_indices(data.train.labels, TransferSetSpec(size=300, seed=seed))
    config = replace(CONFIG, seed=seed)
    model = build_model("mlp-16x1", seed=seed)
    return StackMember(model, data.train.subset(indices), config, LabelsLoss(), f"seed-{seed}", on_event, stop)


def hold_the_slot(runner: StackingRunner) -> threading.Event:
    """Occupy the runner's only slot until the returned event is set, so the next jobs queue up."""
    release = threading.Event()
    runner.submit("gate", lambda context: release.wait(10))
    return release


def stacked_job(data, seed: int, stop_at_step: int | None = None):
    def target(context):
        def on_event(event) -> None:
            context.emit(event)
            if stop_at_step is not None and isinstance(event, EvalEvent) and event.step >= stop_at_step:
                context.stop_requested.set()

        [result] = context.together("mlp-16x1")([member(data, seed, context.stop_requested, on_event)], data.test)
        return result

    return target


def alone(data, seed: int, stop_at_step: int | None = None):
    stop = threading.Event()

    def on_event(event) -> None:
        if stop_at_step is not None and isinstance(event, EvalEvent) and event.step >= stop_at_step:
            stop.set()

    one = member(data, seed, stop, on_event)
    runs = [one.run]
    return train_models(
        [one.model],
        one.transfer_set,
        data.test,
        one.config,
        [one.objective],
        runs=runs,
        context=RunContext(on_event=on_event, stop=stop),
    )[0]


def timeless_events(events) -> list[dict]:
    """Events without their wall-clock seconds."""
    return [{k: v for k, v in asdict(event).items() if k != "seconds"} for event in events]


def same(result, reference) -> bool:
    """The same run: bit for bit where this machine's batched products are exact, else within rounding."""
    exact = batched_products_exact()
    curves = same_numbers(timeless_events(result.history), timeless_events(reference.history), exact=exact)
    logits = same_numbers(result.test_logits, reference.test_logits, exact=exact)
    return result.status == reference.status and logits and curves


def test_queued_look_alikes_train_in_one_stack_each_with_its_own_result_and_stop(sample_data, stacks):
    runner = StackingRunner(max_concurrent=1)
    release = hold_the_slot(runner)
    jobs = [
        runner.submit(f"seed {seed}", stacked_job(sample_data, seed, 6 if seed == 2 else None), alike="mlp-16x1")
        for seed in range(4)
    ]
    later = runner.submit("another shape", lambda context: None)
    release.set()
    for job in jobs:
        assert runner.wait(job, 60) and job.error is None
    assert stacks == [4]  # the first to start took the other three along, in its one slot
    assert runner.wait(later, 10) and later.started_at >= jobs[0].finished_at  # the riders took no slot
    assert jobs[2].result.status == "stopped" and same(jobs[2].result, alone(sample_data, 2, 6))
    for seed in (0, 1, 3):
        assert jobs[seed].result.status == "completed" and same(jobs[seed].result, alone(sample_data, seed))
        assert [e for e in jobs[seed].events() if isinstance(e, EvalEvent)] == jobs[seed].result.history


@pytest.fixture
def database(tmp_path):
    yield open_database(f"sqlite:///{tmp_path / 'runs.sqlite3'}")
    schema.forget_databases()


def test_a_lesson_trained_stacked_files_the_records_each_run_makes_alone(
    sample_data, linear_teacher, database, stacks, monkeypatch
):
    monkeypatch.setattr(stacking, "GATHER_SECONDS", 0.05)
    configs = [tiny_config(temperature=temperature) for temperature in (1.0, 4.0, 8.0)] + [tiny_config(seed=1)]
    runner = StackingRunner(max_concurrent=1)
    release = hold_the_slot(runner)
    stores = [DatabaseRunStore(database, create_student(database)[0].id) for _ in configs]
    tickets = [
        request_distillation(
            runner,
            TrainRequest.build(config, sample_data),
            sample_data,
            stores[index],
            owner=f"student-{index}",
            teacher=linear_teacher,
        )
        for index, config in enumerate(configs)
    ]
    release.set()
    for ticket in tickets:
        assert runner.wait(ticket.job, 120) and ticket.job.error is None
    # one stack: four distilled students, the lesson's one baseline (shared by its three runs), seed 1's own
    assert stacks == [6]
    for config, ticket, store in zip(configs, tickets, stores):
        assert ticket.run_id in ticket.job.result.filed
        record = store.get(ticket.run_id)
        result = run_distillation(config, sample_data, teacher=linear_teacher)
        whole = record_from_result(result, sample_data.test.labels, number=1)
        assert record.status == "completed"
        assert same_numbers(timeless(record), timeless(whole), exact=batched_products_exact())


def timeless(record) -> dict:
    """What a record says about its students, but the clock."""
    clock = {"seconds", "train_seconds"}
    return {
        "students": [
            {k: v for k, v in (record.summary[role] or {}).items() if k not in clock}
            for role in ("student", "baseline")
        ],
        "curves": {
            role: [{k: v for k, v in point.items() if k not in clock} for point in points]
            for role, points in record.curves.items()
        },
        "confusion": record.confusion,
    }


def test_the_progress_bar_of_runs_trained_at_once_counts_each_runs_steps():
    fractions = []
    tracker = ProgressTracker(
        lambda event: fractions.append(event.fraction) if isinstance(event, ProgressEvent) else None,
        {"teacher": 3.0, "distilled": 1.0, "baseline": 1.0},
    )
    follow = tracker.follow_runs({"teacher": "Teacher", "distilled": "Distilled", "baseline": "Alone"})
    for step in (1, 2, 3, 4):  # a stack: both students report every step, the cached teacher never
        for run in ("distilled", "baseline"):
            follow(StepEvent(run, step, 4, step / 2, 0.0, 0.0, 0.0, 0.0))
    assert fractions == sorted(fractions) and fractions[-1] == 1.0  # never back, never ahead of the steps
    assert fractions[1] == pytest.approx(0.125)  # distilled at 1/4 of its half: the cached teacher left the plan
