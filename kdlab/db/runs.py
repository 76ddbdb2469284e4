"""One student's runs in the database (``DatabaseRunStore``, a ``kdlab.runs.store.RunStore``), and the result cache.

Every read and write is scoped to the student, so a page can only ever list, show or offer
for download the runs of the student whose token it holds. Weights (the distilled student's and
the student alone's) are kept for the student's last ``KDLAB_KEEP_WEIGHTS`` runs (default 5);
older runs keep everything else. A student keeps at most ``KDLAB_MAX_RUNS_PER_STUDENT`` runs, files at most
``KDLAB_MAX_RUNS_PER_MINUTE`` a minute (a cached result is filed at once) and has at most
``KDLAB_MAX_RUNS_PER_STUDENT_IN_CLASS`` on a class board, which holds at most ``KDLAB_MAX_RUNS_PER_CLASS``: one
more is refused when it would be numbered.

The result cache maps a result key (``kdlab.serve.keys.result_key``) to the first completed
run with it, of any student: a later request for the same key copies that run instead of training,
and the copy refers to the same weights blobs (``kdlab.db.weights``) instead of storing them again.
"""

from __future__ import annotations

import time

from sqlalchemy import delete, func, insert, select, update

from kdlab.db import database as schema
from kdlab.db import weights
from kdlab.db.database import Database, insert_or_not, result_cache, run_starts, runs, students, weight_refs
from kdlab.db.servers import alive_servers, beat, keep_beating
from kdlab.runs.record import RunRecord, board_summary, json_ready
from kdlab.runs.store import (
    InterruptedRun,
    RunLimitReached,
    checked_prediction,
    class_full,
    student_full,
    student_in_class_full,
    too_fast,
)
from kdlab.settings import current_settings


def _record(row, stored: dict[str, bytes] | None = None) -> RunRecord:
    stored = stored or {}
    return RunRecord(
        run_id=row.id,
        number=row.number,
        created_at=row.created_at,
        status=row.status,
        summary=row.summary,
        curves=row.curves,
        per_class_accuracy=row.per_class,
        confusion=row.confusion,
        student_weights=stored.get("student"),
        baseline_weights=stored.get("baseline"),
        source=row.source,
        cache_key=row.cache_key,
    )


