"""What every command shares: progress lines on stderr, the data arguments, argument types."""

from __future__ import annotations

import argparse
import sys

from kdlab.classroom.values import parse_switch
from kdlab.experiments.distill import StageEvent
from kdlab.i18n import _
from kdlab.ml.events import EpochEvent, EventCallback
from kdlab.ml.progress import ProgressEvent


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit status 2."""


def log(message: str) -> None:
    """Progress for humans, on stderr (stdout is kept for ``--json``)."""
    print(message, file=sys.stderr, flush=True)


def print_epoch(event: EpochEvent) -> None:
    log(
        f"  [{event.run}] epoch {event.epoch}/{event.total_epochs}: test accuracy "
        f"{event.test_accuracy:.2%} ({event.seconds:.1f} s)"
    )


def progress_printer(event) -> None:
    """An ``on_event`` for one experiment: stage changes and epoch ends, on stderr."""
    if isinstance(event, StageEvent):
        log(event.message)
    elif isinstance(event, EpochEvent):
        print_epoch(event)


def stage_printer() -> EventCallback:
    """An ``on_event`` for a multi-run experiment: each new stage (with its share of the work
    done) and each epoch end, on stderr."""
    last_stage: list[str] = []

    def printer(event) -> None:
        if isinstance(event, ProgressEvent) and (not last_stage or event.stage != last_stage[-1]):
            last_stage.append(event.stage)
            log(f"[{event.fraction:4.0%}] {event.stage} ...")
        elif isinstance(event, EpochEvent):
            print_epoch(event)

    return printer


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """``--data-dir`` and ``--json``, which every command takes."""
    parser.add_argument(
        "--data-dir",
        help=_(
            "MNIST root with MNIST/raw/ inside (default: KDLAB_DATA_DIR, the cache, a download, "
            "then the offline 5,000-digit sample)"
        ),
    )
    parser.add_argument("--json", action="store_true", help=_("print one JSON object on stdout"))


def digit(text: str) -> int:
    """argparse type: a digit 0-9."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{text}' is not a digit 0-9").format(text=text)) from None
    if not 0 <= value <= 9:
        raise argparse.ArgumentTypeError(_("{value} is not a digit 0-9").format(value=value))
    return value


def switch(text: str) -> bool:
    """argparse type: on or off (1/0, on/off, true/false, yes/no)."""
    value = parse_switch(text)
    if value is None:
        raise argparse.ArgumentTypeError(_("'{text}' is not on or off (1 or 0)").format(text=text))
    return value


def train_size(text: str) -> int | str:
    """argparse type: a number of training images, or 'all'."""
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(_("'{text}' is not a whole number or 'all'").format(text=text)) from None
