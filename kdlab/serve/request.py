"""One press of Train as frozen objects: a ``Press`` of 1 to ``MAX_SEEDS`` seeds, each seed a ``TrainRequest``
built once from the config and the data (its transfer set, its cost plan, its request and baseline keys) and
carried to the end: the seeds one after another (``kdlab.serve.series``), the lab job (``kdlab.serve.lab``),
the live run its followers share (``kdlab.serve.live``), the page."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from kdlab.experiments.distill import DistillConfig
from kdlab.experiments.plans import PlannedRun, student_pair_plan
from kdlab.experiments.seeds import MAX_SEEDS
from kdlab.ml.data import MnistData
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.stacked import stackable
from kdlab.serve.keys import baseline_key, key_of, run_identity, teacher_matches, with_teacher_results
from kdlab.teachers.cache import is_teacher_cached
from kdlab.teachers.teacher import TeacherRecord, default_teacher_epochs


@dataclass(frozen=True, eq=False)
class TrainRequest:
    """One run (one seed of a ``Press``): everything it needs, computed once and carried to the end.

    Build it with ``TrainRequest.build``; ``LabTicket.request`` and ``LiveRun.request`` hold it, so the
    page and the live view read the run's settings from it, also after a reload.
    """

    config: DistillConfig
    transfer_indices: torch.Tensor  # (N,) the transfer set's indices into data.train
    plan: dict[str, float]  # stage -> training cost: the progress bar's weights; the teacher's is 0 when cached
    identity: dict  # kdlab.serve.keys.run_identity without the teacher's results
    key: str  # the request key: identical requests share it, and their live run
    baseline_key: str | None  # the student alone's (kdlab.serve.baselines): runs of any T or alpha share it
    class_code: str | None = None  # the class board the run counts for
    prediction: dict | None = None  # what the student predicted before pressing Train
    fresh: bool = False  # "Train it again live": never served from the result cache

    @classmethod
    def build(
        cls,
        config: DistillConfig,
        data: MnistData,
        *,
        class_code: str | None = None,
        prediction: dict | None = None,
        fresh: bool = False,
    ) -> TrainRequest:
        """The request for ``config`` on ``data``.

        Raises:
            ValueError: the config does not fit the data (e.g. a batch bigger than the training set).
        """
        indices = config.transfer_indices(data)
        teacher_epochs = config.teacher_epochs or default_teacher_epochs(len(data.train))
        cached = is_teacher_cached(config.teacher, data, epochs=teacher_epochs, seed=config.teacher_seed)
        teacher_run = None if cached else PlannedRun(config.teacher, len(data.train), teacher_epochs)
        student_run = PlannedRun(config.student, len(indices), config.training.epochs)
        plan = student_pair_plan(teacher_run, student_run, config.student_runs, METHODS[config.soft].cost)
        identity = run_identity(config, data)
        key = key_of(identity)
        return cls(config, indices, plan, identity, key, baseline_key(config, data), class_code, prediction, fresh)

    @property
    def cost(self) -> float:
        """The work of the whole run (see ``kdlab.serve.limits``)."""
        return sum(self.plan.values())

    def again(self) -> TrainRequest:
        """The same request, trained again live instead of served from the cache."""
        return replace(self, fresh=True)

    @property
    def alike(self) -> tuple | None:
        """What a run shares with the runs whose students train alike (the student and the settings that fix
        its shape and steps), for a runner that trains them together (``kdlab.serve.stacking``); None when
        its student cannot be stacked, when its method reads the student's layers (a feature- or relation-based
        one), when a schedule moves its temperature, or when its teacher must train first (minutes the others would wait)."""
        config, training = self.config, self.config.training
        if self.plan["teacher"] or not stackable(config.student) or METHODS[config.soft].transfer is not None:
            return None  # a feature method's term reads the student's layers, which a stack has as one batched model
        if config.schedule != "constant":
            return None  # a schedule counts its run's steps, and a learned T trains beside the student's weights
        shape = (training.epochs, training.batch_size, training.evaluations_per_epoch, training.curve_test_images)
        return (config.student, len(self.transfer_indices), *shape)

    def teacher_matches(self, teacher: TeacherRecord) -> bool:
        """True when ``teacher`` is the one this request asks for (architecture, data, epochs, seed)."""
        return teacher_matches(self.identity, teacher)

    def result_key(self, teacher: TeacherRecord) -> str:
        """The key of this run's result with the teacher that trained it."""
        return key_of(with_teacher_results(self.identity, teacher))


@dataclass(frozen=True, eq=False)
class Press:
    """One press of Train: the same run at 1 to ``MAX_SEEDS`` seeds (the config's seed, +1, ...), each seed a
    ``TrainRequest`` of its own (its result key, cache entry and live run), so a seed a classmate trained
    alone comes from the cache. ``kdlab.serve.series`` starts them one after another. The class code goes
    with every seed, the prediction with the first seed's run only (it is counted once)."""

    runs: tuple[TrainRequest, ...]

    @classmethod
    def build(
        cls,
        config: DistillConfig,
        data: MnistData,
        *,
        class_code: str | None = None,
        prediction: dict | None = None,
        fresh: bool = False,
        seeds: int = 1,
    ) -> Press:
        """``config`` at ``seeds`` seeds from its own.

        Raises:
            ValueError: the config does not fit the data, or ``seeds`` is not 1 to ``MAX_SEEDS``.
        """
        if not (isinstance(seeds, int) and 1 <= seeds <= MAX_SEEDS):
            raise ValueError(f"Repeat a run at 1 to {MAX_SEEDS} seeds (got {seeds}).")
        first = config.training.seed
        return cls(
            tuple(
                TrainRequest.build(
                    replace(config, training=replace(config.training, seed=first + n)) if n else config,
                    data,
                    class_code=class_code,
                    prediction=None if n else prediction,
                    fresh=fresh,
                )
                for n in range(seeds)
            )
        )

    @classmethod
    def of(cls, request: TrainRequest) -> Press:
        """A press of the one run ``request`` ("Train it again live", a run cut off by a restart)."""
        return cls((request,))

    @property
    def first(self) -> TrainRequest:
        """The first seed's request: the settings the student chose."""
        return self.runs[0]

    @property
    def seeds(self) -> int:
        return len(self.runs)

    def tagged(self, *, class_code: str | None, prediction: dict | None) -> Press:
        """The same press, counting for the class ``class_code`` with the student's ``prediction``."""
        return Press(
            tuple(
                replace(run, class_code=class_code, prediction=prediction if index == 0 else None)
                for index, run in enumerate(self.runs)
            )
        )

    def again(self) -> Press:
        """The same press, every seed trained again live."""
        return Press(tuple(run.again() for run in self.runs))
