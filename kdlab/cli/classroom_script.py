"""``kdlab bench classroom --script``: one machine beside the class that tries to fill the queue and the board.

While the class presses Train (``kdlab.cli.classroom``), a script on one client address does what a program
in the room could, through the calls the pages make, in this process (no network):

1. before the class, it trains one small run as a student of its own: the result it will copy;
2. it fills the queue: jobs of visitors (sessions without a student code, a new one per tab, as the
   schemes, replay and explorer pages start them; here lab runs of the class's settings) until refused,
   then new students (as many as the page lets one address make), each pressing Train with a seed of its
   own, until refused;
3. it floods the class board: its students press Train on its cached run under the class's code,
   ``PRESSES_PER_SECOND`` times a second (through a browser each press is a page run that costs the server
   its own work, so a faster script waits on the server), turning to another student, or a new one, when
   one is refused, until the class has its results.

What it got and what it was refused (by message) go in the report.
"""

from __future__ import annotations

import collections
import threading
from dataclasses import replace

from kdlab.db.database import Database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.experiments.distill import DistillConfig
from kdlab.ml.data import MnistData
from kdlab.runs.store import MemoryRunStore, RunLimitReached
from kdlab.serve.clients import visitor_owner
from kdlab.serve.lab import request_distillation
from kdlab.serve.rate import address_key, admit_new_student
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import Job, JobRunner
from kdlab.teachers.teacher import Teacher

SCRIPT_ADDRESS = "10.66.0.1"
PRESSES_PER_SECOND = 20.0
MAX_JOBS_TRIED = 200  # each kind of job: the limits refuse far fewer


def seeded(config: DistillConfig, seed: int) -> DistillConfig:
    """``config`` at ``seed``: a run nobody else trains."""
    return replace(config, training=replace(config.training, seed=seed))


class ClassroomScript:
    """The script: ``prepare``, ``fill_queue``, ``start`` (the board flood, on a thread), ``stop``, ``report``."""

    def __init__(
        self, runner: JobRunner, data: MnistData, database: Database, teacher: Teacher, base: DistillConfig, code: str
    ) -> None:
        self.runner, self.data, self.database, self.teacher, self.base = runner, data, database, teacher, base
        self.code = code
        self.counts: collections.Counter[str] = collections.Counter()
        self.refusals: collections.Counter[str] = collections.Counter()  # the first clause of each message
        self.jobs: list[Job] = []
        self.students: list[DatabaseRunStore] = []
        self.cached: TrainRequest | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _press(self, request: TrainRequest, store, owner: str):
        ticket = request_distillation(
            self.runner, request, self.data, store, owner=owner, client=SCRIPT_ADDRESS, teacher=self.teacher
        )
        if ticket.job is not None:
            self.jobs.append(ticket.job)  # stopped with the script
        return ticket

    def _refused(self, error: ValueError) -> None:
        self.refusals[str(error).split(":")[0]] += 1

    def _new_student(self) -> DatabaseRunStore | None:
        """A new student as the lab's first Train makes one (a new tab each time): None when the address may
        make no more now."""
        if admit_new_student(f"session:script-{self.counts['students']}", address_key(SCRIPT_ADDRESS)):
            self.refusals["Too many new students from this address just now"] += 1
            return None
        self.counts["students"] += 1
        store = DatabaseRunStore(self.database, create_student(self.database)[0].id)
        self.students.append(store)
        return store

    def prepare(self) -> None:
        """Train the small run (one epoch) whose result the board flood copies, and wait for it."""
        store = self._new_student()
        small = replace(self.base, training=replace(self.base.training, epochs=1, seed=9_999))
        self.cached = TrainRequest.build(small, self.data, class_code=self.code)
        ticket = self._press(self.cached, store, store.student_key)
        if ticket.job is not None:
            self.runner.wait(ticket.job)
            if ticket.job.error:
                raise RuntimeError(f"the script's own run failed: {ticket.job.error}")
        self.counts["board runs"] += 1

    def fill_queue(self) -> None:
        """Visitors' jobs, then new students' runs, each until refused."""
        for number in range(MAX_JOBS_TRIED):
            request = TrainRequest.build(seeded(self.base, 10_000 + number), self.data)
            owner = visitor_owner()
            try:
                self._press(request, MemoryRunStore(student_key=owner), owner)
            except ValueError as error:
                self._refused(error)
                break
            self.counts["visitor jobs"] += 1
        for number in range(MAX_JOBS_TRIED):
            store = self._new_student()
            if store is None:
                break
            request = TrainRequest.build(seeded(self.base, 20_000 + number), self.data)
            try:
                self._press(request, store, store.student_key)
            except ValueError as error:
                self._refused(error)
                break
            self.counts["student jobs"] += 1

    def start(self) -> None:
        """Flood the board on a thread until ``stop``."""
        self._thread = threading.Thread(target=self._flood, name="kdlab-bench-script", daemon=True)
        self._thread.start()

    def _flood(self) -> None:
        students = collections.deque(self.students)
        while not self._stop.wait(1.0 / PRESSES_PER_SECOND):
            if not students and (fresh := self._new_student()) is not None:
                students.append(fresh)
            if not students:
                continue
            try:
                self.counts["board runs"] += (
                    self._press(self.cached, students[0], students[0].student_key).how == "cache"
                )
            except ValueError as error:
                self._refused(error)
                if isinstance(error, RunLimitReached) and str(error).startswith("You "):  # this student's limit
                    fresh = self._new_student()
                    if fresh is None:
                        students.rotate(-1)
                    else:
                        students.appendleft(fresh)

    def stop(self) -> None:
        """End the flood, then stop the script's jobs (queued ones leave the queue) and wait for them."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for job in self.jobs:
            job.request_stop()
        for job in self.jobs:
            self.runner.wait(job, timeout=300)

    def report(self) -> dict:
        """What the script got (jobs admitted, runs on the board, students made) and what it was refused."""
        return {
            "address": SCRIPT_ADDRESS,
            "presses_per_second": PRESSES_PER_SECOND,
            **{kind: self.counts[kind] for kind in ("visitor jobs", "student jobs", "board runs", "students")},
            "jobs_that_trained": sum(job.started_at is not None for job in self.jobs),
            "refusals": dict(self.refusals.most_common()),
        }