class DatabaseRunStore:
    """The runs of one student, oldest first, in the database. Methods raise ``StorageError``."""

    saved = True

    def __init__(
        self,
        database: Database,
        student_id: int,
        *,
        keep_weights: int | None = None,
        class_code: str | None = None,
        prediction: dict | None = None,
    ) -> None:
        self.database = database
        self.student_id = student_id
        self.keep_weights = current_settings().keep_weights if keep_weights is None else keep_weights
        self.class_code = class_code  # filed with every run added through this store (the class board's)
        self.prediction = checked_prediction(prediction)  # the student's prediction, filed with the run

    def tagged(self, *, class_code: str | None, prediction: dict | None) -> DatabaseRunStore:
        """This store, for one run that counts for ``class_code`` and carries ``prediction``."""
        return DatabaseRunStore(
            self.database, self.student_id, keep_weights=self.keep_weights, class_code=class_code, prediction=prediction
        )

    def prediction_of(self, run_id: str) -> dict | None:
        """The prediction the student made before the run ``run_id``, or None."""
        with self.database.read() as connection:
            return connection.execute(
                select(runs.c.prediction).where(runs.c.id == run_id, runs.c.student_id == self.student_id)
            ).scalar()

    @property
    def student_key(self) -> str:
        """The name of this student's live runs in ``kdlab.serve.live.LIVE_RUNS``."""
        return f"student:{self.student_id}"

    def reserve_number(self) -> int:
        """The student's next run number (1, 2, ...), reserved when a run is submitted; two tabs
        of the same student never get the same one.

        Raises:
            RunLimitReached: the student has ``KDLAB_MAX_RUNS_PER_STUDENT`` runs saved or filed
                ``KDLAB_MAX_RUNS_PER_MINUTE`` in the last minute, or the class this store files under has
                ``KDLAB_MAX_RUNS_PER_CLASS`` on its board or ``KDLAB_MAX_RUNS_PER_STUDENT_IN_CLASS`` of theirs.
        """
        with self.database.write() as connection:
            # Counted, then numbered, in one transaction: two tabs of a student at the cap may both pass on
            # PostgreSQL (READ COMMITTED), which one job per student at a time keeps to one run over it.
            self._check_limits(connection, current_settings())
            # One statement: the row's write lock makes two replicas' increments take turns on PostgreSQL too.
            number = connection.execute(
                update(students)
                .where(students.c.id == self.student_id)
                .values(runs_started=students.c.runs_started + 1)
                .returning(students.c.runs_started)
            ).scalar_one_or_none()
        if number is None:
            raise ValueError(f"No student {self.student_id} in the run database.")
        return number

    def _check_limits(self, connection, settings) -> None:
        mine = connection.execute(select(func.count()).where(runs.c.student_id == self.student_id)).scalar_one()
        if mine >= settings.max_runs_per_student:
            raise RunLimitReached(student_full(mine))
        since = time.time() - 60.0
        recent = [  # filed in the last minute, and started in it (in training, not filed yet)
            *connection.execute(
                select(runs.c.created_at).where(runs.c.student_id == self.student_id, runs.c.created_at > since)
            ).scalars(),
            *connection.execute(
                select(run_starts.c.started_at).where(
                    run_starts.c.student_id == self.student_id, run_starts.c.started_at > since
                )
            ).scalars(),
        ]
        if len(recent) >= settings.max_runs_per_minute:
            oldest = sorted(recent)[-settings.max_runs_per_minute]
            raise RunLimitReached(too_fast(len(recent), oldest - since))
        if self.class_code is None:
            return
        theirs = connection.execute(select(func.count()).where(runs.c.class_code == self.class_code)).scalar_one()
        if theirs >= settings.max_runs_per_class:
            raise RunLimitReached(class_full(self.class_code, theirs))
        mine_there = connection.execute(
            select(func.count()).where(runs.c.class_code == self.class_code, runs.c.student_id == self.student_id)
        ).scalar_one()
        if mine_there >= settings.max_runs_per_student_in_class:
            raise RunLimitReached(student_in_class_full(self.class_code, mine_there))

    def add(self, record: RunRecord) -> None:
        """Store ``record`` (with its weights, if any: a reference to a blob already stored, such as a cached
        run's, costs no copy) and drop the weights of older runs."""
        row = dict(
            id=record.run_id,
            student_id=self.student_id,
            number=record.number,
            created_at=record.created_at,
            status=record.status,
            source=record.source,
            cache_key=record.cache_key,
            config=json_ready(record.config),
            summary=json_ready(record.summary),
            curves=json_ready(record.curves),
            per_class=json_ready(record.per_class_accuracy),
            confusion=json_ready(record.confusion),
            class_code=self.class_code,
            prediction=json_ready(self.prediction) if self.prediction else None,
            board=board_summary(record.summary),
        )
        with self.database.write() as connection:
            connection.execute(insert(runs).values(**row))
            connection.execute(delete(run_starts).where(run_starts.c.run_id == record.run_id))
            if self.keep_weights > 0:
                for role, data in (("student", record.student_weights), ("baseline", record.baseline_weights)):
                    if data is not None:
                        weights.refer(connection, record.run_id, role, data)
            kept = (
                select(runs.c.id)
                .where(runs.c.student_id == self.student_id)
                .order_by(runs.c.number.desc())
                .limit(self.keep_weights)
            )
            older = select(runs.c.id).where(runs.c.student_id == self.student_id, runs.c.id.not_in(kept))
            weights.drop(connection, older)

    def note_start(self, run_id: str, number: int, config: dict) -> None:
        """Remember that run ``run_id`` trains on this server process until ``add`` files its
        record (or ``forget_start``): if the process dies in between, ``interrupted`` lists it."""
        keep_beating(self.database)
        with self.database.write() as connection:
            beat(self.database, connection)  # no note without its server's heartbeat, even for a moment
            connection.execute(
                insert(run_starts).values(
                    run_id=run_id,
                    student_id=self.student_id,
                    number=number,
                    config=json_ready(config),
                    server_id=schema.SERVER_ID,
                    started_at=time.time(),
                )
            )

    def forget_start(self, run_id: str) -> None:
        """The run ``run_id`` will have no record (it failed, the student left it, or they dismissed it)."""
        with self.database.write() as connection:
            connection.execute(
                delete(run_starts).where(run_starts.c.run_id == run_id, run_starts.c.student_id == self.student_id)
            )

    def interrupted(self) -> list[InterruptedRun]:
        """The student's runs cut off by a server restart, oldest first: started by another server process
        whose heartbeat is older than ``KDLAB_HEARTBEAT_STALE_SECONDS`` (or gone), never filed. A run that
        trains on another live replica is not listed."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(run_starts)
                .where(
                    run_starts.c.student_id == self.student_id,
                    run_starts.c.server_id != schema.SERVER_ID,
                    run_starts.c.server_id.not_in(alive_servers()),
                    run_starts.c.run_id.not_in(select(runs.c.id)),
                )
                .order_by(run_starts.c.number)
            ).all()
        return [InterruptedRun(row.run_id, row.number, row.config, row.started_at) for row in rows]

    def records(self) -> list[RunRecord]:
        """Every run of the student, oldest first, without weights (``get`` loads them)."""
        with self.database.read() as connection:
            rows = connection.execute(
                select(runs).where(runs.c.student_id == self.student_id).order_by(runs.c.number)
            ).all()
        return [_record(row) for row in rows]

    def get(self, run_id: str) -> RunRecord | None:
        """The student's run ``run_id`` with its weights, or None (also for another student's run)."""
        with self.database.read() as connection:
            row = connection.execute(
                select(runs).where(runs.c.id == run_id, runs.c.student_id == self.student_id)
            ).first()
            if row is None:
                return None
            stored = weights.weights_of(connection, run_id)
        return _record(row, stored)

    def latest(self) -> RunRecord | None:
        """The student's newest run (with weights), or None."""
        with self.database.read() as connection:
            run_id = connection.execute(
                select(runs.c.id).where(runs.c.student_id == self.student_id).order_by(runs.c.number.desc()).limit(1)
            ).scalar()
        return self.get(run_id) if run_id else None

    def cached_result(self, key: str) -> RunRecord | None:
        """The first completed run with this result key (a ``RunRecord`` of any student, with weights), or
        None. Only for copying into this student's runs on the server, never for showing."""
        with self.database.read() as connection:
            run_id = connection.execute(select(result_cache.c.run_id).where(result_cache.c.cache_key == key)).scalar()
        return _load_any_run(self.database, run_id, key) if run_id else None

    def remember_result(self, key: str, run_id: str) -> None:
        """Record ``run_id`` as the result of ``key``, unless another run got there first."""
        row = dict(cache_key=key, run_id=run_id, created_at=time.time())
        # Insert-or-nothing in one statement: a check, then an insert, races on PostgreSQL's READ COMMITTED.
        statement = insert_or_not(self.database, result_cache).values(**row).on_conflict_do_nothing()
        with self.database.write() as connection:
            connection.execute(statement)


def _load_any_run(database: Database, run_id: str, key: str) -> RunRecord | None:
    """A run of any student, with weights: only for copying a cached result into another student's
    runs on the server, never for showing.

    When the run's own weights went with its student's older runs (``KDLAB_KEEP_WEIGHTS``), another run
    with the same result key (a copy of it, which shares its blobs) lends them, so a cache hit keeps its
    weights for as long as any copy has them.
    """
    with database.read() as connection:
        row = connection.execute(select(runs).where(runs.c.id == run_id)).first()
        if row is None:
            return None
        stored = weights.weights_of(connection, run_id)
        if not stored and row.cache_key == key:
            lender = connection.execute(
                select(weight_refs.c.run_id)
                .join(runs, runs.c.id == weight_refs.c.run_id)
                .where(runs.c.cache_key == key)
                .limit(1)
            ).scalar()
            stored = weights.weights_of(connection, lender) if lender else {}
    return _record(row, stored)
