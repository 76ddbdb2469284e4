"""A distillation experiment: a cached teacher, a student distilled from it, and the same
student trained alone with the same seed and data order (the baseline).

This is the call the command line and the app's lab page both make.
"""

from __future__ import annotations

import threading
import time
from dataclasses import asdict, dataclass, field

import torch

from kdlab.data import DataSource, MnistData, TransferSetSpec, select_transfer_indices
from kdlab.models import build_model, describe_model, get_architecture
from kdlab.teachers import Teacher, load_or_train_teacher
from kdlab.train import EventCallback, TrainConfig, TrainResult, train_model

DEFAULT_TEACHER = "cnn"
DEFAULT_STUDENT = "mlp-300x2"
DEMO_TRAIN_SIZE = 10_000


@dataclass(frozen=True)
class StageEvent:
    """A coarse stage of an experiment, for status lines ("Training the teacher ...")."""

    stage: str  # "teacher", "distilled", "baseline", "done"
    message: str


@dataclass(frozen=True)
class DistillConfig:
    """Everything that defines a distillation experiment. Validates itself on creation.

    ``alpha`` weights the soft (teacher) term: loss = alpha * T^2 * KL + (1 - alpha) * CE.
    ``train_size`` None means the demo size: 10,000 images, or all of them when the
    filters leave fewer.
    """

    teacher: str = DEFAULT_TEACHER
    student: str = DEFAULT_STUDENT
    temperature: float = 4.0
    alpha: float = 0.9
    epochs: int = 20
    learning_rate: float = 1e-3
    batch_size: int = 128
    train_size: int | None = None
    omit_classes: tuple[int, ...] = ()
    only_classes: tuple[int, ...] = ()
    seed: int = 0
    teacher_epochs: int | None = None  # None: kdlab.teachers.default_teacher_epochs
    teacher_seed: int = 0
    with_baseline: bool = True
    evals_per_epoch: int | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "omit_classes", tuple(self.omit_classes))
        object.__setattr__(self, "only_classes", tuple(self.only_classes))
        get_architecture(self.teacher)
        get_architecture(self.student)
        self.train_config()
        self.transfer_spec()
        if self.teacher_epochs is not None and not 1 <= self.teacher_epochs <= 100:
            raise ValueError(f"Teacher epochs must be 1 to 100 (got {self.teacher_epochs}).")

    def train_config(self) -> TrainConfig:
        return TrainConfig(epochs=self.epochs, learning_rate=self.learning_rate, batch_size=self.batch_size,
                           seed=self.seed, temperature=self.temperature, alpha=self.alpha,
                           evals_per_epoch=self.evals_per_epoch)

    def transfer_spec(self, size: int | None = None) -> TransferSetSpec:
        return TransferSetSpec(size=size if size is not None else self.train_size,
                               omit_classes=self.omit_classes, only_classes=self.only_classes, seed=self.seed)

    def as_dict(self) -> dict:
        values = asdict(self)
        values["omit_classes"] = list(self.omit_classes)
        values["only_classes"] = list(self.only_classes)
        return values


def select_transfer_set(config: DistillConfig, data: MnistData) -> torch.Tensor:
    """Indices of the student's training images; checks the batch fits in the set."""
    spec = config.transfer_spec()
    if config.train_size is None:
        available = int(torch.isin(data.train.labels, torch.tensor(spec.kept_classes)).sum())
        spec = config.transfer_spec(min(DEMO_TRAIN_SIZE, available) or None)
    indices = select_transfer_indices(data.train.labels, spec)
    if config.batch_size > len(indices):
        raise ValueError(f"Batch size {config.batch_size} is larger than the training set ({len(indices):,} "
                         f"images): choose a batch size of at most {len(indices):,} or more training images.")
    return indices


@dataclass
class DistillationResult:
    """Teacher, distilled student and (optionally) the student trained alone."""

    config: DistillConfig
    data_source: DataSource
    teacher: Teacher
    transfer_class_counts: list[int]
    student: TrainResult | None = None
    baseline: TrainResult | None = None
    seconds: float = 0.0
    extras: dict = field(default_factory=dict)

    @property
    def status(self) -> str:
        """"completed", or the first run's "stopped" / "diverged"."""
        runs = [self.teacher.status] + [r.status for r in (self.student, self.baseline) if r is not None]
        if self.student is None or (self.config.with_baseline and self.baseline is None):
            runs.append("stopped")
        return next((status for status in runs if status != "completed"), "completed")

    def summary(self) -> dict:
        """A JSON-ready dict: data, config, teacher, student, baseline, seconds."""
        return {
            "data": self.data_source.as_dict(),
            "config": self.config.as_dict(),
            "transfer_set": {"size": sum(self.transfer_class_counts), "class_counts": self.transfer_class_counts},
            "teacher": self.teacher.summary(),
            "student": run_summary(self.config.student, self.student),
            "baseline": run_summary(self.config.student, self.baseline) if self.config.with_baseline else None,
            "status": self.status,
            "seconds": round(self.seconds, 2),
        }


def run_summary(architecture: str, result: TrainResult | None) -> dict | None:
    """A JSON-ready summary of one student run (None stays None)."""
    if result is None:
        return None
    return {"arch": architecture, "params": describe_model(architecture).parameters, "status": result.status,
            "epochs_done": round(result.history[-1].epoch, 3) if result.history else 0.0,
            "train_seconds": round(result.seconds, 2), **result.evaluation.as_dict()}


def run_distillation(
    config: DistillConfig,
    data: MnistData,
    *,
    teacher: Teacher | None = None,
    cache_dir=None,
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    device: torch.device | None = None,
) -> DistillationResult:
    """Distill ``config.student`` from ``config.teacher`` and, if asked, train the baseline.

    Both student runs start from the same initial weights and see the same batches in the
    same order (same seed), so the only difference is the teacher's soft targets.

    Raises:
        ValueError: the config does not fit the data (e.g. the filters leave too few images).
    """
    emit = on_event or (lambda event: None)
    started = time.perf_counter()
    indices = select_transfer_set(config, data)
    transfer = data.train.subset(indices)
    if teacher is None:
        emit(StageEvent("teacher", f"Preparing teacher {config.teacher} ..."))
        teacher = load_or_train_teacher(config.teacher, data, epochs=config.teacher_epochs, seed=config.teacher_seed,
                                        cache_dir=cache_dir, on_event=on_event, stop=stop, device=device)
    result = DistillationResult(config, data.source, teacher, transfer.class_counts())
    runs = [("distilled", teacher.train_logits[indices])]
    if config.with_baseline:
        runs.append(("baseline", None))
    for run, teacher_logits in runs:
        if teacher.status != "completed" or (stop is not None and stop.is_set()):
            break
        emit(StageEvent(run, f"Training the {'distilled student' if teacher_logits is not None else 'student alone'} ..."))
        trained = train_model(build_model(config.student, seed=config.seed), transfer, data.test,
                              config.train_config(), teacher_logits=teacher_logits, run=run,
                              on_event=on_event, stop=stop, device=device)
        setattr(result, "student" if run == "distilled" else "baseline", trained)
        if trained.status == "stopped":
            break
    result.seconds = time.perf_counter() - started
    emit(StageEvent("done", f"Finished: {result.status}."))
    return result
