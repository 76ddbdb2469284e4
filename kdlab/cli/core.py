"""``data``, ``teacher`` and ``distill``: the data in use, a cached teacher, one distillation."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from kdlab.cli.common import UserError, add_data_arguments, digit, log, progress_printer
from kdlab.cli.seeds import run_seeds
from kdlab.cli.setting_options import add_setting_options, setting_keywords
from kdlab.experiments.card import headline, result_cards
from kdlab.experiments.distill import DEFAULT_TEACHER, DistillConfig, run_distillation
from kdlab.i18n import N_, _
from kdlab.ml.context import RunContext
from kdlab.ml.data import load_mnist
from kdlab.ml.export import student_file_bytes
from kdlab.ml.files import write_atomically
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.models import architecture_names
from kdlab.ml.train import pick_device
from kdlab.teachers.cache import resolve_teacher
from kdlab.teachers.ensembles import EXAMPLES, parse_teacher_name

DATA_HELP = N_("which MNIST source is in use and its sizes")
TEACHER_HELP = N_("train a teacher (one network or an ensemble), or load it from the cache")
DISTILL_HELP = N_("distill a student from a teacher (and train a baseline)")
ROLE_WORDS = {"teacher": N_("teacher"), "baseline": N_("student alone"), "student": N_("distilled student")}


def add_data_command_arguments(parser: argparse.ArgumentParser) -> None:
    add_data_arguments(parser)


def run_data(args: argparse.Namespace) -> dict:
    data = load_mnist(args.data_dir)
    log(data.source.label + (f"\n{data.source.note}" if data.source.note else ""))
    return {"data": data.source.as_dict(), "device": str(pick_device())}


def add_teacher_arguments(parser: argparse.ArgumentParser) -> None:
    names = ", ".join(architecture_names())
    parser.add_argument(
        "--arch",
        default=DEFAULT_TEACHER,
        help=_("architecture (default: {default}); one of {names}; or an ensemble, {examples}").format(
            default=DEFAULT_TEACHER, names=names, examples=EXAMPLES
        ),
    )
    parser.add_argument("--epochs", type=int, help=_("epochs (default: 4 on full MNIST, more on the sample)"))
    parser.add_argument("--seed", type=int, default=0, help=_("seed (default: 0)"))
    add_data_arguments(parser)


def run_teacher(args: argparse.Namespace) -> dict:
    name = parse_teacher_name(args.arch).name  # a bad name fails here, before loading data
    if args.arch.strip() != name:
        log(f"Teacher {args.arch.strip()} runs as {name}.")
    data = load_mnist(args.data_dir)
    log(f"Data: {data.source.label}")
    started = time.perf_counter()
    teacher = resolve_teacher(
        name, data, epochs=args.epochs, seed=args.seed, context=RunContext(on_event=progress_printer)
    )
    if teacher.note:
        log(teacher.note)
    for member in teacher.members:
        log(
            f"  member {member.record.architecture} (seed {member.record.seed}): {member.record.test_accuracy:.2%}, "
            f"{member.record.test_errors} errors"
        )
    record = teacher.record
    log(f"Teacher {name}: {record.test_accuracy:.2%} test accuracy, {record.test_errors} errors.")
    return {
        "data": data.source.as_dict(),
        "teacher": teacher.summary(),
        "seconds": round(time.perf_counter() - started, 2),
    }


def add_compression_cards(summary: dict, result, test) -> None:
    """Measure each model's compression card into ``summary[role]["compression"]``; the headline on stderr."""
    cards = result_cards(result, test)
    for role, card in cards.items():
        summary[role]["compression"] = card.as_dict()
    if "student" in cards:
        log(headline(cards["teacher"], cards["student"]) + f" (latency on {cards['student'].threads} thread).")


def method_json(config: DistillConfig) -> dict:
    """The run's distillation method for ``--json``: its name, label, kind of knowledge and its settings, each
    with the value the run used (its default where the config leaves it unset)."""
    method = METHODS[config.soft]
    return {
        "name": method.name,
        "label": method.label,
        "knowledge": method.knowledge,
        "settings": method.setting_values(config.method_settings),
    }


