"""A press of Train (``kdlab.serve.request.Press``, ``kdlab.serve.series``): one seed or several, each seed a run
of its own, cached and joined like any run, the cap counting every seed that trains, and the paired interval
at the end."""

import pytest

from kdlab.db import database as schema
from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.serve.lab import request_distillation
from kdlab.serve.limits import CostTooHigh, check_cost
from kdlab.serve.request import Press, TrainRequest
from kdlab.serve.runner import ClientBusy, JobRunner
from kdlab.serve.series import advance_series, start_series
from tests.conftest import tiny_config


@pytest.fixture
def database(tmp_path):
    yield open_database(f"sqlite:///{tmp_path / 'runs.sqlite3'}")
    schema.forget_databases()


def new_store(database) -> DatabaseRunStore:
    return DatabaseRunStore(database, create_student(database)[0].id)


def follow(series, runner, data, store, teacher, owner="ada"):
    """What the lab page does on every rerun: wait for the seed in progress, start the next."""
    while not series.finished:
        job = series.tickets[-1].job
        if job is not None:
            assert runner.wait(job, timeout=120), job.error
        advance_series(series, runner, data, owner=owner, teacher=teacher)
    return series


def test_a_press_of_three_seeds_is_three_runs_of_one_seed_each(sample_data):
    press = Press.build(tiny_config(seed=7), sample_data, seeds=3, prediction={"answer": "better"})
    assert press.seeds == 3 and [run.config.training.seed for run in press.runs] == [7, 8, 9]
    assert all(isinstance(run, TrainRequest) for run in press.runs)
    assert len({run.key for run in press.runs}) == 3  # each seed its own result key
    assert press.runs[1].key == TrainRequest.build(tiny_config(seed=8), sample_data).key  # as if pressed alone
    assert press.first.config == tiny_config(seed=7)
    tagged = press.tagged(class_code="PHYS7", prediction={"answer": "worse"})
    assert [run.class_code for run in tagged.runs] == ["PHYS7"] * 3
    assert [run.prediction for run in tagged.runs] == [{"answer": "worse"}, None, None]  # counted once
    assert all(run.fresh for run in tagged.again().runs) and not any(run.fresh for run in tagged.runs)
    one = Press.build(tiny_config(), sample_data)
    assert one.seeds == 1 and one.first.key == TrainRequest.build(tiny_config(), sample_data).key
    assert Press.of(one.first).runs == (one.first,)
    for bad in (0, 6):
        with pytest.raises(ValueError, match="1 to 5 seeds"):
            Press.build(tiny_config(), sample_data, seeds=bad)


def test_a_press_of_one_seed_takes_the_same_path(database, sample_data, linear_teacher):
    runner, store = JobRunner(1), new_store(database)
    series = start_series(
        runner, Press.build(tiny_config(seed=31), sample_data), sample_data, store, teacher=linear_teacher
    )
    assert [ticket.how for ticket in series.tickets] == ["trained"] and not series.finished
    follow(series, runner, sample_data, store, linear_teacher)
    assert series.halted is None and [record.config["seed"] for record in series.records()] == [31]
    again = start_series(
        runner, Press.build(tiny_config(seed=31), sample_data), sample_data, store, teacher=linear_teacher
    )
    assert [ticket.how for ticket in again.tickets] == ["cache"] and again.finished  # from the cache at once


def test_the_seeds_run_one_after_another_and_give_the_paired_interval(database, sample_data, linear_teacher):
    runner, store = JobRunner(1), new_store(database)
    press = Press.build(tiny_config(), sample_data, seeds=3)
    series = start_series(runner, press, sample_data, store, owner="ada", teacher=linear_teacher)
    assert len(series.tickets) == 1 and not series.finished  # one job per student at a time
    follow(series, runner, sample_data, store, linear_teacher)
    records = series.records()
    assert series.halted is None and [record.config["seed"] for record in records] == [0, 1, 2]
    assert len({record.run_id for record in records}) == 3 and len(store.records()) == 3
    paired = series.paired()
    assert paired.seeds == (0, 1, 2)
    assert paired.alone_errors == tuple(record.errors("baseline") for record in records)
    assert paired.distilled_errors == tuple(record.errors("distilled") for record in records)
    assert paired.interval is not None and "of 3 seeds" in paired.summary()["wins"]


def test_a_seed_trained_earlier_by_anyone_comes_from_the_cache(database, sample_data, linear_teacher):
    runner = JobRunner(1)
    other = new_store(database)  # another student trained seed 1 alone
    single = request_distillation(
        runner, TrainRequest.build(tiny_config(seed=1), sample_data), sample_data, other, teacher=linear_teacher
    )
    assert runner.wait(single.job, timeout=120), single.job.error
    store = new_store(database)
    series = start_series(
        runner, Press.build(tiny_config(), sample_data, seeds=2), sample_data, store, teacher=linear_teacher
    )
    follow(series, runner, sample_data, store, linear_teacher)
    assert [ticket.how for ticket in series.tickets] == ["trained", "cache"]
    assert series.records()[1].errors("distilled") == other.records()[0].errors("distilled")


def test_the_cap_counts_every_seed_that_has_to_train(monkeypatch, database, sample_data, linear_teacher):
    press = Press.build(tiny_config(), sample_data, seeds=3)
    first = press.first
    one = check_cost(first.config, len(first.transfer_indices), 0.0)
    assert check_cost(first.config, len(first.transfer_indices), 0.0, seeds=3) == pytest.approx(3 * one)
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", f"{2.5 * one:.6g}")
    store = new_store(database)
    with pytest.raises(CostTooHigh, match=r"at 3 seeds.*at most 2 seeds"):
        start_series(JobRunner(1), press, sample_data, store, teacher=linear_teacher)
    assert store.records() == []  # refused before any seed started


def test_every_seed_counts_against_its_client_address(database, sample_data, linear_teacher):
    runner = JobRunner(1, max_per_client=1)
    press = Press.build(tiny_config(seed=40), sample_data, seeds=2)
    start_series(
        runner, press, sample_data, new_store(database), owner="ada", client="10.0.0.7", teacher=linear_teacher
    )
    other = Press.build(tiny_config(seed=50), sample_data, seeds=2)
    with pytest.raises(ClientBusy):  # another student in the same tab's address: the limit holds for seeds too
        start_series(
            runner, other, sample_data, new_store(database), owner="bob", client="10.0.0.7", teacher=linear_teacher
        )
