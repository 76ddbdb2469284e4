"""The ``temperature-width`` replay: distilled accuracy over temperature and student width.

Paper: with 300 or more units per layer all temperatures above 8 behave alike; with 30 units,
T of 2.5 to 4 is best. A completed grid is stored under the cache dir (it is the longest
replay) and shown from there until its config or data change.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from kdlab.experiments.plans import PlannedRun, progress_plan
from kdlab.experiments.replays.common import (
    ReplayResult,
    base_summary,
    comparison_row,
    load_teacher,
    overall_status,
    setup_teachers,
    teacher_summary,
)
from kdlab.experiments.replays.config import FULL_GRID, QUICK_GRID, TemperatureWidthConfig, get_budget
from kdlab.experiments.replays.over_seeds import temperature_width_seeds
from kdlab.experiments.replays.paper import PAPER
from kdlab.experiments.replays.replay import Replay
from kdlab.i18n import N_, _
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData, TransferSetSpec, default_cache_dir, select_transfer_indices
from kdlab.ml.files import write_atomically
from kdlab.ml.models import build_model, mlp_name
from kdlab.ml.progress import ProgressTracker
from kdlab.ml.train import train_model
from kdlab.teachers.ensembles import training_cost

CACHE_FORMAT = 1
PAPER_TEMPERATURE_WIDTH = {
    "wide": N_(
        "With 300 or more units in each of the two hidden layers, all temperatures above 8 gave fairly similar results."
    ),
    "narrow": N_(
        "With 30 units per layer, temperatures from 2.5 to 4 worked significantly better than higher or lower ones."
    ),
}


def temperature_width_cache_path(config: TemperatureWidthConfig, data: MnistData, cache_dir=None) -> Path:
    """Where a completed temperature-width grid for this config and data is stored."""
    key = json.dumps(
        {
            "config": config.as_dict(),
            "budget": config.budget.as_dict(),
            "data": data.source.name,
            "train": len(data.train),
            "test": len(data.test),
            "format": CACHE_FORMAT,
        },
        sort_keys=True,
    )
    digest = hashlib.sha1(key.encode()).hexdigest()[:16]
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    return cache / "replays" / f"temperature-width-{data.source.name}-{digest}.json"


def load_cached_temperature_width(
    config: TemperatureWidthConfig, data: MnistData, cache_dir=None
) -> ReplayResult | None:
    """The stored grid for exactly this config and data, or None (missing or unreadable)."""
    path = temperature_width_cache_path(config, data, cache_dir)
    try:
        summary = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if summary.get("status") != "completed" or summary.get("replay") != "temperature-width":
        return None
    summary["from_cache"] = True
    return ReplayResult("temperature-width", summary)


def _store(path: Path, summary: dict) -> None:
    """Store a completed grid; a read-only cache only means the grid is computed again next time."""
    text = json.dumps(summary, allow_nan=False)
    try:
        write_atomically(path, lambda file: file.write(text.encode()))
    except OSError:
        pass


def replay_temperature_width(
    config: TemperatureWidthConfig,
    data: MnistData,
    *,
    use_cache: bool = True,
    context: RunContext | None = None,
) -> ReplayResult:
    """Distilled test accuracy for every (width, temperature) of the grid, plus each width alone.

    A completed grid is stored under the cache dir and returned from there next time
    (``use_cache=False`` recomputes it). A stopped grid keeps the cells that finished.
    """
    context = context or RunContext()
    if use_cache:
        cached = load_cached_temperature_width(config, data, context.cache_dir)
        if cached is not None:
            return cached
    started = time.perf_counter()
    size = config.budget.sweep_train_size
    size = None if size is None or size >= len(data.train) else size
    spec = TransferSetSpec(size=size, seed=config.training.seed)
    indices = select_transfer_indices(data.train.labels, spec, batch_size=config.training.batch_size)
    transfer = data.train.subset(indices)
    columns: list[float | None] = ([None] if config.with_baseline else []) + list(config.temperatures)
    cells = [(width, temperature) for width in config.widths for temperature in columns]
    stages = {
        f"{width}/{temperature}": PlannedRun(mlp_name(width, config.depth), len(transfer), config.budget.sweep_epochs)
        for width, temperature in cells
    }
    teacher_run = PlannedRun(config.teacher, len(data.train), config.budget.teacher_epochs)
    progress = ProgressTracker(context.on_event, progress_plan({"teacher": teacher_run, **stages}))
    teacher = load_teacher(config, data, progress, context)
    grid: list[dict] = []
    for width, temperature in cells:
        if teacher.status != "completed" or context.stopped:
            break
        architecture = mlp_name(width, config.depth)
        distilled = temperature is not None
        setting = f"T = {temperature:g}" if distilled else "alone"  # the words users read
        stage = f"{width}/{temperature}"
        result = train_model(
            build_model(architecture, seed=config.training.seed),
            transfer,
            data.test,
            config.cell_training(temperature),
            run=f"{architecture} {setting if distilled else 'baseline'}",
            teacher_logits=teacher.train_logits[indices] if distilled else None,
            context=context.with_events(progress.start(stage, f"{architecture}, {setting}")),
        )
        progress.finish(stage)
        if result.status != "completed":
            break
        grid.append(
            {
                "width": width,
                "temperature": temperature,
                "arch": architecture,
                "test_accuracy": result.evaluation.accuracy,
                "test_errors": result.evaluation.errors,
                "train_seconds": round(result.seconds, 2),
            }
        )
    status = overall_status(teacher.status, "completed" if len(grid) == len(cells) else "stopped")
    findings = temperature_width_findings(grid)
    summary = base_summary(REPLAY.name, REPLAY.title, PAPER_TEMPERATURE_WIDTH, config, data) | {
        "transfer_set": {"size": len(transfer), "class_counts": transfer.class_counts()},
        "teacher": teacher_summary(teacher, config),
        "grid": grid,
        "findings": findings,
        "status": status,
        "seconds": round(time.perf_counter() - started, 2),
        "from_cache": False,
        "comparison": _comparison(findings),
    }
    if status == "completed":
        _store(temperature_width_cache_path(config, data, context.cache_dir), summary)
    progress.done(f"Finished: {status}.")
    return ReplayResult("temperature-width", summary)


def temperature_width_findings(grid: list[dict]) -> dict:
    """Per width: the best temperature, and the accuracy spread over temperatures above 8."""
    findings: dict = {"by_width": []}
    for width in sorted({cell["width"] for cell in grid}):
        distilled = [cell for cell in grid if cell["width"] == width and cell["temperature"] is not None]
        if not distilled:
            continue
        best = max(distilled, key=lambda cell: (cell["test_accuracy"], -cell["temperature"]))
        high = [cell["test_accuracy"] for cell in distilled if cell["temperature"] >= 8]
        alone = next(
            (cell["test_accuracy"] for cell in grid if cell["width"] == width and cell["temperature"] is None), None
        )
        findings["by_width"].append(
            {
                "width": width,
                "best_temperature": best["temperature"],
                "best_accuracy": best["test_accuracy"],
                "alone_accuracy": alone,
                "spread_over_t_at_least_8": (max(high) - min(high)) if len(high) >= 2 else None,
            }
        )
    return findings


def _comparison(findings: dict) -> list[dict]:
    """The paper's two findings (in words) beside ours, per width."""
    rows = []
    for entry in findings["by_width"]:
        if entry["width"] >= 300 and entry["spread_over_t_at_least_8"] is not None:
            spread = f"{100 * entry['spread_over_t_at_least_8']:.2f} percentage points"
            rows.append(
                comparison_row(
                    N_("Width {width}: accuracy spread over T >= 8"),
                    N_("fairly similar"),
                    spread,
                    "text",
                    values={"width": entry["width"]},
                )
            )
        if entry["width"] < 300:
            best = f"T = {entry['best_temperature']:g} ({entry['best_accuracy']:.2%})"
            paper = N_("2.5 to 4") if entry["width"] == 30 else None
            rows.append(
                comparison_row(
                    N_("Width {width}: best temperature"), paper, best, "text", values={"width": entry["width"]}
                )
            )
    return rows


