"""Every distillation method, by name (``METHODS``), and the objective a run's method makes."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import torch

from kdlab.ml.features import feature_shapes
from kdlab.ml.methods import at, dist, dkd, hints, kd, logits, nckd, rkd, sp, tckd
from kdlab.ml.methods.method import Method, MethodSetting
from kdlab.ml.methods.transfer import FeatureObjective
from kdlab.ml.methods.views import LiveView
from kdlab.ml.temperature import ScheduledObjective, TemperatureSchedule

METHODS: dict[str, Method] = {
    module.METHOD.name: module.METHOD for module in (kd, tckd, nckd, dkd, logits, dist, hints, at, rkd, sp)
}


def method_settings() -> dict[str, tuple[Method, MethodSetting]]:
    """Every method's own settings by name, with the method each belongs to."""
    return {setting.name: (method, setting) for method in METHODS.values() for setting in method.settings}


def teacher_objective(
    teacher_logits: torch.Tensor,
    temperature: float,
    alpha: float,
    soft: str = "kd",
    *,
    signal: dict[str, torch.Tensor] | None = None,
    student: str | None = None,
    teacher: str | None = None,
    seed: int = 0,
    live: LiveView | None = None,
    standardise: bool = False,
    schedule: str = "constant",
    **settings: Any,
):
    """The objective of a student distilled from ``teacher_logits`` with the method ``soft`` (a key of
    ``METHODS``) and its ``settings`` (None or missing: the method's default). A feature- or relation-based
    method also takes the teacher's ``signal`` for the transfer set (``FeatureTransfer.signal_for``) and the
    ``student`` and ``teacher`` architectures (its term's shapes), the run's ``seed`` (its own initial
    weights, the hint regressor's) and, for the lab's live view, its ``live`` view (``FeatureTransfer.live_view``).
    ``standardise`` z-scores the soft term's logits and ``schedule`` moves T over the run
    (``kdlab.ml.temperature``), for a method that softens by T.

    Raises:
        ValueError: an unknown method, a feature method without its signal and architectures, or standardised
            logits or a schedule for a method without a temperature.
    """
    if soft not in METHODS:
        raise ValueError(f"Unknown method '{soft}': choose one of {', '.join(METHODS)}.")
    method = METHODS[soft]
    values = method.setting_values(settings)
    objective = method.objective(teacher_logits, temperature, alpha, values)
    if (standardise or schedule != "constant") and not method.softened:
        raise ValueError(f"{method.label} has no temperature: standardised logits and a schedule need one.")
    if standardise:
        objective = replace(objective, standardise=True)
    if schedule != "constant":
        objective = ScheduledObjective(objective, TemperatureSchedule(schedule, temperature))
    transfer = method.transfer
    if transfer is None:
        return objective
    if signal is None or student is None or teacher is None:
        raise ValueError(f"{method.label} needs the teacher's features and both architectures.")
    term = transfer.term(values, feature_shapes(student), feature_shapes(teacher), seed)
    first_stage = values[transfer.first_stage] if transfer.first_stage else 0.0
    return FeatureObjective(objective, term, signal, transfer.taps, first_stage, live)
