"""A trained teacher (``Teacher``, with its logits precomputed) and its metadata (``TeacherRecord``).

May import ``kdlab.ml`` and ``kdlab.teachers.ensembles``; ``kdlab.teachers.cache`` trains and stores them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Literal

import torch
from torch import nn

from kdlab.ml.train import RunStatus, pick_device, predict_logits
from kdlab.teachers.ensembles import disagreement
from kdlab.teachers.ensembles import soft_target_logits as ensemble_soft_target_logits

FULL_MNIST_TEACHER_EPOCHS = 4
MAX_TEACHER_EPOCHS = 20
CACHE_FORMAT = 1


def default_teacher_epochs(train_size: int) -> int:
    """4 epochs on full MNIST; more on a smaller set so the teacher takes about as many steps."""
    scaled = round(FULL_MNIST_TEACHER_EPOCHS * 60_000 / max(train_size, 1))
    return max(FULL_MNIST_TEACHER_EPOCHS, min(MAX_TEACHER_EPOCHS, scaled))


@dataclass(frozen=True)
class TeacherRecord:
    """Metadata stored beside a cached teacher's weights."""

    architecture: str
    data_source: str
    train_size: int
    test_size: int
    epochs: int
    seed: int
    jitter_pixels: int
    test_accuracy: float
    test_errors: int
    parameters: int
    train_seconds: float
    torch_version: str
    torchvision_version: str
    kdlab_version: str
    cache_format: int = CACHE_FORMAT


@dataclass
class Teacher:
    """A trained teacher with its logits precomputed on the train and test sets.

    For an ensemble, ``members`` holds its networks (each a ``Teacher``), ``model`` runs them
    all, and ``train_logits`` / ``test_logits`` are the log of their averaged probabilities at
    T = 1; the soft targets at another T come from ``logits_at(T)``.
    """

    record: TeacherRecord
    model: nn.Module  # on the CPU, eval mode
    train_logits: torch.Tensor  # (N_train, 10)
    test_logits: torch.Tensor  # (N_test, 10)
    status: RunStatus = "completed"
    from_cache: bool = False
    note: str = ""
    members: list[Teacher] = field(default_factory=list)  # an ensemble's networks; empty for one network

    @property
    def is_ensemble(self) -> bool:
        """True for an ensemble (several member networks), False for one network."""
        return bool(self.members)

    def logits_at(self, temperature: float, split: Literal["train", "test"] = "train") -> torch.Tensor:
        """Logits (N, 10) whose softmax at ``temperature`` is this teacher's soft targets at T.

        One network: its logits, whatever T (the KD loss divides them by T). An ensemble:
        ``T * log(mean_m softmax(z_m / T))``, so the loss's ``softmax(. / T)`` gives exactly the
        average of the members' softened probabilities (see ``kdlab.teachers.ensembles``).
        """
        if not self.members:
            return self.train_logits if split == "train" else self.test_logits
        stacked = torch.stack(
            [member.train_logits if split == "train" else member.test_logits for member in self.members]
        )  # (M, N, 10)
        return ensemble_soft_target_logits(stacked, temperature)

    def predict(
        self, images: torch.Tensor, temperature: float = 1.0, device: torch.device | None = None
    ) -> torch.Tensor:
        """This teacher's ``logits_at(temperature)`` for new uint8 images (N, 28, 28), on the CPU."""
        device = device or pick_device()
        # Other threads may be using the shared CPU model: a GPU pass runs on a copy.
        models = [member.model for member in self.members] or [self.model]
        models = models if device.type == "cpu" else [copy.deepcopy(model).to(device) for model in models]
        logits = [predict_logits(model, images, device) for model in models]
        return ensemble_soft_target_logits(torch.stack(logits), temperature) if self.members else logits[0]

    def best_member(self) -> Teacher | None:
        """The ensemble's member with the fewest test errors (None for one network)."""
        return min(self.members, key=lambda member: member.record.test_errors) if self.members else None

    def summary(self) -> dict:
        """JSON-ready facts; an ensemble adds its members, its best member and how often they disagree."""
        summary = {
            "arch": self.record.architecture,
            "params": self.record.parameters,
            "test_accuracy": self.record.test_accuracy,
            "test_errors": self.record.test_errors,
            "epochs": self.record.epochs,
            "seed": self.record.seed,
            "from_cache": self.from_cache,
            "status": self.status,
        }
        if self.members:
            best = self.best_member()
            stacked = torch.stack([member.test_logits for member in self.members])
            summary |= {
                "averaging": "arithmetic mean of the members' softened probabilities",
                "members": [member.summary() for member in self.members],
                "best_member": {
                    "arch": best.record.architecture,
                    "seed": best.record.seed,
                    "test_accuracy": best.record.test_accuracy,
                    "test_errors": best.record.test_errors,
                },
                "test_disagreement": disagreement(stacked).as_dict(),
            }
        return summary
