"""Progress plans: each stage of an experiment with its share of the work, the weights
``kdlab.ml.progress.ProgressTracker`` turns into one overall fraction."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from kdlab.teachers.ensembles import training_cost


class PlannedRun(NamedTuple):
    """One training run to come: what trains, on how many images, for how many epochs."""

    architecture: str
    images: int
    epochs: int


def progress_plan(stages: Mapping[str, PlannedRun | None]) -> dict[str, float]:
    """Stage -> its ``training_cost``, in the given order. None plans a stage at no cost: a
    teacher already in the cache, so the bar and its time estimate count only work that runs."""
    return {stage: 0.0 if run is None else training_cost(*run) for stage, run in stages.items()}


def student_pair_plan(
    teacher: PlannedRun | None, student: PlannedRun, runs: Mapping[str, str], distilled_cost: float = 1.0
) -> dict[str, float]:
    """The plan of ``kdlab.experiments.distill.train_student_pair`` after its teacher: the
    teacher, then one stage per run label of ``runs`` (the same mapping the pair trains). The distilled
    run costs ``distilled_cost`` times its student's training: its method's ``Method.cost`` (a feature
    term's hooks and loss cost more than KD's soft targets)."""
    plan = progress_plan({"teacher": teacher} | dict.fromkeys(runs.values(), student))
    if "distilled" in runs:
        plan[runs["distilled"]] *= distilled_cost
    return plan