def temperature_width_config(budget: str = "quick", **settings) -> TemperatureWidthConfig:
    """The grid's config at the named budget (the full budget's grid is larger); ``settings`` override fields
    flat (``widths=(30,)``, ``seed=3``)."""
    chosen = get_budget(budget)
    grid = FULL_GRID if budget == "full" else QUICK_GRID
    return TemperatureWidthConfig.build(budget=chosen, **{**grid, **settings})


def temperature_width_cost(config: TemperatureWidthConfig, data: MnistData) -> float:
    """Every cell of the grid (each width alone included), on the budget's sweep set."""
    images = min(len(data.train), config.budget.sweep_train_size or len(data.train))
    columns = len(config.temperatures) + config.with_baseline
    return columns * sum(
        training_cost(mlp_name(width, config.depth), images, config.budget.sweep_epochs) for width in config.widths
    )


REPLAY = Replay(
    name="temperature-width",
    title=N_("Temperature and student width"),
    source=PAPER,
    paper_numbers=PAPER_TEMPERATURE_WIDTH,
    intro=N_(
        "Distilled students of several widths (two hidden layers) at several temperatures, each beside the same "
        "width trained without a teacher (the column 'alone'). Does the best temperature depend on how big the "
        "student is?"
    ),
    paper_line="{wide} {narrow}",  # the two claims, each translated
    text_values=lambda: {key: _(claim) for key, claim in PAPER_TEMPERATURE_WIDTH.items()},
    config=temperature_width_config,
    run=replay_temperature_width,
    teachers=setup_teachers,
    cost=temperature_width_cost,
    options={"fresh": "recompute the grid even if a finished one is cached"},
    over_seeds=temperature_width_seeds,
)
