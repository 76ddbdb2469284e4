"""Target-class KD alone (Zhao et al. 2022): only the teacher's confidence in the right digit,
T^2 * KL([p_t, 1 - p_t]_teacher || [p_t, 1 - p_t]_student) (``kdlab.ml.losses.decoupled_kl``)."""

from __future__ import annotations

from kdlab.i18n import N_
from kdlab.ml.losses import DecoupledTeacherLoss
from kdlab.ml.methods.method import Method

METHOD = Method(
    name="tckd",
    label=N_("TCKD only"),
    summary=N_("target-class KD only: how sure the teacher is of the right digit"),
    formula="TCKD = T^2 * KL(b_teacher || b_student), b = [p_target, 1 - p_target]",
    objective=lambda teacher_logits, temperature, alpha, settings: DecoupledTeacherLoss(
        teacher_logits, temperature, alpha, 1.0, 0.0
    ),
    anatomy=(("tckd", N_("distilled: TCKD (right digit vs the rest)")),),
    dark_knowledge=N_(
        "Your soft loss, TCKD only, leaves that part out: the student never sees how the teacher ranks "
        "the wrong digits."
    ),
)
