"""The quick teacher: a small network trained in seconds that stands in, on the explorer, for a teacher
that is still training.

The explorer needs only a teacher's outputs on the test images, so a fresh server can show the dark
knowledge before its default teacher (``cnn-wide``: 83 s on the 4,000-image sample on an idle 2-core
machine, minutes on full MNIST) is trained. The quick teacher is an ordinary cached teacher, under its own
name and epochs (its own cache file): the lab, the lessons and the result cache never see it, and every
page that shows it says so. It is the same whichever teacher it stands in for, so a server trains it once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.teachers.cache import load_cached_teacher, resolve_teacher
from kdlab.teachers.ensembles import training_cost
from kdlab.teachers.teacher import Teacher, default_teacher_epochs


@dataclass(frozen=True)
class QuickTeacher:
    """Which network stands in, and how much it sees: ``images`` image passes (epochs x training images),
    at least one epoch; a teacher stands in only for one whose training is ``stand_in_ratio`` times its work."""

    architecture: str
    images: int
    stand_in_ratio: float

    def epochs(self, train_size: int) -> int:
        """Epochs on a training set of ``train_size`` images: ``images`` passes, at least one."""
        return max(1, round(self.images / max(train_size, 1)))


# mlp-300x1 for about a quarter of a full-MNIST epoch's worth of images, at least one epoch: 4 epochs on the
# sample, 1 on full MNIST. One torch thread, idle 2-core machine (2026-12-07): the sample 4 epochs 0.8 s, 92.2% (78
# of 1,000 test images wrong), where 8 took 2.1 s for 93.2% and 3 gave 91.3%; on the shared machine (load 6 to 8,
# 2026-12-06) full MNIST 1 epoch 3.5 s, 95.4% (456 of 10,000 wrong). One full-MNIST epoch of the small CNN took 67 s;
# lenet5 for two epochs of the sample gave 80.8%. The default teacher is 100 (sample) to 80 (full MNIST) times the
# quick one's work by FLOPs; it takes 83 s on the sample (idle machine). What the first chart waits for is mostly
# the first visit's imports and the workers' start (bench/explorer_first_chart.py, docs/deployment.md).
QUICK_TEACHER = QuickTeacher("mlp-300x1", images=16_000, stand_in_ratio=2.0)


def quick_teacher_epochs(data: MnistData) -> int:
    """The quick teacher's epochs on ``data``'s training set."""
    return QUICK_TEACHER.epochs(len(data.train))


def needs_a_stand_in(name: str, data: MnistData) -> bool:
    """True when training the teacher ``name`` (its default epochs on ``data``) is at least
    ``stand_in_ratio`` times the quick teacher's work: then the quick one is worth showing meanwhile."""
    size = len(data.train)
    full = training_cost(name, size, default_teacher_epochs(size))
    quick = training_cost(QUICK_TEACHER.architecture, size, quick_teacher_epochs(data))
    return full >= QUICK_TEACHER.stand_in_ratio * quick


def cached_quick_teacher(data: MnistData, *, cache_dir: str | os.PathLike | None = None) -> Teacher | None:
    """The quick teacher if it is trained (in this process's memory, or on disk and usable), else None. Never
    trains; a corrupt file is removed (``load_cached_teacher``)."""
    return load_cached_teacher(QUICK_TEACHER.architecture, data, epochs=quick_teacher_epochs(data), cache_dir=cache_dir)


def is_quick_teacher_ready(data: MnistData, *, cache_dir: str | os.PathLike | None = None) -> bool:
    """True when the quick teacher is trained: resolving it costs no training."""
    return cached_quick_teacher(data, cache_dir=cache_dir) is not None


def resolve_quick_teacher(
    data: MnistData,
    *,
    context: RunContext | None = None,
) -> Teacher:
    """The quick teacher on ``data``: from memory, the disk cache, or trained now (seed 0), in ``context``."""
    return resolve_teacher(QUICK_TEACHER.architecture, data, epochs=quick_teacher_epochs(data), context=context)
