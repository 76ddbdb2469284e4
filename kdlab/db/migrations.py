"""The schema's versions: ``MIGRATIONS[n - 1]`` upgrades version n - 1 to n (``kdlab.db.database.upgrade``).

Each migration builds the schema of its own version, so a table that a later version changes is
frozen here as it was (``_V1``); the tables no version has changed since are the live ones of
``kdlab.db.schema``. Append; never edit an applied one.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Connection,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    select,
    text,
)

from kdlab.db import weights
from kdlab.db.schema import (
    CACHE_BY_RUN,
    METADATA,
    RUNS_BY_CLASS,
    RUNS_BY_RESULT,
    predictions,
    run_starts,
    servers,
    sign_in_links,
    weight_blobs,
    weight_refs,
)

# Version 1, as it was: runs without the class index, and one weights copy per run (run_weights).
_V1 = MetaData()
Table(
    "students",
    _V1,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("nickname", String(60), nullable=False),
    Column("runs_started", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
)
Table(
    "classes",
    _V1,
    Column("code", String(16), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("is_open", Boolean, nullable=False, default=True),
    Column("results_hidden", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
)
Table(
    "runs",
    _V1,
    Column("id", String(32), primary_key=True),
    Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("class_code", String(16), ForeignKey("classes.code", ondelete="SET NULL"), nullable=True),
    Column("number", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("cache_key", String(64), nullable=True),
    Column("config", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("curves", JSON, nullable=False),
    Column("per_class", JSON, nullable=False),
    Column("confusion", JSON, nullable=False),
    Column("prediction", JSON, nullable=True),
    UniqueConstraint("student_id", "number"),
)
V1_RUN_WEIGHTS = Table(
    "run_weights",
    _V1,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("data", LargeBinary, nullable=False),
)
Table(
    "result_cache",
    _V1,
    Column("cache_key", String(64), primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
)


def _create_version_1(connection: Connection) -> None:
    _V1.create_all(connection)


def _add_run_starts(connection: Connection) -> None:
    METADATA.create_all(connection, tables=[run_starts])


def _add_servers(connection: Connection) -> None:
    METADATA.create_all(connection, tables=[servers])


def _share_weights_and_index_classes(connection: Connection) -> None:
    """Version 4: each distinct weights blob once, referenced by (run, "student" | "baseline"); the v3
    copies (student weights only) become references; the board's own summary column (the board reads
    the whole summary of a run filed before it); indexes for the board and the cache."""
    connection.execute(text("ALTER TABLE runs ADD COLUMN board JSON"))
    METADATA.create_all(connection, tables=[weight_blobs, weight_refs])
    # One blob in memory at a time (a v3 database holds one 15 MB copy per cache hit).
    for run_id in connection.execute(select(V1_RUN_WEIGHTS.c.run_id)).scalars().all():
        data = connection.execute(select(V1_RUN_WEIGHTS.c.data).where(V1_RUN_WEIGHTS.c.run_id == run_id)).scalar_one()
        weights.refer(connection, run_id, "student", data)
    V1_RUN_WEIGHTS.drop(connection)
    RUNS_BY_CLASS.create(connection)
    CACHE_BY_RUN.create(connection)
    RUNS_BY_RESULT.create(connection)


def _add_sign_in_links(connection: Connection) -> None:
    METADATA.create_all(connection, tables=[sign_in_links])


def _add_predictions(connection: Connection) -> None:
    """Version 6: the lessons' predictions, and when a class's results were revealed (which closes them)."""
    connection.execute(text("ALTER TABLE classes ADD COLUMN revealed_at FLOAT"))
    METADATA.create_all(connection, tables=[predictions])


MIGRATIONS: list[Callable[[Connection], None]] = [
    _create_version_1,
    _add_run_starts,
    _add_servers,
    _share_weights_and_index_classes,
    _add_sign_in_links,
    _add_predictions,
]
