"""``python -m kdlab bench classroom``: a class pressing Train at once, against the training backend alone.

No web server and no browsers: the same path the Train button takes (``request_distillation`` on a
``JobRunner`` sized like the app's ``default_runner``, torch threads capped as the app caps them),
each student with their own ``DatabaseRunStore`` in a throwaway SQLite database whose result cache
starts empty. The lab's default settings and its cached teacher (trained first if missing).

- *lesson*: every student follows the same lesson link (one seed) with a temperature of their own,
  spread over the lab's temperatures from 1 to 20 (30 students share 11 values, as a class would);
- *free*: every student trains the defaults with their own seed;
- a lesson (``lesson_classes``): each lab step of a lesson file, its links handed out round the room as a
  teacher would (student ``i`` takes the step's link ``i mod n``), the step's runs pressed at once.

First one default run alone on the same backend (both students, one torch thread, its own empty
database), then the class, all submitted at once, each student from a client address of their own and
under one class code; each student's wait runs from the first click to their record. CPU is the
process's (``time.process_time``: every thread) over the class, with its worker processes'
(``ProcessRunner.worker_cpu_seconds``) where trainings run in them.

With ``script``, one more machine tries to fill the queue and the class board meanwhile
(``kdlab.cli.classroom_script``): the report then says how many of the class were served, and what the
script got and was refused. CPU then includes the script's work.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from kdlab.classroom.classes import class_for_link, class_runs
from kdlab.classroom.lab_settings import TEMPERATURES, lab_defaults
from kdlab.classroom.lessons import Lesson
from kdlab.classroom.links import parse_lab_link
from kdlab.classroom.prepare import lab_link_configs
from kdlab.cli.classroom_script import ClassroomScript
from kdlab.db.database import Database, open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.experiments.distill import DistillConfig
from kdlab.ml.context import RunContext
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
CLASS_CODE = "BENCH"


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


def lesson_classes(lesson: Lesson, students: int, train_count: int) -> list[tuple[int, list[DistillConfig]]]:
    """(step number, the config each student trains) for each lab step of ``lesson``: its links dealt round the
    room (student ``i`` follows link ``i mod n``), each exactly as the lab submits it (``lab_link_configs``:
    a link with ``seeds`` above 1 is several runs, the student's first is the one timed here)."""
    if students < 1:
        raise ValueError(f"A class needs at least one student (got {students}).")
    steps = []
    for number, step in enumerate(lesson.steps, start=1):
        if step.page != "lab":
            continue
        links = [parse_lab_link(params, train_count).values or lab_defaults(train_count) for _, params in step.links()]
        steps.append((number, [lab_link_configs(links[index % len(links)])[0] for index in range(students)]))
    return steps


def _new_stores(database: Database, count: int) -> list[DatabaseRunStore]:
    return [DatabaseRunStore(database, create_student(database)[0].id) for _ in range(count)]


def student_address(index: int) -> str:
    """The client address of student ``index``: a laptop each."""
    return f"10.0.{index // 250}.{index % 250 + 1}"


def _press_train(
    runner: JobRunner, configs: list[DistillConfig], data: MnistData, stores: list, teachers: dict[str, Teacher]
) -> tuple[list[LabTicket | str], list[float | None]]:
    """Every student presses Train at once, under ``CLASS_CODE``; returns per student the ticket (or the
    message that refused them) and the seconds from the first click to their record (None: refused)."""
    requests = [TrainRequest.build(config, data, class_code=CLASS_CODE) for config in configs]  # built beforehand
    started = time.time()
    tickets, answered = [], []
    for index, (request, store) in enumerate(zip(requests, stores, strict=True)):
        try:
            tickets.append(
                request_distillation(
                    runner,
                    request,
                    data,
                    store,
                    owner=f"student-{index}",
                    client=student_address(index),
                    teacher=teachers[request.config.teacher],
                )
            )
        except ValueError as error:  # a limit refused them: the script's doing, or a class too big for the queue
            tickets.append(str(error))
        answered.append(time.time())
    waits = []
    for ticket, at in zip(tickets, answered, strict=True):
        if isinstance(ticket, str):
            waits.append(None)
        elif ticket.job is None:  # from the result cache: the record is there at once
            waits.append(at - started)
        else:
            runner.wait(ticket.job)
            if ticket.job.error:
                raise RuntimeError(f"a class run failed: {ticket.job.error}")
            waits.append(ticket.job.finished_at - started)
    return tickets, waits


def run_classroom(
    data: MnistData,
    mode: str,
    students: int,
    *,
    base: DistillConfig | None = None,
    on_event=None,
    script: bool = False,
    configs: list[DistillConfig] | None = None,
) -> dict:
    """One run of ``base`` (the lab's defaults) alone, then the class of ``students`` in ``mode`` (with
    ``script``: and the script beside it): a JSON-ready report. ``configs`` (one per student: a lesson's
    step, ``lesson_classes``) replaces the mode's, each with its own teacher."""
    default = base or DistillConfig()
    configs = configs or class_configs(mode, students, default)
    students = len(configs)
    settings = runner_settings()
    threads = cap_torch_threads(settings["max_concurrent"])
    teachers = {
        name: resolve_teacher(
            name, data, epochs=config.teacher_epochs, seed=config.teacher_seed, context=RunContext(on_event=on_event)
        )
        for name, config in {config.teacher: config for config in [default, *configs]}.items()
    }
    with tempfile.TemporaryDirectory() as folder:
        runner, flood = local_runner(settings), None
        try:
            if isinstance(runner, ProcessRunner):
                runner.worker_pids()  # the app starts its workers with the server: no run waits for them
            alone = open_database(f"sqlite:///{Path(folder) / 'single'}.sqlite3")
            class_for_link(alone, CLASS_CODE, create=True)
            _, (single,) = _press_train(runner, [default], data, _new_stores(alone, 1), teachers)
            database = open_database(f"sqlite:///{Path(folder) / 'class'}.sqlite3")
            class_for_link(database, CLASS_CODE, create=True)
            stores = _new_stores(database, students)
            if script:
                flood = ClassroomScript(runner, data, database, teachers[default.teacher], default, CLASS_CODE)
                flood.prepare()
            cpu_before = _cpu_seconds(runner)
            if flood is not None:
                flood.fill_queue()
                flood.start()
            tickets, waits = _press_train(runner, configs, data, stores, teachers)
            cpu = _cpu_seconds(runner) - cpu_before
            if flood is not None:
                flood.stop()
            board = class_runs(database, CLASS_CODE)
        finally:
            if flood is not None:
                flood.stop()
            if isinstance(runner, ProcessRunner):
                runner.shutdown()
    served = [wait for wait in waits if wait is not None]
    report = {
        "mode": mode,
        "students": students,
        "data": data.source.as_dict(),
        "workers": settings["max_concurrent"],
        "stacking": isinstance(runner, StackingRunner),
        "processes": isinstance(runner, ProcessRunner),
        "torch_threads": threads,
        "single_run_seconds": round(single, 2),
        "served": len(served),
        "first_result_seconds": round(min(served, default=0.0), 2),
        "median_result_seconds": round(statistics.median(served), 2) if served else None,
        "last_result_seconds": round(max(served, default=0.0), 2),
        "last_result_in_single_runs": round(max(served, default=0.0) / single, 2),
        "cpu_seconds_per_result": round(cpu / max(1, len(served)), 2),
        "board_runs": len(board),
        "class_board_runs": sum(run.student_id in {store.student_id for store in stores} for run in board),
        "trainings": len({config for config in configs}),
        "waits": [
            {
                "student": index,
                "temperature": config.training.temperature,
                "seed": config.training.seed,
                "student_model": config.student,
                "soft": config.soft,
                "how": ticket if isinstance(ticket, str) else ticket.how,
                "seconds": None if wait is None else round(wait, 2),
            }
            for index, (config, ticket, wait) in enumerate(zip(configs, tickets, waits, strict=True))
        ],
    }
    if flood is not None:
        report["script"] = flood.report()
    return report


def run_lesson(data: MnistData, lesson: Lesson, students: int, *, on_event=None) -> dict:
    """A class of ``students`` following ``lesson``'s lab steps one after another (``lesson_classes``), each step
    on an empty result cache (a server ``prepare`` did not warm: the trainings the step costs): a JSON-ready
    report with each step's ``run_classroom`` report."""
    steps = lesson_classes(lesson, students, len(data.train))
    return {
        "lesson": lesson.slug,
        "students": students,
        "minutes": lesson.minutes,
        "steps": [
            {"step": number, **run_classroom(data, "lesson", students, configs=configs, on_event=on_event)}
            for number, configs in steps
        ],
    }


def lesson_lines(report: dict) -> list[str]:
    """The lesson benchmark as text: per lab step, its trainings and when the class had its results."""
    lines = [f"\nLesson {report['lesson']} ({report['minutes']} min planned), a class of {report['students']}:"]
    for step in report["steps"]:
        lines.append(
            f"  step {step['step']}: {step['trainings']} distinct run(s) for {step['served']} students; first result "
            f"{step['first_result_seconds']:.1f} s, median {step['median_result_seconds'] or 0:.1f} s, last "
            f"{step['last_result_seconds']:.1f} s; server CPU per result {step['cpu_seconds_per_result']:.2f} s"
        )
    if not report["steps"]:
        lines.append("  no lab step: nothing trains (the explorer's and the replays' steps are not timed here)")
    return lines


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
        seconds = "refused" if wait["seconds"] is None else f"{wait['seconds']:7.1f} s"
        how = wait["how"] if wait["seconds"] is not None else wait["how"][:100]
        lines.append(
            f"  student {wait['student']:>3} (T={wait['temperature']:g}, seed {wait['seed']}, {how:<7}) {seconds}"
        )
    lines += [
        f"  served {report['served']} of {report['students']}; first result {report['first_result_seconds']:.1f} s, "
        f"median {report['median_result_seconds'] or 0:.1f} s, last {report['last_result_seconds']:.1f} s = "
        f"{report['last_result_in_single_runs']:.1f} single runs",
        f"  server CPU per result: {report['cpu_seconds_per_result']:.2f} s; runs on the class board: "
        f"{report['board_runs']}, the class's {report['class_board_runs']}",
    ]
    if "script" in report:
        script = report["script"]
        lines.append(
            f"  the script ({script['address']}, {script['presses_per_second']:g} presses a second): "
            f"{script['visitor jobs']} visitor jobs and {script['student jobs']} student jobs queued "
            f"({script['jobs_that_trained']} trained), {script['board runs']} runs on the board, "
            f"{script['students']} students made; refused:"
        )
        lines += [f"    {count:>6} x {message}" for message, count in script["refusals"].items()]
    return lines
