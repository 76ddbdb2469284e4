"""Command line: ``python -m kdlab {data,teacher,distill,bench} ...``.

With ``--json`` a command prints exactly one JSON object on stdout; human-readable progress
always goes to stderr. A user error (bad argument, bad data folder, impossible config) exits
with status 2 and a one-line message, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Callable, Sequence

from kdlab.data import DataError, load_mnist
from kdlab.distill import (DEFAULT_STUDENT, DEFAULT_TEACHER, DEMO_TRAIN_SIZE, DistillConfig, StageEvent,
                           run_distillation, select_transfer_set)
from kdlab.models import architecture_names, describe_model
from kdlab.teachers import load_or_train_teacher
from kdlab.train import EpochEvent, TrainEvent, pick_device

# Subcommands registered by other modules (bench, replays, schemes): name -> (add_arguments, run).
EXTRA_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], dict]]] = {}


class UserError(Exception):
    """A mistake the user can fix; printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line instead of usage + message
        raise UserError(f"{message} (see: python -m kdlab {self.prog.split()[-1]} --help)"
                        if self.prog.split()[-1] != "kdlab" else f"{message} (see: python -m kdlab --help)")


def log(message: str) -> None:
    """Progress for humans, on stderr."""
    print(message, file=sys.stderr, flush=True)


def progress_printer(event: TrainEvent | StageEvent) -> None:
    """Print stage changes and epoch ends to stderr."""
    if isinstance(event, StageEvent):
        log(event.message)
    elif isinstance(event, EpochEvent):
        log(f"  [{event.run}] epoch {event.epoch}/{event.total_epochs}: test accuracy "
            f"{event.test_accuracy:.2%} ({event.seconds:.1f} s)")


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", help="MNIST root with MNIST/raw/ inside (default: KDLAB_DATA_DIR, the "
                                           "cache, a download, then the offline 5,000-digit sample)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _digits(text: str) -> int:
    try:
        digit = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a digit 0-9") from None
    if not 0 <= digit <= 9:
        raise argparse.ArgumentTypeError(f"{digit} is not a digit 0-9")
    return digit


def _train_size(text: str) -> int | str:
    if text == "all":
        return text
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number or 'all'") from None


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="kdlab", description="Knowledge-distillation lab on MNIST.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    data = commands.add_parser("data", help="which MNIST source is in use and its sizes")
    add_data_arguments(data)

    teacher = commands.add_parser("teacher", help="train a teacher, or load it from the cache")
    teacher.add_argument("--arch", default=DEFAULT_TEACHER, help=f"architecture (default: {DEFAULT_TEACHER}); "
                                                                 f"one of {', '.join(architecture_names())}")
    teacher.add_argument("--epochs", type=int, help="epochs (default: 4 on full MNIST, more on the sample)")
    teacher.add_argument("--seed", type=int, default=0, help="seed (default: 0)")
    add_data_arguments(teacher)

    distill = commands.add_parser("distill", help="distill a student from a teacher (and train a baseline)")
    distill.add_argument("--teacher", default=DEFAULT_TEACHER, help=f"teacher architecture (default: {DEFAULT_TEACHER})")
    distill.add_argument("--student", default=DEFAULT_STUDENT, help=f"student architecture (default: {DEFAULT_STUDENT})")
    distill.add_argument("--temperature", type=float, default=4.0, help="softmax temperature T (default: 4)")
    distill.add_argument("--alpha", type=float, default=0.9, help="weight of the soft term (default: 0.9)")
    distill.add_argument("--epochs", type=int, default=20, help="student epochs (default: 20)")
    distill.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default: 0.001)")
    distill.add_argument("--batch-size", type=int, default=128, help="batch size (default: 128)")
    distill.add_argument("--train-size", type=_train_size, help=f"training images, or 'all' (default: "
                                                               f"{DEMO_TRAIN_SIZE:,} or all if fewer)")
    distill.add_argument("--omit", type=_digits, nargs="+", default=[], metavar="DIGIT", help="digits left out of the transfer set")
    distill.add_argument("--only", type=_digits, nargs="+", default=[], metavar="DIGIT", help="the only digits kept in the transfer set")
    distill.add_argument("--seed", type=int, default=0, help="seed for the student runs (default: 0)")
    distill.add_argument("--teacher-epochs", type=int, help="teacher epochs (default: 4 on full MNIST)")
    distill.add_argument("--baseline", action="store_true", help="also train the student alone (same seed and data order)")
    add_data_arguments(distill)

    for name, (help_text, add_arguments, _) in EXTRA_COMMANDS.items():
        add_arguments(commands.add_parser(name, help=help_text))
    return parser