def add_distill_arguments(parser: argparse.ArgumentParser) -> None:
    add_setting_options(parser, DistillConfig())  # every lab setting: --teacher, --temperature, --lr, --seeds, ...
    parser.add_argument(
        "--omit", type=digit, nargs="+", default=[], metavar="DIGIT", help=_("digits left out of the transfer set")
    )
    parser.add_argument(
        "--only", type=digit, nargs="+", default=[], metavar="DIGIT", help=_("the only digits kept in the transfer set")
    )
    parser.add_argument("--teacher-epochs", type=int, help=_("teacher epochs (default: 4 on full MNIST)"))
    parser.add_argument(
        "--baseline", action="store_true", help=_("also train the student alone (same seed and data order)")
    )
    parser.add_argument(
        "--save-student",
        type=Path,
        metavar="FILE",
        help=_("write the distilled student (its architecture and weights) to FILE.pt; see the export command"),
    )
    parser.add_argument(
        "--card",
        action="store_true",
        help=_(
            "measure the compression card: a 'compression' object (sizes, ONNX bytes, one-thread latency, "
            "calibration) in teacher, student and baseline; off by default, as the timings add seconds"
        ),
    )
    add_data_arguments(parser)


def run_distill(args: argparse.Namespace) -> dict:
    settings = setting_keywords(args) | dict(
        omit_classes=tuple(args.omit),
        only_classes=tuple(args.only),
        teacher_epochs=args.teacher_epochs,
        with_baseline=args.baseline,
    )
    asked_size = settings.pop("train_size")  # 'all' counts the images the filters keep, once data loads
    config = DistillConfig.build(**settings)  # a bad setting fails here, before data loads
    if args.save_student and not args.save_student.parent.is_dir():
        raise UserError(
            _("cannot save the student to {file}: the folder does not exist").format(file=args.save_student)
        )
    for role, asked, canonical in (
        ("Teacher", args.teacher, config.teacher),
        ("Student", args.student, config.student),
    ):
        if asked.strip() != canonical:  # mlp-0100x1 is mlp-100x1: one name, one cache entry, in the JSON too
            log(f"{role} {asked.strip()} runs as {canonical}.")
    data = load_mnist(args.data_dir)
    if asked_size == "all":
        kept = config.transfer_spec(data).kept_classes
        settings["train_size"] = sum(data.train.class_counts()[kept_digit] for kept_digit in kept)
    else:
        settings["train_size"] = asked_size
    config = DistillConfig.build(**settings)
    config.transfer_indices(data)  # a set too small for the request fails before any progress line
    log(f"Data: {data.source.label}; device: {pick_device()}")
    if args.seeds is not None:
        if args.card or args.save_student:
            raise UserError(_("--seeds trains one pair per seed: use --card or --save-student without it"))
        return {"method": method_json(config)} | run_seeds(config, data, args.seeds)
    result = run_distillation(config, data, context=RunContext(on_event=progress_printer))
    summary = {"method": method_json(config)} | result.summary()
    for role, words in ROLE_WORDS.items():
        run = summary.get(role)
        if run:
            log(f"{_(words):>18}: {run['arch']:<12} {run['test_accuracy']:.2%} ({run['test_errors']} errors)")
        if run and "feature_loss" in run:
            log(f"{'its ' + METHODS[config.soft].label + ' term':>18}: {run['feature_loss']:.4g} at the end")
        best = (run or {}).get("best_member")  # an ensemble teacher: its best member beside it
        if best:
            log(
                f"{'its best member':>18}: {best['arch']:<12} {best['test_accuracy']:.2%} ({best['test_errors']} errors)"
            )
    log(f"Done in {summary['seconds']:.1f} s ({summary['status']}).")
    if args.card:
        add_compression_cards(summary, result, data.test)
    if args.save_student and result.student is not None:
        blob = student_file_bytes(result.student.model, config.student)
        write_atomically(args.save_student, lambda file: file.write(blob))
        log(f"Saved the distilled student to {args.save_student} ({len(blob):,} bytes).")
    return summary
