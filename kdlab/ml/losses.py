"""Distillation losses, and the objectives the training loop plugs in.

``kd_loss`` is the knowledge-distillation loss of Hinton, Vinyals & Dean (2015), "Distilling
the Knowledge in a Neural Network", returned together with its two parts so the app can plot
the loss anatomy. ``decoupled_kl`` splits its soft term into the two parts of Zhao et al. (2022),
"Decoupled Knowledge Distillation": how sure the teacher is of the right digit (TCKD) and how it
ranks the wrong ones (NCKD). The objectives (``LabelsLoss``, ``TeacherLoss``,
``DecoupledTeacherLoss``, ``PeerLoss``) say what each model of a ``train.train_models`` run learns
from: the labels alone, a fixed teacher's logits (all of the KL, or its parts weighted), or the
other models trained beside it (deep mutual learning).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

import torch
import torch.nn.functional as F

from kdlab.ml.temperature import softened_inputs


class KDLoss(NamedTuple):
    """The total loss and its parts (each already weighted, so total = soft + hard + feature)."""

    total: torch.Tensor
    soft: torch.Tensor  # alpha * T^2 * KL(teacher_T || student_T)
    hard: torch.Tensor  # (1 - alpha) * CE(student, targets)
    # A feature- or relation-based method's term (``kdlab.ml.methods.transfer``); None for the others
    feature: torch.Tensor | None = None


def soft_target_kl(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch.

    The student side uses ``log_softmax`` for numerical stability. The T^2 factor keeps the
    gradient magnitude of this term roughly independent of T (Hinton et al. 2015, sec. 2):
    the gradients of the softened term scale as 1/T^2.
    """
    student_log_probs = F.log_softmax(student_logits / temperature, dim=1)  # (B, 10)
    teacher_log_probs = F.log_softmax(teacher_logits / temperature, dim=1)  # (B, 10)
    kl = F.kl_div(student_log_probs, teacher_log_probs, reduction="batchmean", log_target=True)
    return kl * temperature**2


def kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float,
    alpha: float,
    standardise: bool = False,
) -> KDLoss:
    """Knowledge-distillation loss (Hinton, Vinyals & Dean 2015)::

        total = alpha * T^2 * KL(softmax(z_t / T) || softmax(z_s / T))
                + (1 - alpha) * CE(softmax(z_s), y)

    Convention: ``alpha`` weights the *soft* (teacher) term; ``alpha = 0`` is plain
    cross-entropy on the labels and ``alpha = 1`` ignores the labels entirely. The
    teacher logits are detached, so no gradient ever reaches the teacher.

    Args:
        student_logits: (B, C) raw student outputs.
        teacher_logits: (B, C) raw teacher outputs for the same images.
        targets: (B,) integer class labels.
        temperature: T > 0; higher T softens both distributions.
        alpha: weight of the soft term, in [0, 1].
        standardise: z-score both sides' logits per sample before the temperature in the soft term (Sun et al.
            2024, ``kdlab.ml.temperature.standardised``); the labels' term keeps the raw logits.

    Returns:
        ``KDLoss(total, soft, hard)`` with ``total = soft + hard``.
    """
    student, teacher = (softened_inputs(logits, standardise) for logits in (student_logits, teacher_logits.detach()))
    soft = alpha * soft_target_kl(student, teacher, temperature)
    hard = (1.0 - alpha) * F.cross_entropy(student_logits, targets)
    return KDLoss(soft + hard, soft, hard)


def mutual_learning_loss(
    logits: torch.Tensor,
    peer_logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float = 1.0,
    alpha: float = 0.5,
) -> KDLoss:
    """Deep mutual learning loss for one of two peers (Zhang et al. 2018).

    Each peer learns from the labels and from the other peer's current predictions, which
    are treated as fixed targets for this step (detached). With ``temperature = 1`` and
    ``alpha = 0.5`` this is the paper's CE + KL(p_peer || p) up to a factor of 2.
    """
    return kd_loss(logits, peer_logits.detach(), targets, temperature, alpha)


# Far below any real logit / T, yet finite: exp() of it is exactly 0 in float32, and 0 * (a - b)
# stays 0 in the KL, where -inf would give 0 * nan.
MASKED_LOGIT = -1e9


