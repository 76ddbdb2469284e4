"""``schemes``: offline KD, mutual learning, born-again networks and teacher assistant, side by side."""

from __future__ import annotations

import argparse

from kdlab.cli.common import add_data_arguments, log, stage_printer
from kdlab.cli.setting_options import add_setting_options, setting_keywords
from kdlab.experiments.schemes import SCHEMES, SchemeConfig, compare_schemes
from kdlab.i18n import N_, _
from kdlab.ml.context import RunContext
from kdlab.ml.data import load_mnist
from kdlab.ml.train import pick_device

HELP = N_("compare offline KD, mutual learning, born-again and teacher-assistant training")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SchemeConfig()
    parser.add_argument(
        "--scheme",
        nargs="+",
        choices=SCHEMES,
        default=list(SCHEMES),
        metavar="NAME",
        help=_("schemes to run (default: all of {schemes})").format(schemes=", ".join(SCHEMES)),
    )
    # the lab's settings that every scheme shares, with SchemeConfig()'s defaults
    add_setting_options(parser, defaults, ("teacher", "student", "T", "alpha", "epochs", "train_size", "seed"))
    parser.add_argument(
        "--assistant",
        default=defaults.assistant,
        help=_("teacher-assistant architecture (default: {default})").format(default=defaults.assistant),
    )
    parser.add_argument(
        "--generations",
        type=int,
        default=defaults.generations,
        help=_("born-again generations (default: {default})").format(default=defaults.generations),
    )
    parser.add_argument("--teacher-epochs", type=int, help=_("teacher epochs (default: 4 on full MNIST)"))
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    settings = setting_keywords(args)
    config = SchemeConfig.build(
        **settings | {"train_size": None if settings["train_size"] == "all" else settings["train_size"]},
        assistant=args.assistant,
        generations=args.generations,
        teacher_epochs=args.teacher_epochs,
    )
    data = load_mnist(args.data_dir)
    log(f"Data: {data.source.label}; device: {pick_device()}")
    summary = compare_schemes(config, data, args.scheme, context=RunContext(on_event=stage_printer())).summary()
    for line in comparison_lines(summary):
        log("  " + line)
    log(f"Done in {summary['seconds']:.1f} s ({summary['status']}).")
    return summary


def comparison_lines(summary: dict) -> list[str]:
    """The comparison as aligned text: every run, its errors, and the difference to both references."""
    baseline, offline = summary["student_alone"], summary["offline_kd"]
    rows = [("reference", run) for run in (baseline, offline) if run]
    rows += [(name, run) for name, scheme in summary["schemes"].items() if name != "offline" for run in scheme["runs"]]
    lines = [f"{'scheme':<11} {'run':<22} {'arch':<11} {'accuracy':>8} {'errors':>7} {'vs alone':>9} {'vs KD':>6}"]
    for scheme, run in rows:
        cells = [
            "" if reference is None else f"{run['test_errors'] - reference['test_errors']:+d}"
            for reference in (baseline, offline)
        ]
        lines.append(
            f"{scheme:<11} {run['label']:<22} {run['arch']:<11} {run['test_accuracy']:>8.2%} "
            f"{run['test_errors']:>7} {cells[0]:>9} {cells[1]:>6}"
        )
    return lines
