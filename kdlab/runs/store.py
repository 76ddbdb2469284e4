"""Where a student's runs are kept: the ``RunStore`` protocol, and ``MemoryRunStore`` that keeps them in memory.

The app keeps each student's records in the database (``kdlab.db.runs.DatabaseRunStore``); the
in-memory store serves the command line, tests, and a session whose database is out of order. Both
implement the whole protocol, so no caller asks a store what it can do. Both are thread safe
because the background job that trains a run files the record itself, so a run that ends while the
student is on another page is still there when they look.
"""

from __future__ import annotations

import math
import threading
import uuid
from dataclasses import dataclass
from typing import Protocol

from kdlab.runs.record import KEEP_WEIGHTS, RunRecord
from kdlab.settings import current_settings


class RunLimitReached(ValueError):
    """A student (or a class board, or a client address) holds or files the most runs this server allows; the
    message says what to do."""


def student_full(count: int) -> str:
    """What a student at ``KDLAB_MAX_RUNS_PER_STUDENT`` reads when they press Train."""
    return (
        f"You have {count:,} runs saved, the most this server keeps for one student: your runs stay on the Runs "
        "page (download the ones you want to keep); ask your instructor if you need to train more."
    )


def class_full(code: str, count: int) -> str:
    """What a student of a class at ``KDLAB_MAX_RUNS_PER_CLASS`` reads when they press Train."""
    return (
        f"Class {code} has {count:,} runs on its board, the most this server keeps for one class: ask your "
        "instructor to clear the board (everyone keeps their runs) before training more."
    )


def student_in_class_full(code: str, count: int) -> str:
    """What a student with ``KDLAB_MAX_RUNS_PER_STUDENT_IN_CLASS`` runs on class ``code``'s board reads."""
    return (
        f"You have {count:,} runs on the board of class {code}, the most one student may have there: your runs "
        "stay on the Runs page; ask your instructor to clear the board if the class needs more."
    )


def too_fast(count: int, seconds: float) -> str:
    """What a student who filed ``KDLAB_MAX_RUNS_PER_MINUTE`` runs in the last minute reads."""
    return (
        f"You started {count} runs in the last minute, the most this server allows: look at your results, and "
        f"press Train again in {max(1, math.ceil(seconds))} s."
    )


def address_too_fast(count: int, seconds: float) -> str:
    """What a student reads when their network filed ``KDLAB_MAX_RUNS_PER_CLIENT_PER_MINUTE`` runs in a minute."""
    return (
        f"Your network started {count} runs in the last minute, the most one network may: press Train again in "
        f"{max(1, math.ceil(seconds))} s (an instructor whose class shares one network raises "
        "KDLAB_MAX_RUNS_PER_CLIENT_PER_MINUTE)."
    )


@dataclass(frozen=True)
class InterruptedRun:
    """A run that started on a server process that has stopped since (a restart) and has no record."""

    run_id: str
    number: int
    config: dict  # DistillConfig.as_dict(): DistillConfig.build(**config) trains it again
    started_at: float


