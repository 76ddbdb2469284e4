"""Relational KD (Park et al., CVPR 2019): the student copies how the teacher relates the examples of a batch
to each other, not their features themselves.

On the two networks' last hidden layers e (``kdlab.ml.features``, "embedding"; their sizes may differ), with
psi_D the pairwise distances divided by their mean over the batch's pairs and psi_A the cosine of the angle at
e_j between e_i and e_k::

    RKD = w_d * mean_{i != j} huber(psi_D^s(i, j) - psi_D^t(i, j)) + w_a * mean_{i, j, k} huber(psi_A^s - psi_A^t)

with huber the smooth L1 loss (delta 1) and w_d = 25, w_a = 50, the paper's and RepDistiller's weights. The
angle-wise mean here runs over the triplets of a batch's first ``ANGLE_EXAMPLES`` examples (see there why).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.i18n import N_
from kdlab.ml.features import EMBEDDING
from kdlab.ml.methods import kd
from kdlab.ml.methods.method import Method, MethodSetting
from kdlab.ml.methods.transfer import FeatureTransfer, last_hidden_layer
from kdlab.ml.methods.views import FeatureView

RKD_DISTANCE_WEIGHT = 25.0
RKD_ANGLE_WEIGHT = 50.0
# The angles are taken over a batch's first 32 examples (32^3 = 32,768 triplets; each batch is a fresh random
# draw, so every example takes its turn): all 128^3 of a batch of 128 cost 62 ms a step on one CPU thread, the
# default lab run 100 s instead of KD's 5 s. The distances use the whole batch.
ANGLE_EXAMPLES = 32


def normalised_distances(embeddings: torch.Tensor) -> torch.Tensor:
    """psi_D: (B, B) Euclidean distances between the rows of ``embeddings`` (B, D), over their mean off the diagonal."""
    return _distances(embeddings @ embeddings.T)


def angles(embeddings: torch.Tensor) -> torch.Tensor:
    """psi_A: (B, B, B), entry (j, i, k) the cosine of the angle at e_j between e_i and e_k (0 where i or k is j)."""
    return _angles(embeddings @ embeddings.T)


# Both from the Gram matrix G = E E^T, one product a step for each network: |e_i - e_j|^2 = G_ii + G_jj - 2 G_ij
# and <e_i - e_j, e_k - e_j> = G_ik - G_ji - G_jk + G_jj. The B^3 cosines then cost B^2 D + B^3 rather than the
# B^3 D of the differences themselves (RepDistiller's way: 2.2 GFLOP a step for cnn-wide's 1,024 units at a batch
# of 128), and the distances' backward is a product rather than cdist's (1.05 ms a step for mlp-200x1, measured
# on one thread; 0.5 ms from G).
def _lengths(gram: torch.Tensor) -> torch.Tensor:
    """(B, B): |e_i - e_j| from the Gram matrix, zero on the diagonal."""
    squares = gram.diagonal()
    same = torch.eye(len(gram), dtype=torch.bool, device=gram.device)
    return (squares[None, :] + squares[:, None] - 2 * gram).clamp_min(1e-12).sqrt().masked_fill(same, 0.0)


def _distances(gram: torch.Tensor) -> torch.Tensor:
    distances = _lengths(gram)
    count = len(gram)
    mean = distances.sum() / max(count * (count - 1), 1)  # over the pairs off the diagonal
    return distances / mean.clamp_min(1e-12)


def _angles(gram: torch.Tensor) -> torch.Tensor:
    squares = gram.diagonal()
    dots = gram[None, :, :] - gram[:, :, None] - gram[:, None, :] + squares[:, None, None]  # (j, i, k)
    lengths = _lengths(gram).clamp_min(1e-6)  # (j, i): |e_i - e_j|
    cosines = dots / (lengths[:, :, None] * lengths[:, None, :])
    same = torch.eye(len(gram), dtype=torch.bool, device=gram.device)  # (j, i): i is j
    return cosines.masked_fill(same[:, :, None] | same[:, None, :], 0.0)


def rkd_loss(
    student: torch.Tensor,
    teacher: torch.Tensor,
    distance_weight: float,
    angle_weight: float,
    angle_examples: int | None = None,
) -> torch.Tensor:
    """w_d * distance-wise + w_a * angle-wise RKD for the embeddings ``student`` (B, D_s) and ``teacher`` (B, D_t);
    the angles over the first ``angle_examples`` rows only (None: all of them), a part left out at weight 0."""
    count = len(student)
    pairs = max(count * (count - 1), 1)
    student_gram = student @ student.T
    with torch.no_grad():
        teacher_gram = teacher @ teacher.T
    total = student.new_zeros(())
    if distance_weight:
        with torch.no_grad():
            teacher_distances = _distances(teacher_gram)
        # Both diagonals are 0, so the sum over the whole matrix is the sum off it (no gather of the pairs).
        distance = F.smooth_l1_loss(_distances(student_gram), teacher_distances, reduction="sum") / pairs
        total = total + distance_weight * distance
    if angle_weight:
        with torch.no_grad():
            teacher_angles = _angles(teacher_gram[:angle_examples, :angle_examples])
        student_angles = _angles(student_gram[:angle_examples, :angle_examples])
        total = total + angle_weight * F.smooth_l1_loss(student_angles.flatten(), teacher_angles.flatten())
    return total


class RelationTerm(nn.Module):
    def __init__(self, distance_weight: float, angle_weight: float) -> None:
        super().__init__()
        self.distance_weight, self.angle_weight = distance_weight, angle_weight

    def forward(self, student, teacher) -> torch.Tensor:
        return rkd_loss(student[EMBEDDING], teacher[EMBEDDING], self.distance_weight, self.angle_weight, ANGLE_EXAMPLES)


def _student_distances(features: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], term) -> tuple:
    """The live view's student side: its normalised distances psi_D over the fixed digits, and the distance-wise
    part of RKD (unweighted) against the teacher's."""
    matrix = normalised_distances(features[EMBEDDING])
    off_diagonal = ~torch.eye(len(matrix), dtype=torch.bool, device=matrix.device)
    return {"matrix": matrix}, F.smooth_l1_loss(matrix[off_diagonal], teacher["matrix"][off_diagonal])


