"""The student alone shared between runs that differ only in T, alpha or the teacher (``kdlab.serve.baselines``)."""

import pytest
import torch

from kdlab.db import database as schema
from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.experiments.distill import StageEvent, run_distillation
from kdlab.ml.train import EvalEvent
from kdlab.runs.record import record_from_result
from kdlab.serve.baselines import SHARED_NOTE
from kdlab.serve.lab import request_distillation
from kdlab.serve.live import LIVE_BASELINES
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobRunner, JobStatus
from tests.conftest import tiny_config


@pytest.fixture
def database(tmp_path):
    yield open_database(f"sqlite:///{tmp_path / 'runs.sqlite3'}")
    schema.forget_databases()


def new_store(database) -> DatabaseRunStore:
    return DatabaseRunStore(database, create_student(database)[0].id)


def numbers(record) -> dict:
    """Everything a record says about its students but the clock."""
    timeless = {"seconds", "train_seconds"}
    return {
        "status": record.status,
        "students": {
            role: {name: value for name, value in (record.summary[role] or {}).items() if name not in timeless}
            for role in ("student", "baseline")
        },
        "curves": {
            role: [{name: value for name, value in point.items() if name not in timeless} for point in points]
            for role, points in record.curves.items()
        },
        "per_class": record.per_class_accuracy,
        "confusion": record.confusion,
    }


def whole(config, data, teacher):
    """The record of ``config`` trained whole, both students in one call."""
    return record_from_result(run_distillation(config, data, teacher=teacher), data.test.labels, number=1)


def trained_runs(job) -> set[str]:
    return {event.run for event in job.events() if isinstance(event, EvalEvent)}


def press(runner, config, data, store, teacher):
    return request_distillation(runner, TrainRequest.build(config, data), data, store, teacher=teacher)


def test_the_baseline_key_leaves_out_only_what_the_student_alone_never_sees(sample_data):
    def key(**changes):
        return TrainRequest.build(tiny_config(**changes), sample_data).baseline_key

    assert key() == key(temperature=8.0) == key(alpha=0.5) == key(teacher="mlp-50x1", teacher_epochs=3)
    others = [key(seed=1), key(epochs=3), key(learning_rate=3e-3), key(batch_size=64), key(train_size=1000)]
    assert len({key(), *others}) == 1 + len(others)
    assert key(student="mlp-30x1") != key()
    assert TrainRequest.build(tiny_config(with_baseline=False), sample_data).baseline_key is None


def test_a_baseline_trained_earlier_is_reused_and_the_record_is_the_whole_runs(database, sample_data, linear_teacher):
    runner = JobRunner(1)
    earlier = new_store(database)
    first = press(runner, tiny_config(epochs=3), sample_data, earlier, linear_teacher)
    assert runner.wait(first.job, timeout=120) and first.job.status == JobStatus.COMPLETED, first.job.error
    store = new_store(database)
    second = press(runner, tiny_config(epochs=3, temperature=8.0, alpha=0.5), sample_data, store, linear_teacher)
    assert second.how == "trained" and runner.wait(second.job, timeout=120), second.job.error
    assert trained_runs(first.job) == {"distilled", "baseline"} and trained_runs(second.job) == {"distilled"}
    assert StageEvent("baseline", SHARED_NOTE) in second.job.events()
    shared = store.get(second.run_id)
    assert shared.summary["baseline_shared"] and "baseline_shared" not in earlier.get(first.run_id).summary
    assert numbers(shared) == numbers(
        whole(tiny_config(epochs=3, temperature=8.0, alpha=0.5), sample_data, linear_teacher)
    )


def test_a_baseline_in_training_is_followed_by_a_run_of_another_temperature(database, sample_data, linear_teacher):
    runner = JobRunner(2)
    configs = [tiny_config(epochs=3, temperature=temperature) for temperature in (2.0, 10.0)]
    stores = [new_store(database), new_store(database)]
    tickets = [press(runner, config, sample_data, store, linear_teacher) for config, store in zip(configs, stores)]
    for ticket in tickets:
        assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED, ticket.job.error
    assert sorted(len(trained_runs(ticket.job)) for ticket in tickets) == [1, 2]  # one baseline for both
    for config, store, ticket in zip(configs, stores, tickets):
        assert numbers(store.get(ticket.run_id)) == numbers(whole(config, sample_data, linear_teacher))


def test_when_the_run_training_the_baseline_fails_its_follower_trains_its_own(database, sample_data, linear_teacher):
    config, store = tiny_config(epochs=2, seed=5), new_store(database)
    request = TrainRequest.build(config, sample_data)
    claimed, mine = LIVE_BASELINES.claim_or_follow(request.baseline_key)  # another job trains it, as far as it knows
    assert mine
    runner = JobRunner(1)
    ticket = request_distillation(runner, request, sample_data, store, teacher=linear_teacher)
    try:
        assert not runner.wait(ticket.job, timeout=3) and trained_runs(ticket.job) == {"distilled"}  # waiting for it
    finally:
        LIVE_BASELINES.publish(claimed, None)  # that job stopped before its baseline
    assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED, ticket.job.error
    assert trained_runs(ticket.job) == {"distilled", "baseline"}
    assert numbers(store.get(ticket.run_id)) == numbers(whole(config, sample_data, linear_teacher))


def test_a_run_stopped_while_waiting_for_its_baseline_is_stopped_without_one(database, sample_data, linear_teacher):
    config, store = tiny_config(epochs=2, seed=6), new_store(database)
    request = TrainRequest.build(config, sample_data)
    claimed, _ = LIVE_BASELINES.claim_or_follow(request.baseline_key)
    runner = JobRunner(1)
    ticket = request_distillation(runner, request, sample_data, store, teacher=linear_teacher)
    try:
        assert not runner.wait(ticket.job, timeout=3)
        ticket.job.request_stop()
        assert runner.wait(ticket.job, timeout=30)
    finally:
        LIVE_BASELINES.publish(claimed, None)
    record = store.get(ticket.run_id)
    assert record.status == "stopped" and record.summary["baseline"] is None
    assert record.summary["student"]["status"] == "completed"


def test_a_run_trains_only_the_students_it_is_asked_for(sample_data, linear_teacher):
    config = tiny_config(epochs=2, seed=8)
    alone = run_distillation(config, sample_data, teacher=linear_teacher, students=("baseline",))
    assert alone.student is None and alone.baseline is not None and alone.status == "completed"
    distilled = run_distillation(config, sample_data, teacher=linear_teacher, students=("distilled",))
    assert distilled.baseline is None and distilled.status == "completed"
    both = run_distillation(config, sample_data, teacher=linear_teacher)
    assert torch.equal(alone.baseline.test_logits, both.baseline.test_logits)
    assert torch.equal(distilled.student.test_logits, both.student.test_logits)
    with pytest.raises(ValueError, match="does not train the baseline"):
        run_distillation(tiny_config(with_baseline=False), sample_data, teacher=linear_teacher, students=("baseline",))
