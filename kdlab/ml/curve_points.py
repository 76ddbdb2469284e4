"""What the training loop measures at each curve point besides the accuracy and the loss sums: a
distilled student's soft term split in its two parts, and a feature method's live view.

The split is Zhao et al.'s (CVPR 2022): TCKD, the right digit against all the wrong ones, and NCKD,
how the wrong digits rank among themselves, each as the student's objective weights it
(``soft_parts``: classical KD weights NCKD by the teacher's 1 - p_target per image). It is measured on
the first ``SPLIT_IMAGES`` transfer images in eval mode, so it draws no random numbers and the
run's numbers stay those of a run without it. The live view (``kdlab.ml.methods.views``) is read the same way.
"""

from __future__ import annotations

import torch
from torch import nn

from kdlab.ml.data import normalize
from kdlab.ml.events import FeatureViewEvent

# One forward pass of the student on these per curve point, beside the curve accuracy's 2,000 test
# images for each of the two students: by the bench's 0.7 s of evaluations in the default run, some
# 0.1 s more of its 7.4 s (an estimate; 40 splits of 500 images took 0.6 s on one thread of a
# machine at load average 30).
SPLIT_IMAGES = 500


@torch.no_grad()
def soft_split(
    objective, model: nn.Module, images: torch.Tensor, labels: torch.Tensor, chosen: torch.Tensor
) -> tuple[float | None, float | None]:
    """(TCKD part, NCKD part) of ``model``'s soft term on the transfer images ``chosen`` (indices into
    ``images``, on their device), from ``objective.soft_parts``; (None, None) for an objective
    without a teacher."""
    soft_parts = getattr(objective, "soft_parts", None)
    if soft_parts is None:
        return None, None
    model.eval()
    logits = model(normalize(images[chosen])).float()
    model.train()
    tckd, nckd = soft_parts(logits, labels[chosen], chosen).tolist()
    return tckd, nckd


def feature_view(
    objective, model: nn.Module, run: str, point: tuple[int, int, float]
) -> tuple[FeatureViewEvent, float] | None:
    """``model``'s live view at the curve ``point`` (step, total steps, epoch) as ``run``'s event, and the distance
    between the student's and the teacher's sides; None for an objective without a live view."""
    view_of = getattr(objective, "view_of", None)
    seen = view_of(model) if view_of is not None else None
    if seen is None:
        return None
    live, side, distance = seen
    return FeatureViewEvent(run, *point, live.indices, live.labels, live.teacher_side, side), distance
