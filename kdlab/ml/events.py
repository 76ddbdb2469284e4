"""What a training run reports and returns: the events of ``kdlab.ml.train``'s loop and its ``TrainResult``.

Small frozen dataclasses, so progress can leave the loop through callbacks (to a page, a command
line, a job's log) without the loop knowing who listens.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from kdlab.ml.metrics import Evaluation

RunStatus = Literal["completed", "stopped", "diverged"]


@dataclass(frozen=True)
class StepEvent:
    """Mean losses over the last few optimisation steps (about 20 reports per epoch)."""

    run: str
    step: int
    total_steps: int
    epoch: float  # fractional epochs done
    loss: float
    soft_loss: float
    hard_loss: float
    seconds: float
    feature_loss: float | None = None  # a feature- or relation-based method's term; None for the others


@dataclass(frozen=True)
class EvalEvent:
    """An accuracy point for the live curves (``evals_per_epoch`` of them per epoch)."""

    run: str
    step: int
    total_steps: int
    epoch: float
    train_accuracy: float  # running accuracy on the batches since the previous point
    test_accuracy: float
    loss: float  # mean losses since the previous point
    soft_loss: float
    hard_loss: float
    seconds: float
    # A distilled student's soft term in its two parts, as its loss weights them (``soft_split``); None without a teacher
    tckd: float | None = None
    nckd: float | None = None
    feature_loss: float | None = None  # a feature- or relation-based method's term; None for the others
    # The distance between the student's and the teacher's sides of the method's live view on its fixed test digits
    # (``kdlab.ml.methods.views``); None for a method without one
    feature_distance: float | None = None
    # The temperature at this point when a schedule moves it (``kdlab.ml.temperature``); None for a constant T
    temperature: float | None = None


@dataclass(frozen=True)
class Grid:
    """A small float32 array as bytes, as events carry them: it pickles to its size between processes (a tensor
    sent through a worker's queue would be shared memory, one file descriptor each)."""

    shape: tuple[int, ...]
    data: bytes = field(repr=False)

    @classmethod
    def of(cls, tensor: torch.Tensor) -> Grid:
        values = tensor.detach().float().cpu().contiguous()
        return cls(tuple(values.shape), values.numpy().tobytes())

    def tensor(self) -> torch.Tensor:
        """The array as a tensor on the CPU."""
        return torch.frombuffer(bytearray(self.data), dtype=torch.float32).reshape(self.shape)

    def tolist(self, decimals: int = 4) -> list:
        """The array as nested lists of numbers rounded to ``decimals`` places (JSON-ready)."""
        return self.tensor().round(decimals=decimals).tolist()


@dataclass(frozen=True)
class FeatureViewEvent:
    """A feature- or relation-based method's live view at a curve point (``kdlab.ml.methods.views``): the teacher's
    and the student's sides on the run's fixed test digits, by name (``block1``, ``matrix``, ``points``, ...); the
    distance between them is the curve point's ``EvalEvent.feature_distance``."""

    run: str
    step: int
    total_steps: int
    epoch: float
    digits: tuple[int, ...]  # the fixed digits' indices in the test set
    labels: tuple[int, ...]  # and their labels
    teacher: dict[str, Grid]  # read once per run: the same in every event of the run
    student: dict[str, Grid]


@dataclass(frozen=True)
class EpochEvent:
    run: str
    epoch: int
    total_epochs: int
    test_accuracy: float
    seconds: float


TrainEvent = StepEvent | EvalEvent | EpochEvent | FeatureViewEvent
EventCallback = Callable[[TrainEvent], None]


@dataclass
class TrainResult:
    """What a run produced, complete or partial."""

    run: str
    status: RunStatus
    model: nn.Module  # on the CPU, in eval mode
    test_logits: torch.Tensor  # (N_test, 10) on the CPU
    evaluation: Evaluation
    history: list[EvalEvent] = field(default_factory=list)
    losses: list[StepEvent] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0  # the whole run, final evaluation included
    eval_seconds: float = 0.0  # of which measuring the curve points and the final test accuracy
    view: FeatureViewEvent | None = None  # a feature- or relation-based method's last live view

    @property
    def test_accuracy(self) -> float:
        return self.evaluation.accuracy