def command_data(args: argparse.Namespace) -> dict:
    data = load_mnist(args.data_dir)
    log(data.source.label + (f"\n{data.source.note}" if data.source.note else ""))
    return {"data": data.source.as_dict(), "device": str(pick_device())}


def command_teacher(args: argparse.Namespace) -> dict:
    describe_model(args.arch)  # unknown names fail here, before loading data
    data = load_mnist(args.data_dir)
    log(f"Data: {data.source.label}")
    started = time.perf_counter()
    teacher = load_or_train_teacher(args.arch, data, epochs=args.epochs, seed=args.seed, on_event=progress_printer)
    if teacher.note:
        log(teacher.note)
    log(f"Teacher {args.arch}: {teacher.record.test_accuracy:.2%} test accuracy, {teacher.record.test_errors} errors.")
    return {"data": data.source.as_dict(), "teacher": teacher.summary(), "seconds": round(time.perf_counter() - started, 2)}


def command_distill(args: argparse.Namespace) -> dict:
    settings = dict(teacher=args.teacher, student=args.student, temperature=args.temperature, alpha=args.alpha,
                    epochs=args.epochs, learning_rate=args.lr, batch_size=args.batch_size,
                    omit_classes=tuple(args.omit), only_classes=tuple(args.only), seed=args.seed,
                    teacher_epochs=args.teacher_epochs, with_baseline=args.baseline)
    DistillConfig(**settings)  # a bad setting fails here, before data loads
    data = load_mnist(args.data_dir)
    if args.train_size == "all":
        kept = DistillConfig(**settings).transfer_spec().kept_classes
        settings["train_size"] = sum(data.train.class_counts()[digit] for digit in kept)
    else:
        settings["train_size"] = args.train_size
    config = DistillConfig(**settings)
    select_transfer_set(config, data)  # a set too small for the request fails before any progress line
    log(f"Data: {data.source.label}; device: {pick_device()}")
    result = run_distillation(config, data, on_event=progress_printer)
    summary = result.summary()
    for role in ("teacher", "baseline", "student"):
        run = summary.get(role)
        if run:
            name = "distilled student" if role == "student" else ("student alone" if role == "baseline" else role)
            log(f"{name:>18}: {run['arch']:<12} {run['test_accuracy']:.2%} ({run['test_errors']} errors)")
    log(f"Done in {summary['seconds']:.1f} s ({summary['status']}).")
    return summary


COMMANDS = {"data": command_data, "teacher": command_teacher, "distill": command_distill}


def main(argv: Sequence[str] | None = None) -> int:
    _register_extra_commands()
    try:
        args = build_parser().parse_args(argv)
        handler = COMMANDS.get(args.command) or EXTRA_COMMANDS[args.command][2]
        summary = handler(args)
    except (UserError, DataError, ValueError) as error:
        print(f"kdlab: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("kdlab: interrupted", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary, allow_nan=False, default=str))
    return 0


def _register_extra_commands() -> None:
    """Import the modules that add subcommands (kept out of kdlab's import path)."""
    import kdlab.bench  # noqa: F401
    import kdlab.replays, kdlab.schemes  # noqa: F401, E401
