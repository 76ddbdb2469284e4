"""Classical knowledge distillation (Hinton, Vinyals & Dean 2015): the student matches all of the teacher's
softened distribution, T^2 * KL(teacher || student) at temperature T (``kdlab.ml.losses.kd_loss``)."""

from __future__ import annotations

from kdlab.i18n import N_
from kdlab.ml.losses import TeacherLoss
from kdlab.ml.methods.method import Method

METHOD = Method(
    name="kd",
    label=N_("KD"),
    summary=N_("classical KD: all of KL(teacher || student)"),
    formula="T^2 * KL(softmax(z_t / T) || softmax(z_s / T))",
    objective=lambda teacher_logits, temperature, alpha, settings: TeacherLoss(teacher_logits, temperature, alpha),
    anatomy=(
        ("tckd", N_("distilled: TCKD part (right digit vs the rest)")),
        ("nckd", N_("distilled: NCKD part, weighted by 1 - p(right digit) (the wrong digits' ranking)")),
    ),
)