VIEW = FeatureView(
    figure="relations",
    distance=N_("RKD distance: the Huber loss between the normalised distances (RKD's distance-wise part, unweighted)"),
    teacher=lambda features, student: {"matrix": normalised_distances(features[EMBEDDING])},
    student=_student_distances,
    shown=("matrix",),
)

METHOD = Method(
    name="rkd",
    label=N_("RKD"),
    summary=N_("relational KD: KD plus copying the distances and angles between a batch's examples"),
    formula="RKD = w_d * huber(psi_D^s - psi_D^t) + w_a * huber(psi_A^s - psi_A^t), over the batch's pairs and triplets",
    objective=kd.METHOD.objective,  # the term is added to classical KD's loss
    anatomy=kd.METHOD.anatomy,
    settings=(
        MethodSetting(
            name="rkd_distance",
            label=N_("w_d: weight of RKD's distances"),
            values=(0.0, 5.0, 25.0, 50.0),  # the paper's 25; 0 leaves the angles alone
            default=RKD_DISTANCE_WEIGHT,
            low=0.0,
            high=1000.0,
            help=N_("The weight of the distance-wise part of RKD; used with RKD only."),
        ),
        MethodSetting(
            name="rkd_angle",
            label=N_("w_a: weight of RKD's angles"),
            values=(0.0, 10.0, 50.0, 100.0),  # the paper's 50; 0 leaves the distances alone
            default=RKD_ANGLE_WEIGHT,
            low=0.0,
            high=1000.0,
            help=N_("The weight of the angle-wise part of RKD; used with RKD only."),
        ),
    ),
    transfer=FeatureTransfer(
        taps=(EMBEDDING,),
        teacher_signal=last_hidden_layer,
        term=lambda settings, student, teacher, seed: RelationTerm(settings["rkd_distance"], settings["rkd_angle"]),
        part=N_("distilled: relation term (distances and angles in the batch)"),
        view=VIEW,
    ),
    knowledge="relation",
    # Its run's training time over KD's (bench/method_cost.py, the lab's default run, one thread, full MNIST,
    # the faster of two): 1.68x for mlp-200x1 (the two Gram matrices and the Huber terms cost half the small MLP's
    # step), 1.22x for cnn-small; the cost cap counts the larger.
    cost=1.7,
)
