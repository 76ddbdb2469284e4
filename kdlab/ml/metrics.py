"""Metrics: accuracy, errors, per-class accuracy, confusion matrix, softened probabilities,
their entropy, the class-similarity matrix that exposes the teacher's dark knowledge, and
the effect of shifting some classes' output biases on stored logits (no retraining)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

NUM_CLASSES = 10
BIAS_GRID = torch.arange(-300, 301) / 10  # -30.0 .. +30.0 in steps of 0.1


@dataclass(frozen=True)
class Evaluation:
    """How a model did on a labelled set."""

    accuracy: float
    errors: int
    total: int
    per_class_accuracy: tuple[float, ...]  # accuracy on each true digit 0..9 (nan if absent)
    confusion: tuple[tuple[int, ...], ...]  # confusion[true][predicted]

    def as_dict(self) -> dict:
        return {
            "test_accuracy": self.accuracy,
            "test_errors": self.errors,
            "test_total": self.total,
            "per_class_accuracy": [None if value != value else value for value in self.per_class_accuracy],
        }


def confusion_matrix(predictions: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """(10, 10) counts, rows are true digits, columns predicted digits."""
    flat = labels.long() * NUM_CLASSES + predictions.long()
    return torch.bincount(flat, minlength=NUM_CLASSES**2).reshape(NUM_CLASSES, NUM_CLASSES)


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


def order_changes(before: torch.Tensor, after: torch.Tensor) -> list[tuple[int, int]]:
    """The pairs of classes (a, b) that ``before`` (10,) ranks a above b and ``after`` (10,) b above a, both
    strictly (a tie on either side, such as two probabilities that round to 0 at T = 1, is no change), the
    pair ``after`` ranks highest first.

    softmax(z / T) of one network keeps the order of its logits z at every T, so it never changes. An
    ensemble's soft targets are the mean of its members' softmax(z_m / T), and that mean can: at T = 1 it
    follows the most confident member, at very high T the members' mean logits."""
    higher = (after[None, :] > after[:, None]) & (before[:, None] > before[None, :])  # (a, b): b now above a
    pairs = [(int(a), int(b)) for a, b in torch.nonzero(higher)]
    return sorted(pairs, key=lambda pair: -float(after[pair[1]]))


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


@dataclass(frozen=True)
class BiasEffect:
    """Test performance with some classes' output biases shifted."""

    biases: dict[int, float]
    classes: tuple[int, ...]
    errors: int
    total: int
    class_errors: int  # errors on images whose true digit is in ``classes``
    class_total: int
    per_class_accuracy: tuple[float, ...]

    @property
    def error_rate(self) -> float:
        return self.errors / self.total if self.total else float("nan")

    @property
    def class_accuracy(self) -> float:
        return 1 - self.class_errors / self.class_total if self.class_total else float("nan")

    def as_dict(self) -> dict:
        return {
            "biases": {str(digit): bias for digit, bias in self.biases.items()},
            "errors": self.errors,
            "total": self.total,
            "error_rate": self.error_rate,
            "class_errors": self.class_errors,
            "class_total": self.class_total,
            "class_accuracy": finite_or_none(self.class_accuracy),
            "per_class_accuracy": [finite_or_none(value) for value in self.per_class_accuracy],
        }


def finite_or_none(value: float) -> float | None:
    """``value``, or None where it is nan or infinite (JSON has no nan)."""
    return value if math.isfinite(value) else None


def evaluate_bias(
    logits: torch.Tensor, labels: torch.Tensor, biases: dict[int, float], classes: tuple[int, ...] | None = None
) -> BiasEffect:
    """Errors overall and on ``classes`` (default: the biased ones) after adding ``biases``.

    The logits are stored outputs; nothing is retrained (``apply_class_bias``).
    """
    classes = tuple(sorted(biases)) if classes is None else tuple(classes)
    adjusted = apply_class_bias(logits, biases)
    evaluation = evaluate_logits(adjusted, labels)
    in_classes = torch.isin(labels, torch.tensor(classes, dtype=labels.dtype))
    predictions = adjusted.argmax(1)
    class_errors = int((predictions[in_classes] != labels[in_classes]).sum())
    return BiasEffect(
        {int(digit): float(bias) for digit, bias in biases.items()},
        classes,
        evaluation.errors,
        evaluation.total,
        class_errors,
        int(in_classes.sum()),
        evaluation.per_class_accuracy,
    )


def bias_sweep(
    logits: torch.Tensor, labels: torch.Tensor, classes: tuple[int, ...], biases: torch.Tensor = BIAS_GRID
) -> dict[str, list]:
    """Total errors and errors on ``classes`` for the same bias added to every class in ``classes``.

    Returns:
        ``{"bias": [...], "errors": [...], "class_errors": [...]}``, one entry per bias.
    """
    in_set = torch.zeros(logits.shape[1], dtype=torch.bool)
    in_set[list(classes)] = True
    if in_set.all():  # the same shift on every class changes nothing
        wrong = (logits.argmax(1) != labels)[None, :].expand(len(biases), -1)
    else:
        # The prediction is the best of ``classes`` when its logit plus the bias beats the best
        # of the other classes, else that best other class: no (K, N, 10) tensor needed.
        best_in, index_in = logits[:, in_set].max(1)  # (N,)
        best_out, index_out = logits[:, ~in_set].max(1)  # (N,)
        digits = torch.arange(logits.shape[1])
        wins = best_in[None, :] + biases[:, None].to(logits.dtype) > best_out[None, :]  # (K, N)
        wrong = torch.where(wins, digits[in_set][index_in] != labels, digits[~in_set][index_out] != labels)
    in_classes = torch.isin(labels, torch.tensor(classes, dtype=labels.dtype))
    return {
        "bias": [round(float(bias), 2) for bias in biases],
        "errors": wrong.sum(1).tolist(),
        "class_errors": wrong[:, in_classes].sum(1).tolist(),
    }


def best_bias(
    logits: torch.Tensor, labels: torch.Tensor, classes: tuple[int, ...], biases: torch.Tensor = BIAS_GRID
) -> float:
    """The bias (same for every class in ``classes``) that minimises total errors.

    Where several biases tie, the middle one of them is chosen, away from the plateau's edges.
    """
    if len(labels) == 0:
        raise ValueError("Cannot choose a bias on an empty set of images.")
    errors = torch.tensor(bias_sweep(logits, labels, classes, biases)["errors"])
    minimisers = biases[errors == errors.min()]
    return round(float(minimisers[len(minimisers) // 2]), 2)
