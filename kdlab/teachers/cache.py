"""Teachers trained once and cached: on disk under the cache dir, and in memory per process.

``resolve_teacher(name, data)`` is the one function that turns any teacher name into a trained
``Teacher``: one architecture (``cnn``), or an ensemble (``ensemble:cnn,lenet5``, ``ensemble:cnn*3``,
see ``kdlab.teachers.ensembles``) whose members are ordinary cached teachers, combined in memory.

A cache file holds the teacher's ``state_dict``, its metadata (architecture, data source,
epochs, seed, test accuracy, library versions) and its logits on the training and test
sets, so a distillation run never needs a teacher forward pass. Files are written to a
temporary name and renamed, so concurrent processes never see half a file; they are loaded
with ``torch.load(weights_only=True, map_location="cpu")``. A truncated, corrupt or
mismatched file is reported in ``Teacher.note`` and the teacher is retrained; ``load_cached_teacher`` never
trains: it removes such a file instead, so the teacher counts as untrained and its training is queued like
any other. The folder stays within ``KDLAB_TEACHER_CACHE_MB`` (``kdlab.teachers.eviction``).
"""

from __future__ import annotations

import importlib.metadata
import math
import os
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch

import kdlab
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData, default_cache_dir
from kdlab.ml.events import EventCallback, StepEvent
from kdlab.ml.files import write_atomically
from kdlab.ml.metrics import evaluate_logits
from kdlab.ml.models import build_model, describe_model
from kdlab.ml.train import TrainConfig, pick_device, predict_logits, train_model
from kdlab.teachers.ensembles import EnsembleModel, TeacherName, describe_teacher, parse_teacher_name
from kdlab.teachers.ensembles import soft_target_logits as ensemble_soft_target_logits
from kdlab.teachers.eviction import mark_used, prune_teachers
from kdlab.teachers.memory import MEMORY
from kdlab.teachers.teacher import CACHE_FORMAT, Teacher, TeacherRecord, default_teacher_epochs

# The installed torchvision, read from its metadata: importing torchvision to ask it costs 3.2 s on the 2-core
# server (it imports torch._dynamo through torchvision.ops), paid by the first visit and by every training
# worker, for one string in a teacher's record. kdlab.ml.data imports it only to read MNIST's files.
TORCHVISION_VERSION = importlib.metadata.version("torchvision")


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


def resolve_teacher(
    name: str,
    data: MnistData,
    *,
    epochs: int | None = None,
    seed: int = 0,
    jitter_pixels: int = 0,
    learning_rate: float = 1e-3,
    context: RunContext | None = None,
    train: bool = True,
) -> Teacher | None:
    """Any teacher by name, trained on ``data.train``: from memory, the disk cache, or trained now (with
    ``train`` False, None instead: see ``load_cached_teacher``).

    ``name`` is an architecture (``cnn``) or an ensemble (``ensemble:cnn,lenet5``, ``ensemble:cnn*3``).
    Each member of an ensemble is an ordinary teacher with its own cache file (member i of
    ``arch*n`` trains with ``seed + i``); members train one after another, their step events
    counted as one run so a progress bar moves once from 0 to 1. A stopped run returns a
    teacher with ``status="stopped"`` that is not cached. ``context``: the training's events, stop flag and
    device, and the cache directory (the settings' one when None).

    Raises:
        ValueError: an invalid name (see ``kdlab.teachers.ensembles.parse_teacher_name``).
    """
    parsed = parse_teacher_name(name)
    options = dict(
        epochs=epochs or default_teacher_epochs(len(data.train)),
        jitter_pixels=jitter_pixels,
        learning_rate=learning_rate,
        train=train,
    )
    context = context or RunContext()
    if not parsed.is_ensemble:
        return _single_teacher(parsed.name, data, seed=seed, context=context, **options)
    return _ensemble_teacher(parsed, data, seed, context, options)


