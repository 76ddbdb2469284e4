"""A teacher's features for the feature- and relation-based methods, read once per teacher and kept like its
logits: on disk beside it and in memory.

A method's teacher signal (``kdlab.ml.methods.transfer.FeatureTransfer``: ``cnn-wide``'s attention maps, or its
last hidden layer) is read for every training image at once, so every transfer set, seed and student of the
same signal indexes the same tensor, as the teacher's logits are: hints, RKD and SP share one (the last hidden
layer, in float16: 123 MB for ``cnn-wide`` on full MNIST), and AT one per map size. Reading it costs a teacher
forward pass over the training images, measured 1.8 s for 5,000 images of ``cnn-wide`` on one thread (so
about 22 s on full MNIST, once per teacher; ``prepare`` pays it before the class). The file is
``<teacher file>-<signal>.pt``, written atomically and loaded weights-only; a corrupt or mismatched one is read
again. It counts in the teacher cache's size (``kdlab.teachers.eviction``) and is evicted like a teacher file.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import OrderedDict
from dataclasses import asdict
from pathlib import Path

import torch

from kdlab.ml.data import MnistData, default_cache_dir
from kdlab.ml.features import feature_shapes
from kdlab.ml.files import write_atomically
from kdlab.ml.methods.method import Method
from kdlab.teachers.cache import teacher_cache_path
from kdlab.teachers.eviction import mark_used, prune_teachers
from kdlab.teachers.teacher import Teacher

# The last few signals stay in memory: a class's runs use one or two (one teacher; hints, RKD and SP share).
MAX_SIGNALS_IN_MEMORY = 3
_MEMORY: OrderedDict[str, dict[str, torch.Tensor]] = OrderedDict()
_LOCK = threading.Lock()  # one thread reads a signal; the others wait for it and share it


def signal_name(method: Method, student: str) -> str:
    """The name of ``method``'s teacher signal for ``student``: its taps and, for the block maps, the sizes
    they are kept at (the smaller of the two networks'), e.g. ``embedding`` or ``block1-12.block2-4``."""
    shapes = feature_shapes(student)
    return ".".join(tap if len(shapes[tap]) == 1 else f"{tap}-{shapes[tap][-1]}" for tap in method.transfer.taps)


def signal_path(
    teacher: Teacher, method: Method, student: str, data: MnistData, *, cache_dir: str | os.PathLike | None = None
) -> Path:
    """Where ``teacher_signal`` keeps ``method``'s signal of ``teacher`` for ``student``: beside the teacher's file."""
    record = teacher.record
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    teacher_file = teacher_cache_path(cache, record.architecture, data, record.epochs, record.seed)
    return teacher_file.with_name(f"{teacher_file.stem}-{signal_name(method, student)}.pt")


def teacher_signal(
    teacher: Teacher,
    method: Method,
    student: str,
    data: MnistData,
    *,
    cache_dir: str | os.PathLike | None = None,
) -> dict[str, torch.Tensor]:
    """``method``'s signal of ``teacher`` for every training image of ``data`` (each (N_train, ...), on the CPU),
    for the architecture ``student``: from memory, else from disk, else read and kept in both."""
    record = teacher.record
    path = signal_path(teacher, method, student, data, cache_dir=cache_dir)
    stamp = hashlib.sha256(json.dumps(asdict(record), sort_keys=True).encode()).hexdigest()
    key = f"{path}:{stamp}"
    with _LOCK:
        if key in _MEMORY:
            _MEMORY.move_to_end(key)
            return _MEMORY[key]
        signal = _load(path, stamp, len(data.train))
        if signal is None:
            signal = method.transfer.signal_for(teacher.model, data.train.images, student)
            try:
                write_atomically(path, lambda file: torch.save({"teacher": stamp, "signal": signal}, file))
                prune_teachers(path.parent, keep=path)  # it counts in KDLAB_TEACHER_CACHE_MB like a teacher file
            except OSError:
                pass  # a read-only or full cache: the signal is read again next time
        else:
            mark_used(path)
        _MEMORY[key] = signal
        while len(_MEMORY) > MAX_SIGNALS_IN_MEMORY:
            _MEMORY.popitem(last=False)
        return signal


def transfer_signal(
    teacher: Teacher,
    method: Method,
    student: str,
    data: MnistData,
    indices: torch.Tensor,
    *,
    cache_dir: str | os.PathLike | None = None,
) -> dict[str, torch.Tensor] | None:
    """``teacher_signal`` for the transfer images ``indices`` of ``data.train``, as the training loop takes it
    (indexed like the teacher's logits); None for a method without a signal."""
    if method.transfer is None:
        return None
    kept = teacher_signal(teacher, method, student, data, cache_dir=cache_dir)
    return {name: value[indices] for name, value in kept.items()}


def _load(path: Path, stamp: str, images: int) -> dict[str, torch.Tensor] | None:
    """The signal kept at ``path`` for the teacher ``stamp``, or None (missing, corrupt, another teacher's)."""
    try:
        saved = torch.load(path, weights_only=True, map_location="cpu")
    except (OSError, RuntimeError, ValueError, EOFError):
        return None
    signal = saved.get("signal") if isinstance(saved, dict) and saved.get("teacher") == stamp else None
    if not isinstance(signal, dict) or any(len(value) != images for value in signal.values()):
        return None
    return signal


def forget_teacher_signals() -> None:
    """Empty the memory cache (tests, and a server whose teachers were retrained)."""
    with _LOCK:
        _MEMORY.clear()
