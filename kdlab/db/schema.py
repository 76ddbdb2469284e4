"""The tables of the run database (SQLAlchemy 2 Core), as the latest schema version has them.

``kdlab.db.migrations`` builds them, version by version; ``kdlab.db.database`` opens the engine.
Weights are content addressed: ``weight_blobs`` holds each distinct ``torch.save`` blob once, under
its sha256, and ``weight_refs`` says which run uses which blob in which role ("student": the
distilled student; "baseline": the student trained alone). A cache hit copies the references, not
the megabytes.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
)

METADATA = MetaData()
schema_version = Table(
    "schema_version",
    METADATA,
    Column("version", Integer, primary_key=True),
    Column("applied_at", Float, nullable=False),
)
students = Table(
    "students",
    METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("token_hash", String(64), nullable=False, unique=True),  # sha256 of the token; never the token
    Column("nickname", String(60), nullable=False),  # "Curious Otter", for a later class board
    Column("runs_started", Integer, nullable=False, default=0),  # numbers runs 1, 2, ... per student
    Column("created_at", Float, nullable=False),
)
classes = Table(
    "classes",
    METADATA,
    Column("code", String(16), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("is_open", Boolean, nullable=False, default=True),
    Column("results_hidden", Boolean, nullable=False, default=False),
    Column("created_at", Float, nullable=False),
    # When the results were last revealed (None: never, or hidden since): the class's lesson predictions are
    # final from then on, and on a server without an instructor key the Lessons page shows this class the answers.
    Column("revealed_at", Float, nullable=True),
)
runs = Table(
    "runs",
    METADATA,
    Column("id", String(32), primary_key=True),
    Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("class_code", String(16), ForeignKey("classes.code", ondelete="SET NULL"), nullable=True),
    Column("number", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("status", String(16), nullable=False),  # "completed", "stopped", "diverged"
    Column("source", String(16), nullable=False),  # "trained", "joined" (followed another's live run), "cache"
    Column("cache_key", String(64), nullable=True),
    Column("config", JSON, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("curves", JSON, nullable=False),
    Column("per_class", JSON, nullable=False),
    Column("confusion", JSON, nullable=False),
    Column("prediction", JSON, nullable=True),
    # kdlab.runs.record.board_summary(summary): what the class board reads; None for runs filed before v4.
    Column("board", JSON, nullable=True),
    UniqueConstraint("student_id", "number"),
)
# One row per distinct weights blob, whoever's runs use it; deleted when no reference is left.
weight_blobs = Table(
    "weight_blobs",
    METADATA,
    Column("digest", String(64), primary_key=True),  # sha256 (hex) of data
    Column("data", LargeBinary, nullable=False),  # torch.save(state_dict), loaded weights-only
    Column("size", Integer, nullable=False),  # len(data): what the weights cost the database, without reading them
)
weight_refs = Table(
    "weight_refs",
    METADATA,
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), primary_key=True),  # "student" or "baseline"
    # No ON DELETE: a blob that a reference still names cannot be deleted (the guard of kdlab.db.weights).
    Column("digest", String(64), ForeignKey("weight_blobs.digest"), nullable=False, index=True),
)
result_cache = Table(
    "result_cache",
    METADATA,
    Column("cache_key", String(64), primary_key=True),
    Column("run_id", String(32), ForeignKey("runs.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", Float, nullable=False),
)


# A lab run from Train until its record is filed: after a server restart, a row left here from
# another server process is a run that was cut off, shown to its student with its settings.
run_starts = Table(
    "run_starts",
    METADATA,
    Column("run_id", String(32), primary_key=True),
    Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("number", Integer, nullable=False),
    Column("config", JSON, nullable=False),
    Column("server_id", String(32), nullable=False),  # the process that runs it (SERVER_ID)
    Column("started_at", Float, nullable=False),
)
# One row per server process that noted a run start; beat_at is refreshed every few seconds (kdlab.db.servers).
servers = Table(
    "servers",
    METADATA,
    Column("server_id", String(32), primary_key=True),
    Column("started_at", Float, nullable=False),
    Column("beat_at", Float, nullable=False),
)
# The instructor's one-time sign-in links that were used (kdlab.classroom.sign_in): one row each, written
# insert-or-nothing, so a link signs in once across replicas. A link expires within a day: older rows are
# deleted by the next use.
sign_in_links = Table(
    "sign_in_links",
    METADATA,
    Column("link_id", String(32), primary_key=True),
    Column("used_at", Float, nullable=False),
)
# A lesson's prediction (kdlab.classroom.predictions): one row per student per lesson per class, written
# insert-on-conflict-update, so a student may change their mind until the class's results are revealed.
predictions = Table(
    "predictions",
    METADATA,
    Column("class_code", String(16), ForeignKey("classes.code", ondelete="CASCADE"), primary_key=True),
    Column("lesson", String(41), primary_key=True),  # the lesson's slug (kdlab.classroom.lessons.SLUG)
    Column("student_id", Integer, ForeignKey("students.id", ondelete="CASCADE"), primary_key=True),
    Column("answer", JSON, nullable=False),  # a choice's label or a number, checked against the lesson's question
    Column("made_at", Float, nullable=False),
)

# The board reads a class's runs oldest first, the instructor's list counts runs per class, the class
# cap counts one class's runs: all by class_code (runs.student_id is indexed above for the Runs page).
RUNS_BY_CLASS = Index("ix_runs_class_code_created_at", runs.c.class_code, runs.c.created_at)
# Deleting a run (its student's) finds its cache entries by run_id, not by scanning the cache.
CACHE_BY_RUN = Index("ix_result_cache_run_id", result_cache.c.run_id)
# A cache hit whose first run lost its weights (KDLAB_KEEP_WEIGHTS) finds a copy that kept them by result key.
RUNS_BY_RESULT = Index("ix_runs_cache_key", runs.c.cache_key)


def insert_or_not(database, table: Table):
    """An INSERT into ``table`` with ``on_conflict_do_nothing`` / ``on_conflict_do_update`` (SQLite or PostgreSQL):
    one statement, so two server processes writing the same row at once never fail or duplicate it.

    ``database`` is a ``kdlab.db.database.Database`` or a ``Connection`` (a migration has only that)."""
    if database.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table)
    from sqlalchemy.dialects.postgresql import insert as postgresql_insert

    return postgresql_insert(table)
