"""Ensemble teachers: several trained networks that teach as one (Bucila et al. 2006; Hinton et al. 2015).

A teacher name is either one architecture (``cnn``) or an ensemble:

- ``ensemble:cnn,lenet5,mlp-1200x2``: different architectures, each trained with the teacher seed;
- ``ensemble:cnn*5``: five networks of one architecture, trained with seeds s, s + 1, ..., s + 4.

``parse_teacher_name`` validates either kind with messages a student can act on. Each member is
an ordinary teacher, trained once and cached (``kdlab.teachers.cache``); this module holds the names
and the arithmetic of combining the members.

**Which average.** The ensemble's soft targets at temperature T are the *arithmetic* mean of
the members' softened probabilities::

    p_ensemble(T) = (1 / M) * sum_m softmax(z_m / T)

It is the mixture that an ensemble of classifiers predicts (Bucila et al. label their transfer
set with the ensemble's averaged predictions; Hinton et al. 2015, section 4, use the arithmetic
mean for their speech ensemble), and no single confident member can dominate it: a member's
probabilities are bounded by 1, whereas averaging logits (the geometric mean) lets the member
with the largest logits outvote the others. Averaging at each temperature is not the same as
softening the T = 1 average, so the soft targets at T always come from the members' own logits.

To fit the KD loss, which divides teacher logits by T itself, ``soft_target_logits`` returns
``T * log p_ensemble(T)``: its softmax at T is exactly ``p_ensemble(T)``. At T = 1 these are the
logits shown for display, ``log p_ensemble(1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.ml.models import ModelInfo, architecture_names, canonical_architecture, describe_model

ENSEMBLE_PREFIX = "ensemble:"
# At most 5: an ensemble trains every member, so ensemble:cnn-wide*10 from one link was ten teachers'
# work ahead of the class; five members already show the ensemble's gain over one network.
MEMBER_RANGE = (2, 5)
MAX_NAME_LENGTH = 200  # names arrive from links and forms: bound them before parsing
# Ensembles offered in the teacher menus; any other ``ensemble:...`` name can be typed in.
ENSEMBLE_PRESETS = ("ensemble:cnn*3", "ensemble:cnn,lenet5,mlp-1200x2", "ensemble:linear*3")
EXAMPLES = "ensemble:cnn,lenet5,mlp-1200x2 (different architectures) or ensemble:cnn*5 (five seeds of one)"


@dataclass(frozen=True)
class TeacherName:
    """A validated teacher name: one architecture, or an ensemble's members.

    ``architectures`` has one entry per member (one entry for a single network);
    member i trains with the teacher seed plus ``seed_offsets[i]``.
    """

    name: str  # canonical, e.g. "ensemble:cnn*3" for "ensemble: cnn * 3"
    architectures: tuple[str, ...]
    seed_offsets: tuple[int, ...]

    @property
    def is_ensemble(self) -> bool:
        return self.name.startswith(ENSEMBLE_PREFIX)

    def member_seeds(self, seed: int) -> tuple[int, ...]:
        """The seed each member trains with, given the teacher seed."""
        return tuple(seed + offset for offset in self.seed_offsets)


def is_ensemble_name(name: str) -> bool:
    """True when ``name`` asks for an ensemble (valid or not)."""
    return isinstance(name, str) and name.strip().startswith(ENSEMBLE_PREFIX)


def parse_teacher_name(name: str) -> TeacherName:
    """Validate a teacher name (an architecture, or ``ensemble:...``) and return its parts.

    Raises:
        ValueError: an unknown architecture, an empty or malformed member list, a repeated
            member, or a member count outside 2..5; the message says how to write it instead.
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"Choose a teacher: an architecture such as cnn, or an ensemble such as {EXAMPLES}.")
    if len(name) > MAX_NAME_LENGTH:
        raise ValueError(f"That teacher name is {len(name)} characters long; at most {MAX_NAME_LENGTH} are allowed.")
    name = name.strip()
    if not is_ensemble_name(name):
        canonical = canonical_architecture(name)
        return TeacherName(canonical, (canonical,), (0,))
    body = name[len(ENSEMBLE_PREFIX) :].strip()
    if not body:
        raise ValueError(f"'{name}' names no members: write {EXAMPLES}.")
    if "*" in body:
        return _parse_seeds(name, body)
    members = [member.strip() for member in body.split(",")]
    if "" in members:
        raise ValueError(f"'{name}' has an empty member (two commas, or a comma at an end): write {EXAMPLES}.")
    members = [_canonical_member(member, name) for member in members]
    repeated = sorted({member for member in members if members.count(member) > 1})
    if repeated:
        first = repeated[0]
        raise ValueError(
            f"'{name}' lists {first} more than once: members with the same seed are the same network. "
            f"For several seeds of one architecture write ensemble:{first}*{members.count(first)}."
        )
    _check_count(len(members), name)
    return TeacherName(ENSEMBLE_PREFIX + ",".join(members), tuple(members), (0,) * len(members))


