"""DIST (Huang, You, Wang, Qian & Xu, "Knowledge Distillation from A Stronger Teacher", NeurIPS 2022): the student
matches how the teacher's softened outputs correlate, not the outputs themselves. With y = softmax(z / T) per
sample, a batch (B, C)::

    inter = 1 - mean over samples i of Pearson(y_s[i, :], y_t[i, :])   (each image's ranking of the digits)
    intra = 1 - mean over classes c of Pearson(y_s[:, c], y_t[:, c])   (each digit's ranking of the images)
    DIST  = T^2 * (inter_weight * inter + intra_weight * intra)

Pearson is the cosine of the mean-centred vectors, so it ignores any positive scale and shift of either side:
the student need not be as sure as a much stronger teacher, only rank alike. The paper weights both by 1 at
tau = 1 on ImageNet and by 2 at tau = 4 on CIFAR-100; kdlab's T is its tau, and ``alpha`` weights DIST against
the labels' cross-entropy as it weights KD.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from kdlab.i18n import N_
from kdlab.ml.losses import KDLoss
from kdlab.ml.methods.method import Method, MethodSetting
from kdlab.ml.temperature import softened_inputs

PEARSON_EPS = 1e-8  # the paper's code: added to the product of the norms, so a constant vector gives 0, not nan


def pearson(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(B,): the Pearson correlation of each row of ``a`` with the same row of ``b`` (both (B, C)): the cosine
    of the rows centred to mean 0; 0 where a row is constant."""
    a = a - a.mean(dim=1, keepdim=True)  # (B, C)
    b = b - b.mean(dim=1, keepdim=True)  # (B, C)
    return (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1) + PEARSON_EPS)


def inter_class_relation(student_probs: torch.Tensor, teacher_probs: torch.Tensor) -> torch.Tensor:
    """1 - the mean over the samples of the Pearson correlation between the two rows (B, C): how differently the
    student ranks the digits of each image."""
    return 1.0 - pearson(student_probs, teacher_probs).mean()


def intra_class_relation(student_probs: torch.Tensor, teacher_probs: torch.Tensor) -> torch.Tensor:
    """1 - the mean over the classes of the Pearson correlation between the two columns (B, C): how differently
    the student ranks the batch's images for each digit."""
    return inter_class_relation(student_probs.T, teacher_probs.T)


def dist_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    temperature: float | torch.Tensor,
    inter_weight: float,
    intra_weight: float,
) -> torch.Tensor:
    """T^2 * (inter_weight * inter + intra_weight * intra) on y = softmax(z / T) of the (B, C) logits; the
    teacher's are detached. ``temperature`` may be a 0-d tensor that needs its gradient (a learned T)."""
    student_probs = F.softmax(student_logits / temperature, dim=1)  # (B, C)
    teacher_probs = F.softmax(teacher_logits.detach() / temperature, dim=1)  # (B, C)
    inter = inter_class_relation(student_probs, teacher_probs)
    intra = intra_class_relation(student_probs, teacher_probs)
    return temperature**2 * (inter_weight * inter + intra_weight * intra)


@dataclass(frozen=True)
class DistLoss:
    """alpha * DIST + (1 - alpha) * CE against a fixed teacher's precomputed transfer-set logits (N_transfer, 10).

    DIST's terms are correlations, not a KL, so it has no TCKD and NCKD parts (no ``soft_parts``: the curve
    points carry none, and the loss anatomy draws the soft term whole)."""

    teacher_logits: torch.Tensor
    temperature: float | torch.Tensor
    alpha: float
    inter: float
    intra: float
    standardise: bool = False  # z-score the logits before T (``kdlab.ml.temperature``)

    def to(self, device: torch.device) -> DistLoss:
        return replace(self, teacher_logits=self.teacher_logits.to(device))

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        student = logits[model_index]
        teacher = softened_inputs(self.teacher_logits[batch_index], self.standardise)
        relations = dist_loss(
            softened_inputs(student, self.standardise), teacher, self.temperature, self.inter, self.intra
        )
        soft = self.alpha * relations
        hard = (1.0 - self.alpha) * F.cross_entropy(student, labels)
        return KDLoss(soft + hard, soft, hard)


# Huang et al.'s beta and gamma: 1 each at tau = 1 (ImageNet), 2 each at tau = 4 (CIFAR-100); the lab's choices
# halve and double around them.
DIST_WEIGHTS = (0.5, 1.0, 2.0, 4.0)

METHOD = Method(
    name="dist",
    label=N_("DIST"),
    summary=N_(
        "Pearson correlations: the student ranks each image's digits, and each digit's images, as the teacher "
        "does, whatever the scale of its outputs"
    ),
    formula="DIST = T^2 * (inter * (1 - Pearson per image) + intra * (1 - Pearson per digit)), y = softmax(z / T)",
    objective=lambda teacher_logits, temperature, alpha, settings: DistLoss(
        teacher_logits, temperature, alpha, settings["dist_inter"], settings["dist_intra"]
    ),
    dark_knowledge=N_(
        "DIST matches how the teacher's outputs correlate instead, across the digits of each image and "
        "across the images for each digit, whatever their scale."
    ),
    settings=(
        MethodSetting(
            name="dist_inter",
            label=N_("DIST inter: weight of each image's ranking of the digits"),
            values=DIST_WEIGHTS,
            default=1.0,
            low=0.0,
            high=10.0,
            help=N_(
                "DIST = T^2 * (inter * (1 - Pearson per image) + intra * (1 - Pearson per digit)); used with DIST only."
            ),
        ),
        MethodSetting(
            name="dist_intra",
            label=N_("DIST intra: weight of each digit's ranking of the images"),
            values=DIST_WEIGHTS,
            default=1.0,
            low=0.0,
            high=10.0,
            help=N_(
                "DIST = T^2 * (inter * (1 - Pearson per image) + intra * (1 - Pearson per digit)); used with DIST only."
            ),
        ),
    ),
    # Its run's training time over KD's (bench/method_cost.py --settings, the lab's default run, one thread, full
    # MNIST, the median of 5 and of 3 pairs run in turn with KD on a shared machine): 1.07x and 1.01x in wall
    # clock, 1.17x and 1.05x in CPU time (two Pearson matrices a step on top of KD's softmax); the cost cap counts
    # the larger.
    cost=1.2,
)
