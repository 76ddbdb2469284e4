"""Class codes: which runs count for a class board, and the instructor's switches.

A class is a short code (``PHYS-7``) in the ``classes`` table: open or closed, its results
shown or hidden until the reveal. A run made under an open class's code carries it
(``runs.class_code``, written by ``DatabaseRunStore.add``); the board reads those runs with
the students' random nicknames, never their tokens. Clearing a board detaches its runs from
the class; the students keep them.

Who may create a class: with ``KDLAB_INSTRUCTOR_KEY`` set, only the instructor (a code no one
opened is refused); without it, a code is created, open, on its first use in a link, so a
teacher without a server of their own still gets a board.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import func, select, update

from kdlab.classroom.board import ClassRun, class_run, distinct_nicknames
from kdlab.classroom.links import parse_class_code
from kdlab.db.database import Database, classes, insert_or_not, result_cache, runs, students

MAX_TITLE = 200


@dataclass(frozen=True)
class ClassInfo:
    code: str
    title: str
    is_open: bool
    results_hidden: bool
    created_at: float
    revealed_at: float | None = None  # when Reveal was last pressed (None: never, or hidden since)

    @property
    def revealed(self) -> bool:
        """Reveal was pressed (and the results not hidden since): the lessons' predictions are final."""
        return self.revealed_at is not None


def _info(row) -> ClassInfo:
    return ClassInfo(row.code, row.title, bool(row.is_open), bool(row.results_hidden), row.created_at, row.revealed_at)


def _code(code: str) -> str:
    checked, problem = parse_class_code(code)
    if checked is None:
        raise ValueError(problem or "A class code is 2 to 16 letters, digits or dashes.")
    return checked


def find_class(database: Database, code: str) -> ClassInfo | None:
    """The class with this code (any case), or None."""
    checked, _ = parse_class_code(code)
    if checked is None:
        return None
    with database.read() as connection:
        row = connection.execute(select(classes).where(classes.c.code == checked)).first()
    return _info(row) if row else None


def open_class(database: Database, code: str, title: str = "") -> ClassInfo:
    """Create the class ``code`` (open, results shown), or open it again; returns it.

    Raises:
        ValueError: the code is malformed.
    """
    code, title = _code(code), (title.strip() or code)[:MAX_TITLE]
    row = dict(code=code, title=title, is_open=True, results_hidden=False, created_at=time.time())
    statement = insert_or_not(database, classes).values(**row)
    with database.write() as connection:
        connection.execute(statement.on_conflict_do_update(index_elements=[classes.c.code], set_={"is_open": True}))
    return find_class(database, code)


def class_for_link(database: Database, code: str, *, create: bool) -> ClassInfo | None:
    """The class of a link's ``class=`` code: as it is, or with ``create`` made open when no one made it yet
    (never reopened: a class its instructor closed stays closed). None for an unknown code without ``create``.

    A whole class opening one new link at once all join the one class (an insert that does nothing when the
    row is there, so there is no check-then-insert to lose on PostgreSQL).

    Raises:
        ValueError: the code is malformed.
    """
    info = find_class(database, code)
    if info is not None or not create:
        return info
    code = _code(code)
    row = dict(code=code, title=code, is_open=True, results_hidden=False, created_at=time.time())
    with database.write() as connection:
        connection.execute(insert_or_not(database, classes).values(**row).on_conflict_do_nothing())
    return find_class(database, code)


def set_class(
    database: Database, code: str, *, is_open: bool | None = None, results_hidden: bool | None = None
) -> None:
    """Close or reopen a class, hide or reveal its results. Revealing them (``results_hidden=False``) closes
    the class's lesson predictions (``kdlab.classroom.predictions``); hiding them opens them again."""
    values = {
        name: value for name, value in (("is_open", is_open), ("results_hidden", results_hidden)) if value is not None
    }
    if results_hidden is not None:
        values["revealed_at"] = None if results_hidden else time.time()
    if values:
        with database.write() as connection:
            connection.execute(update(classes).where(classes.c.code == _code(code)).values(**values))


def list_classes(database: Database) -> list[tuple[ClassInfo, int]]:
    """Every class, newest first, with its number of runs."""
    counted = select(runs.c.class_code, func.count().label("runs")).group_by(runs.c.class_code).subquery()
    with database.read() as connection:
        rows = connection.execute(
            select(classes, func.coalesce(counted.c.runs, 0).label("run_count"))
            .outerjoin(counted, counted.c.class_code == classes.c.code)
            .order_by(classes.c.created_at.desc())
        ).all()
    return [(_info(row), row.run_count) for row in rows]


def class_runs(database: Database, code: str) -> list[ClassRun]:
    """Every run under ``code``, oldest first, with the students' nicknames.

    One query on the ``(class_code, created_at)`` index, at most ``KDLAB_MAX_RUNS_PER_CLASS`` rows: the
    board's part of each run's summary (``runs.board``, about 250 bytes; the whole summary only for a run
    filed before schema v4) and its prediction, never its curves, confusion matrices or weights.
    """
    checked, _ = parse_class_code(code)
    if checked is None:
        return []
    query = (
        select(
            students.c.nickname,
            runs.c.student_id,
            runs.c.created_at,
            runs.c.status,
            runs.c.source,
            func.coalesce(runs.c.board, runs.c.summary),
            runs.c.prediction,
        )
        .join(students, students.c.id == runs.c.student_id)
        .where(runs.c.class_code == checked)
        .order_by(runs.c.created_at)
    )
    with database.read() as connection:
        rows = connection.execute(query).all()
    return distinct_nicknames([class_run(*row) for row in rows])


def clear_class(database: Database, code: str) -> int:
    """Take every run off the class's board (the students keep them); returns how many."""
    with database.write() as connection:
        result = connection.execute(update(runs).where(runs.c.class_code == _code(code)).values(class_code=None))
    return result.rowcount


def database_counts(database: Database) -> dict[str, int]:
    """Students, runs, classes and result-cache entries: the database's state in numbers."""
    with database.read() as connection:
        return {
            name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for name, table in (
                ("students", students),
                ("runs", runs),
                ("classes", classes),
                ("cached results", result_cache),
            )
        }
