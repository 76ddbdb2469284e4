"""Teachers trained once and cached: on disk under the cache dir, and in memory per process.

A cache file holds the teacher's ``state_dict``, its metadata (architecture, data source,
epochs, seed, test accuracy, library versions) and its logits on the training and test
sets, so a distillation run never needs a teacher forward pass. Files are written to a
temporary name and renamed, so concurrent processes never see half a file; they are loaded
with ``torch.load(weights_only=True, map_location="cpu")``. A truncated, corrupt or
mismatched file is reported in ``Teacher.note`` and the teacher is retrained.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
import torchvision
from torch import nn

import kdlab
from kdlab.data import MnistData, default_cache_dir
from kdlab.files import write_atomically
from kdlab.models import build_model, describe_model
from kdlab.train import EventCallback, RunStatus, TrainConfig, pick_device, predict_logits, train_model

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
    """A trained teacher with its logits precomputed on the train and test sets."""

    record: TeacherRecord
    model: nn.Module  # on the CPU, eval mode
    train_logits: torch.Tensor  # (N_train, 10)
    test_logits: torch.Tensor  # (N_test, 10)
    status: RunStatus = "completed"
    from_cache: bool = False
    note: str = ""

    def summary(self) -> dict:
        return {
            "arch": self.record.architecture,
            "params": self.record.parameters,
            "test_accuracy": self.record.test_accuracy,
            "test_errors": self.record.test_errors,
            "epochs": self.record.epochs,
            "seed": self.record.seed,
            "from_cache": self.from_cache,
            "status": self.status,
        }


def teacher_cache_path(
    cache_dir: Path, architecture: str, data: MnistData, epochs: int, seed: int, jitter_pixels: int = 0
) -> Path:
    source = data.source
    jitter = f"-j{jitter_pixels}" if jitter_pixels else ""
    name = f"{architecture}-{source.name}-{source.train_size}-e{epochs}-s{seed}{jitter}.pt"
    return cache_dir / "teachers" / name


def is_teacher_cached(architecture: str, data: MnistData, *, epochs: int | None = None, seed: int = 0,
                      cache_dir: str | os.PathLike | None = None) -> bool:  # fmt: skip
    """True when this teacher is trained and on disk (loading it costs no training)."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    epochs = epochs or default_teacher_epochs(len(data.train))
    return teacher_cache_path(cache, architecture, data, epochs, seed).exists()


_MEMORY: dict[Path, Teacher] = {}
_KEY_LOCKS: dict[Path, threading.Lock] = {}
_KEY_LOCKS_GUARD = threading.Lock()


def load_or_train_teacher(
    architecture: str,
    data: MnistData,
    *,
    epochs: int | None = None,
    seed: int = 0,
    jitter_pixels: int = 0,
    learning_rate: float = 1e-3,
    cache_dir: str | os.PathLike | None = None,
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    device: torch.device | None = None,
) -> Teacher:
    """The teacher for this architecture, data, epochs and seed: from memory, disk, or trained now.

    Only one thread trains a given teacher at a time; others wait and then share it. A run
    stopped early returns a teacher with ``status="stopped"`` that is not cached.
    """
    epochs = epochs or default_teacher_epochs(len(data.train))
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = teacher_cache_path(cache, architecture, data, epochs, seed, jitter_pixels)
    with _KEY_LOCKS_GUARD:
        key_lock = _KEY_LOCKS.setdefault(path, threading.Lock())
    with key_lock:
        if path in _MEMORY:
            return _MEMORY[path]
        expected = dict(
            architecture=architecture,
            data_source=data.source.name,
            train_size=len(data.train),
            test_size=len(data.test),
            epochs=epochs,
            seed=seed,
            jitter_pixels=jitter_pixels,
        )
        teacher, note = _load_cached(path, expected)
        if teacher is None:
            config = TrainConfig(
                epochs=epochs, seed=seed, learning_rate=learning_rate, jitter_pixels=jitter_pixels, evals_per_epoch=2
            )
            teacher = _train(architecture, data, config, on_event, stop, device)
            teacher.note = note
            if teacher.status != "completed":
                return teacher
            note_on_save = _save(path, teacher)
            teacher.note = " ".join(part for part in (note, note_on_save) if part)
        _MEMORY[path] = teacher
        return teacher


def _train(architecture: str, data: MnistData, config: TrainConfig, on_event, stop, device) -> Teacher:
    model = build_model(architecture, seed=config.seed)
    result = train_model(
        model, data.train, data.test, config, run="teacher", on_event=on_event, stop=stop, device=device
    )
    record = TeacherRecord(
        architecture=architecture,
        data_source=data.source.name,
        train_size=len(data.train),
        test_size=len(data.test),
        epochs=config.epochs,
        seed=config.seed,
        jitter_pixels=config.jitter_pixels,
        test_accuracy=result.evaluation.accuracy,
        test_errors=result.evaluation.errors,
        parameters=describe_model(architecture).parameters,
        train_seconds=round(result.seconds, 2),
        torch_version=str(torch.__version__),
        torchvision_version=str(torchvision.__version__),
        kdlab_version=kdlab.__version__,
    )
    device = device or pick_device()
    train_logits = predict_logits(result.model.to(device), data.train.images, device)
    result.model.cpu()
    return Teacher(record, result.model, train_logits, result.test_logits, status=result.status)


def _save(path: Path, teacher: Teacher) -> str:
    """Write atomically; a full disk or read-only cache is a note, not a crash."""
    payload = {"meta": asdict(teacher.record), "state_dict": teacher.model.state_dict(),
               "train_logits": teacher.train_logits, "test_logits": teacher.test_logits}  # fmt: skip
    try:
        write_atomically(path, lambda file: torch.save(payload, file))
    except OSError as error:
        return (
            f"Could not cache the teacher ({error.strerror or type(error).__name__}); it will be retrained next time."
        )
    return ""


def _load_cached(path: Path, expected: dict) -> tuple[Teacher | None, str]:
    """The cached teacher, or None and a note saying why the file could not be used."""
    if not path.exists():
        return None, ""
    started = time.perf_counter()
    try:
        payload = torch.load(path, weights_only=True, map_location="cpu")
        meta = payload["meta"]
        mismatched = {key: meta.get(key) for key, value in expected.items() if meta.get(key) != value}
        if mismatched or meta.get("cache_format") != CACHE_FORMAT:
            return None, f"Cached teacher {path.name} did not match ({mismatched or 'old format'}); retrained."
        record = TeacherRecord(**meta)
        model = build_model(record.architecture)
        model.load_state_dict(payload["state_dict"])
        model.eval()
        train_logits, test_logits = payload["train_logits"], payload["test_logits"]
        if train_logits.shape != (expected["train_size"], 10) or test_logits.shape != (expected["test_size"], 10):
            return None, f"Cached teacher {path.name} has logits of the wrong shape; retrained."
    except Exception as error:  # truncated or corrupt: torch raises many error types
        return None, f"Cached teacher {path.name} was unreadable ({type(error).__name__}); retrained."
    note = f"Loaded from cache in {time.perf_counter() - started:.2f} s."
    return Teacher(record, model, train_logits, test_logits, from_cache=True, note=note), ""


def forget_cached_teachers() -> None:
    """Drop the in-memory copies (the files stay); used by tests."""
    with _KEY_LOCKS_GUARD:
        _MEMORY.clear()