# The soft terms a student can learn from: all of the KL (Hinton et al.), or Zhao et al.'s parts.
class DecoupledKL(NamedTuple):
    """Zhao et al.'s parts of the KD soft term, per sample (B,), each already times T^2."""

    tckd: torch.Tensor  # T^2 * KL(b_teacher || b_student), b = [p_target, 1 - p_target]
    nckd: torch.Tensor  # T^2 * KL over the non-target classes, each side renormalised to sum 1
    non_target_weight: torch.Tensor  # 1 - p_target of the teacher at T: the weight KD puts on NCKD


def decoupled_kl(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float,
    standardise: bool = False,
) -> DecoupledKL:
    """The KD soft term split as in Zhao et al. (CVPR 2022), "Decoupled Knowledge Distillation"::

        p = softmax(z / T), b = [p_t, 1 - p_t], p_hat_j = p_j / (1 - p_t) for j != t
        TCKD = T^2 * KL(b_teacher || b_student)
        NCKD = T^2 * KL(p_hat_teacher || p_hat_student)
        T^2 * KL(p_teacher || p_student) = TCKD + (1 - p_t^teacher) * NCKD   (exactly, per sample)

    All in log space: log(1 - p_t) is logsumexp of the other logits minus logsumexp of all, and
    the NCKD distributions are ``log_softmax`` with the target logit masked out, so a teacher 99.99%
    sure of the digit still has well-defined non-target shares. The teacher logits are detached.

    Args:
        student_logits, teacher_logits: (B, C) raw outputs for the same images.
        targets: (B,) integer class labels.
        temperature: T > 0.
        standardise: z-score both sides' logits per sample first (``kd_loss``'s ``standardise``).

    Returns:
        ``DecoupledKL(tckd, nckd, non_target_weight)``, each of shape (B,).
    """
    student_logits = softened_inputs(student_logits, standardise)
    teacher_logits = softened_inputs(teacher_logits.detach(), standardise)
    target_mask = F.one_hot(targets, student_logits.shape[1]).bool()  # (B, C)

    def parts(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        scaled = logits / temperature  # (B, C)
        masked = scaled.masked_fill(target_mask, MASKED_LOGIT)  # (B, C), the target left out
        log_all = torch.logsumexp(scaled, dim=1, keepdim=True)  # (B, 1)
        log_target = scaled.gather(1, targets[:, None]) - log_all  # (B, 1): log p_t
        log_rest = torch.logsumexp(masked, dim=1, keepdim=True) - log_all  # (B, 1): log(1 - p_t)
        return torch.cat([log_target, log_rest], dim=1), F.log_softmax(masked, dim=1)  # (B, 2), (B, C)

    student_binary, student_rest = parts(student_logits)
    teacher_binary, teacher_rest = parts(teacher_logits)
    tckd = F.kl_div(student_binary, teacher_binary, reduction="none", log_target=True).sum(dim=1)
    nckd = F.kl_div(student_rest, teacher_rest, reduction="none", log_target=True).sum(dim=1)
    scale = temperature**2
    return DecoupledKL(tckd * scale, nckd * scale, teacher_binary[:, 1].exp())


def decoupled_kd_loss(
    student_logits: torch.Tensor,
    teacher_logits: torch.Tensor,
    targets: torch.Tensor,
    temperature: float,
    alpha: float,
    tckd_weight: float,
    nckd_weight: float,
    standardise: bool = False,
) -> KDLoss:
    """Decoupled KD (Zhao et al. 2022) combined with the labels the way ``kd_loss`` is::

        total = alpha * (tckd_weight * TCKD + nckd_weight * NCKD) + (1 - alpha) * CE(softmax(z_s), y)

    ``tckd_weight = 1, nckd_weight = 0`` is TCKD alone, ``0, 1`` NCKD alone, and ``1, beta`` is
    DKD (the paper's alpha = 1, beta = 8 by default). Classical KD is the same sum with NCKD
    weighted per sample by the teacher's 1 - p_t, so a confident teacher silences its NCKD; DKD
    gives it a fixed weight instead. Each part is batch-averaged; the teacher gets no gradient.
    """
    kl = decoupled_kl(student_logits, teacher_logits, targets, temperature, standardise)
    soft = alpha * (tckd_weight * kl.tckd.mean() + nckd_weight * kl.nckd.mean())
    hard = (1.0 - alpha) * F.cross_entropy(student_logits, targets)
    return KDLoss(soft + hard, soft, hard)


class Objective(Protocol):
    """What one model of a training run minimises, given every model's logits for the batch."""

    def to(self, device: torch.device) -> Objective: ...

    def __call__(
        self, logits: list[torch.Tensor], model_index: int, labels: torch.Tensor, batch_index: torch.Tensor
    ) -> KDLoss: ...


@dataclass(frozen=True)
class LabelsLoss:
    """Plain cross-entropy on the labels: the student trained alone (the baseline)."""

    def to(self, device: torch.device) -> LabelsLoss:
        return self

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        loss = F.cross_entropy(logits[model_index], labels)
        return KDLoss(loss, loss.new_zeros(()), loss)


@dataclass(frozen=True)
class TeacherLoss:
    """``kd_loss`` against a fixed teacher whose logits for the whole transfer set were
    computed once: (N_transfer, 10), indexed by the batch, so a step costs no teacher pass."""

    teacher_logits: torch.Tensor
    temperature: float
    alpha: float
    standardise: bool = False  # z-score the logits of the soft term (``kd_loss``)

    def to(self, device: torch.device) -> TeacherLoss:
        return replace(self, teacher_logits=self.teacher_logits.to(device))

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        teacher = self.teacher_logits[batch_index]
        return kd_loss(logits[model_index], teacher, labels, self.temperature, self.alpha, self.standardise)

    def soft_parts(self, student_logits: torch.Tensor, labels: torch.Tensor, batch_index: torch.Tensor) -> torch.Tensor:
        """(2,): the soft term's TCKD and NCKD parts as this loss weights them, batch means: alpha TCKD
        and alpha (1 - p_t) NCKD, which sum to the soft term (``decoupled_kl``)."""
        kl = decoupled_kl(student_logits, self.teacher_logits[batch_index], labels, self.temperature, self.standardise)
        return self.alpha * torch.stack([kl.tckd.mean(), (kl.non_target_weight * kl.nckd).mean()])


@dataclass(frozen=True)
class DecoupledTeacherLoss:
    """``decoupled_kd_loss`` against a fixed teacher's precomputed transfer-set logits
    (N_transfer, 10), like ``TeacherLoss``: TCKD and NCKD weighted freely (TCKD alone, NCKD alone, DKD)."""

    teacher_logits: torch.Tensor
    temperature: float
    alpha: float
    tckd_weight: float
    nckd_weight: float
    standardise: bool = False  # z-score the logits of the soft term (``kd_loss``)

    def to(self, device: torch.device) -> DecoupledTeacherLoss:
        return replace(self, teacher_logits=self.teacher_logits.to(device))

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        return decoupled_kd_loss(
            logits[model_index],
            self.teacher_logits[batch_index],
            labels,
            self.temperature,
            self.alpha,
            self.tckd_weight,
            self.nckd_weight,
            self.standardise,
        )

    def soft_parts(self, student_logits: torch.Tensor, labels: torch.Tensor, batch_index: torch.Tensor) -> torch.Tensor:
        """(2,): the soft term's TCKD and NCKD parts as this loss weights them, batch means."""
        kl = decoupled_kl(student_logits, self.teacher_logits[batch_index], labels, self.temperature, self.standardise)
        return self.alpha * torch.stack([self.tckd_weight * kl.tckd.mean(), self.nckd_weight * kl.nckd.mean()])


@dataclass(frozen=True)
class PeerLoss:
    """Deep mutual learning: ``mutual_learning_loss`` against the other models' current logits
    (averaged over them when there are more than two peers)."""

    temperature: float = 1.0
    alpha: float = 0.5

    def to(self, device: torch.device) -> PeerLoss:
        return self

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        parts = [
            mutual_learning_loss(logits[model_index], peer, labels, self.temperature, self.alpha)
            for index, peer in enumerate(logits)
            if index != model_index
        ]
        if len(parts) == 1:
            return parts[0]
        soft = torch.stack([part.soft for part in parts]).mean()
        hard = parts[0].hard
        return KDLoss(soft + hard, soft, hard)
