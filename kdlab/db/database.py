"""The one database of a classroom server: students, classes, runs, weights and the result-cache index.

SQLAlchemy 2 Core tables (``kdlab.db.schema``), one engine per process per URL. The URL comes from
``KDLAB_DATABASE_URL``; by default it is a SQLite file in the cache dir, in WAL mode (readers
never wait for the writer), with a busy timeout (a writer waits for another instead of
failing) and foreign keys on. PostgreSQL (``postgresql+psycopg://...``) is the database of a
deployment with several server processes (replicas); every write here is safe when two replicas
make it at once (insert-on-conflict, never check-then-insert), and a connection attempt gives up
after ``CONNECT_TIMEOUT_SECONDS``.

The schema is versioned: ``MIGRATIONS`` (``kdlab.db.migrations``) is an ordered list of functions, the n-th upgrades
version n - 1 to n, and ``open_database()`` applies the missing ones in one transaction and
records each in ``schema_version``, under a lock (``BEGIN IMMEDIATE`` on SQLite, an advisory lock
on PostgreSQL) so that replicas starting together upgrade once. A database newer than the code is
refused with a message.

``servers`` holds the heartbeat of each server process that trains runs (``kdlab.db.servers``).

Every database error leaves this module as a ``StorageError`` whose message a teacher can act
on and that never names a server path. Nothing here deletes or rewrites a damaged file.
"""

from __future__ import annotations

import logging
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Connection, Engine, create_engine, event, func, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from kdlab.db.migrations import MIGRATIONS
from kdlab.db.schema import (  # noqa: F401 (the tables and insert_or_not: callers import them from here too)
    METADATA,
    classes,
    insert_or_not,
    predictions,
    result_cache,
    run_starts,
    runs,
    schema_version,
    servers,
    sign_in_links,
    students,
    weight_blobs,
    weight_refs,
)
from kdlab.ml.data import default_cache_dir
from kdlab.ml.files import network_file_system
from kdlab.settings import current_settings

log = logging.getLogger(__name__)
DEFAULT_FILE_NAME = "kdlab.sqlite3"
BUSY_TIMEOUT_SECONDS = 5.0  # a writer waits this long for another before "locked"
# SQLite: this process's writers take turns on a lock of their own first, and wait this long there. A class
# pressing Train at once is 30 writers; in SQLite's busy handler (which polls, first come not first served) one
# of 30 waited past the 5 s and was refused under a load average of 22 (bench/classroom_load.py, 2026-12-03).
WRITER_TURN_SECONDS = 60.0
CONNECT_TIMEOUT_SECONDS = 5  # PostgreSQL: an unreachable server fails a page in seconds, not at the TCP timeout
UPGRADE_LOCK = 0x6B646C6162  # "kdlab": the PostgreSQL advisory lock key of schema upgrades

SERVER_ID = secrets.token_hex(8)  # this server process; a new one after every restart
STARTED_AT = time.time()


class StorageError(RuntimeError):
    """The run database cannot be read or written. The message says why and what to do."""


ADVICE = {
    "locked": "another process is writing to it; this usually clears within seconds, so try again",
    "full": "the server's disk is full; free some space (or set KDLAB_DATABASE_URL to a database elsewhere)",
    "damaged": "the damaged file was left exactly as it is; move it aside or restore a backup and restart "
    "the app, which then starts a new one",
    "unreachable": "check KDLAB_DATABASE_URL, that the database server runs and that the app may write there",
    "newer": "update kdlab on this server, or set KDLAB_DATABASE_URL to another database",
}


def storage_error(error: BaseException) -> StorageError:
    """A ``StorageError`` for a database or file error, saying what state the database is in."""
    text = str(getattr(error, "orig", None) or error).lower()
    if "locked" in text or "busy" in text or "lock timeout" in text:
        state, what = "locked", "it is locked"
    elif "full" in text or "no space" in text:
        state, what = "full", "the disk is full"
    elif "not a database" in text or "malformed" in text or "corrupt" in text:
        state, what = "damaged", "the file is damaged"
    else:
        state, what = "unreachable", f"it cannot be opened or written ({type(getattr(error, 'orig', error)).__name__})"
    return StorageError(f"The run database is {state}: {what}. Runs already stored are kept; {ADVICE[state]}.")


