"""Attention transfer (Zagoruyko & Komodakis, ICLR 2017, "Paying More Attention to Attention"): the student
copies where the teacher's conv blocks look.

A block's spatial attention map sums the p-th power of its activations over the channels and normalises it,
Q = vec(sum_c |A_c|^p) / ||vec(sum_c |A_c|^p)||_2 (``kdlab.ml.features.attention_map``), and the term matches
the student's maps to the teacher's at each pair of blocks::

    AT = beta * sum_{blocks j} mean_{batch, positions} (Q_s^j - Q_t^j)^2

with p = 2 and beta = 1,000, RepDistiller's defaults (its ``Attention`` loss; the paper's beta / 2 per pair,
divided by the map's size, is the same scale). A student's maps of another size are average-pooled to the
teacher's (a teacher's larger maps to the student's), so ``lenet5``'s 14 x 14 pairs with ``cnn-wide``'s 12 x 12.
Both networks must be convolutional.
"""

from __future__ import annotations

import torch
from torch import nn

from kdlab.i18n import N_
from kdlab.ml.features import BLOCK_TAPS, attention_map
from kdlab.ml.methods import kd
from kdlab.ml.methods.method import Method, MethodSetting
from kdlab.ml.methods.transfer import FeatureTransfer, Shapes
from kdlab.ml.methods.views import FeatureView

AT_WEIGHT = 1000.0  # RepDistiller's -b for attention (CIFAR-100); the paper's 1,000 over the map's size is alike
AT_POWER = 2.0  # the paper's p


def at_loss(student: dict[str, torch.Tensor], teacher_maps: dict[str, torch.Tensor]) -> torch.Tensor:
    """sum over the blocks of mean((Q_s - Q_t)^2): ``student`` the student's block maps (B, C, H, W) by tap,
    ``teacher_maps`` the teacher's attention maps (B, h * w) at the same taps (h <= H: the student's pooled)."""
    total = 0.0
    for tap, target in teacher_maps.items():
        size = round(target.shape[1] ** 0.5)
        total = total + (attention_map(student[tap], AT_POWER, size) - target).pow(2).mean()
    return total


def _teacher_maps(features: dict[str, torch.Tensor], student: Shapes) -> dict[str, torch.Tensor]:
    """The teacher's attention maps, each at the smaller of the two networks' map sizes."""
    return {
        tap: attention_map(features[tap], AT_POWER, min(features[tap].shape[-1], student[tap][-1]))
        for tap in BLOCK_TAPS
    }


class AttentionTerm(nn.Module):
    """beta * ``at_loss``."""

    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, student, teacher) -> torch.Tensor:
        return self.weight * at_loss(student, teacher)


def _student_maps(features: dict[str, torch.Tensor], teacher_maps: dict[str, torch.Tensor], term) -> tuple:
    """The live view's student side: its attention maps at the teacher's size, and the AT distance (the term
    unweighted)."""
    maps = {
        tap: attention_map(features[tap], AT_POWER, round(target.shape[1] ** 0.5))
        for tap, target in teacher_maps.items()
    }
    return maps, at_loss(features, teacher_maps)


VIEW = FeatureView(
    figure="attention",
    distance=N_("AT distance: the mean squared gap between the maps, summed over both blocks"),
    teacher=_teacher_maps,
    student=_student_maps,
    shown=BLOCK_TAPS,
    classes=(2, 3, 4, 7),  # one test image each: four shapes whose maps differ
    per_class=1,
)

METHOD = Method(
    name="at",
    label=N_("AT"),
    summary=N_("attention transfer: KD plus copying where the teacher's conv blocks look"),
    formula="AT = beta_at * sum_j mean (Q_s^j - Q_t^j)^2, Q = normalised sum_c |A_c|^2",
    objective=kd.METHOD.objective,  # the term is added to classical KD's loss
    anatomy=kd.METHOD.anatomy,
    settings=(
        MethodSetting(
            name="at_weight",
            label=N_("beta_at: weight of the attention term"),
            values=(100.0, 300.0, 1000.0, 3000.0),  # RepDistiller's 1,000, and steps of about 3x around it
            default=AT_WEIGHT,
            low=0.0,
            high=100_000.0,
            help=N_("AT's term is beta_at times the mean squared gap between the attention maps; used with AT only."),
        ),
    ),
    transfer=FeatureTransfer(
        taps=BLOCK_TAPS,
        teacher_signal=_teacher_maps,
        term=lambda settings, student, teacher, seed: AttentionTerm(settings["at_weight"]),
        part=N_("distilled: attention term (where the blocks look)"),
        view=VIEW,
    ),
    knowledge="feature",
    # Its run's training time over KD's (bench/method_cost.py, the lab's default run, one thread, full MNIST,
    # the faster of two): 1.10x for cnn-small; only conv students fit it.
    cost=1.1,
)
