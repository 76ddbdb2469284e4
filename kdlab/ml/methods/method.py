"""What a distillation method declares (``Method``) and each setting of its own (``MethodSetting``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from kdlab.ml.methods.transfer import FeatureTransfer


@dataclass(frozen=True)
class MethodSetting:
    """A setting a method adds to T and alpha: a ``DistillConfig`` field of the same name, a lab control
    (``values``), a link parameter and a command-line option (``--name``)."""

    name: str
    label: str  # the lab control's label
    values: tuple[float, ...]  # the lab's choices
    default: float  # used when the run leaves it unset
    low: float  # the range DistillConfig accepts
    high: float
    help: str  # one sentence, for the control's help and the option's


@dataclass(frozen=True)
class Method:
    """One distillation method: how a student is distilled from its teacher's softened outputs.

    ``objective(teacher_logits, temperature, alpha, settings)`` is the training loop's objective
    (``kdlab.ml.losses.Objective``) for the transfer set's teacher logits, with ``settings`` the values of
    the method's own settings (their defaults filled in).
    """

    name: str  # DistillConfig.soft, ?soft=, --soft
    label: str  # the lab's radio button (marked with N_: translated where shown)
    summary: str  # one line: what the student learns from the teacher (marked with N_)
    formula: str  # the soft term, in plain text
    objective: Callable[[torch.Tensor, float, float, dict[str, Any]], Any]
    # The loss anatomy's lines of the soft term's parts: (the part a curve point measures, ``kdlab.ml.curve_points``,
    # "tckd" or "nckd"; its line's name). A part the method leaves out has no line.
    anatomy: tuple[tuple[str, str], ...] = ()
    # What the lab adds to its sentence on the weight classical KD gives the wrong digits (``kdlab.ui.lab_split``);
    # translated, then formatted with the method's settings written as numbers: "DKD weights it by beta = {beta} instead."
    dark_knowledge: str = ""
    settings: tuple[MethodSetting, ...] = ()
    # A feature- or relation-based method's extra term on the networks' inside (``kdlab.ml.methods.transfer``);
    # None for a method on the teacher's outputs alone.
    transfer: FeatureTransfer | None = None
    # What the method's knowledge is, in the field's words (Gou et al.'s survey): "response", "feature", "relation".
    knowledge: str = "response"
    # A distilled run's training time over KD's for the same student (bench/method_cost.py): the cost cap and the
    # progress plan multiply the distilled run by it (``kdlab.experiments.plans.student_pair_plan``).
    cost: float = 1.0
    # Whether the soft term softens the logits by T (and so takes standardised logits and a temperature schedule,
    # ``kdlab.ml.temperature``): its objective is a dataclass with ``temperature`` and ``standardise`` fields.
    softened: bool = True

    def unfit(self, teacher: str, student: str) -> str:
        """Why this method cannot distill ``student`` from ``teacher`` (architecture or teacher names), in one
        sentence; "" when it can."""
        return self.transfer.unfit(self.label, teacher, student) if self.transfer is not None else ""

    def setting_values(self, given: dict[str, Any]) -> dict[str, Any]:
        """The method's settings: each from ``given`` where it is not None, else its default."""
        return {
            setting.name: setting.default if given.get(setting.name) is None else given[setting.name]
            for setting in self.settings
        }
