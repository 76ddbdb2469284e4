"""Similarity-preserving KD (Tung & Mori, ICCV 2019): examples the teacher finds alike, the student should find
alike too.

On the two networks' last hidden layers F (B, D) (``kdlab.ml.features``, "embedding"), each network's batch
similarity matrix is G = F F^T with every row L2-normalised, and the term is::

    SP = gamma * ||G_s - G_t||_F^2 / B^2

with gamma = 3,000, the paper's and RepDistiller's weight. (The paper takes F from the last conv block's maps;
the last hidden layer is what every student here has.)
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

SP_WEIGHT = 3000.0


def similarity_matrix(features: torch.Tensor) -> torch.Tensor:
    """G: (B, B), F F^T of ``features`` flattened to (B, D), each row L2-normalised."""
    flat = features.flatten(1)
    return F.normalize(flat @ flat.T, p=2, dim=1)


def sp_loss(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """||G_s - G_t||_F^2 / B^2 for ``student`` (B, D_s) and ``teacher`` (B, D_t) features."""
    return (similarity_matrix(student) - similarity_matrix(teacher)).pow(2).sum() / len(student) ** 2


class SimilarityTerm(nn.Module):
    def __init__(self, weight: float) -> None:
        super().__init__()
        self.weight = weight

    def forward(self, student, teacher) -> torch.Tensor:
        return self.weight * sp_loss(student[EMBEDDING], teacher[EMBEDDING])


def _student_similarities(features: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], term) -> tuple:
    """The live view's student side: its similarity matrix G over the fixed digits, and ||G_s - G_t||_F^2 / B^2."""
    matrix = similarity_matrix(features[EMBEDDING])
    return {"matrix": matrix}, (matrix - teacher["matrix"]).pow(2).sum() / len(matrix) ** 2


VIEW = FeatureView(
    figure="relations",
    distance=N_("SP distance: ||G_s - G_t||² / B², the squared gap between the similarity matrices"),
    teacher=lambda features, student: {"matrix": similarity_matrix(features[EMBEDDING])},
    student=_student_similarities,
    shown=("matrix",),
)

METHOD = Method(
    name="sp",
    label=N_("SP"),
    summary=N_("similarity-preserving KD: KD plus copying which examples of a batch the teacher finds alike"),
    formula="SP = gamma * ||G_s - G_t||_F^2 / B^2, G = row-normalised F F^T",
    objective=kd.METHOD.objective,  # the term is added to classical KD's loss
    anatomy=kd.METHOD.anatomy,
    settings=(
        MethodSetting(
            name="sp_weight",
            label=N_("gamma: weight of the similarity term"),
            values=(300.0, 1000.0, 3000.0, 10_000.0),  # the paper's 3,000, and steps of about 3x around it
            default=SP_WEIGHT,
            low=0.0,
            high=100_000.0,
            help=N_(
                "SP's term is gamma times the squared gap between the batch's similarity matrices; used with SP only."
            ),
        ),
    ),
    transfer=FeatureTransfer(
        taps=(EMBEDDING,),
        teacher_signal=last_hidden_layer,
        term=lambda settings, student, teacher, seed: SimilarityTerm(settings["sp_weight"]),
        part=N_("distilled: similarity term (which examples look alike)"),
        view=VIEW,
    ),
    knowledge="relation",
    # Its run's training time over KD's (bench/method_cost.py, the lab's default run, one thread, full MNIST,
    # the faster of two): 1.35x for mlp-200x1 (the batch's 128 x 128 similarity matrices), 1.09x for cnn-small;
    # the cost cap counts the larger.
    cost=1.4,
)
