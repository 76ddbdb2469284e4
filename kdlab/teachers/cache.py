"""Teachers trained once and cached: on disk under the cache dir, and in memory per process.

``resolve_teacher(name, data)`` is the one function that turns any teacher name into a trained
``Teacher``: one architecture (``cnn``), or an ensemble (``ensemble:cnn,lenet5``, ``ensemble:cnn*3``,
see ``kdlab.teachers.ensembles``) whose members are ordinary cached teachers, combined in memory.

A cache file holds the teacher's ``state_dict``, its metadata (architecture, data source,
epochs, seed, test accuracy, library versions) and its logits on the training and test
sets, so a distillation run never needs a teacher forward pass. Files are written to a
temporary name and renamed, so concurrent processes never see half a file; they are loaded
with ``torch.load(weights_only=True, map_location="cpu")``. A truncated, corrupt or
mismatched file is reported in ``Teacher.note`` and the teacher is retrained.
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torchvision

import kdlab
from kdlab.ml.data import MnistData, default_cache_dir
from kdlab.ml.files import write_atomically
from kdlab.ml.metrics import evaluate_logits
from kdlab.ml.models import build_model, describe_model
from kdlab.ml.train import EventCallback, StepEvent, TrainConfig, pick_device, predict_logits, train_model
from kdlab.teachers.ensembles import EnsembleModel, TeacherName, describe_teacher, parse_teacher_name
from kdlab.teachers.ensembles import soft_target_logits as ensemble_soft_target_logits
from kdlab.teachers.teacher import CACHE_FORMAT, Teacher, TeacherRecord, default_teacher_epochs


def teacher_cache_path(
    cache_dir: Path, architecture: str, data: MnistData, epochs: int, seed: int, jitter_pixels: int = 0
) -> Path:
    source = data.source
    jitter = f"-j{jitter_pixels}" if jitter_pixels else ""
    name = f"{architecture}-{source.name}-{source.train_size}-e{epochs}-s{seed}{jitter}.pt"
    return cache_dir / "teachers" / name


def is_teacher_cached(
    name: str, data: MnistData, *, epochs: int | None = None, seed: int = 0, cache_dir: str | os.PathLike | None = None
) -> bool:
    """True when this teacher (every member, for an ensemble) is trained and on disk, so
    loading it costs no training."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    epochs = epochs or default_teacher_epochs(len(data.train))
    parsed = parse_teacher_name(name)
    return all(
        teacher_cache_path(cache, architecture, data, epochs, member_seed).exists()
        for architecture, member_seed in zip(parsed.architectures, parsed.member_seeds(seed))
    )


def is_teacher_in_memory(
    name: str, data: MnistData, *, epochs: int | None = None, seed: int = 0, cache_dir: str | os.PathLike | None = None
) -> bool:
    """True when this teacher is in the process's memory cache (``MEMORY``), also when its file could not be
    written (a read-only cache): resolving it then costs no training."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    epochs = epochs or default_teacher_epochs(len(data.train))
    return MEMORY.get(teacher_cache_path(cache, parse_teacher_name(name).name, data, epochs, seed)) is not None


class _TeacherMemory:
    """The process's one memory cache of trained networks, newest kept, and one lock per teacher while
    anyone is resolving it, so only one thread trains a given teacher and the others wait and share it.

    Bounded: a teacher is its weights plus its logits on every image (about 7 MB for ``cnn-wide`` on
    full MNIST, 13 MB for ``mlp-1200x2``), so ``MAX_TEACHERS_IN_MEMORY`` networks stay well under 200 MB; an
    older one is loaded from disk again (about 0.1 s) when it is asked for. The locks are bounded by the
    threads resolving a teacher right now: a teacher's lock goes when its last user leaves.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._guard = threading.Lock()
        self._teachers: OrderedDict[Path, Teacher] = OrderedDict()
        self._locks: dict[Path, tuple[threading.Lock, int]] = {}  # path -> (lock, threads using it)

    @contextmanager
    def resolving(self, path: Path) -> Iterator[None]:
        """Hold the lock of the teacher at ``path``; the lock is dropped when its last user leaves."""
        with self._guard:
            lock, users = self._locks.get(path, (threading.Lock(), 0))
            self._locks[path] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[path]
                if users == 1:
                    del self._locks[path]
                else:
                    self._locks[path] = (lock, users - 1)

    def get(self, path: Path) -> Teacher | None:
        with self._guard:
            teacher = self._teachers.get(path)
            if teacher is not None:
                self._teachers.move_to_end(path)
            return teacher

    def put(self, path: Path, teacher: Teacher) -> None:
        with self._guard:
            self._teachers[path] = teacher
            self._teachers.move_to_end(path)
            while len(self._teachers) > self.capacity:
                self._teachers.popitem(last=False)

    def clear(self) -> None:
        with self._guard:
            self._teachers.clear()


MAX_TEACHERS_IN_MEMORY = 12
MEMORY = _TeacherMemory(MAX_TEACHERS_IN_MEMORY)


