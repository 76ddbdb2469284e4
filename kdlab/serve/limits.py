"""A server-side cap on one lab run's cost, so that no slider or link can monopolise the server.

A run's cost is the work its trainings do: images x epochs x the student's forward FLOPs per
image, for each student trained (the distilled one, times its method's ``Method.cost``, and, usually, the same
student alone), plus the teacher's training when the teacher is not cached yet. The instructor sets the cap with
``KDLAB_MAX_RUN_COST``: a multiple of the default lab run (``20x``, the default), a number of
FLOPs (``5e12``), or ``inf`` for no cap. The unit students see is "default runs": the default
lab run (``DistillConfig()`` on 10,000 images) costs 1.
"""

from __future__ import annotations

import math

from kdlab.experiments.distill import DEMO_TRAIN_SIZE, DistillConfig
from kdlab.ml.data import MnistData
from kdlab.ml.methods.registry import METHODS
from kdlab.settings import current_settings
from kdlab.teachers.cache import is_teacher_cached
from kdlab.teachers.ensembles import training_cost
from kdlab.teachers.teacher import default_teacher_epochs


class CostTooHigh(ValueError):
    """The run would cost more than the server's cap; the message says how to get under it."""


def _students(config: DistillConfig) -> float:
    """The run's student trainings in student trainings of KD: the distilled one at its method's ``Method.cost``,
    and the student alone."""
    return METHODS[config.soft].cost + (1 if config.with_baseline else 0)


def default_run_cost() -> float:
    """The cost of the default lab run with its teacher cached: the unit of the cap."""
    config = DistillConfig()
    return training_cost(config.student, DEMO_TRAIN_SIZE, config.training.epochs) * _students(config)


def teacher_cost(config: DistillConfig, data: MnistData) -> float:
    """The teacher's training cost, or 0 when it is cached (loading it costs no training)."""
    epochs = config.teacher_epochs or default_teacher_epochs(len(data.train))
    if is_teacher_cached(config.teacher, data, epochs=epochs, seed=config.teacher_seed):
        return 0.0
    return training_cost(config.teacher, len(data.train), epochs)


def run_cost(config: DistillConfig, data: MnistData) -> float:
    """FLOPs-based cost of the lab run ``config`` on ``data`` (see the module docstring).

    Raises:
        ValueError: the config does not fit the data (e.g. a batch bigger than the training set).
    """
    images = len(config.transfer_indices(data))
    students = training_cost(config.student, images, config.training.epochs) * _students(config)
    return students + teacher_cost(config, data)


def max_run_cost() -> float:
    """The cap from ``KDLAB_MAX_RUN_COST`` ("20x", "5e12", "inf"; unset: 20 default runs).

    Raises:
        kdlab.settings.SettingsError: the variable is set to something else.
    """
    cap = current_settings().max_run_cost
    return cap.amount * default_run_cost() if cap.unit == "default runs" else cap.amount


def _runs(cost: float) -> str:
    runs = cost / default_run_cost()
    return f"{runs:,.0f}" if runs >= 10 else f"{runs:.1f}"


def _round_down(value: float) -> int:
    """Two significant digits, rounded down: 33,333 -> 33,000."""
    if value < 10:
        return int(value)
    step = 10 ** (int(math.log10(value)) - 1)
    return int(value // step * step)


def check_run_cost(config: DistillConfig, data: MnistData) -> float:
    """The run's cost (``run_cost``) when it is within the cap.

    Raises:
        CostTooHigh: above the cap; the message states both in default runs and how to get under it.
        ValueError: the config does not fit the data, or the cap setting is malformed.
    """
    return check_cost(config, len(config.transfer_indices(data)), teacher_cost(config, data))


def check_cost(config: DistillConfig, images: int, teacher: float, seeds: int = 1) -> float:
    """The cost of the run ``config`` on ``images`` transfer images, repeated at ``seeds`` seeds, with
    ``teacher`` the cost of training its teacher first (0 when cached; once for all the seeds), when it
    is within the cap.

    Raises:
        CostTooHigh: above the cap; the message states both in default runs and how to get under it.
        ValueError: the cap setting is malformed.
    """
    one_seed = training_cost(config.student, images, config.training.epochs) * _students(config)
    students = one_seed * seeds
    cost, cap = students + teacher, max_run_cost()
    if cost <= cap:
        return cost
    twice = ", trained twice: distilled and alone" if config.with_baseline else ""
    method = METHODS[config.soft]
    heavier = f", the {method.label} run counted {method.cost:g} times" if method.cost != 1 else ""
    what = f"{config.training.epochs} epochs x {images:,} images x {config.student}{twice}{heavier}"
    if seeds > 1:
        what += f", at {seeds} seeds"
    if teacher:
        what += f", plus training the teacher {config.teacher} first"
    ways = []
    room = cap - teacher
    if seeds > 1 and room >= one_seed:
        ways.append(f"at most {min(seeds - 1, math.floor(room / one_seed))} seeds")
    if room > 0 and (epochs := math.floor(room / (students / config.training.epochs))) >= 1:
        ways.append(f"at most {epochs} epochs")
    if room > 0 and (fewer := _round_down(room / (students / images))) >= config.training.batch_size:
        ways.append(f"at most {fewer:,} training images")
    ways.append("a smaller student (fewer or narrower layers)")
    if teacher:
        ways.append("a teacher that is already trained")
    raise CostTooHigh(
        f"This run is too big for the shared server: it is about {_runs(cost)} times the work of the default "
        f"run ({what}), and the limit your instructor set is {_runs(cap)} times. To get under it, use "
        + ", or ".join(ways)
        + "."
    )
