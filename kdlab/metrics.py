"""Metrics: accuracy, errors, per-class accuracy, confusion matrix, softened probabilities,
their entropy, and the class-similarity matrix that exposes the teacher's dark knowledge."""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

NUM_CLASSES = 10


@dataclass(frozen=True)
class Evaluation:
    """How a model did on a labelled set."""

    accuracy: float
    errors: int
    total: int
    per_class_accuracy: tuple[float, ...]  # accuracy on each true digit 0..9 (nan if absent)
    confusion: tuple[tuple[int, ...], ...]  # confusion[true][predicted]

    def as_dict(self) -> dict:
        return {"test_accuracy": self.accuracy, "test_errors": self.errors, "test_total": self.total,
                "per_class_accuracy": [None if value != value else value for value in self.per_class_accuracy]}


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(10, 10) counts, rows are true digits, columns predicted digits."""
    flat = labels.long() * NUM_CLASSES + predictions.long()
    return torch.bincount(flat, minlength=NUM_CLASSES ** 2).reshape(NUM_CLASSES, NUM_CLASSES)


def evaluate_logits(logits: torch.Tensor, labels: torch.Tensor) -> Evaluation:
    """Accuracy, error count, per-class accuracy and confusion matrix from (N, 10) logits."""
    predictions = logits.argmax(dim=1)
    confusion = confusion_matrix(predictions, labels)
    per_class_total = confusion.sum(dim=1)
    per_class = confusion.diagonal().double() / per_class_total.double()  # nan where a digit is absent
    correct = int(confusion.diagonal().sum())
    total = len(labels)
    return Evaluation(
        accuracy=correct / total if total else float("nan"),
        errors=total - correct,
        total=total,
        per_class_accuracy=tuple(per_class.tolist()),
        confusion=tuple(tuple(row) for row in confusion.tolist()),
    )


def softened_probabilities(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """softmax(logits / T): T = 1 is the plain softmax, larger T spreads mass to wrong classes."""
    if temperature <= 0:
        raise ValueError(f"Temperature must be above 0 (got {temperature}).")
    return F.softmax(logits.float() / temperature, dim=-1)


def entropy_bits(probabilities: torch.Tensor) -> torch.Tensor:
    """Shannon entropy in bits along the last axis (0 = certain, log2(10) = 3.32 = uniform)."""
    return -(probabilities * torch.log2(probabilities.clamp_min(1e-30))).sum(dim=-1)


def class_similarity(logits: torch.Tensor, labels: torch.Tensor, temperature: float) -> torch.Tensor:
    """(10, 10) mean soft targets per true class: row i is the teacher's average belief about
    images of digit i at temperature T. Off-diagonal mass is the dark knowledge: which digits
    the teacher thinks look alike. Rows of absent digits are nan."""
    probabilities = softened_probabilities(logits, temperature)  # (N, 10)
    sums = torch.zeros(NUM_CLASSES, NUM_CLASSES).index_add_(0, labels.long(), probabilities)
    counts = torch.bincount(labels.long(), minlength=NUM_CLASSES).float()
    return sums / counts[:, None]


def apply_class_bias(logits: torch.Tensor, biases: dict[int, float]) -> torch.Tensor:
    """Add a constant to some classes' logits (the paper's fix for classes the student never saw)."""
    adjusted = logits.clone()
    for digit, bias in biases.items():
        adjusted[:, digit] += bias
    return adjusted