class RunStore(Protocol):
    """One student's runs, oldest first. Every method may raise ``kdlab.db.database.StorageError``."""

    saved: bool  # True when the records outlive this process (the database)
    student_key: str  # names this student's live runs (``kdlab.serve.live.LIVE_RUNS``): the same in every tab

    def tagged(self, *, class_code: str | None, prediction: dict | None) -> RunStore:
        """This store, for one run that counts for ``class_code`` and carries ``prediction``."""

    def reserve_number(self) -> int:
        """The student's next run number (1, 2, ...); two tabs never get the same one. Raises
        ``RunLimitReached`` when the student (or the class filed under) has the most runs the server keeps; the
        database's store also when the student filed ``KDLAB_MAX_RUNS_PER_MINUTE`` in the last minute or has
        ``KDLAB_MAX_RUNS_PER_STUDENT_IN_CLASS`` on the class's board (a memory store has no board, and its runs
        reach no one else)."""

    def add(self, record: RunRecord) -> None:
        """File ``record`` (and the class code and prediction this store was tagged with)."""

    def records(self) -> list[RunRecord]:
        """Every run, oldest first (the database's without weights: ``get`` loads them)."""

    def get(self, run_id: str) -> RunRecord | None:
        """The run ``run_id`` with its weights, or None (also for another student's run)."""

    def latest(self) -> RunRecord | None:
        """The newest run, or None."""

    def prediction_of(self, run_id: str) -> dict | None:
        """The prediction the student made before the run ``run_id``, or None."""

    def note_start(self, run_id: str, number: int, config: dict) -> None:
        """Remember that run ``run_id`` trains now, until ``add`` files its record or ``forget_start``."""

    def forget_start(self, run_id: str) -> None:
        """The run ``run_id`` will have no record (it failed, the student left it, or they dismissed it)."""

    def interrupted(self) -> list[InterruptedRun]:
        """The runs a server restart cut off (started, never filed), oldest first."""

    def cached_result(self, key: str) -> RunRecord | None:
        """The first completed run of any student with this result key, with weights, or None."""

    def remember_result(self, key: str, run_id: str) -> None:
        """Record this student's run ``run_id`` as the result of ``key``, unless another got there first."""


class _Memory:
    """The records and predictions a memory store and its tagged views share."""

    def __init__(self, keep_weights: int) -> None:
        self.keep_weights = keep_weights
        self.lock = threading.Lock()
        self.records: list[RunRecord] = []
        self.predictions: dict[str, dict] = {}
        self.numbers = 0


class MemoryRunStore:
    """One session's runs in memory, oldest first.

    Only the last ``keep_weights`` runs keep their weights, and a session keeps at most
    ``KDLAB_MAX_RUNS_PER_STUDENT`` runs, so a long lesson does not grow a session's memory without
    bound; older records keep everything else. There is no result cache
    (nothing outlives the process to be shared), and no run outlives a restart to be listed.
    """

    saved = False

    def __init__(self, keep_weights: int = KEEP_WEIGHTS, *, student_key: str | None = None) -> None:
        self.student_key = student_key or f"memory:{uuid.uuid4().hex[:12]}"
        self._memory = _Memory(keep_weights)
        self._prediction: dict | None = None

    @property
    def keep_weights(self) -> int:
        return self._memory.keep_weights

    def tagged(self, *, class_code: str | None, prediction: dict | None) -> MemoryRunStore:
        # No class board without the database: only the prediction is kept, beside the record.
        view = MemoryRunStore.__new__(MemoryRunStore)
        view.student_key, view._memory, view._prediction = self.student_key, self._memory, prediction
        return view

    def reserve_number(self) -> int:
        limit = current_settings().max_runs_per_student
        with self._memory.lock:
            if len(self._memory.records) >= limit:
                raise RunLimitReached(student_full(len(self._memory.records)))
            self._memory.numbers += 1
            return self._memory.numbers

    def add(self, record: RunRecord) -> None:
        memory = self._memory
        with memory.lock:
            memory.records.append(record)
            memory.records.sort(key=lambda r: r.number)
            if self._prediction is not None:
                memory.predictions[record.run_id] = self._prediction
            for old in memory.records[: -memory.keep_weights] if memory.keep_weights else memory.records:
                old.student_weights = old.baseline_weights = None

    def records(self) -> list[RunRecord]:
        with self._memory.lock:
            return list(self._memory.records)

    def get(self, run_id: str) -> RunRecord | None:
        with self._memory.lock:
            return next((record for record in self._memory.records if record.run_id == run_id), None)

    def latest(self) -> RunRecord | None:
        with self._memory.lock:
            return self._memory.records[-1] if self._memory.records else None

    def prediction_of(self, run_id: str) -> dict | None:
        with self._memory.lock:
            return self._memory.predictions.get(run_id)

    def note_start(self, run_id: str, number: int, config: dict) -> None:
        pass  # a run in memory dies with the process: there is nothing to list after a restart

    def forget_start(self, run_id: str) -> None:
        pass

    def interrupted(self) -> list[InterruptedRun]:
        return []

    def cached_result(self, key: str) -> RunRecord | None:
        return None

    def remember_result(self, key: str, run_id: str) -> None:
        pass
