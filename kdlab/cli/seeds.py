"""``distill --seeds N``: the same distillation at seeds s, s+1, ..., each against its student alone."""

from __future__ import annotations

import argparse
import time
from dataclasses import replace

from kdlab.cli.common import UserError, log, progress_printer
from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.experiments.seeds import MAX_SEEDS, PairedSeeds
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.ml.train import run_summary


def seed_count(text: str) -> int:
    """An argparse type: a whole number of seeds from 1 to ``MAX_SEEDS``."""
    if not text.isdigit() or not 1 <= int(text) <= MAX_SEEDS:
        raise argparse.ArgumentTypeError(f"--seeds takes a whole number from 1 to {MAX_SEEDS} (got {text!r})")
    return int(text)


def run_seeds(config: DistillConfig, data: MnistData, count: int) -> dict:
    """``count`` paired runs (distilled and alone, same batches) at seeds ``config``'s, +1, ...: every
    seed's errors, the paired differences with their 95% t-interval, and the verdict."""
    started = time.perf_counter()
    first_seed = config.training.seed
    try:
        configs = [
            replace(config, training=replace(config.training, seed=first_seed + offset), with_baseline=True)
            for offset in range(count)
        ]
    except ValueError as error:
        raise UserError(f"--seeds {count} from seed {first_seed}: {error}") from error
    results, teacher = [], None
    for seed_config in configs:
        log(f"Seed {seed_config.training.seed} ({len(results) + 1} of {count}):")
        result = run_distillation(seed_config, data, teacher=teacher, context=RunContext(on_event=progress_printer))
        teacher = result.teacher
        if result.status != "completed":
            raise UserError(f"The run at seed {seed_config.training.seed} ended {result.status}: no comparison.")
        results.append(result)
    paired = PairedSeeds(
        seeds=tuple(seed_config.training.seed for seed_config in configs),
        alone_errors=tuple(result.baseline.evaluation.errors for result in results),
        distilled_errors=tuple(result.student.evaluation.errors for result in results),
    )
    comparison = paired.summary()
    for run, result in zip(comparison["runs"], results):  # a feature method's term at each seed's end
        feature = run_summary(config.student, result.student).get("feature_loss")
        if feature is not None:
            run["feature_loss"] = feature
    log(
        f"{comparison['wins'].capitalize()}; distilled made {comparison['mean_difference']:g} fewer errors on average, "
        f"95% interval {comparison['interval_95']}: {comparison['verdict']}."
    )
    first = results[0].summary()
    return {
        "data": first["data"],
        "config": first["config"] | {"seeds": list(paired.seeds)},
        "transfer_set_size": first["transfer_set"]["size"],
        "teacher": first["teacher"],
        "seeds": comparison,
        "status": "completed",
        "seconds": round(time.perf_counter() - started, 2),
    }
