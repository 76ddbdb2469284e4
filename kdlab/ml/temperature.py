"""The temperature beyond one number: standardised logits, and a temperature that changes over the run.

**Standardised logits** (Sun et al., "Logit Standardization in Knowledge Distillation", CVPR 2024). Sharing
one T makes the student match the teacher's logit *magnitudes*; z-scoring each sample's logits before the
softmax lets it match their *relations* instead::

    Z(z) = (z - mean(z)) / std(z)   per sample, then softmax(Z(z) / T_base)

which is softmax(z / T_eff) with a per-sample effective temperature T_eff = T_base * std(z)
(``effective_temperatures``). Their CIFAR-100 runs use T_base = 2 and weigh the soft term 9 against the
labels' 0.1; kdlab keeps its own alpha and lets T be the base temperature.

**A schedule** (``TemperatureSchedule``): "constant" (Hinton et al. 2015), "annealed" (cosine from the run's T
down to 1, the high-to-low curriculum of annealing KD, Jafari et al. 2021) and "learned" (CTKD, Li et al.,
"Curriculum Temperature for Knowledge Distillation", AAAI 2023): T = 1 + 20 * sigmoid(theta) is a parameter
trained beside the student through a gradient reversal, so it moves to make the soft term *harder*
(maximises it) while the student minimises it, with the reversal's weight lambda rising from 0 to 1 (the
easy-to-hard curriculum); theta takes plain gradient steps, as CTKD's SGD does. ``ScheduledObjective`` gives a method's objective its temperature at each step.
"""

from __future__ import annotations

import math
from dataclasses import replace

import torch
from torch import nn

from kdlab.i18n import N_

# One line each, for the lab's control, the command line's help and the replay's rows
SCHEDULES = {
    "constant": N_("one T for the whole run (Hinton et al. 2015)"),
    "annealed": N_("T falls from the run's T to 1 along a cosine (annealing KD, Jafari et al. 2021)"),
    "learned": N_("T is learned against the student through a gradient reversal, easy to hard (CTKD, Li et al. 2023)"),
}
STANDARDISE_EPSILON = 1e-7  # Sun et al.'s: keeps a sample whose logits are all equal finite
# CTKD's range: T = t_start + t_end * sigmoid(theta) with t_start = 1 and t_end = 20 (their CIFAR scripts).
LEARNED_LOW, LEARNED_SPAN = 1.0, 20.0
# CTKD raises lambda from 0 to 1 along a cosine over its first 10 of 240 epochs. A lab run has 2 to 40 epochs, so
# the curriculum spans the first half of the run: long enough to see T start to move, then the full reversal.
CURRICULUM_SHARE = 0.5
ANNEALED_END = 1.0  # annealing KD's last temperature: the plain softmax
# theta learns by plain gradient steps of its own, at CTKD's SGD learning rate, not with the student's Adam: Adam
# divides each step by the gradient's running size, which would cancel the curriculum's lambda (a gradient scaled
# by 0.01 early in the run moves theta as far as one scaled by 1). Measured with theta in the student's Adam: T
# rose from 4 to about 12 within the first epoch of a lab run, while lambda was still near 0.
LEARNED_RATE = 0.05


def standardised(logits: torch.Tensor) -> torch.Tensor:
    """Each row of ``logits`` (B, C) z-scored: minus its mean, over its standard deviation (Sun et al.'s Z-score,
    with the unbiased standard deviation their code takes). Invariant to adding a number to a row and to
    multiplying it by a positive one."""
    mean = logits.mean(dim=1, keepdim=True)
    return (logits - mean) / (STANDARDISE_EPSILON + logits.std(dim=1, keepdim=True))


def effective_temperatures(logits: torch.Tensor, base: float) -> torch.Tensor:
    """(B,): the temperature each sample of ``logits`` (B, C) is softened at when standardised at base temperature
    ``base``: softmax(Z(z) / base) = softmax((z - mean) / (base * std)), so T_eff = base * std(z)."""
    return base * (STANDARDISE_EPSILON + logits.std(dim=1))


def softened_inputs(logits: torch.Tensor, standardise: bool) -> torch.Tensor:
    """The logits a soft term divides by T: standardised when ``standardise``, else as they are."""
    return standardised(logits) if standardise else logits


class GradientReversal(torch.autograd.Function):
    """The identity forward; backward multiplies the gradient by -``weight`` (Ganin & Lempitsky 2015), so the
    parameter before it ascends the loss that the parameters after it descend."""

    @staticmethod
    def forward(ctx, value: torch.Tensor, weight: float) -> torch.Tensor:
        ctx.weight = weight
        return value.view_as(value)

    @staticmethod
    def backward(ctx, gradient: torch.Tensor) -> tuple[torch.Tensor, None]:
        return -ctx.weight * gradient, None


