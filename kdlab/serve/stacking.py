"""Stacked training of compatible lab runs: a job runner whose jobs train queued look-alikes with them.

When a class presses Train together, many queued lab runs train students of one shape for the same
number of steps. ``StackingRunner`` is a ``JobRunner`` whose lab jobs, on reaching their students'
training, wait ``GATHER_SECONDS`` for company, then start the queued jobs submitted with the same ``alike`` key
(their share of them: the queue is split between the runner's slots) inside their own slot. Those
riders run their own targets on their own threads (teacher, baseline plan, records) up to the same
point, hand over their students, and wait; the leader trains every student as one stacked model
(``kdlab.ml.stacked.train_stacked``), each exactly as alone, and hands each job its own results.
Each student's events go to its own job (live curves), and each job's stop flag stops its students
only. Riders are taken in the queue's fair order, so the round-robin between students holds.
Every job of a stack gets its results when the stack ends: a stopped student stops training at
once (its result is final then), but its record is filed with the others'.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kdlab.ml.data import ImageSet
from kdlab.ml.events import TrainResult
from kdlab.ml.stacked import StackMember, stack_key, train_stacked
from kdlab.ml.train import pick_device
from kdlab.serve.runner import Job, JobContext, JobRunner
from kdlab.settings import current_settings

# Long enough for a class's first clicks to reach the queue, short enough that a lone run hardly
# notices. Measured on the loaded 2-core machine (2026-12-03, load average 30), the backend path of
# `bench classroom`: 8 presses reached the queue in 0.17 s, 30 in 0.91 s; those that come later
# wait for the next stack (a leader splits what is queued with the other slots, then takes its part).
GATHER_SECONDS = 0.3
MAX_STACK_JOBS = 32  # jobs in one stack at most: a free class's 30 runs train 60 students in one
ARRIVAL_POLL_SECONDS = 0.05


def stacking_enabled() -> bool:
    """``KDLAB_STACK``, or by default on where trainings run on CUDA and off elsewhere. On this 2-core CPU
    (2026-12-03, full MNIST, one thread, a loaded machine) stacking saved no CPU: bench/stacking.py's 8
    students took 6.6 s of CPU alone and 6.6 s stacked, and `bench classroom` spent as much or more CPU
    per result stacked (8 free: 10.16 s both; 30 free: 8.93 s off, 9.39 s on; 30 lesson: 1.75 s, 1.88 s)
    with its last result no sooner (30 free: 361 s, 390 s) and its first far later (14 s, 389 s): every
    student of a stack waits for the whole stack. Only on a launch-bound GPU should batching pay."""
    setting = current_settings().stack
    return setting if setting is not None else pick_device().type == "cuda"


@dataclass
class _Stack:
    """One stacked training being gathered: its leader's members, then each rider's when it arrives."""

    key: Any
    members: dict[str, list[StackMember]] = field(default_factory=dict)  # job id -> its students
    riders: list[Job] = field(default_factory=list)
    results: dict[str, list[TrainResult]] = field(default_factory=dict)
    error: BaseException | None = None
    arrived: threading.Condition = field(default_factory=threading.Condition)
    done: threading.Event = field(default_factory=threading.Event)


class StackingContext(JobContext):
    """A ``StackingRunner`` job's context: ``together(key)`` trains the job's students in a stack."""

    def __init__(self, job: Job, runner: StackingRunner) -> None:
        super().__init__(job)
        self._runner = runner

    def together(self, alike: Any) -> Callable[[list[StackMember], ImageSet], list[TrainResult]] | None:
        """What ``run_distillation(together=...)`` calls: this job's students trained in a stack with the
        students of queued jobs submitted with the same ``alike`` key (``StackingRunner.submit``); None
        without a key."""
        if alike is None:
            return None
        return lambda members, test: self._runner._train(self._job, alike, members, test)


class StackingRunner(JobRunner):
    """A ``JobRunner`` whose jobs may train queued compatible jobs with them (see the module docstring)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._riders: set[Job] = set()  # started inside another job's slot
        self._keys: dict[str, Any] = {}  # queued job id -> its stack key
        self._claimed: dict[str, _Stack] = {}  # rider job id -> the stack waiting for its students
        self._training: dict[Any, int] = {}  # stack key -> stacks of it that claimed their riders and train now

    def submit(self, name: str, target, *, alike: Any = None, **kwargs) -> Job:
        """``JobRunner.submit``; a job with an ``alike`` key may train in the stack of another with the same."""
        job = super().submit(name, target, **kwargs)
        if alike is not None:
            with self._lock:
                if job.status == "queued":
                    self._keys[job.id] = alike
        return job

    def running_count(self) -> int:
        with self._lock:
            return len(self._running) + len(self._riders)

    def _context(self, job: Job) -> StackingContext:
        return StackingContext(job, self)

    def _run(self, job: Job, target) -> None:
        try:
            super()._run(job, target)
        finally:
            with self._lock:
                self._riders.discard(job)
                self._keys.pop(job.id, None)
                stack = self._claimed.pop(job.id, None)
            if stack is not None:  # a rider that ended before handing over its students
                with stack.arrived:
                    stack.arrived.notify_all()

    def _claim(self, key: Any, stack: _Stack) -> None:
        """Start this stack's share of the queued jobs with ``key`` as its riders: the queue split
        between the slots not training a stack of ``key`` yet, so two workers train two halves."""
        with self._lock:
            share = max(1, self.max_concurrent - self._training.get(key, 0))
            self._training[key] = self._training.get(key, 0) + 1
            matching = [(job, target) for job, target in self._fair_order() if self._keys.get(job.id) == key]
            chosen = matching[: min(MAX_STACK_JOBS - 1, math.ceil(len(matching) / share))]
            for job, target in chosen:
                self._queue.remove((job, target))
                del self._keys[job.id]
                self._claimed[job.id] = stack
                stack.riders.append(job)
                self._start(job, target, self._riders)

    def _train(self, job: Job, key: Any, members: list[StackMember], test: ImageSet) -> list[TrainResult]:
        stack = self._claimed.get(job.id)
        if stack is not None:  # a rider: hand over the students, wait for the leader
            with stack.arrived:
                stack.members[job.id] = members
                stack.arrived.notify_all()
            stack.done.wait()
            if stack.error is not None:
                raise RuntimeError("the stacked training this run was part of failed") from stack.error
            return stack.results[job.id]
        return self._lead(job, key, members, test)

    def _lead(self, job: Job, key: Any, members: list[StackMember], test: ImageSet) -> list[TrainResult]:
        stack = _Stack(key, {job.id: members})
        claimed = False
        try:
            time.sleep(GATHER_SECONDS)
            self._claim(key, stack)
            claimed = True
            with stack.arrived:  # every rider hands over its students or ends (a cached result, a failure)
                while any(rider.id not in stack.members and not rider.is_finished for rider in stack.riders):
                    stack.arrived.wait(ARRIVAL_POLL_SECONDS)
            stack.results = _train_groups(stack.members, test)
            return stack.results[job.id]
        except BaseException as error:
            stack.error = error
            raise
        finally:
            if claimed:
                with self._lock:
                    self._training[key] -= 1
                    if not self._training[key]:
                        del self._training[key]
            stack.done.set()


def _train_groups(members: dict[str, list[StackMember]], test: ImageSet) -> dict[str, list[TrainResult]]:
    """Each job's results, its members trained in one stack per ``stack_key`` (one, for jobs that share a key)."""
    groups: dict[Any, list[tuple[str, int]]] = {}
    for job_id, students in members.items():
        for position, member in enumerate(students):
            groups.setdefault(stack_key(member), []).append((job_id, position))
    results: dict[str, list] = {job_id: [None] * len(students) for job_id, students in members.items()}
    for places in groups.values():
        trained = train_stacked([members[job_id][position] for job_id, position in places], test)
        for (job_id, position), result in zip(places, trained):
            results[job_id][position] = result
    return results