@contextmanager
def storage_errors() -> Iterator[None]:
    """Turn SQLAlchemy, sqlite3 and file-system errors raised inside the block into ``StorageError``."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:
        log.warning("run database error: %s", error)  # the server log keeps the detail; pages get the message
        raise storage_error(error) from error


def database_url() -> str:
    """``KDLAB_DATABASE_URL``, or a SQLite file in the cache dir (``KDLAB_CACHE_DIR``/kdlab.sqlite3).

    Raises:
        StorageError: the URL is unset and the cache dir is on a network file system, where SQLite's
            locks and WAL mode do not hold and the database can be corrupted.
    """
    url = current_settings().database_url
    if url:
        return url
    fs_type = network_file_system(default_cache_dir())
    if fs_type is not None:
        raise StorageError(
            f"The run database is not opened: KDLAB_CACHE_DIR is on a network file system ({fs_type}), where a SQLite "
            "database can be corrupted. Runs already stored are kept; set KDLAB_DATABASE_URL to PostgreSQL or to a "
            "SQLite file on a local disk (sqlite:////var/lib/kdlab/kdlab.sqlite3)."
        )
    return f"sqlite:///{default_cache_dir() / DEFAULT_FILE_NAME}"


class Database:
    """An engine with transactions that report errors as ``StorageError``."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        self.is_sqlite = engine.dialect.name == "sqlite"
        self._writer = engine.execution_options(kdlab_write=True)
        self._writer_turn = threading.RLock() if self.is_sqlite else None  # PostgreSQL queues its writers itself
        self.stopped = threading.Event()  # set by forget_databases: this engine's heartbeat thread ends

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading."""
        with storage_errors(), self.engine.connect() as connection:
            yield connection

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A transaction that commits at the end of the block (rolls back on an error).

        On SQLite it starts with ``BEGIN IMMEDIATE``: the write lock is taken (or waited for) up
        front, so a transaction that reads, then writes never fails half way on a busy database; and this
        process's writers take turns on a lock first (``WRITER_TURN_SECONDS``), so SQLite's busy timeout is
        only ever spent waiting for another process.
        """
        with storage_errors(), self._turn(), self._writer.begin() as connection:
            yield connection

    @contextmanager
    def _turn(self) -> Iterator[None]:
        if self._writer_turn is None:
            yield
            return
        if not self._writer_turn.acquire(timeout=WRITER_TURN_SECONDS):
            raise storage_error(TimeoutError("locked: this server's other writers held it too long"))
        try:
            yield
        finally:
            self._writer_turn.release()

    def version(self) -> int:
        """The schema version recorded in the database (0 for an empty one)."""
        with self.read() as connection:
            return _recorded_version(connection)


def _recorded_version(connection: Connection) -> int:
    if not inspect(connection).has_table(schema_version.name):
        return 0
    return connection.execute(select(func.max(schema_version.c.version))).scalar() or 0


