"""A run cut off by a server restart: its start is noted in the database when Train is pressed,
forgotten when its record is filed (or it fails, or the student leaves it), and a later server
process lists it to its student with its settings. The restart is a real one: a second process
starts a run and is killed while it trains."""

import os
import signal
import subprocess
import sys
import threading

import pytest

from kdlab.db import database as schema
from kdlab.db.database import StorageError, open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student, find_student
from kdlab.experiments.distill import DistillConfig
from kdlab.serve.lab import request_distillation, stop_lab_run
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobRunner, JobStatus, QueueFull
from tests.conftest import PROJECT_ROOT, after_a_restart, database_at_version, tiny_config, wait_until

SERVER_SCRIPT = """
import sys, time
from kdlab.ml.data import load_mnist
from kdlab.experiments.distill import DistillConfig
from kdlab.serve.runner import JobRunner
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.db.database import open_database
from kdlab.serve.lab import request_distillation
from kdlab.serve.request import TrainRequest
from kdlab.teachers.cache import resolve_teacher

data = load_mnist(offline=True)
database = open_database(sys.argv[1])
student, token = create_student(database)
store = DatabaseRunStore(database, student.id)
teacher = resolve_teacher("linear", data, epochs=2)
config = DistillConfig.build(teacher="linear", student="mlp-20x1", epochs=100, train_size=4000, batch_size=16,
                             teacher_epochs=2, temperature=8, seed=7)
ticket = request_distillation(JobRunner(1), TrainRequest.build(config, data), data, store, teacher=teacher)
print(token, flush=True)
time.sleep(600)  # training in the background until the test kills this "server"
"""


@pytest.fixture
def url(database_url):
    return database_url


def new_store(database) -> DatabaseRunStore:
    return DatabaseRunStore(database, create_student(database)[0].id)


def test_a_run_killed_with_its_server_is_listed_to_its_student_by_the_next_one(url, monkeypatch):
    monkeypatch.setenv("KDLAB_HEARTBEAT_STALE_SECONDS", "1")  # a second of silence: the killed server is dead
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER_SCRIPT, url],
        cwd=PROJECT_ROOT,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        token = server.stdout.readline().strip()
        assert token, server.stderr.read()
    finally:
        server.send_signal(signal.SIGKILL)  # the server dies while the run trains
        server.wait(timeout=30)
    database = open_database(url)  # the next server process
    store = DatabaseRunStore(database, find_student(database, token).id)
    assert store.records() == []
    assert wait_until(store.interrupted, timeout=10)
    [cut_off] = store.interrupted()
    assert cut_off.number == 1
    assert DistillConfig.build(**cut_off.config) == DistillConfig.build(
        teacher="linear",
        student="mlp-20x1",
        epochs=100,
        train_size=4000,
        batch_size=16,
        teacher_epochs=2,
        temperature=8,
        seed=7,
    )
    store.forget_start(cut_off.run_id)  # "Dismiss"
    assert store.interrupted() == []


def test_a_run_that_ends_or_fails_or_is_left_leaves_nothing_behind(url, sample_data, linear_teacher, monkeypatch):
    database, runner = open_database(url), JobRunner(1)
    done, failing, alice, bob = (new_store(database) for _ in range(4))
    ticket = request_distillation(
        runner, TrainRequest.build(tiny_config(), sample_data), sample_data, done, teacher=linear_teacher
    )
    assert done.interrupted() == []  # still this server's own run
    assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED

    release = threading.Event()
    runner.submit("another student's run", lambda context: release.wait(60))
    try:
        first = request_distillation(
            runner, TrainRequest.build(tiny_config(epochs=3), sample_data), sample_data, alice, teacher=linear_teacher
        )
        second = request_distillation(
            runner, TrainRequest.build(tiny_config(epochs=3), sample_data), sample_data, bob, teacher=linear_teacher
        )
        assert second.how == "joined" and stop_lab_run(first.job, first.run_id) == "left"
    finally:
        release.set()
    assert runner.wait(second.job, timeout=120)
    monkeypatch.setattr("kdlab.serve.lab.run_distillation", lambda *args, **kwargs: 1 / 0)
    broken = request_distillation(
        runner, TrainRequest.build(tiny_config(seed=5), sample_data), sample_data, failing, teacher=linear_teacher
    )
    assert runner.wait(broken.job, timeout=60) and broken.job.status == JobStatus.FAILED

    after_a_restart(monkeypatch, database)
    assert [store.interrupted() for store in (done, failing, alice, bob)] == [[], [], [], []]
    assert bob.get(second.run_id).status == "completed"


def test_a_full_queue_notes_no_start(url, sample_data, linear_teacher, monkeypatch):
    database, runner, release = open_database(url), JobRunner(1, max_queue=0), threading.Event()
    runner.submit("another student's run", lambda context: release.wait(60))
    store = new_store(database)
    try:
        with pytest.raises(QueueFull):
            request_distillation(
                runner,
                TrainRequest.build(tiny_config(seed=11), sample_data),
                sample_data,
                store,
                owner="student",
                teacher=linear_teacher,
            )
    finally:
        release.set()
    after_a_restart(monkeypatch, database)
    assert store.interrupted() == []


def test_a_version_1_database_gains_the_run_starts_and_keeps_its_runs(url):
    database = database_at_version(url, 1)
    student, _ = create_student(database)
    with pytest.raises(StorageError):
        DatabaseRunStore(database, student.id).interrupted()
    assert schema.upgrade(database) == len(schema.MIGRATIONS) == database.version()
    assert DatabaseRunStore(database, student.id).interrupted() == []
