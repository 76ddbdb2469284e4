"""Distillation losses, and the objectives the training loop plugs in.

``kd_loss`` is the knowledge-distillation loss of Hinton, Vinyals & Dean (2015), "Distilling
the Knowledge in a Neural Network", returned together with its two parts so the app can plot
the loss anatomy. The objectives (``LabelsLoss``, ``TeacherLoss``, ``PeerLoss``) say what each
model of a ``train.train_models`` run learns from: the labels alone, a fixed teacher's logits,
or the other models trained beside it (deep mutual learning).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import NamedTuple, Protocol

import torch
import torch.nn.functional as F


class KDLoss(NamedTuple):
    """The total loss and its two parts (each already weighted, so total = soft + hard)."""

    total: torch.Tensor
    soft: torch.Tensor  # alpha * T^2 * KL(teacher_T || student_T)
    hard: torch.Tensor  # (1 - alpha) * CE(student, targets)


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

    Returns:
        ``KDLoss(total, soft, hard)`` with ``total = soft + hard``.
    """
    soft = alpha * soft_target_kl(student_logits, teacher_logits.detach(), temperature)
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

    def to(self, device: torch.device) -> TeacherLoss:
        return replace(self, teacher_logits=self.teacher_logits.to(device))

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        return kd_loss(logits[model_index], self.teacher_logits[batch_index], labels, self.temperature, self.alpha)


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
