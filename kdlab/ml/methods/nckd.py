"""Non-target-class KD alone (Zhao et al. 2022): only how the teacher ranks the wrong digits,
T^2 * KL over the non-target classes, each side renormalised (``kdlab.ml.losses.decoupled_kl``)."""

from __future__ import annotations

from kdlab.i18n import N_
from kdlab.ml.losses import DecoupledTeacherLoss
from kdlab.ml.methods.method import Method

METHOD = Method(
    name="nckd",
    label=N_("NCKD only"),
    summary=N_("non-target-class KD only: how the teacher ranks the wrong digits"),
    formula="NCKD = T^2 * KL(p_hat_teacher || p_hat_student), p_hat_j = p_j / (1 - p_target), j != target",
    objective=lambda teacher_logits, temperature, alpha, settings: DecoupledTeacherLoss(
        teacher_logits, temperature, alpha, 0.0, 1.0
    ),
    anatomy=(("nckd", N_("distilled: NCKD, unweighted (the wrong digits' ranking)")),),
    dark_knowledge=N_("Your soft loss, NCKD only, keeps that part alone and with the full weight 1."),
)
