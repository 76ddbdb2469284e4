"""``replay``: one MNIST experiment of Hinton et al. (2015), the paper's numbers beside ours."""

from __future__ import annotations

import argparse

from kdlab.cli.common import add_data_arguments, log, stage_printer
from kdlab.data import load_mnist
from kdlab.replays import BUDGETS, REPLAY_NAMES, REPLAY_TITLES, format_value, replay_config, run_replay

HELP = "replay an MNIST experiment of Hinton et al. (2015): table, omit-3, only-7-8, temperature-width"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    replays = "; ".join(f"{name} = {title}" for name, title in REPLAY_TITLES.items())
    parser.add_argument("name", choices=REPLAY_NAMES, help=f"which replay: {replays}")
    parser.add_argument("--budget", choices=tuple(BUDGETS), default="quick",
                        help="quick: minutes on a laptop CPU (default); full: closer to the paper, much longer")  # fmt: skip
    parser.add_argument("--seed", type=int, default=0, help="seed of the student runs (default: 0)")
    parser.add_argument("--fresh", action="store_true",
                        help="temperature-width: recompute the grid even if a finished one is cached")  # fmt: skip
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    config = replay_config(args.name, args.budget, seed=args.seed)  # a bad setting fails before data loads
    data = load_mnist(args.data_dir)
    log(f"Replay {args.name} ({REPLAY_TITLES[args.name]}), {args.budget} budget. Data: {data.source.label}")
    options = {"use_cache": not args.fresh} if args.name == "temperature-width" else {}
    summary = run_replay(args.name, data, config=config, on_event=stage_printer(), **options).summary
    for line in comparison_lines(summary):
        log("  " + line)
    budget = summary["budget"]
    cached = ", from the cache." if summary.get("from_cache") else "."
    log(
        f"Budget {budget['name']}: teacher {budget['teacher_epochs']} epochs, students {budget['student_epochs']} "
        f"epochs, grid {budget['sweep_epochs']} epochs. Done in {summary['seconds']:.1f} s ({summary['status']})"
        + cached
    )
    return summary


def comparison_lines(summary: dict) -> list[str]:
    """The paper-versus-ours rows of a replay summary as aligned text lines."""
    cells = [
        (
            row["quantity"],
            format_value(row["paper"], row["unit"], row["paper_total"]),
            format_value(row["ours"], row["unit"], row["ours_total"]),
        )
        for row in summary.get("comparison") or []
    ]
    if not cells:
        return []
    widths = [max(len(cell[i]) for cell in cells + [("", "paper", "ours")]) for i in range(3)]
    header = f"{'':<{widths[0]}}  {'paper':<{widths[1]}}  ours"
    return [header] + [f"{a:<{widths[0]}}  {b:<{widths[1]}}  {c}" for a, b, c in cells]
