"""Knowledge from inside the networks: what a feature- or relation-based method declares (``FeatureTransfer``)
and the objective it trains with (``FeatureObjective``).

Such a method adds one term to classical KD's loss::

    total = alpha * T^2 * KL(teacher_T || student_T) + (1 - alpha) * CE + weight * term(student, teacher)

so ``alpha = 0`` is the term with the labels alone (as RepDistiller runs FitNets, AT, RKD and SP) and a larger
alpha combines it with the logits' soft targets. The term reads the student's features at the method's taps
(``kdlab.ml.features``) through forward hooks during its own training forward pass, and the teacher's from a
signal computed once for the whole transfer set (``teacher_signal``: the attention maps, the last hidden
layer), indexed by the batch like the teacher's logits, so a step costs no teacher forward pass.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from kdlab.i18n import _
from kdlab.ml.data import ImageSet
from kdlab.ml.events import Grid
from kdlab.ml.features import BLOCK_TAPS, EMBEDDING, TAP_WORDS, FeatureHooks, feature_shapes, predict_features
from kdlab.ml.losses import KDLoss
from kdlab.ml.methods.views import FeatureView, LiveView, Shapes


@dataclass(frozen=True)
class FeatureTransfer:
    """What a feature- or relation-based method reads and adds.

    Attributes:
        taps: the taps (``kdlab.ml.features``) both networks must have; the student's are read while it trains.
        teacher_signal: (the teacher's features at ``taps`` for N images, the student's ``Shapes``) -> what is
            kept of them per image, by name, each (N, ...): e.g. the attention maps at the student's size.
        term: (the method's settings, the student's ``Shapes``, the teacher's ``Shapes``, the run's seed) -> the
            term, a module
            called with (the student's features at ``taps``, the teacher's signal for the batch) that returns
            the weighted term (a scalar); its parameters, if any (the hint regressor), train with the student.
        part: the loss anatomy's line for the term.
        first_stage: the method's setting that gives the share of the run trained on the term alone (FitNets'
            hint stage); "" for none.
        view: what the lab shows of the two networks while the student trains (``kdlab.ml.methods.views``).
    """

    taps: tuple[str, ...]
    teacher_signal: Callable[[dict[str, torch.Tensor], Shapes], dict[str, torch.Tensor]]
    term: Callable[[dict[str, Any], Shapes, Shapes, int], nn.Module]
    part: str
    first_stage: str = ""
    view: FeatureView | None = None

    def live_view(self, teacher: nn.Module, test_set: ImageSet, student: str) -> LiveView | None:
        """The live view of a run distilling the architecture ``student`` from ``teacher``, on ``test_set``'s fixed
        digits (the teacher's side read now); None for a method without one."""
        return None if self.view is None else LiveView.read(self.view, teacher, test_set, self.taps, student)

    @torch.no_grad()
    def signal_for(
        self, teacher: nn.Module, images: torch.Tensor, student: str, batch_size: int = 1000
    ) -> dict[str, torch.Tensor]:
        """The teacher's signal for uint8 ``images`` (N, 28, 28) and the architecture ``student``, on the CPU,
        read in chunks so a block's full maps (``cnn-wide``'s first: 18 kB an image) are never all held."""
        shapes = feature_shapes(student)
        # Hooked on a private copy (about 15 ms for cnn-wide): hooks on the shared teacher would also catch the
        # forward passes other threads make on it meanwhile (the explorer, a teacher's predictions).
        teacher = copy.deepcopy(teacher)
        chunks = [
            self.teacher_signal(predict_features(teacher, images[start : start + batch_size], self.taps), shapes)
            for start in range(0, len(images), batch_size)
        ]
        return {name: torch.cat([chunk[name] for chunk in chunks]) for name in chunks[0]} if chunks else {}

    def unfit(self, label: str, teacher: str, student: str) -> str:
        """Why ``label`` cannot distill ``student`` from ``teacher``, in one sentence in the current language; ""
        when it can."""
        try:
            teacher_shapes = feature_shapes(teacher)
        except ValueError:
            return _("{method} needs one teacher network's features: an ensemble has no one set of them.").format(
                method=_(label)
            )
        student_shapes = feature_shapes(student)
        for network, shapes in (("student", student_shapes), ("teacher", teacher_shapes)):
            missing = [tap for tap in self.taps if tap not in shapes]
            if missing:
                blocks = set(BLOCK_TAPS) <= set(missing)
                words = [_(TAP_WORDS[tap]) for tap in missing]
                needs = _("the conv blocks' feature maps") if blocks else words[0]
                if not blocks and len(words) > 1:
                    needs = _("{first} and {second}").format(first=", ".join(words[:-1]), second=words[-1])
                if network == "student":
                    sentence = _(
                        "{method} matches {needs}, and the student {name} has none: choose a network with them."
                    )
                else:
                    sentence = _(
                        "{method} matches {needs}, and the teacher {name} has none: choose a network with them."
                    )
                return sentence.format(method=_(label), needs=needs, name=student if network == "student" else teacher)
        return ""


def last_hidden_layer(features: dict[str, torch.Tensor], student: Shapes) -> dict[str, torch.Tensor]:
    """The teacher signal of hints, RKD and SP: the teacher's last hidden layer as it is, kept in float16 (half
    the memory; the terms' gaps are far above its precision), whatever the student."""
    return {EMBEDDING: features[EMBEDDING].half()}


class FeatureObjective:
    """Classical KD's objective (``logits_loss``, a ``kdlab.ml.losses.TeacherLoss``) plus a method's ``term`` on
    the student's features and the teacher's ``signal`` (each (N_transfer, ...), indexed by the batch).

    ``attach(model, total_steps)`` hooks the student's taps before training (``detach`` after); the loop adds
    ``parameters()`` to the student's optimiser. ``first_stage`` steps train on the term alone (FitNets' hint
    stage); 0 trains both from the start. ``live``: the run's live view, which ``view_of`` reads at each curve point.
    """

    def __init__(
        self,
        logits_loss,
        term: nn.Module,
        signal: dict[str, torch.Tensor],
        taps: tuple[str, ...],
        first_stage: float = 0.0,
        live: LiveView | None = None,
    ) -> None:
        self.logits_loss, self.term, self.signal, self.taps = logits_loss, term, signal, taps
        self.first_stage, self.live = first_stage, live
        self.hooks: FeatureHooks | None = None
        self.stage_steps = 0
        self.steps = 0

    def to(self, device: torch.device) -> FeatureObjective:
        self.logits_loss = self.logits_loss.to(device)
        self.term = self.term.to(device)
        self.signal = {name: value.to(device) for name, value in self.signal.items()}
        if self.live is not None:
            self.live = self.live.to(device)
        return self

    def parameters(self) -> list[nn.Parameter]:
        """The term's own parameters (the hint regressor's), trained beside the student's."""
        return list(self.term.parameters())

    @property
    def temperature_now(self) -> float | None:
        """The logits' loss's temperature where the run is now, when a schedule moves it; None otherwise."""
        return getattr(self.logits_loss, "temperature_now", None)

    def attach(self, model: nn.Module, total_steps: int) -> None:
        """Read ``model``'s taps at each forward pass from now on; the first ``first_stage`` of ``total_steps``
        train on the term alone."""
        if hasattr(self.logits_loss, "attach"):  # a temperature schedule counts the steps
            self.logits_loss.attach(model, total_steps)
        self.hooks = FeatureHooks(model, self.taps)
        self.stage_steps = round(self.first_stage * total_steps)
        self.steps = 0

    def detach(self) -> None:
        if self.hooks is not None:
            self.hooks.remove()
            self.hooks = None

    def feature_term(self, student: dict[str, torch.Tensor], batch_index: torch.Tensor) -> torch.Tensor:
        """The weighted term for the student's features ``student`` on the transfer images ``batch_index``."""
        teacher = {name: value[batch_index].float() for name, value in self.signal.items()}
        return self.term(student, teacher)

    def __call__(self, logits, model_index, labels, batch_index) -> KDLoss:
        if self.hooks is None:
            raise RuntimeError("attach the student before training with a feature method")
        base = self.logits_loss(logits, model_index, labels, batch_index)
        feature = self.feature_term(self.hooks.outputs, batch_index)
        self.steps += 1
        if self.steps <= self.stage_steps:  # FitNets' first stage: the hint alone
            return KDLoss(feature, base.soft * 0, base.hard * 0, feature)
        return KDLoss(base.total + feature, base.soft, base.hard, feature)

    def view_of(self, model: nn.Module) -> tuple[LiveView, dict[str, Grid], float] | None:
        """The run's live view, the student ``model``'s side of it now and its distance to the teacher's; None
        without a live view or before ``attach``."""
        if self.live is None or self.hooks is None:
            return None
        side, distance = self.live.student_side(model, self.hooks, self.term)
        return self.live, side, distance

    def soft_parts(self, student_logits: torch.Tensor, labels: torch.Tensor, batch_index: torch.Tensor) -> torch.Tensor:
        """The soft term's TCKD and NCKD parts, as the logits' loss weights them."""
        return self.logits_loss.soft_parts(student_logits, labels, batch_index)
