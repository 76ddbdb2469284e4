"""The Ray backend against a real local Ray (``ray.init(num_cpus=2)``), started once for the module.

The lab's own job (``kdlab.serve.tasks.submit_distillation``) runs through a ``RayRunner``: its
training runs as a Ray task, its events stream back to the job's log, Stop works, the record
lands in the student's database, and data and teacher go through the object store once.
"""

from __future__ import annotations

import threading

import pytest

from kdlab.experiments.distill import DistillConfig, StageEvent
from kdlab.ml.train import EvalEvent
from kdlab.serve import jobs
from kdlab.serve.runner import JobStatus
from tests.conftest import needs_module, wait_until

pytestmark = pytest.mark.ray
ray = needs_module("ray")
TIMEOUT = 180  # the first task on a fresh Ray worker imports torch


@pytest.fixture(scope="module")
def runner():
    from kdlab.serve.ray_runner import RayRunner

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield RayRunner("local")
    finally:
        ray.shutdown()


@pytest.fixture
def store(tmp_path):
    from kdlab.db.database import open_database
    from kdlab.db.runs import DatabaseRunStore
    from kdlab.db.students import create_student

    database = open_database(f"sqlite:///{tmp_path / 'runs.sqlite3'}")
    student, _token = create_student(database)
    return DatabaseRunStore(database, student.id)


def lab_config(**settings) -> DistillConfig:
    # A linear teacher: the first run trains it (in a Ray task) in about a second.
    defaults = {"teacher": "linear", "teacher_epochs": 2, "student": "linear", "epochs": 2, "train_size": 1000}
    return DistillConfig.build(**{**defaults, **settings})


def test_a_lab_run_trains_on_ray_streams_its_events_and_lands_in_the_database(runner, store, sample_data):
    from kdlab.serve.lab import submit_distillation
    from kdlab.serve.request import TrainRequest

    job = submit_distillation(
        runner, TrainRequest.build(lab_config(), sample_data), sample_data, store, owner="student-1"
    )
    assert runner.wait(job, timeout=TIMEOUT), job.progress_message
    assert job.status == JobStatus.COMPLETED, job.error
    events = job.events()
    curves = {event.run for event in events if isinstance(event, EvalEvent)}
    assert curves == {"distilled", "baseline"}  # both students' live curves came back from the task
    assert any(isinstance(event, StageEvent) and event.stage == "done" for event in events)
    assert job.progress == 1.0
    (record,) = store.records()
    assert record.status == "completed" and record.config["student"] == "linear"
    assert runner.shared_count == 2  # the data and the teacher

    again = submit_distillation(
        runner, TrainRequest.build(lab_config(seed=1), sample_data), sample_data, store, owner="student-1"
    )
    assert runner.wait(again, timeout=TIMEOUT) and again.status == JobStatus.COMPLETED, again.error
    assert runner.shared_count == 2  # put once, reused by the second run
    assert [record.number for record in store.records()] == [1, 2]


def test_stop_reaches_the_ray_task_and_keeps_the_partial_result(runner, store, sample_data):
    from kdlab.serve.lab import submit_distillation
    from kdlab.serve.request import TrainRequest

    config = lab_config(student="mlp-300x2", epochs=50, train_size=4000)
    job = submit_distillation(runner, TrainRequest.build(config, sample_data), sample_data, store, owner="student-2")
    assert wait_until(
        lambda: any(isinstance(event, EvalEvent) for event in job.events()) or job.is_finished, timeout=TIMEOUT
    )
    job.request_stop()
    assert runner.wait(job, timeout=TIMEOUT)
    assert job.status == JobStatus.STOPPED, job.error
    (record,) = store.records()
    assert record.status == "stopped"
    distilled = [event for event in job.events() if isinstance(event, EvalEvent) and event.run == "distilled"]
    assert distilled and distilled[-1].epoch < 50


def test_a_library_error_in_the_task_fails_the_job_with_its_own_message(runner, sample_data):
    from kdlab.experiments.distill import run_distillation

    config = lab_config(train_size=None, only_classes=(7,), batch_size=2048)  # fewer 7s than one batch

    def target(context):
        return context.run(run_distillation, config, sample_data)

    job = runner.submit("too big a batch", target)
    assert runner.wait(job, timeout=TIMEOUT)
    assert job.status == JobStatus.FAILED
    assert job.error.startswith("ValueError: ") and "batch" in job.error.lower()


def test_default_runner_is_the_ray_runner_when_the_address_is_set(runner, monkeypatch):
    from kdlab.serve.ray_runner import RayRunner

    monkeypatch.setattr(jobs, "_default_runner", None)
    monkeypatch.setenv("KDLAB_RAY_ADDRESS", "local")  # Ray is already up: the runner joins it
    monkeypatch.delenv("KDLAB_MAX_JOBS", raising=False)
    chosen = jobs.default_runner()
    assert isinstance(chosen, RayRunner) and chosen.max_concurrent == 2  # the cluster's CPUs
    done = threading.Event()
    job = chosen.submit("plain target", lambda context: done.set() or "ran on the driver")
    assert chosen.wait(job, timeout=TIMEOUT) and job.result == "ran on the driver" and done.is_set()


def test_an_uncached_teacher_trains_in_a_ray_task_and_is_kept_on_the_driver(runner, store, sample_data, monkeypatch):
    from kdlab.serve.lab import submit_distillation
    from kdlab.serve.request import TrainRequest
    from kdlab.teachers import cache

    def not_here(*args, **kwargs):
        raise AssertionError("the teacher trained in the web process")

    monkeypatch.setattr(cache, "_train", not_here)  # the driver's module only: a Ray worker imports its own
    config = lab_config(teacher="mlp-20x1", teacher_seed=3)  # a teacher no other test caches
    assert not cache.is_teacher_cached("mlp-20x1", sample_data, epochs=2, seed=3)
    job = submit_distillation(runner, TrainRequest.build(config, sample_data), sample_data, store, owner="student-3")
    assert runner.wait(job, timeout=TIMEOUT), job.progress_message
    assert job.status == JobStatus.COMPLETED, job.error
    assert cache.is_teacher_cached("mlp-20x1", sample_data, epochs=2, seed=3)  # on the driver's disk too
    teacher = cache.resolve_teacher("mlp-20x1", sample_data, epochs=2, seed=3)  # found here: _train would raise
    assert teacher.status == "completed" and teacher.record.seed == 3