def load_cached_teacher(
    name: str,
    data: MnistData,
    *,
    epochs: int | None = None,
    seed: int = 0,
    cache_dir: str | os.PathLike | None = None,
) -> Teacher | None:
    """The teacher from memory or the disk cache, never trained: None when a network of it is not cached. A file
    that cannot be used (corrupt, another format) is removed, so that the teacher counts as untrained: a page
    then queues its training (``kdlab.serve.gate.admit_teacher``) instead of training inside its request."""
    return resolve_teacher(name, data, epochs=epochs, seed=seed, context=RunContext(cache_dir=cache_dir), train=False)


def _ensemble_teacher(
    parsed: TeacherName, data: MnistData, seed: int, context: RunContext, options: dict
) -> Teacher | None:
    """An ensemble from its members (``resolve_teacher``'s ``options``), kept in memory once assembled."""
    seeds, jitter_pixels = parsed.member_seeds(seed), options["jitter_pixels"]
    cache = Path(context.cache_dir).expanduser() if context.cache_dir is not None else default_cache_dir()
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
        member_context = context.with_events(_as_one_run(context.on_event, done, total))
        member = _single_teacher(architecture, data, seed=member_seed, context=member_context, **options)
        if member is None:  # not cached, and not to be trained here
            return None
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
    context: RunContext,
    train: bool = True,
) -> Teacher | None:
    """The one-network teacher for this architecture, data, epochs and seed: from memory, disk, or
    trained now (with ``train`` False: None, and an unusable file removed).

    Only one thread trains a given teacher at a time; others wait and then share it. A run
    stopped early returns a teacher with ``status="stopped"`` that is not cached.
    """
    epochs = epochs or default_teacher_epochs(len(data.train))
    cache = Path(context.cache_dir).expanduser() if context.cache_dir is not None else default_cache_dir()
    path = teacher_cache_path(cache, architecture, data, epochs, seed, jitter_pixels)
    expected = dict(
        architecture=architecture,
        data_source=data.source.name,
        train_size=len(data.train),
        test_size=len(data.test),
        epochs=epochs,
        seed=seed,
        jitter_pixels=jitter_pixels,
    )
    if not train:
        # Without the teacher's lock: a thread training it holds that lock for minutes, and a page asking
        # whether it is ready must not wait for it. A file is only ever replaced whole (atomic rename).
        return _known_or_cached(path, expected)
    with MEMORY.resolving(path):
        known = MEMORY.get(path)
        if known is not None:
            mark_used(path)  # its file is in use too: the last to be pruned
            return known
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
            teacher = _train(architecture, data, config, context)
            teacher.note = note
            if teacher.status != "completed":
                return teacher
            note_on_save = _save(path, teacher)
            teacher.note = " ".join(part for part in (note, note_on_save) if part)
        MEMORY.put(path, teacher)
        return teacher


def _known_or_cached(path: Path, expected: dict) -> Teacher | None:
    """The teacher at ``path`` from memory or its file, or None; an unusable file is removed (unless a
    training's rename replaced it meanwhile)."""
    known = MEMORY.get(path)
    if known is not None:
        mark_used(path)
        return known
    stamp = _stamp(path)
    teacher, note = _load_cached(path, expected)
    if teacher is None:
        if note and _stamp(path) == stamp:
            _remove(path)
        return None
    MEMORY.put(path, teacher)
    return teacher


def _train(architecture: str, data: MnistData, config: TrainConfig, context: RunContext) -> Teacher:
    model = build_model(architecture, seed=config.seed)
    result = train_model(
        model,
        data.train,
        data.test,
        config,
        run="teacher",
        context=context,
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
        torchvision_version=TORCHVISION_VERSION,
        kdlab_version=kdlab.__version__,
    )
    device = context.device or pick_device()
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
    prune_teachers(path.parent, keep=path)
    return ""


def _stamp(path: Path) -> tuple[int, int, int] | None:
    """Which file ``path`` is now (inode, size, modification time), None when there is none."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return stat.st_ino, stat.st_size, stat.st_mtime_ns


def _remove(path: Path) -> None:
    try:
        path.unlink()
    except OSError:  # gone already, or a read-only cache: it stays unusable, and is retrained in a job
        pass


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
    mark_used(path)
    return Teacher(record, model, train_logits, test_logits, from_cache=True, note=note), ""


def forget_cached_teachers() -> None:
    """Drop the in-memory copies (the files stay); used by tests."""
    MEMORY.clear()
