"""Replicas sharing one database: server processes that start together, a class that opens one new link at
once, and heartbeats that tell a run training on another live replica from one cut off with its server.
Each test runs on SQLite and on PostgreSQL (the database of a deployment with replicas)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from sqlalchemy import func, select, update

from kdlab.classroom.classes import class_for_link, find_class, open_class, set_class
from kdlab.db import database as schema
from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student, new_token
from tests.conftest import tiny_config


def at_once(count: int, work: Callable[[int], object]) -> list:
    """``work(0..count-1)`` on ``count`` threads released together; their results, or the errors they raised."""
    barrier, results = threading.Barrier(count), [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # reported in the results: the test names what failed
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_replicas_that_start_together_upgrade_a_new_database_once(database_url):
    # Another busy timeout is another engine: eight engines upgrade at once, as eight replicas would.
    databases = at_once(8, lambda index: open_database(database_url, busy_timeout=5.0 + index / 1000))
    assert all(isinstance(database, schema.Database) for database in databases), databases
    assert {database.version() for database in databases} == {len(schema.MIGRATIONS)}
    with databases[0].read() as connection:
        applied = connection.execute(select(schema.schema_version.c.version)).scalars().all()
    assert sorted(applied) == list(range(1, len(schema.MIGRATIONS) + 1))  # each migration applied once
    assert at_once(8, lambda _: open_database(database_url).version()) == [len(schema.MIGRATIONS)] * 8


def test_a_class_of_30_opening_one_new_link_at_once_all_join(database_url):
    # Three replicas (engines), ten students each, open the link of a class no one created yet.
    replicas = [open_database(database_url, busy_timeout=5.0 + index / 1000) for index in range(3)]
    joined = at_once(30, lambda index: class_for_link(replicas[index % 3], "NEW-LINK", create=True))
    assert [getattr(info, "code", info) for info in joined] == ["NEW-LINK"] * 30
    with replicas[0].read() as connection:
        assert connection.execute(select(func.count()).select_from(schema.classes)).scalar_one() == 1


def test_a_link_never_reopens_a_closed_class_and_needs_a_class_without_create(database_url):
    database = open_database(database_url)
    assert class_for_link(database, "NO-SUCH", create=False) is None and find_class(database, "NO-SUCH") is None
    open_class(database, "SHUT-1", "Shut")
    set_class(database, "SHUT-1", is_open=False)
    assert class_for_link(database, "shut-1", create=True).is_open is False
    assert open_class(database, "SHUT-1").is_open  # the instructor opens it again


def test_one_token_signed_in_on_many_replicas_at_once_is_one_student(database_url):
    replicas = [open_database(database_url, busy_timeout=5.0 + index / 1000) for index in range(3)]
    token = new_token()
    students = at_once(12, lambda index: create_student(replicas[index % 3], token)[0])
    assert len({getattr(student, "id", repr(student)) for student in students}) == 1, students
    with replicas[0].read() as connection:
        assert connection.execute(select(func.count()).select_from(schema.students)).scalar_one() == 1


def note_as(monkeypatch, store: DatabaseRunStore, server_id: str, run_id: str, number: int) -> None:
    """``store`` notes run ``run_id`` as the server process ``server_id`` would (with its heartbeat)."""
    with monkeypatch.context() as patched:
        patched.setattr(schema, "SERVER_ID", server_id)
        store.note_start(run_id, number, tiny_config(seed=number).as_dict())


def test_a_run_on_a_live_replica_is_running_and_one_on_a_silent_replica_was_cut_off(database_url, monkeypatch):
    database = open_database(database_url)
    store = DatabaseRunStore(database, create_student(database)[0].id)
    note_as(monkeypatch, store, "replica-b", "on-b", 1)
    note_as(monkeypatch, store, "replica-c", "on-c", 2)
    assert store.interrupted() == []  # both replicas beat just now: their runs train there
    with database.write() as connection:  # replica c fell silent a minute ago, b still beats
        connection.execute(
            update(schema.servers).where(schema.servers.c.server_id == "replica-c").values(beat_at=time.time() - 61)
        )
    assert [run.run_id for run in store.interrupted()] == ["on-c"]
    monkeypatch.setenv("KDLAB_HEARTBEAT_STALE_SECONDS", "120")  # a longer threshold: c may only be slow
    assert store.interrupted() == []


def test_a_run_noted_by_a_server_that_never_beat_was_cut_off(database_url):
    database = open_database(database_url)
    store = DatabaseRunStore(database, create_student(database)[0].id)
    with database.write() as connection:  # as a kdlab without heartbeats left it
        connection.execute(
            schema.run_starts.insert().values(
                run_id="old", student_id=store.student_id, number=1, config={}, server_id="old", started_at=1.0
            )
        )
    assert [run.run_id for run in store.interrupted()] == ["old"]
