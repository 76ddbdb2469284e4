"""Hints (Romero et al., ICLR 2015, "FitNets: Hints for Thin Deep Nets"): the student's guided layer, through a
learned regressor, copies the teacher's hint layer.

Here the guided and hint layers are the two networks' last hidden layers (``kdlab.ml.features``, "embedding":
``cnn-wide``'s 1,024 units, ``mlp-200x1``'s 200), and the regressor r is one linear layer, trained with the
student::

    hint = beta_hint * mean_{batch, units} (r(u_s) - u_t)^2

with beta_hint = 100, RepDistiller's default (its ``HintLoss``, an MSE). The paper trains in two stages: first
the student up to its guided layer on the hint alone, then the whole student with KD. ``hint_stage`` is the
share of the run given to the first stage (RepDistiller trains both at once: 0).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.i18n import N_
from kdlab.ml.features import EMBEDDING
from kdlab.ml.methods import kd
from kdlab.ml.methods.method import Method, MethodSetting
from kdlab.ml.methods.transfer import FeatureTransfer, Shapes, last_hidden_layer
from kdlab.ml.methods.views import FeatureView

HINT_WEIGHT = 100.0  # RepDistiller's -b for FitNets (CIFAR-100)


def hint_loss(student: torch.Tensor, teacher: torch.Tensor, regressor: nn.Module) -> torch.Tensor:
    """mean((r(u_s) - u_t)^2) over the batch and the teacher's units: ``student`` (B, D_s), ``teacher`` (B, D_t)."""
    return F.mse_loss(regressor(student), teacher)


class HintTerm(nn.Module):
    """beta_hint * ``hint_loss`` with its regressor, a linear layer from the student's units to the teacher's."""

    def __init__(self, weight: float, student_units: int, teacher_units: int, seed: int) -> None:
        super().__init__()
        self.weight = weight
        self.regressor = nn.Linear(student_units, teacher_units)
        # nn.Linear's own initial weights, drawn from the run's seed rather than the global RNG that concurrent
        # runs share: the same run gives the same regressor.
        generator, bound = torch.Generator().manual_seed(seed), 1 / math.sqrt(student_units)
        with torch.no_grad():
            self.regressor.weight.uniform_(-bound, bound, generator=generator)
            self.regressor.bias.uniform_(-bound, bound, generator=generator)

    def forward(self, student, teacher) -> torch.Tensor:
        return self.weight * hint_loss(student[EMBEDDING], teacher[EMBEDDING], self.regressor)


def _hint_term(settings: dict, student: Shapes, teacher: Shapes, seed: int) -> HintTerm:
    return HintTerm(settings["hint_weight"], student[EMBEDDING][0], teacher[EMBEDDING][0], seed)


def principal_axes(features: torch.Tensor, count: int = 2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """The mean (D,) of ``features`` (N, D), their top ``count`` principal axes (count, D), each signed so that its
    largest component is positive (the same axes on every machine), and the share of the variance each explains."""
    mean = features.mean(dim=0)
    _, singular, axes = torch.linalg.svd(features - mean, full_matrices=False)  # axes: (min(N, D), D)
    axes = axes[:count]
    largest = axes.gather(1, axes.abs().argmax(dim=1, keepdim=True))  # (count, 1)
    axes = axes * torch.where(largest < 0, -1.0, 1.0)
    variance = singular.pow(2)
    return mean, axes, variance[:count] / variance.sum().clamp_min(1e-12)


def _teacher_projection(features: dict[str, torch.Tensor], student: Shapes) -> dict[str, torch.Tensor]:
    """The live view's teacher side: its hint layer on the fixed digits, on its own top two principal axes."""
    hint = features[EMBEDDING].float()
    mean, axes, explained = principal_axes(hint)
    return {"points": (hint - mean) @ axes.T, "explained": explained, "hint": hint, "mean": mean, "axes": axes}


def _student_projection(features: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], term: HintTerm) -> tuple:
    """The live view's student side: its regressed features r(u_s) on the teacher's axes, and the regressor's loss
    (the hint term unweighted) on the fixed digits."""
    regressed = term.regressor(features[EMBEDDING])
    return {"points": (regressed - teacher["mean"]) @ teacher["axes"].T}, F.mse_loss(regressed, teacher["hint"])


VIEW = FeatureView(
    figure="projection",
    distance=N_("regressor's loss: mean (r(u_s) - u_t)² on the fixed digits, the hint term unweighted"),
    teacher=_teacher_projection,
    student=_student_projection,
    shown=("points", "explained"),
)

METHOD = Method(
    name="hints",
    label=N_("Hints (FitNets)"),
    summary=N_("FitNets: KD plus a learned regressor from the student's last hidden layer to the teacher's"),
    formula="hint = beta_hint * mean (r(u_s) - u_t)^2, r a learned linear regressor",
    objective=kd.METHOD.objective,  # the term is added to classical KD's loss
    anatomy=kd.METHOD.anatomy,
    settings=(
        MethodSetting(
            name="hint_weight",
            label=N_("beta_hint: weight of the hint term"),
            values=(1.0, 10.0, 100.0, 1000.0),  # RepDistiller's 100, and powers of 10 around it
            default=HINT_WEIGHT,
            low=0.0,
            high=100_000.0,
            help=N_(
                "The hint term is beta_hint times the mean squared gap between r(student) and the teacher's "
                "hidden layer; used with hints only."
            ),
        ),
        MethodSetting(
            name="hint_stage",
            label=N_("share of the run on the hint alone (FitNets' first stage)"),
            values=(0.0, 0.25, 0.5),
            default=0.0,
            low=0.0,
            high=0.9,
            help=N_(
                "0 trains the hint and KD together (as RepDistiller does); 0.25 spends the first quarter of the "
                "steps on the hint alone, as the paper's two stages do; used with hints only."
            ),
        ),
    ),
    transfer=FeatureTransfer(
        taps=(EMBEDDING,),
        teacher_signal=last_hidden_layer,
        term=_hint_term,
        part=N_("distilled: hint term (the regressed hidden layer)"),
        first_stage="hint_stage",
        view=VIEW,
    ),
    knowledge="feature",
    # Its run's training time over KD's (bench/method_cost.py, the lab's default run, one thread, full MNIST,
    # the faster of two): 1.90x to 2.02x for mlp-200x1, where the 200 -> 1,024 regressor costs as much as the
    # small MLP's step, 1.07x for cnn-small; the cost cap counts the larger.
    cost=2.0,
)
