"""One press of Train as one frozen object: ``TrainRequest``, built once from the config and the data
(its transfer set, its cost plan, its request and baseline keys) and carried to the end: the lab job
(``kdlab.serve.lab``), the live run its followers share (``kdlab.serve.live``), the page."""

from __future__ import annotations

from dataclasses import dataclass, replace

import torch

from kdlab.experiments.distill import DistillConfig
from kdlab.experiments.plans import PlannedRun, student_pair_plan
from kdlab.experiments.seeds import MAX_SEEDS
from kdlab.ml.data import MnistData
from kdlab.serve.result_cache import baseline_key, key_of, run_identity, teacher_matches, with_teacher_results
from kdlab.teachers.cache import is_teacher_cached
from kdlab.teachers.teacher import TeacherRecord, default_teacher_epochs


@dataclass(frozen=True, eq=False)
class TrainRequest:
    """One press of Train: everything the run needs, computed once and carried to the end.

    Build it with ``TrainRequest.build``; ``LabTicket.request`` and ``LiveRun.request`` hold it, so the
    page and the live view read the run's settings from it, also after a reload.
    """

    config: DistillConfig
    transfer_indices: torch.Tensor  # (N,) the transfer set's indices into data.train
    plan: dict[str, float]  # stage -> training cost: the progress bar's weights; the teacher's is 0 when cached
    identity: dict  # kdlab.serve.result_cache.run_identity without the teacher's results
    key: str  # the request key: identical requests share it, and their live run
    baseline_key: str | None  # the student alone's (kdlab.serve.baselines): runs of any T or alpha share it
    class_code: str | None = None  # the class board the run counts for
    prediction: dict | None = None  # what the student predicted before pressing Train
    fresh: bool = False  # "Train it again live": never served from the result cache
    # Several seeds: the request of each (config's seed, +1, ...; the first is this one), one seed each, so
    # each seed is a run of its own (result key, cache entry, live run): ``kdlab.serve.series``.
    series: tuple[TrainRequest, ...] = ()

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
    ) -> TrainRequest:
        """The request for ``config`` on ``data``; with ``seeds`` above 1, also the same run at the next seeds.

        Raises:
            ValueError: the config does not fit the data (e.g. a batch bigger than the training set), or
                ``seeds`` is not 1 to ``MAX_SEEDS``.
        """
        if not (isinstance(seeds, int) and 1 <= seeds <= MAX_SEEDS):
            raise ValueError(f"Repeat a run at 1 to {MAX_SEEDS} seeds (got {seeds}).")
        if seeds > 1:  # the prediction goes with the first seed's run only
            at = [
                replace(config, training=replace(config.training, seed=config.training.seed + n)) for n in range(seeds)
            ]
            runs = tuple(
                cls.build(one, data, class_code=class_code, prediction=None if n else prediction, fresh=fresh)
                for n, one in enumerate(at)
            )
            return replace(runs[0], series=runs)
        indices = config.transfer_indices(data)
        teacher_epochs = config.teacher_epochs or default_teacher_epochs(len(data.train))
        cached = is_teacher_cached(config.teacher, data, epochs=teacher_epochs, seed=config.teacher_seed)
        teacher_run = None if cached else PlannedRun(config.teacher, len(data.train), teacher_epochs)
        student_run = PlannedRun(config.student, len(indices), config.training.epochs)
        plan = student_pair_plan(teacher_run, student_run, config.student_runs)
        identity = run_identity(config, data)
        key = key_of(identity)
        return cls(config, indices, plan, identity, key, baseline_key(config, data), class_code, prediction, fresh)

    @property
    def cost(self) -> float:
        """The work of the whole run (see ``kdlab.serve.limits``); of its first seed when it has several."""
        return sum(self.plan.values())

    @property
    def seeds(self) -> int:
        """How many seeds the press of Train runs."""
        return len(self.series) or 1

    @property
    def runs(self) -> tuple[TrainRequest, ...]:
        """The request of each seed, one seed each: ``series``, or this request alone."""
        return self.series or (self,)

    def tagged(self, *, class_code: str | None, prediction: dict | None) -> TrainRequest:
        """The same request, counting for the class ``class_code`` and carrying the student's ``prediction``
        (every seed counts for the class; the prediction goes with the first seed's run only)."""
        series = tuple(
            replace(run, class_code=class_code, prediction=prediction if index == 0 else None)
            for index, run in enumerate(self.series)
        )
        return replace(self, class_code=class_code, prediction=prediction, series=series)

    def again(self) -> TrainRequest:
        """The same request, trained again live instead of served from the cache."""
        return replace(self, fresh=True, series=tuple(replace(run, fresh=True) for run in self.series))

    def teacher_matches(self, teacher: TeacherRecord) -> bool:
        """True when ``teacher`` is the one this request asks for (architecture, data, epochs, seed)."""
        return teacher_matches(self.identity, teacher)

    def result_key(self, teacher: TeacherRecord) -> str:
        """The key of this run's result with the teacher that trained it."""
        return key_of(with_teacher_results(self.identity, teacher))
