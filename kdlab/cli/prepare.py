"""``prepare``: before class, get the data, train every default teacher, warm the result and replay caches."""

from __future__ import annotations

import argparse
import getpass
import sys
import time

from kdlab.classroom.prepare import checklist, prepare
from kdlab.cli.common import add_data_arguments, log
from kdlab.i18n import N_, _
from kdlab.ml.progress import ProgressEvent
from kdlab.settings import current_settings

HELP = N_("before class: get the data, train and cache the pages' teachers, warm the result and replay caches")
BAR_WIDTH = 30
LINE_SECONDS = 10.0  # without a terminal (a log file), one progress line at most this often per step


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--skip-replays",
        action="store_true",
        help=_(
            "leave out the paper replays: their teachers (the longest step: about 35 min on a 2-core CPU with full "
            "MNIST) and the replays the lessons open, each run once at the quick budget"
        ),
    )
    parser.add_argument(
        "--no-warm",
        action="store_true",
        help=_("do not run the default demo, the lessons' lab runs and their replays to warm the caches"),
    )
    add_data_arguments(parser)


def progress_bars(stream=None):
    """An ``on_event`` that draws one progress bar per step on ``stream`` (default: the current stderr; redrawn
    in place on a terminal; elsewhere a line every ``LINE_SECONDS`` and at the end of each step)."""
    stream = stream or sys.stderr
    interactive = stream.isatty()
    state = {"stage": None, "printed": 0.0}

    def draw(event) -> None:
        if not isinstance(event, ProgressEvent):
            return
        new_stage = event.stage != state["stage"]
        if new_stage and interactive and state["stage"] is not None:
            stream.write("\n")
        done = event.fraction >= 1.0
        if not interactive and not (new_stage or done or time.monotonic() - state["printed"] >= LINE_SECONDS):
            return
        state["stage"], state["printed"] = event.stage, time.monotonic()
        filled = round(BAR_WIDTH * event.fraction)
        bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {event.fraction:4.0%} {event.message}"
        stream.write(f"\r{bar[:120]:<120}" if interactive else bar + "\n")
        stream.flush()

    return draw


def run(args: argparse.Namespace) -> dict:
    started = time.perf_counter()
    data, steps = prepare(args.data_dir, replays=not args.skip_replays, warm=not args.no_warm, on_event=progress_bars())
    if sys.stderr.isatty():
        log("")
    log(f"\nBefore class: checklist ({time.perf_counter() - started:.1f} s in all)")
    for step in steps:
        mark = "x" if step.status != "skipped" else " "
        log(f"[{mark}] {step.name:<34} {step.status:<13} {step.seconds:7.1f} s  {step.purpose}: {step.detail}")
    log(server_note())
    return {"data": data.source.as_dict(), **checklist(steps), "seconds": round(time.perf_counter() - started, 2)}


def server_note() -> str:
    """Where prepare left its work, and how the server finds it: the same user and settings."""
    settings = current_settings()
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # a container's user without a name
        user = "this user"
    database = " and the same KDLAB_DATABASE_URL" if settings.database_url else ""
    return (
        f"Prepared in {settings.cache_dir}: start the server as {user}, with KDLAB_CACHE_DIR={settings.cache_dir}"
        f"{database}, so that it finds the data, the teachers and the cached results there."
    )
