"""Bounded database growth: weights stored once and referenced, caps on runs per student and per class,
the indexes the board and the runs page filter by, and the upgrade of a version 3 database (both DBs)."""

import json
import os
import threading

import pytest
from sqlalchemy import func, inspect, null, select, update

from kdlab.classroom.classes import class_runs, clear_class, open_class
from kdlab.db import database as schema
from kdlab.db import weights
from kdlab.db.database import open_database
from kdlab.db.migrations import V1_RUN_WEIGHTS
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.db.weights import digest_of
from kdlab.runs.record import RunRecord, new_run_id
from kdlab.runs.store import MemoryRunStore, RunLimitReached
from kdlab.serve.lab import copy_into
from tests.conftest import add_run, database_at_version, tiny_config

STUDENT, BASELINE = os.urandom(200_000), os.urandom(100_000)  # incompressible, as trained weights are


@pytest.fixture
def database(database_url):
    return open_database(database_url)


def new_store(database, **options) -> DatabaseRunStore:
    return DatabaseRunStore(database, create_student(database)[0].id, **options)


def tiny_record(
    store, student: bytes | None = STUDENT, baseline: bytes | None = BASELINE, cache_key: str = "key"
) -> RunRecord:
    """A completed run built directly (no training), numbered by ``store``."""
    summary = {"config": tiny_config().as_dict(), "student": None, "baseline": None, "seconds": 1.0}
    return RunRecord(
        new_run_id(),
        store.reserve_number(),
        1000.0,
        "completed",
        summary,
        student_weights=student,
        baseline_weights=baseline,
        cache_key=cache_key,
    )


def blobs(database) -> tuple[int, int]:
    """(weights blobs, their bytes) in the database."""
    with database.read() as connection:
        count, size = connection.execute(
            select(func.count(), func.coalesce(func.sum(schema.weight_blobs.c.size), 0))
        ).one()
    return count, size


def database_bytes(database) -> int:
    """What the database takes on disk: the SQLite file's pages, or PostgreSQL's database size."""
    with database.read() as connection:
        if database.is_sqlite:
            return (
                connection.exec_driver_sql("PRAGMA page_count").scalar()
                * connection.exec_driver_sql("PRAGMA page_size").scalar()
            )
        return connection.execute(select(func.pg_database_size(func.current_database()))).scalar()


def test_both_weights_are_stored_and_read_back(database):
    store = new_store(database)
    run = tiny_record(store)
    store.add(run)
    for read in (store.get(run.run_id), store.latest()):
        assert read.student_weights == STUDENT and read.baseline_weights == BASELINE
    store.remember_result("key", run.run_id)
    cached = new_store(database).cached_result("key")
    assert cached.student_weights == STUDENT and cached.baseline_weights == BASELINE
    assert blobs(database) == (2, len(STUDENT) + len(BASELINE))


def test_many_cache_hits_by_many_students_leave_one_copy_of_the_weights(database):
    first = new_store(database)
    trained = tiny_record(first)
    first.add(trained)
    first.remember_result("key", trained.run_id)
    before = database_bytes(database)
    hits = 300  # tests/app/test_abuse.py makes a thousand, through the lab's own path
    for _ in range(hits):
        store = new_store(database)
        copy_into(store.cached_result("key"), store, source="cache")
    assert blobs(database) == (2, len(STUDENT) + len(BASELINE))  # one blob per distinct weights, not per copy
    with database.read() as connection:
        assert connection.execute(select(func.count()).select_from(schema.weight_refs)).scalar() == 2 * (hits + 1)
    copy = store.latest()
    assert copy.source == "cache" and copy.student_weights == STUDENT and copy.baseline_weights == BASELINE
    # 300 copies of the blobs would be 90 MB; the rows, references and students of 300 runs stay far below.
    grown = database_bytes(database) - before
    assert grown < 10 * (len(STUDENT) + len(BASELINE)), grown


