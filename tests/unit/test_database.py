"""The run database: schema and migrations, students and their tokens, each student's runs,
damaged / locked / full databases, persistence across processes, the result cache and
runs that coalesce."""

import json
import sqlite3
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, event, inspect, select, text

from kdlab.db import database as schema
from kdlab.db.database import StorageError, open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student, find_student, token_hash
from kdlab.runs.record import RunRecord
from kdlab.runs.store import MemoryRunStore
from kdlab.serve import keys
from kdlab.serve.keys import RESULT_CACHE_SALT, data_fingerprint, request_key, result_key
from kdlab.serve.lab import request_distillation, stop_lab_run
from kdlab.serve.live import LIVE_RUNS
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobRunner, JobStatus
from tests.conftest import PROJECT_ROOT, needs_module, tiny_config
from tests.postgres import free_port


@pytest.fixture
def sqlite_url(tmp_path):
    """A SQLite file, for what only SQLite has (a file to damage, pages to fill)."""
    yield f"sqlite:///{tmp_path / 'runs.sqlite3'}"
    schema.forget_databases()


@pytest.fixture
def database(database_url):
    return open_database(database_url)


def record(number: int, run_id: str | None = None, weights: bytes | None = b"weights", status="completed"):
    summary = {
        "config": tiny_config().as_dict(),
        "data": {"source": "mnist-sample", "location": "/srv/secret"},
        "transfer_set": {"size": 500},
        "student": None,
        "baseline": None,
        "status": status,
        "seconds": 1.5,
    }
    curves = {"distilled": [{"epoch": 1.0, "test_accuracy": 0.5, "loss": float("nan")}]}
    return RunRecord(
        run_id or f"run{number}",
        number,
        1000.0 + number,
        status,
        summary,
        curves,
        {"teacher": [0.9] * 10},
        {"teacher": [[1] * 10] * 10},
        weights,
    )


def new_store(database) -> DatabaseRunStore:
    return DatabaseRunStore(database, create_student(database)[0].id)


def test_a_new_database_gets_the_latest_schema_once(database_url):
    database = open_database(database_url)
    assert database.version() == len(schema.MIGRATIONS) == 6
    with database.read() as connection:
        tables = set(inspect(connection).get_table_names())
        assert {
            "schema_version",
            "students",
            "classes",
            "runs",
            "weight_blobs",
            "weight_refs",
            "result_cache",
            "run_starts",
            "predictions",
        } <= tables
        assert {"servers", "sign_in_links"} <= tables
        if database.is_sqlite:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    schema.forget_databases()
    assert open_database(database_url).version() == 6  # opening again applies nothing twice


def test_an_older_database_is_upgraded_and_keeps_its_runs(database):
    store = new_store(database)
    store.add(record(1))

    def add_a_column(connection: Connection) -> None:
        connection.execute(text("ALTER TABLE runs ADD COLUMN note VARCHAR(200)"))

    assert schema.upgrade(database, [*schema.MIGRATIONS, add_a_column]) == 7
    assert database.version() == 7
    assert [r.run_id for r in store.records()] == ["run1"]
    with database.read() as connection:
        assert "note" in {column["name"] for column in inspect(connection).get_columns("runs")}


def test_a_database_newer_than_the_code_is_refused_with_a_message(database):
    with database.write() as connection:
        connection.execute(schema.schema_version.insert().values(version=8, applied_at=0.0))
    with pytest.raises(StorageError, match="newer kdlab .*version 8.*Runs already stored are kept"):
        schema.upgrade(database)


