"""What a scheme comparison is made of: the schemes, their words and papers, and the budget.

``SchemeConfig`` is one budget for every scheme (the same transfer set, seed and epochs per
training run). Its training hyper-parameters are one ``TrainConfig``; mutual learning uses
the same one with its own temperature and mix.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from kdlab.i18n import N_
from kdlab.ml.config import HoldsTraining, TrainConfig
from kdlab.ml.data import MnistData, TransferSetSpec, select_transfer_indices
from kdlab.ml.models import canonical_architecture
from kdlab.teachers.ensembles import parse_teacher_name

SCHEMES = ("offline", "mutual", "born-again", "assistant")
SCHEME_TITLES = {
    "offline": N_("Offline KD"),
    "mutual": N_("Deep mutual learning"),
    "born-again": N_("Born-again networks"),
    "assistant": N_("Teacher assistant"),
}
SCHEME_DESCRIPTIONS = {
    "offline": N_(
        "A large teacher is trained first and frozen; the small student then learns from the teacher's "
        "softened outputs as well as the labels (Hinton, Vinyals & Dean 2015). It is the reference the "
        "other schemes are measured against."
    ),
    "mutual": N_(
        "There is no pre-trained teacher: two students train side by side and each one also learns to "
        "match the other's current predictions (Zhang et al. 2018). They teach each other as they go, so "
        "the knowledge is built during training rather than handed down."
    ),
    "born-again": N_(
        "A student is trained on the labels, then a new network of exactly the same architecture is "
        "distilled from it, and so on for a few generations (Furlanello et al. 2018). No bigger model "
        "is involved: the soft outputs alone are what each generation adds."
    ),
    "assistant": N_(
        "When the teacher is much larger than the student, a mid-sized assistant is distilled from the "
        "teacher first and the student is then distilled from the assistant (Mirzadeh et al. 2020). "
        "The assistant bridges the capacity gap in two smaller steps."
    ),
}
SCHEME_PAPERS = {
    "offline": "Hinton, Vinyals & Dean (2015), Distilling the Knowledge in a Neural Network",
    "mutual": "Zhang, Xiang, Hospedales & Lu (2018), Deep Mutual Learning",
    "born-again": "Furlanello, Lipton, Tschannen, Itti & Anandkumar (2018), Born-Again Neural Networks",
    "assistant": "Mirzadeh, Farajtabar, Li, Levine, Matsukawa & Ghasemzadeh (2020), Improved Knowledge "
    "Distillation via Teacher Assistant",
}
# Teacher > assistant > student in parameters and in compute per image: 1,112,042 > 238,510 > 79,510
# parameters and 9.6 > 0.48 > 0.16 MFLOPs (the lab's default teacher, so one cached teacher serves both).
DEFAULT_TEACHER = "cnn-wide"
DEFAULT_ASSISTANT = "mlp-300x1"
DEFAULT_STUDENT = "mlp-100x1"
MAX_GENERATIONS = 5


@dataclass(frozen=True)
class SchemeConfig(HoldsTraining):
    """One budget for every scheme: the same transfer set, seed and epochs per training run.

    ``training`` holds what every training run shares (epochs, learning rate, batch size, seed)
    and the ``temperature`` and ``alpha`` of every teacher -> student step (offline KD,
    born-again generations, teacher assistant); ``alpha`` weights the soft term (see
    ``losses.kd_loss``). Mutual learning uses ``mutual_temperature`` and ``mutual_alpha``
    instead (the paper: T = 1 and an equal mix of labels and peer). ``train_size`` None uses
    the whole training set. ``SchemeConfig.build(epochs=2, train_size=1000, ...)`` takes the
    settings flat.
    """

    # Scheme runs measure their curves on the whole test set, so the summary keeps its keys.
    HIDDEN_TRAINING_FIELDS = ("jitter_pixels", "curve_test_images")

    teacher: str = DEFAULT_TEACHER
    assistant: str = DEFAULT_ASSISTANT
    student: str = DEFAULT_STUDENT
    training: TrainConfig = TrainConfig(epochs=20)
    train_size: int | None = 10_000
    teacher_epochs: int | None = None  # None: kdlab.teachers.cache.default_teacher_epochs
    teacher_seed: int = 0
    generations: int = 2
    mutual_temperature: float = 1.0
    mutual_alpha: float = 0.5

    def __post_init__(self) -> None:
        object.__setattr__(self, "teacher", parse_teacher_name(self.teacher).name)  # an architecture or an ensemble
        object.__setattr__(self, "assistant", canonical_architecture(self.assistant))
        object.__setattr__(self, "student", canonical_architecture(self.student))
        if self.training.jitter_pixels:
            raise ValueError("Scheme runs do not jitter their images: the teachers' logits are for the unshifted ones.")
        _ = self.mutual_training  # building its TrainConfig checks the mutual temperature and alpha
        TransferSetSpec(size=self.train_size, seed=self.training.seed)
        if not (isinstance(self.generations, int) and 1 <= self.generations <= MAX_GENERATIONS):
            raise ValueError(
                f"Born-again generations must be 1 to {MAX_GENERATIONS} (got {self.generations}): "
                f"each generation is one more training run of the student."
            )
        if self.teacher_epochs is not None and not 1 <= self.teacher_epochs <= 100:
            raise ValueError(f"Teacher epochs must be 1 to 100 (got {self.teacher_epochs}).")

    @property
    def mutual_training(self) -> TrainConfig:
        """The same budget with mutual learning's temperature and mix."""
        return replace(self.training, temperature=self.mutual_temperature, alpha=self.mutual_alpha)

    def transfer_indices(self, data: MnistData) -> torch.Tensor:
        """Indices of the training images every scheme learns from: ``train_size`` of them, or all
        when that is at least the training set. Raises ``ValueError`` when a batch does not fit."""
        size = None if self.train_size is None or self.train_size >= len(data.train) else self.train_size
        spec = TransferSetSpec(size=size, seed=self.training.seed)
        return select_transfer_indices(data.train.labels, spec, batch_size=self.training.batch_size)