def test_dropping_old_weights_keeps_a_blob_another_run_still_refers_to(database):
    alice, bob = new_store(database, keep_weights=1), new_store(database, keep_weights=1)
    trained = tiny_record(alice)
    alice.add(trained)
    copied = copy_into(alice.get(trained.run_id), bob, source="cache")
    alice.add(tiny_record(alice, student=b"alice's second", baseline=None))  # alice's first run loses its weights
    assert alice.get(trained.run_id).student_weights is None
    assert bob.get(copied.run_id).student_weights == STUDENT  # bob's copy still refers to the blob
    assert blobs(database)[0] == 3
    bob.add(tiny_record(bob, student=b"bob's second", baseline=None))  # the last reference goes: so does the blob
    assert bob.get(copied.run_id).baseline_weights is None
    assert blobs(database) == (2, len(b"alice's second") + len(b"bob's second"))


def test_concurrent_copies_and_drops_never_lose_a_referenced_blob(database):
    owner = new_store(database, keep_weights=10_000)
    trained = tiny_record(owner)
    owner.add(trained)
    source = owner.get(trained.run_id)
    errors = []

    def student() -> None:
        store = new_store(database, keep_weights=1)
        try:
            for _ in range(6):  # refer to the shared blob, then drop it again with a run of one's own
                copy_into(source, store, source="cache")
                store.add(tiny_record(store, student=os.urandom(64), baseline=None))
        except Exception as error:  # the assertion below names it
            errors.append(error)

    threads = [threading.Thread(target=student) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert owner.get(trained.run_id).student_weights == STUDENT
    with database.read() as connection:
        referenced = select(schema.weight_refs.c.digest)
        orphans = select(func.count()).where(schema.weight_blobs.c.digest.not_in(referenced))
        assert connection.execute(orphans).scalar() == 0
    assert blobs(database)[0] == 2 + 6  # the shared pair, and each student's last run


def test_a_student_at_the_cap_is_refused_with_a_message(database, monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_RUNS_PER_STUDENT", "3")
    store = new_store(database)
    for _ in range(3):
        store.add(tiny_record(store, student=None, baseline=None))
    with pytest.raises(RunLimitReached, match=r"^You have 3 runs saved, the most this server keeps for one student"):
        store.reserve_number()
    assert len(store.records()) == 3
    other = new_store(database)
    assert other.reserve_number() == 1  # another student is not affected
    memory = MemoryRunStore()
    for _ in range(3):
        memory.add(tiny_record(memory))
    with pytest.raises(RunLimitReached, match="You have 3 runs saved"):
        memory.reserve_number()


def test_a_class_at_the_cap_is_refused_until_the_board_is_cleared(database, monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_RUNS_PER_CLASS", "4")
    open_class(database, "PHYS-7")
    stores = [new_store(database).tagged(class_code="PHYS-7", prediction=None) for _ in range(2)]
    for store in stores * 2:
        store.add(tiny_record(store, student=None, baseline=None))
    with pytest.raises(RunLimitReached, match=r"^Class PHYS-7 has 4 runs on its board, .*clear the board"):
        stores[0].reserve_number()
    untagged = DatabaseRunStore(database, stores[0].student_id)
    assert untagged.reserve_number() == 3  # outside the class the student trains on
    assert clear_class(database, "PHYS-7") == 4
    assert stores[1].reserve_number() == 3


def test_the_board_and_cache_columns_are_indexed(database):
    with database.read() as connection:
        indexed = {
            (table, tuple(index["column_names"]))
            for table in ("runs", "result_cache", "weight_refs")
            for index in inspect(connection).get_indexes(table)
        }
    assert ("runs", ("class_code", "created_at")) in indexed
    assert ("runs", ("student_id",)) in indexed
    assert ("runs", ("cache_key",)) in indexed
    assert ("result_cache", ("run_id",)) in indexed
    assert ("weight_refs", ("digest",)) in indexed


def test_a_version_3_database_is_upgraded_and_its_weights_stay_readable(database_url):
    old = database_at_version(database_url, 3)
    student, _ = create_student(old)
    store = DatabaseRunStore(old, student.id)
    with old.write() as connection:
        for number, data in ((1, STUDENT), (2, STUDENT), (3, b"other")):  # run 2: a v3 cache copy
            row = {"id": f"run{number}", "student_id": student.id, "number": number, "created_at": 1.0 * number}
            row |= {"status": "completed", "source": "trained", "config": {}, "summary": {}, "curves": {}}
            connection.execute(schema.runs.insert().values(**row, per_class={}, confusion={}))
            connection.execute(V1_RUN_WEIGHTS.insert().values(run_id=f"run{number}", data=data))
    assert schema.upgrade(old) == len(schema.MIGRATIONS) == old.version() == 6
    assert [store.get(f"run{n}").student_weights for n in (1, 2, 3)] == [STUDENT, STUDENT, b"other"]
    assert store.get("run1").baseline_weights is None
    with old.read() as connection:
        assert "run_weights" not in inspect(connection).get_table_names()
        stored = connection.execute(select(schema.weight_blobs.c.digest)).scalars().all()
    assert sorted(stored) == sorted({digest_of(STUDENT), digest_of(b"other")})
    old.engine.dispose()
    assert open_database(database_url).version() == 6  # a server opening it finds it current


def test_the_board_reads_its_own_column_and_a_run_filed_before_it_still_shows(database):
    open_class(database, "PHYS-7")
    store = new_store(database)
    add_run(store, temperature=4.0, alpha=0.9, alone=60, distilled=40, prediction={"fewer": True}, code="PHYS-7")
    run_id = store.latest().run_id
    with database.write() as connection:  # a big summary the board has no use for
        summary = store.latest().summary | {"teacher": {"curve": list(range(5000))}}
        connection.execute(update(schema.runs).where(schema.runs.c.id == run_id).values(summary=summary))
    (run,) = class_runs(database, "PHYS-7")
    assert (run.temperature, run.alpha, run.errors_removed, run.teacher, run.epochs) == (4.0, 0.9, 20, "linear", 2)
    with database.read() as connection:
        board = connection.execute(select(schema.runs.c.board).where(schema.runs.c.id == run_id)).scalar()
    assert len(json.dumps(board)) < 400 and "curve" not in json.dumps(board)
    with database.write() as connection:  # as a version 3 database filed it
        connection.execute(update(schema.runs).where(schema.runs.c.id == run_id).values(board=null()))
    assert class_runs(database, "PHYS-7") == [run]


def test_a_blob_dropped_while_another_run_takes_it_is_kept(database):
    alice, bob = new_store(database, keep_weights=1), new_store(database)
    trained = tiny_record(alice, baseline=None)
    alice.add(trained)
    bob_run = tiny_record(bob, student=None, baseline=None)
    bob.add(bob_run)
    deleted = []

    def alice_drops_it() -> None:  # alice's next run drops her first run's reference: the last one committed
        with database.write() as connection:
            deleted.append(weights.drop(connection, [trained.run_id]))

    with database.write() as connection:  # bob's copy takes the blob, not yet committed (READ COMMITTED)
        weights.refer(connection, bob_run.run_id, "student", STUDENT)
        dropper = threading.Thread(target=alice_drops_it)
        dropper.start()
        dropper.join(timeout=1.0)
        assert dropper.is_alive()  # it waits for bob's hold (PostgreSQL) or the write lock (SQLite)
    dropper.join(timeout=30)
    assert deleted == [0]  # the blob stays: bob's committed reference names it
    assert bob.get(bob_run.run_id).student_weights == STUDENT and alice.get(trained.run_id).student_weights is None


def test_a_cache_hit_keeps_its_weights_while_a_copy_has_them(database):
    first, second = new_store(database, keep_weights=1), new_store(database, keep_weights=1)
    trained = tiny_record(first)
    first.add(trained)
    first.remember_result("key", trained.run_id)
    copy_into(first.cached_result("key"), second, source="cache")
    first.add(
        tiny_record(first, student=b"first's next", baseline=None, cache_key="next")
    )  # the cached run loses its own weights
    late = new_store(database).cached_result("key")
    assert late.run_id == trained.run_id and late.student_weights == STUDENT and late.baseline_weights == BASELINE
    second.add(
        tiny_record(second, student=b"second's next", baseline=None, cache_key="next")
    )  # no run with the key has them now
    assert new_store(database).cached_result("key").student_weights is None
