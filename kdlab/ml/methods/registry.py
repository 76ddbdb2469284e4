"""Every distillation method, by name (``METHODS``), and the objective a run's method makes."""

from __future__ import annotations

from typing import Any

import torch

from kdlab.ml.methods import dkd, kd, nckd, tckd
from kdlab.ml.methods.method import Method, MethodSetting

METHODS: dict[str, Method] = {module.METHOD.name: module.METHOD for module in (kd, tckd, nckd, dkd)}


def method_settings() -> dict[str, tuple[Method, MethodSetting]]:
    """Every method's own settings by name, with the method each belongs to."""
    return {setting.name: (method, setting) for method in METHODS.values() for setting in method.settings}


def teacher_objective(
    teacher_logits: torch.Tensor, temperature: float, alpha: float, soft: str = "kd", **settings: Any
):
    """The objective of a student distilled from ``teacher_logits`` with the method ``soft`` (a key of
    ``METHODS``) and its ``settings`` (None or missing: the method's default).

    Raises:
        ValueError: an unknown method.
    """
    if soft not in METHODS:
        raise ValueError(f"Unknown soft loss '{soft}': choose one of {', '.join(METHODS)}.")
    method = METHODS[soft]
    return method.objective(teacher_logits, temperature, alpha, method.setting_values(settings))