def test_students_are_found_by_their_token_and_only_its_hash_is_stored(database):
    student, token = create_student(database)
    assert find_student(database, token) == student
    assert find_student(database, token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    for bad in ("", "short", "x" * 65, "../../etc/passwd-aaaaaaaaaaaaaaaa", None, 42):
        assert find_student(database, bad) is None
    with database.read() as connection:
        stored = connection.execute(select(schema.students)).one()
    assert stored.token_hash == token_hash(token) and token not in str(tuple(stored))
    assert len(stored.nickname.split()) == 3  # "Curious Otter 42"


def test_each_student_sees_only_their_own_runs(database):
    alice, bob = new_store(database), new_store(database)
    alice.add(record(alice.reserve_number(), "alice1"))
    assert [r.run_id for r in alice.records()] == ["alice1"]
    assert bob.records() == [] and bob.get("alice1") is None and bob.latest() is None
    stored = alice.get("alice1")
    assert stored.student_weights == b"weights" and stored.curves["distilled"][0]["loss"] is None  # NaN -> null


def test_only_the_last_runs_keep_their_weights(database):
    store = DatabaseRunStore(database, create_student(database)[0].id, keep_weights=2)
    for number in (1, 2, 3):
        store.add(record(number))
    assert [store.get(f"run{n}").student_weights is not None for n in (1, 2, 3)] == [False, True, True]
    assert [r.run_id for r in store.records()] == ["run1", "run2", "run3"]  # everything else stays


def test_two_tabs_of_one_student_never_get_the_same_number(database):
    student, _ = create_student(database)
    tabs, numbers = [DatabaseRunStore(database, student.id) for _ in range(4)], []

    def reserve(store):
        for _ in range(10):
            numbers.append(store.reserve_number())

    threads = [threading.Thread(target=reserve, args=(tab,)) for tab in tabs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(numbers) == list(range(1, 41))


WRITE = """
import json, sys
from kdlab.runs.record import RunRecord
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.db.database import open_database
database = open_database()
student, token = create_student(database)
store = DatabaseRunStore(database, student.id)
store.add(RunRecord("written", store.reserve_number(), 1.0, "completed", {"config": {}, "seconds": 2.0}))
print(token)
"""
READ = """
import json, sys
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import find_student
from kdlab.db.database import open_database
database = open_database()
student = find_student(database, sys.argv[1])
print(json.dumps([[r.run_id, r.number, r.summary["seconds"]] for r in DatabaseRunStore(database, student.id).records()]))
"""


def test_runs_written_by_one_process_are_read_by_another(database_url):
    env = {"KDLAB_DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}

    def python(code: str, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", code, *args], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    token = python(WRITE)
    assert json.loads(python(READ, token)) == [["written", 1, 2.0]]


def test_a_damaged_database_is_reported_and_left_untouched(tmp_path):
    path = tmp_path / "damaged.sqlite3"
    path.write_bytes(b"SQLite format 3\x00" + b"\x13" * 4000)  # a header, then garbage
    before = path.read_bytes()
    try:
        with pytest.raises(StorageError) as raised:
            open_database(f"sqlite:///{path}")
    finally:
        schema.forget_databases()
    message = str(raised.value)
    assert "damaged" in message and "Runs already stored are kept" in message and "left exactly as it is" in message
    assert str(tmp_path) not in message  # no server path in a message a page shows
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["damaged.sqlite3"]


def test_a_locked_database_is_reported_and_loses_nothing(database_url):
    database = open_database(database_url, busy_timeout=0.2)
    store = new_store(database)
    store.add(record(1))
    holder = database.engine.raw_connection()
    if database.is_sqlite:
        holder.execute("BEGIN EXCLUSIVE")  # another writer holds the lock
    else:  # another writer holds the student's row (PostgreSQL locks rows, and readers never wait)
        holder.cursor().execute("SELECT * FROM students WHERE id = %s FOR UPDATE", (store.student_id,))
    try:
        with pytest.raises(StorageError, match="locked.*Runs already stored are kept"):
            store.add(record(2))
        assert [r.run_id for r in store.records()] == ["run1"]  # readers still read (WAL)
    finally:
        holder.rollback()
        holder.close()
    store.add(record(2))
    assert [r.run_id for r in store.records()] == ["run1", "run2"]


def test_a_new_sqlite_file_another_process_is_creating_is_waited_for_not_refused(sqlite_url, tmp_path):
    # Another replica connected first and holds the write lock of the new file, still in rollback-journal mode:
    # switching it to WAL needs the exclusive lock, and SQLite refuses that at once instead of waiting.
    other = sqlite3.connect(tmp_path / "runs.sqlite3", isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("CREATE TABLE elsewhere (x)")
    threading.Timer(0.3, other.commit).start()
    try:
        database = open_database(sqlite_url, busy_timeout=5.0)
    finally:
        other.close()
    assert database.version() == len(schema.MIGRATIONS)
    with database.read() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_a_class_writing_at_once_to_sqlite_takes_turns_and_none_is_refused(sqlite_url):
    database = open_database(sqlite_url, busy_timeout=0.2)  # 30 slow writers need far longer than this in all
    stores = [new_store(database) for _ in range(30)]

    @event.listens_for(database.engine, "commit")
    def slow_commit(connection):
        threading.Event().wait(0.05)  # a loaded server: each write holds the lock a while

    refused, barrier = [], threading.Barrier(len(stores))

    def press_train(store, number):
        barrier.wait()
        try:
            store.add(record(number, run_id=f"run-{number}"))
        except StorageError as error:
            refused.append(str(error))

    threads = [threading.Thread(target=press_train, args=(store, n)) for n, store in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert refused == []
    assert sorted(r.run_id for store in stores for r in store.records()) == sorted(f"run-{n}" for n in range(30))


def test_an_unreachable_database_server_is_reported_at_once():
    needs_module("psycopg")
    try:
        with pytest.raises(StorageError, match="unreachable.*check KDLAB_DATABASE_URL, that the database server runs"):
            open_database(f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/kdlab")
    finally:
        schema.forget_databases()


def test_a_full_database_is_reported_and_keeps_what_it_stored(sqlite_url):
    database = open_database(sqlite_url)
    store = new_store(database)
    store.add(record(1))
    with database.read() as connection:
        pages = connection.execute(text("PRAGMA page_count")).scalar()

    @event.listens_for(database.engine, "connect")
    def no_more_pages(dbapi_connection, _record):
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    database.engine.dispose()
    with pytest.raises(StorageError, match="full.*free some space"):
        store.add(record(2, weights=b"w" * 200_000))
    event.remove(database.engine, "connect", no_more_pages)
    database.engine.dispose()
    assert [r.run_id for r in store.records()] == ["run1"]


def test_the_result_key_names_everything_that_decides_a_run(sample_data, linear_teacher, monkeypatch):
    teacher = linear_teacher.record
    key = result_key(tiny_config(), sample_data, teacher)
    assert key == result_key(tiny_config(), sample_data, teacher)  # the same run, the same key
    assert (
        len(
            {
                key,
                result_key(tiny_config(seed=1), sample_data, teacher),
                result_key(tiny_config(temperature=2.0), sample_data, teacher),
                result_key(tiny_config(), sample_data, teacher.__class__(**{**teacher.__dict__, "test_errors": 1})),
                request_key(tiny_config(), sample_data),
            }
        )
        == 5
    )
    fingerprint = data_fingerprint(sample_data)
    assert fingerprint["source"] == "mnist-sample" and len(fingerprint["sha256"]) == 64
    labels = sample_data.test.labels.clone()
    labels[0] = (labels[0] + 1) % 10  # one test label differs: other data
    other = replace(sample_data, test=replace(sample_data.test, labels=labels))
    assert data_fingerprint(other)["sha256"] != fingerprint["sha256"]
    monkeypatch.setattr(keys, "RESULT_CACHE_SALT", RESULT_CACHE_SALT + "-changed")
    assert result_key(tiny_config(), sample_data, teacher) != key  # the training code changed its numbers


def test_a_run_done_before_is_served_from_the_cache(database, sample_data, linear_teacher):
    first, second = new_store(database), new_store(database)
    runner = JobRunner(1)
    ticket = request_distillation(
        runner, TrainRequest.build(tiny_config(), sample_data), sample_data, first, teacher=linear_teacher
    )
    assert ticket.how == "trained" and runner.wait(ticket.job, timeout=120)
    assert ticket.job.status == JobStatus.COMPLETED, ticket.job.error
    trained = first.get(ticket.run_id)

    cached = request_distillation(
        runner, TrainRequest.build(tiny_config(), sample_data), sample_data, second, teacher=linear_teacher
    )
    assert cached.how == "cache" and cached.job is None and len(runner.jobs()) == 1
    copy = second.get(cached.run_id)
    assert copy.source == "cache" and copy.run_id != trained.run_id and copy.number == 1
    assert copy.summary == trained.summary and copy.curves == trained.curves
    assert copy.student_weights == trained.student_weights
    assert first.get(cached.run_id) is None  # the copy is the second student's own

    again = request_distillation(
        runner, TrainRequest.build(tiny_config(), sample_data).again(), sample_data, second, teacher=linear_teacher
    )
    assert again.how == "trained" and runner.wait(again.job, timeout=120)
    assert second.get(again.run_id).source == "trained"
    other = request_distillation(
        runner, TrainRequest.build(tiny_config(seed=3), sample_data), sample_data, second, teacher=linear_teacher
    )
    assert other.how == "trained"  # another seed is another run
    runner.wait(other.job, timeout=120)


def test_identical_requests_join_the_run_in_progress(database, sample_data, linear_teacher):
    runner, release = JobRunner(1), threading.Event()
    blocker = runner.submit("another run", lambda context: release.wait(60))
    stores = [new_store(database) for _ in range(3)]
    try:
        tickets = [
            request_distillation(
                runner,
                TrainRequest.build(tiny_config(epochs=3), sample_data),
                sample_data,
                store,
                teacher=linear_teacher,
            )
            for store in stores
        ]
        second_tab = DatabaseRunStore(database, stores[1].student_id)  # the same student, another tab
        again = request_distillation(
            runner,
            TrainRequest.build(tiny_config(epochs=3), sample_data),
            sample_data,
            second_tab,
            teacher=linear_teacher,
        )
    finally:
        release.set()
    assert [ticket.how for ticket in tickets] == ["trained", "joined", "joined"]
    assert len({id(ticket.job) for ticket in tickets}) == 1 and len(runner.jobs()) == 2
    assert (again.run_id, again.number) == (tickets[1].run_id, tickets[1].number)  # one record, not two
    runner.wait(blocker, timeout=10)
    assert runner.wait(tickets[0].job, timeout=120) and tickets[0].job.status == JobStatus.COMPLETED
    records = [store.get(ticket.run_id) for store, ticket in zip(stores, tickets)]
    assert [r.source for r in records] == ["trained", "joined", "joined"] and len(stores[1].records()) == 1
    assert len({json.dumps(r.summary, sort_keys=True) for r in records}) == 1  # one training, three copies
    assert LIVE_RUNS.find(stores[0].student_key) is None  # the run is closed once it ends
    late = request_distillation(
        runner,
        TrainRequest.build(tiny_config(epochs=3), sample_data),
        sample_data,
        new_store(database),
        teacher=linear_teacher,
    )
    assert late.how == "cache"


def test_a_follower_who_stops_leaves_and_the_run_goes_on(database, sample_data, linear_teacher):
    runner, release = JobRunner(1), threading.Event()
    runner.submit("another run", lambda context: release.wait(60))
    alice, bob = new_store(database), new_store(database)
    config = tiny_config(epochs=4)
    try:
        first = request_distillation(
            runner, TrainRequest.build(config, sample_data), sample_data, alice, teacher=linear_teacher
        )
        second = request_distillation(
            runner, TrainRequest.build(config, sample_data), sample_data, bob, teacher=linear_teacher
        )
        assert stop_lab_run(first.job, first.run_id) == "left"  # bob still follows it
        assert not first.job._stop_requested.is_set()
    finally:
        release.set()
    assert runner.wait(second.job, timeout=120) and second.job.status == JobStatus.COMPLETED
    assert alice.records() == [] and bob.get(second.run_id).status == "completed"


def test_a_stopped_run_is_not_cached(database, sample_data, linear_teacher):
    runner, store = JobRunner(1), new_store(database)
    config = tiny_config(epochs=50, train_size=4000, batch_size=16)
    ticket = request_distillation(
        runner, TrainRequest.build(config, sample_data), sample_data, store, teacher=linear_teacher
    )
    assert stop_lab_run(ticket.job, ticket.run_id) == "stop"  # alone: the run stops
    assert runner.wait(ticket.job, timeout=60)
    assert store.get(ticket.run_id).status == "stopped"
    again = request_distillation(
        runner, TrainRequest.build(config, sample_data), sample_data, new_store(database), teacher=linear_teacher
    )
    assert again.how == "trained"
    again.job.request_stop()
    assert runner.wait(again.job, timeout=60)


def test_an_unsaved_run_still_reaches_its_student(database, sample_data, linear_teacher, monkeypatch):
    runner, store = JobRunner(1), new_store(database)

    def refuse(record):
        raise StorageError("The run database is full: the disk is full. Runs already stored are kept; ...")

    monkeypatch.setattr(store, "add", refuse)
    ticket = request_distillation(
        runner, TrainRequest.build(tiny_config(epochs=1), sample_data), sample_data, store, teacher=linear_teacher
    )
    assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED
    outcome = ticket.job.result
    assert outcome.has(ticket.run_id) and "full" in outcome.unsaved[ticket.run_id]
    assert outcome.unsaved_records[ticket.run_id].run_id == ticket.run_id  # the only copy, kept for the page


def test_a_store_in_memory_has_no_cache_but_still_coalesces(sample_data, linear_teacher):
    runner, release = JobRunner(1), threading.Event()
    runner.submit("another run", lambda context: release.wait(60))
    try:
        first = request_distillation(
            runner,
            TrainRequest.build(tiny_config(epochs=1, seed=5), sample_data),
            sample_data,
            MemoryRunStore(),
            owner="a",
            teacher=linear_teacher,
        )
        second = request_distillation(
            runner,
            TrainRequest.build(tiny_config(epochs=1, seed=5), sample_data),
            sample_data,
            MemoryRunStore(),
            owner="b",
            teacher=linear_teacher,
        )
    finally:
        release.set()
    assert (first.how, second.how) == ("trained", "joined")
    assert runner.wait(first.job, timeout=120)
    assert set(first.job.result.filed) == {first.run_id, second.run_id}


def test_the_network_file_system_under_a_folder_is_found_by_its_longest_mount_point(tmp_path):
    from kdlab.ml.files import network_file_system

    mounts = tmp_path / "mounts"
    mounts.write_text(
        "/dev/sda1 / ext4 rw 0 0\n"
        "server:/home /home nfs4 rw 0 0\n"
        "/dev/sdb1 /home/local ext4 rw 0 0\n"
        "//nas/share /srv/class\\040files cifs rw 0 0\n"
    )
    assert network_file_system(Path("/home/teacher/.cache/kdlab"), mounts) == "nfs4"
    assert network_file_system(Path("/home/local/kdlab"), mounts) is None  # a local disk mounted inside it
    assert network_file_system(Path("/srv/class files/kdlab"), mounts) == "cifs"
    assert network_file_system(Path("/var/lib/kdlab"), mounts) is None
    assert network_file_system(Path("/home/x"), tmp_path / "no-such-file") is None


def test_the_default_database_is_refused_on_a_network_file_system(monkeypatch):
    monkeypatch.delenv("KDLAB_DATABASE_URL", raising=False)
    monkeypatch.setattr(schema, "network_file_system", lambda path: "nfs4")
    with pytest.raises(StorageError, match=r"network file system \(nfs4\).*set KDLAB_DATABASE_URL to PostgreSQL"):
        open_database()
    monkeypatch.setenv("KDLAB_DATABASE_URL", "sqlite:////var/lib/kdlab/kdlab.sqlite3")
    assert schema.database_url() == "sqlite:////var/lib/kdlab/kdlab.sqlite3"  # a URL set is used as it is
