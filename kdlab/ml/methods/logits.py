"""Logit matching (Ba & Caruana 2014; Bucila et al. 2006's regression on the logits): the student copies the
teacher's logits themselves, centred, with a squared error; the limit KD approaches as T grows.

Hinton, Vinyals & Dean (2015, section 2.1): the gradient of KL(teacher_T || student_T) with respect to a student
logit is (q_i - p_i) / T; for large T, with each sample's logits of mean zero, it is about (z_i - v_i) / (N T^2)
for N classes. So T^2 * KL's gradient tends to (z_i - v_i) / N, which is the gradient of::

    LM = 1 / (2N) * sum_i (z_i - v_i)^2,  z and v each sample's student and teacher logits, centred to mean 0

averaged over the batch. ``kd_gradient_cosine`` measures how close KD's gradient comes to it at a given T.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from kdlab.i18n import N_
from kdlab.ml.losses import KDLoss, soft_target_kl
from kdlab.ml.methods.method import Method


def centred(logits: torch.Tensor) -> torch.Tensor:
    """Each row of ``logits`` (B, C) minus its mean: the logits of the same softmax with mean zero."""
    return logits - logits.mean(dim=1, keepdim=True)


def logit_matching_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """LM = mean over the batch of 1 / (2C) * sum_i (z_i - v_i)^2, on each sample's centred logits (B, C)."""
    gap = centred(student_logits) - centred(teacher_logits.detach())
    return gap.pow(2).sum(dim=1).mean() / (2 * student_logits.shape[1])


def kd_gradient_cosine(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> float:
    """The cosine between the gradients, with respect to the student's logits (B, C), of T^2 * KL(teacher_T ||
    student_T) and of logit matching (``logit_matching_loss``): 1 when KD at ``temperature`` pushes the student's
    logits exactly as matching the teacher's would. Computed with autograd, not from the formula."""
    student = student_logits.detach().clone().requires_grad_(True)
    (kd_gradient,) = torch.autograd.grad(soft_target_kl(student, teacher_logits.detach(), temperature), student)
    (lm_gradient,) = torch.autograd.grad(logit_matching_loss(student, teacher_logits), student)
    return float(F.cosine_similarity(kd_gradient.flatten(), lm_gradient.flatten(), dim=0))


@dataclass(frozen=True)
class LogitMatchingLoss:
    """alpha * LM + (1 - alpha) * CE against a fixed teacher's precomputed transfer-set logits (N_transfer, 10);
    the temperature plays no part."""

    teacher_logits: torch.Tensor
    alpha: float

    def to(self, device: torch.device) -> LogitMatchingLoss:
        return replace(self, teacher_logits=self.teacher_logits.to(device))

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        student = logits[model_index]
        soft = self.alpha * logit_matching_loss(student, self.teacher_logits[batch_index])
        hard = (1.0 - self.alpha) * F.cross_entropy(student, labels)
        return KDLoss(soft + hard, soft, hard)


METHOD = Method(
    name="logits",
    label=N_("Logit matching"),
    summary=N_("logit matching: the squared gap between the centred logits, the limit of KD as T grows"),
    formula="LM = 1/(2N) * sum_i (z_i - v_i)^2 on centred logits (no T)",
    objective=lambda teacher_logits, temperature, alpha, settings: LogitMatchingLoss(teacher_logits, alpha),
    dark_knowledge=N_("Logit matching gives every wrong digit's logit the same weight as the right one's, at any T."),
    softened=False,
)
