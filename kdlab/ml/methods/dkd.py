"""Decoupled KD (Zhao et al., CVPR 2022): TCKD + beta * NCKD, the two parts of the KD term weighted freely.

Classical KD weights NCKD by the teacher's 1 - p_target, so a confident teacher silences it; DKD gives it
the fixed weight beta (``kdlab.ml.losses.decoupled_kd_loss``).
"""

from __future__ import annotations

from kdlab.i18n import N_
from kdlab.ml.losses import DecoupledTeacherLoss
from kdlab.ml.methods.method import Method, MethodSetting

DKD_TCKD_WEIGHT = 1.0  # Zhao et al.'s alpha, called alpha_t here: kdlab's alpha weights the soft term
DKD_BETA = 8.0  # Zhao et al.'s default for CIFAR-100 and ImageNet (they report no MNIST runs)

METHOD = Method(
    name="dkd",
    label=N_("DKD"),
    summary=N_("decoupled KD: TCKD + beta * NCKD, the two parts weighted freely"),
    formula="DKD = TCKD + beta * NCKD",
    objective=lambda teacher_logits, temperature, alpha, settings: DecoupledTeacherLoss(
        teacher_logits, temperature, alpha, DKD_TCKD_WEIGHT, settings["beta"]
    ),
    anatomy=(
        ("tckd", N_("distilled: TCKD part (right digit vs the rest)")),
        ("nckd", N_("distilled: NCKD part, weighted by beta (the wrong digits' ranking)")),
    ),
    dark_knowledge=N_("DKD weights it by beta = {beta} instead."),
    settings=(
        MethodSetting(
            name="beta",
            label=N_("beta: weight of NCKD in DKD"),
            values=(1.0, 2.0, 4.0, 8.0, 16.0),  # Zhao et al.'s default 8, and powers of 2 around it
            default=DKD_BETA,
            low=0.0,
            high=100.0,
            help=N_("DKD = TCKD + beta * NCKD; used with the DKD soft loss only."),
        ),
    ),
)