def resolve_teacher(
    name: str,
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
    """Any teacher by name, trained on ``data.train``: from memory, the disk cache, or trained now.

    ``name`` is an architecture (``cnn``) or an ensemble (``ensemble:cnn,lenet5``, ``ensemble:cnn*3``).
    Each member of an ensemble is an ordinary teacher with its own cache file (member i of
    ``arch*n`` trains with ``seed + i``); members train one after another, their step events
    counted as one run so a progress bar moves once from 0 to 1. A stopped run returns a
    teacher with ``status="stopped"`` that is not cached.

    Raises:
        ValueError: an invalid name (see ``kdlab.teachers.ensembles.parse_teacher_name``).
    """
    parsed = parse_teacher_name(name)
    options = dict(
        epochs=epochs or default_teacher_epochs(len(data.train)),
        jitter_pixels=jitter_pixels,
        learning_rate=learning_rate,
        cache_dir=cache_dir,
        stop=stop,
        device=device,
    )
    if not parsed.is_ensemble:
        return _single_teacher(parsed.name, data, seed=seed, on_event=on_event, **options)
    seeds = parsed.member_seeds(seed)
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    # The assembled ensemble is kept too (under a key that is never a file): stacking its members'
    # logits on every page run of the lab would redo the same work each time.
    key = teacher_cache_path(cache, parsed.name, data, options["epochs"], seed, jitter_pixels)
    known = MEMORY.get(key)
    if known is not None:
        return known
    pending = [
        not teacher_cache_path(cache, architecture, data, options["epochs"], member_seed, jitter_pixels).exists()
        for architecture, member_seed in zip(parsed.architectures, seeds)
    ]
    steps = math.ceil(len(data.train) / TrainConfig().batch_size) * options["epochs"]  # the teachers' batch size
    total, done = steps * max(1, sum(pending)), 0
    members: list[Teacher] = []
    for architecture, member_seed, training in zip(parsed.architectures, seeds, pending):
        member = _single_teacher(
            architecture, data, seed=member_seed, on_event=_as_one_run(on_event, done, total), **options
        )
        members.append(member)
        done += steps if training else 0
        if member.status != "completed":
            break
    ensemble = _assemble_ensemble(parsed, members, data, seed, jitter_pixels)
    if ensemble.status == "completed":
        MEMORY.put(key, ensemble)
    return ensemble


def keep_teacher(teacher: Teacher, data: MnistData, *, cache_dir: str | os.PathLike | None = None) -> None:
    """Cache here a teacher that another process trained (a Ray worker, ``kdlab.serve.tasks``): on disk
    unless its file is there already (a cache dir shared with the workers), and in this process's memory,
    so this server never trains it again. A stopped teacher (or member) is not kept."""
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    for kept in [*teacher.members, teacher]:
        record = kept.record
        if kept.status != "completed":
            continue
        path = teacher_cache_path(cache, record.architecture, data, record.epochs, record.seed, record.jitter_pixels)
        if not kept.is_ensemble and not path.exists():
            _save(path, kept)
        MEMORY.put(path, kept)


def _as_one_run(on_event: EventCallback | None, done: int, total: int) -> EventCallback | None:
    """Forward a member's events, its step counts shifted so all members make one run of ``total`` steps."""
    if on_event is None:
        return None

    def forward(event) -> None:
        if isinstance(event, StepEvent):
            event = replace(event, step=min(total, done + event.step), total_steps=total)
        on_event(event)

    return forward


def _assemble_ensemble(
    parsed: TeacherName, members: list[Teacher], data: MnistData, seed: int, jitter_pixels: int
) -> Teacher:
    """One ``Teacher`` from trained members: logits at T = 1 are the log of their averaged probabilities."""
    train_logits = ensemble_soft_target_logits(torch.stack([member.train_logits for member in members]))
    test_logits = ensemble_soft_target_logits(torch.stack([member.test_logits for member in members]))
    evaluation = evaluate_logits(test_logits, data.test.labels)
    first = members[0].record
    record = replace(
        first,
        architecture=parsed.name,
        seed=seed,
        jitter_pixels=jitter_pixels,
        test_accuracy=evaluation.accuracy,
        test_errors=evaluation.errors,
        parameters=describe_teacher(parsed.name).parameters,
        train_seconds=round(sum(member.record.train_seconds for member in members), 2),
    )
    complete = len(members) == len(parsed.architectures)
    status = next((member.status for member in members if member.status != "completed"), "completed")
    cached = sum(member.from_cache for member in members)
    note = f"{cached} of {len(parsed.architectures)} members loaded from the cache."
    return Teacher(
        record,
        EnsembleModel([member.model for member in members]).eval(),
        train_logits,
        test_logits,
        status=status if complete else "stopped",
        from_cache=cached == len(members),
        note=note,
        members=members,
    )


def _single_teacher(
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
    """The one-network teacher for this architecture, data, epochs and seed: from memory, disk, or
    trained now.

    Only one thread trains a given teacher at a time; others wait and then share it. A run
    stopped early returns a teacher with ``status="stopped"`` that is not cached.
    """
    epochs = epochs or default_teacher_epochs(len(data.train))
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = teacher_cache_path(cache, architecture, data, epochs, seed, jitter_pixels)
    with MEMORY.resolving(path):
        known = MEMORY.get(path)
        if known is not None:
            return known
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
            # Teacher curves only move a progress bar: measuring them on 1,000 test images instead of all
            # of them made a 2,000-image teacher (16 steps an epoch) train several times faster.
            config = TrainConfig(
                epochs=epochs,
                seed=seed,
                learning_rate=learning_rate,
                jitter_pixels=jitter_pixels,
                evals_per_epoch=2,
                curve_test_images=1_000,
            )
            teacher = _train(architecture, data, config, on_event, stop, device)
            teacher.note = note
            if teacher.status != "completed":
                return teacher
            note_on_save = _save(path, teacher)
            teacher.note = " ".join(part for part in (note, note_on_save) if part)
        MEMORY.put(path, teacher)
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
    payload = {
        "meta": asdict(teacher.record),
        "state_dict": teacher.model.state_dict(),
        "train_logits": teacher.train_logits,
        "test_logits": teacher.test_logits,
    }
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
    MEMORY.clear()


# Callers that predate ensembles use this name; it resolves any teacher name, ensembles included.