def _sqlite_engine(url: str, busy_timeout: float) -> Engine:
    path = make_url(url).database
    if path and path != ":memory:" and not path.startswith("file:"):
        with storage_errors():
            Path(path).expanduser().parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": busy_timeout})

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record) -> None:
        # Let SQLAlchemy, not pysqlite, decide where transactions begin (SQLAlchemy's recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            cursor.execute("PRAGMA foreign_keys = ON")
            _set_wal(cursor, busy_timeout)  # also the first read: a damaged file fails here
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection) -> None:
        immediate = connection.get_execution_options().get("kdlab_write")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def _set_wal(cursor: sqlite3.Cursor, busy_timeout: float) -> None:
    """``PRAGMA journal_mode = WAL``, tried again until ``busy_timeout`` has passed while the file is locked.

    On a new file (still in rollback-journal mode) the switch needs the exclusive lock, and SQLite does not
    call its busy handler when two connections holding a shared lock both want it (it would deadlock): one
    fails at once with "database is locked". Eight replicas opening a new database together met that in CI
    (test_replicas_that_start_together_upgrade_a_new_database_once, 1 run in about 60); a file already in
    WAL mode never takes this lock.
    """
    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def _engine(url: str, busy_timeout: float) -> Engine:
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(url, busy_timeout)
    if backend != "postgresql":
        return create_engine(url, pool_pre_ping=True)
    # lock_timeout: a PostgreSQL writer waits for another as long as a SQLite one, then fails as "locked".
    options = f"-c lock_timeout={int(busy_timeout * 1000)}"
    return create_engine(
        url, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS, "options": options}
    )


_DATABASES: dict[tuple[str, float], Database] = {}
_READY: set[tuple[str, float]] = set()
_UPGRADING: dict[tuple[str, float], threading.Lock] = {}
_LOCK = threading.Lock()  # guards the three dicts above only: never held while connecting


def open_database(url: str | None = None, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS) -> Database:
    """The database at ``url`` (default ``database_url()``), created or upgraded to the latest schema.

    One engine per process and URL; the schema is checked once per process (and again after
    a failure). Raises ``StorageError`` when the database is locked, full, damaged, unreachable or newer
    than this code.
    """
    url = url or database_url()
    key = (url, busy_timeout)
    with _LOCK:
        database = _DATABASES.get(key)
        if database is None:
            try:
                engine = _engine(url, busy_timeout)  # creating an engine does not connect
            except (ArgumentError, ImportError, ValueError) as error:  # a malformed URL or a missing driver
                raise StorageError(
                    f"The run database cannot be opened: KDLAB_DATABASE_URL is not usable ({type(error).__name__}). "
                    f"Runs already stored are kept; {ADVICE['unreachable']}."
                ) from error
            database = _DATABASES[key] = Database(engine)
            _UPGRADING[key] = threading.Lock()
        if key in _READY:
            return database
        upgrading = _UPGRADING[key]
    with upgrading:  # one upgrade per URL at a time; other URLs and ready databases do not wait
        if key not in _READY:
            upgrade(database)
            with _LOCK:
                _READY.add(key)
    return database


def upgrade(database: Database, migrations: list[Callable[[Connection], None]] | None = None) -> int:
    """Apply the migrations the database lacks, in order, in one transaction; returns the version.

    Two processes upgrading at once take turns (SQLite's write lock; a PostgreSQL advisory lock held
    until the transaction ends): the second finds the schema current and applies nothing.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    with database.write() as connection:
        if database.engine.dialect.name == "postgresql":
            connection.execute(select(func.pg_advisory_xact_lock(UPGRADE_LOCK)))
        schema_version.create(connection, checkfirst=True)
        version = _recorded_version(connection)
        if version > len(migrations):
            raise StorageError(
                f"The run database was written by a newer kdlab (schema version {version}; this kdlab knows up to "
                f"{len(migrations)}). Runs already stored are kept; {ADVICE['newer']}."
            )
        for number, migrate in enumerate(migrations[version:], start=version + 1):
            migrate(connection)
            connection.execute(insert(schema_version).values(version=number, applied_at=time.time()))
            log.info("run database upgraded to schema version %d", number)
    return len(migrations)


def forget_databases() -> None:
    """Close every engine of this process and end their heartbeats (tests, and a process that changes
    ``KDLAB_DATABASE_URL``)."""
    with _LOCK:
        for database in _DATABASES.values():
            database.stopped.set()
            database.engine.dispose()
        _DATABASES.clear()
        _READY.clear()
        _UPGRADING.clear()
