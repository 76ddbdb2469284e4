"""``replay``: one paper's MNIST experiment, the paper's numbers (or claim) beside ours. The replays, their
titles and the options each takes come from ``kdlab.experiments.replays.REPLAYS``."""

from __future__ import annotations

import argparse

from kdlab.cli.common import UserError, add_data_arguments, log, stage_printer
from kdlab.cli.seeds import seed_count
from kdlab.experiments.replays import BUDGETS, REPLAYS, format_value, replay_config, run_over_seeds, run_replay
from kdlab.experiments.replays.decoupled import RUN_LABELS as DECOUPLED_LABELS
from kdlab.experiments.replays.knowledge import SHORT_LABELS as KNOWLEDGE_LABELS
from kdlab.experiments.replays.over_seeds import comparison_line
from kdlab.experiments.replays.registry import seeded_replays
from kdlab.experiments.replays.temperature_schedules import SHORT_LABELS as TEMPERATURE_LABELS
from kdlab.i18n import _
from kdlab.ml.context import RunContext
from kdlab.ml.data import load_mnist


def replays_by_source() -> str:
    """ "table, omit-3, only-7-8, temperature-width (Hinton, Vinyals & Dean 2015), compression (...)": each
    paper once, its replays before it, from the short form of its citation."""
    sources: dict[str, list[str]] = {}
    for replay in REPLAYS.values():
        sources.setdefault(replay.source, []).append(replay.name)
    return ", ".join(f"{', '.join(names)} ({short_citation(source)})" for source, names in sources.items())


def short_citation(source: str) -> str:
    """ "Hinton et al. 2015" from "Hinton, Vinyals & Dean (2015), Distilling ..."."""
    authors, _sep, rest = source.partition(" (")
    return f"{authors.split(',')[0]} et al. {rest.partition(')')[0]}"


def option_help(option: str) -> str:
    """The help of ``--<option>``: what it means for each replay that takes it."""
    return "; ".join(
        f"{name}: {replay.options[option]}" for name, replay in REPLAYS.items() if option in replay.options
    )


def takers(option: str) -> list[str]:
    """The replays that take ``--<option>``."""
    return [name for name, replay in REPLAYS.items() if option in replay.options]


def command_help() -> str:
    """The command's line in ``python -m kdlab --help``: every replay by its paper."""
    return _("replay a paper's MNIST experiment: {replays}").format(replays=replays_by_source())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    replays = "; ".join(f"{name} = {replay.title}" for name, replay in REPLAYS.items())
    parser.add_argument("name", choices=tuple(REPLAYS), help=_("which replay: {replays}").format(replays=replays))
    parser.add_argument(
        "--budget",
        choices=tuple(BUDGETS),
        default="quick",
        help=_(
            "quick: minutes on a laptop CPU (default); full: the paper's teacher, about an hour for the four on 2 cores"
        ),
    )
    parser.add_argument("--seed", type=int, default=0, help=_("seed of the student runs (default: 0)"))
    parser.add_argument(
        "--seeds",
        type=seed_count,
        help=_(
            "{replays}: repeat at seeds --seed, +1, ... (1 to 5): each number with its spread, and which "
            "differences are bigger than it (default: {defaults})"
        ).format(
            replays=", ".join(seeded_replays()),
            defaults=", ".join(f"{name} {REPLAYS[name].seeds}" for name in seeded_replays()),
        ),
    )
    parser.add_argument("--fresh", action="store_true", help=option_help("fresh"))
    parser.add_argument("--teacher", help=option_help("teacher"))
    parser.add_argument("--student", help=option_help("student"))
    add_data_arguments(parser)


def run(args: argparse.Namespace) -> dict:
    replay = REPLAYS[args.name]
    chosen = {name: value for name, value in (("teacher", args.teacher), ("student", args.student)) if value}
    refused = next((name for name in chosen if name not in replay.options), None)
    if refused:
        raise UserError(
            f"--{refused} applies to the {' and '.join(takers(refused))} replays only; {args.name} uses the "
            "paper's networks."
        )
    seeds = replay.seeds if args.seeds is None else args.seeds
    if seeds > 1 and replay.over_seeds is None:
        raise UserError(f"--seeds applies to the {', '.join(seeded_replays())} replays, which compare settings.")
    config = replay_config(args.name, args.budget, seed=args.seed, **chosen)  # a bad setting fails before data loads
    data = load_mnist(args.data_dir)
    log(f"Replay {args.name} ({replay.title}), {args.budget} budget. Data: {data.source.label}")
    # --fresh means nothing to a replay that caches no result, so it is ignored there rather than refused.
    options = {"use_cache": not args.fresh} if "fresh" in replay.options else {}
    if seeds > 1:
        try:
            summary = run_over_seeds(
                args.name,
                config,
                seeds,
                lambda seeded: (
                    run_replay(
                        args.name, data, config=seeded, context=RunContext(on_event=stage_printer()), **options
                    ).summary
                ),
            )
        except ValueError as error:  # a seed past the largest
            raise UserError(str(error)) from error
    else:
        summary = run_replay(
            args.name, data, config=config, context=RunContext(on_event=stage_printer()), **options
        ).summary
    for line in comparison_lines(summary):
        log("  " + line)
    if "seeds" in summary:
        log(f"Over seeds {', '.join(map(str, summary['seeds']['seeds']))}, paired by seed:")
        for row in summary["seeds"]["comparisons"]:
            log("  " + comparison_line(row))
        for row in summary["seeds"].get("rows", []):
            if "verdict" in row:
                log("  " + row["verdict"])
        if "verdict" in summary["seeds"]:
            log("  " + summary["seeds"]["verdict"])
    log(budget_line(summary))
    return summary


