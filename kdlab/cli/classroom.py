"""``python -m kdlab bench classroom``: a class pressing Train at once, against the training backend alone.

No web server and no browsers: the same path the Train button takes (``request_distillation`` on a
``JobRunner`` sized like the app's ``default_runner``, torch threads capped as the app caps them),
each student with their own ``DatabaseRunStore`` in a throwaway SQLite database whose result cache
starts empty. The lab's default settings and its cached teacher (trained first if missing).

- *lesson*: every student follows the same lesson link (one seed) with a temperature of their own,
  spread over the lab's temperatures from 1 to 20 (30 students share 11 values, as a class would);
- *free*: every student trains the defaults with their own seed.

First one default run alone on the same backend (both students, one torch thread, its own empty
database), then the class, all submitted at once; each student's wait runs from the first click to
their record. CPU is the process's (``time.process_time``: every thread) over the class, with its
worker processes' (``ProcessRunner.worker_cpu_seconds``) where trainings run in them.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from kdlab.classroom.lab_settings import TEMPERATURES
from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.experiments.distill import DistillConfig
from kdlab.ml.data import MnistData
from kdlab.serve.jobs import cap_torch_threads, local_runner, runner_settings
from kdlab.serve.lab import LabTicket, request_distillation
from kdlab.serve.process_runner import ProcessRunner
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobRunner
from kdlab.serve.stacking import StackingRunner
from kdlab.teachers.cache import resolve_teacher
from kdlab.teachers.teacher import Teacher

MODES = ("lesson", "free")


def class_configs(mode: str, students: int, base: DistillConfig | None = None) -> list[DistillConfig]:
    """The config each student trains, from ``base`` (the lab's defaults): a lesson's temperatures
    spread from 1 to 20 over its seed, or one seed each (free)."""
    base = base or DistillConfig()
    if mode not in MODES:
        raise ValueError(f"Unknown class mode {mode!r}: choose lesson or free.")
    if students < 1:
        raise ValueError(f"A class needs at least one student (got {students}).")
    if mode == "free":
        return [replace(base, training=replace(base.training, seed=seed)) for seed in range(students)]
    last = len(TEMPERATURES) - 1
    spread = [TEMPERATURES[round(index * last / max(1, students - 1))] for index in range(students)]
    return [replace(base, training=replace(base.training, temperature=temperature)) for temperature in spread]


def _new_stores(folder: Path, name: str, count: int) -> list[DatabaseRunStore]:
    database = open_database(f"sqlite:///{folder / name}.sqlite3")
    return [DatabaseRunStore(database, create_student(database)[0].id) for _ in range(count)]


def _press_train(
    runner: JobRunner, configs: list[DistillConfig], data: MnistData, stores: list, teacher: Teacher
) -> tuple[float, list[LabTicket], list[float]]:
    """Every student presses Train at once; returns the first click's time, the tickets and, per
    student, the seconds from the first click to their record."""
    requests = [TrainRequest.build(config, data) for config in configs]  # built as each page builds it, beforehand
    started = time.time()
    tickets, answered = [], []
    for index, (request, store) in enumerate(zip(requests, stores, strict=True)):
        tickets.append(request_distillation(runner, request, data, store, owner=f"student-{index}", teacher=teacher))
        answered.append(time.time())
    waits = []
    for ticket, at in zip(tickets, answered, strict=True):
        if ticket.job is None:  # from the result cache: the record is there at once
            waits.append(at - started)
            continue
        runner.wait(ticket.job)
        if ticket.job.error:
            raise RuntimeError(f"a class run failed: {ticket.job.error}")
        waits.append(ticket.job.finished_at - started)
    return started, tickets, waits


def run_classroom(
    data: MnistData, mode: str, students: int, *, base: DistillConfig | None = None, on_event=None
) -> dict:
    """One run of ``base`` (the lab's defaults) alone, then the class of ``students`` in ``mode``: a
    JSON-ready report."""
    default = base or DistillConfig()
    configs = class_configs(mode, students, default)
    settings = runner_settings()
    threads = cap_torch_threads(settings["max_concurrent"])
    teacher = resolve_teacher(
        default.teacher, data, epochs=default.teacher_epochs, seed=default.teacher_seed, on_event=on_event
    )
    with tempfile.TemporaryDirectory() as folder:
        runner = local_runner(settings)
        try:
            if isinstance(runner, ProcessRunner):
                runner.worker_pids()  # the app starts its workers with the server: no run waits for them
            alone = _new_stores(Path(folder), "single", 1)
            _, _, (single,) = _press_train(runner, [default], data, alone, teacher)
            stores = _new_stores(Path(folder), "class", students)
            cpu_before = _cpu_seconds(runner)
            _, tickets, waits = _press_train(runner, configs, data, stores, teacher)
            cpu = _cpu_seconds(runner) - cpu_before
        finally:
            if isinstance(runner, ProcessRunner):
                runner.shutdown()
    return {
        "mode": mode,
        "students": students,
        "data": data.source.as_dict(),
        "workers": settings["max_concurrent"],
        "stacking": isinstance(runner, StackingRunner),
        "processes": isinstance(runner, ProcessRunner),
        "torch_threads": threads,
        "single_run_seconds": round(single, 2),
        "first_result_seconds": round(min(waits), 2),
        "median_result_seconds": round(statistics.median(waits), 2),
        "last_result_seconds": round(max(waits), 2),
        "last_result_in_single_runs": round(max(waits) / single, 2),
        "cpu_seconds_per_result": round(cpu / students, 2),
        "waits": [
            {
                "student": index,
                "temperature": config.training.temperature,
                "seed": config.training.seed,
                "how": ticket.how,
                "seconds": round(wait, 2),
            }
            for index, (config, ticket, wait) in enumerate(zip(configs, tickets, waits, strict=True))
        ],
    }


def _cpu_seconds(runner: JobRunner) -> float:
    """This process's CPU seconds so far, with its trainings' in worker processes."""
    workers = runner.worker_cpu_seconds if isinstance(runner, ProcessRunner) else 0.0
    return time.process_time() + workers


def classroom_lines(report: dict) -> list[str]:
    """The classroom benchmark as text for a terminal."""
    lines = [
        f"\nA class of {report['students']} ({report['mode']}) on {report['workers']} worker "
        f"{'process' if report['processes'] else 'thread'}(s), {report['torch_threads']} torch thread(s) each, "
        f"{'stacked' if report['stacking'] else 'not stacked'}:",
        f"  one default run alone  {report['single_run_seconds']:7.1f} s",
    ]
    for wait in report["waits"]:
        lines.append(
            f"  student {wait['student']:>3} (T={wait['temperature']:g}, seed {wait['seed']}, {wait['how']:<7}) "
            f"{wait['seconds']:7.1f} s"
        )
    lines += [
        f"  first result {report['first_result_seconds']:.1f} s, median {report['median_result_seconds']:.1f} s, "
        f"last {report['last_result_seconds']:.1f} s = {report['last_result_in_single_runs']:.1f} single runs",
        f"  server CPU per result: {report['cpu_seconds_per_result']:.2f} s",
    ]
    return lines