def curriculum_weight(progress: float) -> float:
    """CTKD's lambda at ``progress`` (0 to 1) through the run: 0 at the start, rising along a cosine to 1 at
    ``CURRICULUM_SHARE`` of the run, then 1."""
    share = min(progress / CURRICULUM_SHARE, 1.0)
    return 0.5 * (1.0 - math.cos(math.pi * share))


class TemperatureSchedule(nn.Module):
    """The temperature at each point of a run, from ``temperature`` (the run's T): see ``SCHEDULES``. A learned
    one holds its parameter theta, starting where T is the run's T (kept within 1.5 to 20.5, where theta is finite),
    and steps it itself (``step``)."""

    def __init__(self, kind: str, temperature: float) -> None:
        super().__init__()
        if kind not in SCHEDULES:
            raise ValueError(f"Unknown temperature schedule '{kind}': choose one of {', '.join(SCHEDULES)}.")
        self.kind, self.start = kind, float(temperature)
        if kind == "learned":
            share = (min(max(self.start, 1.5), 20.5) - LEARNED_LOW) / LEARNED_SPAN  # inside the range, theta finite
            self.theta = nn.Parameter(torch.tensor(math.log(share / (1.0 - share))))

    def value(self, progress: float) -> float | torch.Tensor:
        """T at ``progress`` (0 to 1) through the run: a float, or for a learned T a 0-d tensor whose gradient
        reaches theta reversed and weighted by the curriculum."""
        if self.kind == "constant":
            return self.start
        if self.kind == "annealed":
            return ANNEALED_END + (self.start - ANNEALED_END) * 0.5 * (1.0 + math.cos(math.pi * min(progress, 1.0)))
        reversed_theta = GradientReversal.apply(self.theta, curriculum_weight(progress))
        return LEARNED_LOW + LEARNED_SPAN * torch.sigmoid(reversed_theta)

    @torch.no_grad()
    def step(self) -> None:
        """One gradient step of a learned T's theta on the gradient the last backward pass left (reversed and
        weighted by the curriculum), at ``LEARNED_RATE``; then its gradient is cleared. Nothing for the others."""
        for parameter in self.parameters():
            if parameter.grad is not None:
                parameter -= LEARNED_RATE * parameter.grad
                parameter.grad = None

    def current(self, progress: float) -> float:
        """T at ``progress`` as a number, for the curves and the result."""
        with torch.no_grad():
            return float(self.value(progress))


class ScheduledObjective:
    """A temperature-softened objective (a frozen dataclass with a ``temperature`` field: ``TeacherLoss``,
    ``DecoupledTeacherLoss``, ``DistLoss``) whose temperature follows ``schedule`` over the run's steps.

    Like a feature method's objective, the loop calls ``attach(model, total_steps)`` before training; a learned T's
    theta takes its gradient step at the start of the next call (``TemperatureSchedule.step``: before the step's
    forward pass, as if right after the last backward), not in the student's optimiser. ``temperature_now`` is T
    where the run is now.
    """

    def __init__(self, base, schedule: TemperatureSchedule) -> None:
        self.base, self.schedule = base, schedule
        self.total_steps, self.steps = 1, 0

    def to(self, device: torch.device) -> ScheduledObjective:
        self.base, self.schedule = self.base.to(device), self.schedule.to(device)
        return self

    def attach(self, model: nn.Module, total_steps: int) -> None:
        self.total_steps, self.steps = max(total_steps, 1), 0

    @property
    def progress(self) -> float:
        return min(self.steps / self.total_steps, 1.0)

    @property
    def temperature_now(self) -> float:
        """T where the run is now."""
        return self.schedule.current(self.progress)

    def __call__(self, logits, model_index, labels, batch_index):
        self.schedule.step()
        objective = replace(self.base, temperature=self.schedule.value(self.progress))
        self.steps += 1
        return objective(logits, model_index, labels, batch_index)

    def __getattr__(self, name: str):
        # soft_parts (the loss anatomy's split) where the base has it, at T where the run is now; an AttributeError
        # otherwise, so the loop's getattr(objective, "soft_parts", None) sees what the base offers.
        if name != "soft_parts" or not hasattr(self.base, "soft_parts"):
            raise AttributeError(name)
        return replace(self.base, temperature=self.temperature_now).soft_parts