def budget_line(summary: dict) -> str:
    """What ran and how long it took, in one line."""
    budget, done = summary["budget"], f"Done in {summary['seconds']:.1f} s ({summary['status']})"
    if summary["replay"] == "compression":
        sizes = ", ".join(f"{kind} {value['size']:,}" for kind, value in summary["sets"].items())
        claim = "; ".join(
            f"{kind}: {'close to the ensemble' if verdict['close_to_ensemble'] else 'not close to the ensemble'}, "
            f"{'beats' if verdict['beats_alone_widely'] else 'does not beat'} the student alone widely"
            for kind, verdict in summary["claim"].items()
            if verdict
        )
        return (
            f"Budget {budget['name']}: ensemble members {budget['teacher_epochs']} epochs, students "
            f"{budget['student_epochs']} epochs of {budget['transfer_size']:,} images or as many images of a smaller "
            f"set. Sets: {sizes}. "
            f"Claim: {claim or 'not reached'}. {done}."
        )
    if summary["replay"] == "decoupled":
        students = "; ".join(
            f"{DECOUPLED_LABELS[run]} {errors if errors is not None else '-'}"
            for run, errors in ((run, summary["ours"][f"{run}_errors"]) for run in DECOUPLED_LABELS)
        )
        weight = summary["non_target_weight"]
        return (
            f"Budget {budget['name']}: teacher {budget['teacher']} {budget['teacher_epochs']} epochs, students "
            f"{budget['student_epochs']} epochs. Test errors: {students}. Teacher's mean 1 - p_target at "
            f"T = {summary['config']['temperature']:g}: {'-' if weight is None else f'{weight:.2%}'}. {done}."
        )
    if summary["replay"] == "knowledge":
        rows = " ".join(
            f"{row['train_size']:,} images: "
            + "; ".join(
                f"{KNOWLEDGE_LABELS[run]} {'-' if errors is None else errors}" for run, errors in row["errors"].items()
            )
            + "."
            for row in summary["rows"]
        )
        return (
            f"Budget {budget['name']}: teacher {budget['teacher']} {budget['teacher_epochs']} epochs, students "
            f"{budget['student_epochs']} epochs. Test errors (seed {summary['config']['seed']}): {rows} {done}."
        )
    if summary["replay"] == "temperature-schedules":
        students = "; ".join(
            f"{TEMPERATURE_LABELS[run]} {'-' if errors is None else errors}"
            for run, errors in summary["errors"].items()
        )
        learned = summary["final_temperature"]
        return (
            f"Budget {budget['name']}: teacher {budget['teacher']} {budget['teacher_epochs']} epochs, students "
            f"{budget['student_epochs']} epochs. Test errors (seed {summary['config']['seed']}): {students}. "
            f"The learned T ended at {'-' if learned is None else f'{learned:.2f}'}. {done}."
        )
    if summary["replay"] == "stronger-teacher":
        teachers = ", ".join(f"{row['teacher']} {row['teacher_errors']}" for row in summary["teachers"])
        students = "; ".join(
            f"{row['teacher']}: " + ", ".join(f"{method} {errors}" for method, errors in row["errors"].items())
            for row in summary["teachers"]
        )
        return (
            f"Budget {budget['name']}: students {budget['student_epochs']} epochs. Teachers' test errors: {teachers}. "
            f"Students' test errors (seed {summary['config']['seed']}): alone {summary['baseline_errors']}; "
            f"{students}. {done}."
        )
    cached = ", from the cache." if summary.get("from_cache") else "."
    return (
        f"Budget {budget['name']}: teacher {budget['teacher_epochs']} epochs, students {budget['student_epochs']} "
        f"epochs, grid {budget['sweep_epochs']} epochs. {done}" + cached
    )


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