def _parse_seeds(name: str, body: str) -> TeacherName:
    architecture, _, count_text = (part.strip() for part in body.partition("*"))
    if "," in body or "*" in count_text:
        raise ValueError(
            f"'{name}' mixes a member list and seeds: write either a list (ensemble:cnn,lenet5) or seeds of "
            "one architecture (ensemble:cnn*3)."
        )
    architecture = _canonical_member(architecture, name)
    # isascii: str.isdigit also accepts other scripts' digits, which int() reads as the same count.
    if not (count_text.isascii() and count_text.isdigit()):
        raise ValueError(f"'{count_text}' in '{name}' is not a number of seeds: write for example ensemble:cnn*5.")
    count = int(count_text)
    _check_count(count, name)
    return TeacherName(f"{ENSEMBLE_PREFIX}{architecture}*{count}", (architecture,) * count, tuple(range(count)))


def _canonical_member(member: str, name: str) -> str:
    if is_ensemble_name(member) or member.startswith("ensemble"):
        raise ValueError(f"'{name}' nests an ensemble: members are architectures ({', '.join(architecture_names())}).")
    try:
        return canonical_architecture(member)
    except ValueError as error:
        raise ValueError(f"Ensemble member '{member}' in '{name}': {error}") from None


def _check_count(count: int, name: str) -> None:
    low, high = MEMBER_RANGE
    if not low <= count <= high:
        single = " (for one network, write its name alone, such as cnn)" if count == 1 else ""
        raise ValueError(f"An ensemble has {low} to {high} members; '{name}' has {count}{single}.")


def describe_teacher(name: str) -> ModelInfo:
    """Parameters and forward FLOPs of any teacher; an ensemble's are its members' sums."""
    parsed = parse_teacher_name(name)
    if not parsed.is_ensemble:
        return describe_model(parsed.name)
    infos = [describe_model(architecture) for architecture in parsed.architectures]
    members = ", ".join(parsed.architectures) if len(set(parsed.architectures)) > 1 else parsed.name.split(":")[1]
    return ModelInfo(
        parsed.name,
        f"Ensemble of {len(infos)} networks ({members}); its outputs are the average of their probabilities",
        sum(info.parameters for info in infos),
        sum(info.flops_per_image for info in infos),
    )


def average_probabilities(member_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """The ensemble's soft targets: mean over members of softmax(z_m / T).

    Args:
        member_logits: (M, ..., C) logits of each of the M members for the same images.
        temperature: T > 0.

    Returns:
        (..., C) probabilities that sum to 1 along the last axis.
    """
    return soft_target_logits(member_logits, temperature).div(temperature).softmax(dim=-1)


def soft_target_logits(member_logits: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """Logits whose softmax at ``temperature`` is the ensemble's soft targets:
    ``T * log(mean_m softmax(z_m / T))``, computed stably with ``logsumexp``.

    Args:
        member_logits: (M, ..., C) logits of each member for the same images.
        temperature: T > 0; at T = 1 the result is the log of the averaged probabilities.

    Returns:
        (..., C) logits: ``softmax(result / T)`` equals ``average_probabilities(member_logits, T)``.
    """
    if not (math.isfinite(temperature) and temperature > 0):
        raise ValueError(f"Temperature T must be above 0 (got {temperature}).")
    log_probs = F.log_softmax(member_logits.float() / temperature, dim=-1)  # (M, ..., C)
    mean_log_probs = torch.logsumexp(log_probs, dim=0) - math.log(member_logits.shape[0])  # (..., C)
    return mean_log_probs * temperature


@dataclass(frozen=True)
class Disagreement:
    """How often an ensemble's members disagree on a set of images."""

    any_fraction: float  # images where not every member predicts the same digit
    pairwise_fraction: float  # mean over member pairs of the images they label differently
    images: int

    def as_dict(self) -> dict:
        return {"any": self.any_fraction, "pairwise": self.pairwise_fraction, "images": self.images}


def disagreement(member_logits: torch.Tensor) -> Disagreement:
    """How often the members' top predictions differ, from their logits (M, N, C)."""
    predictions = member_logits.argmax(dim=-1)  # (M, N)
    count, images = predictions.shape
    any_differs = (predictions != predictions[:1]).any(dim=0)  # (N,)
    pairs = [(a, b) for a in range(count) for b in range(a + 1, count)]
    pairwise = [float((predictions[a] != predictions[b]).float().mean()) for a, b in pairs]
    return Disagreement(
        float(any_differs.float().mean()) if images else 0.0,
        sum(pairwise) / len(pairwise) if pairwise and images else 0.0,
        images,
    )


class EnsembleModel(nn.Module):
    """The members as one module: ``forward`` returns the ensemble's logits at T = 1, the log of
    the averaged probabilities (B, C), so code that runs ``teacher.model`` works unchanged."""

    def __init__(self, members: list[nn.Module]):
        super().__init__()
        self.members = nn.ModuleList(members)

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        member_logits = torch.stack([member(inputs) for member in self.members])  # (M, B, C)
        return soft_target_logits(member_logits, 1.0)


def training_cost(architecture: str, images: int, epochs: int) -> float:
    """Relative work of a training run, for the progress bar: images seen times forward FLOPs."""
    return images * epochs * max(describe_teacher(architecture).flops_per_image, 1)  # an ensemble: all its members
