"""What the lab shows of a feature- or relation-based method while it trains (its live parts): each network's side
on a fixed set of test digits, and the distance between the two sides.

A method declares one ``FeatureView`` on its ``FeatureTransfer`` (``kdlab.ml.methods.at``: both blocks' attention
maps for four digits; ``rkd`` and ``sp``: the relation matrix over 40 digits sorted by class; ``hints``: the
regressed features on the teacher's top two principal axes). A run's ``LiveView`` picks the fixed digits from the
test set, reads the teacher's side once, and at each curve point the training loop asks it for the student's
(``kdlab.ml.curve_points.feature_view``): one forward pass of the student on those few digits in eval mode without
gradients, so it draws no random numbers and the run's numbers stay those of a run without it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from kdlab.ml.data import ImageSet, normalize
from kdlab.ml.events import Grid
from kdlab.ml.features import FeatureHooks, feature_shapes, predict_features

Features = dict[str, torch.Tensor]
Shapes = dict[str, tuple[int, ...]]


@dataclass(frozen=True)
class FeatureView:
    """A method's live parts.

    Attributes:
        figure: the lab's figure of the two sides (``kdlab.plots.feature_views``): "attention", "relations" or
            "projection".
        distance: the distance between the sides, in the lab's words ("AT distance ...").
        teacher: (the teacher's features at the method's taps on the fixed digits, the student's ``Shapes``) -> the
            teacher's reference: what the student's side is measured against, by name.
        student: (the student's features on the fixed digits, the teacher's reference, the method's term) -> the
            student's side the lab draws, by name, and the distance (a scalar tensor).
        shown: the names of the teacher's reference the lab draws; the rest only measure the student's side.
        classes: the digits the fixed images show, and ``per_class``: how many of each (the first ones of the test
            set, sorted by class, so a relation matrix shows its blocks).
    """

    figure: str
    distance: str
    teacher: Callable[[Features, Shapes], Features]
    student: Callable[[Features, Features, nn.Module], tuple[Features, torch.Tensor]]
    shown: tuple[str, ...]
    classes: tuple[int, ...] = tuple(range(10))
    per_class: int = 4


def fixed_digits(labels: torch.Tensor, classes: tuple[int, ...], per_class: int) -> torch.Tensor:
    """The indices of the first ``per_class`` images of each of ``classes`` in ``labels``, class by class (fewer
    where a class has fewer)."""
    chosen = [torch.nonzero(labels == digit).flatten()[:per_class] for digit in classes]
    return torch.cat(chosen) if chosen else torch.empty(0, dtype=torch.long)


class LiveView:
    """One run's view: its fixed test digits (``indices`` into the test set, their ``labels``) on the device, the
    teacher's reference read once, and ``student_side`` at each curve point."""

    def __init__(self, view: FeatureView, images: torch.Tensor, indices: torch.Tensor, labels, reference) -> None:
        self.view, self.images, self.reference = view, images, reference
        self.indices, self.labels = tuple(indices.tolist()), tuple(labels.tolist())
        self.teacher_side = {name: Grid.of(reference[name]) for name in view.shown}  # the same for every point

    @classmethod
    def read(
        cls, view: FeatureView, teacher: nn.Module, test_set: ImageSet, taps: tuple[str, ...], student: str
    ) -> LiveView:
        """The view of a run distilling the architecture ``student`` from ``teacher`` on ``test_set``'s fixed digits."""
        indices = fixed_digits(test_set.labels, view.classes, view.per_class)
        images = test_set.images[indices]
        reference = view.teacher(predict_features(teacher, images, taps), feature_shapes(student))
        return cls(view, images, indices, test_set.labels[indices], reference)

    def to(self, device: torch.device) -> LiveView:
        self.images = self.images.to(device)
        self.reference = {name: value.to(device) for name, value in self.reference.items()}
        return self

    @torch.no_grad()
    def student_side(self, model: nn.Module, hooks: FeatureHooks, term: nn.Module) -> tuple[dict[str, Grid], float]:
        """The student's side on the fixed digits and its distance to the teacher's, read through ``hooks`` (the
        student's taps) in eval mode; the model goes back to the mode it was in."""
        was_training = model.training
        model.eval()
        model(normalize(self.images))
        model.train(was_training)
        side, distance = self.view.student(dict(hooks.outputs), self.reference, term)
        return {name: Grid.of(value) for name, value in side.items()}, float(distance)
