"""Run the schemes against the two references, each training run on the same budget.

``compare_schemes`` trains the two references once (the student alone, and the student
distilled offline from the teacher) and runs the chosen schemes with the same transfer set,
seed (so the same initial weights and batch order) and epochs per training run. Every run
goes through ``train.train_models``, the one training loop: a teacher -> student step is one
model with a ``TeacherLoss``, mutual learning two peers with a ``PeerLoss`` each. Every run
reports through ``on_event`` and honours ``stop``; a stopped comparison returns what
finished, marked "stopped".
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch

from kdlab.experiments.distill import train_student_pair
from kdlab.experiments.plans import PlannedRun, progress_plan, student_pair_plan
from kdlab.experiments.schemes.config import SCHEMES, SchemeConfig
from kdlab.experiments.schemes.results import SchemeComparison, SchemeResult, SchemeRun
from kdlab.ml.context import RunContext
from kdlab.ml.data import ImageSet, MnistData
from kdlab.ml.events import EventCallback
from kdlab.ml.losses import PeerLoss
from kdlab.ml.models import build_model
from kdlab.ml.progress import ProgressTracker
from kdlab.ml.train import TrainResult, predict_logits, train_model, train_models
from kdlab.teachers.cache import resolve_teacher
from kdlab.teachers.teacher import Teacher

REFERENCE_RUNS = {"baseline": "student alone", "distilled": "offline KD"}


@dataclass
class _Trainer:
    """What every training run of one comparison shares: budget, data, progress, the comparison's context."""

    config: SchemeConfig
    transfer: ImageSet
    test: ImageSet
    progress: ProgressTracker
    context: RunContext  # its stop flag and device; each run's events go to the progress bar instead

    @property
    def stopped(self) -> bool:
        return self.context.stopped

    def start(self, run: str) -> EventCallback:
        """Announce ``run`` on the progress bar; its events go to the returned callback."""
        return self.progress.start(run, run[0].upper() + run[1:])

    def train(self, architecture: str, run: str, teacher_logits: torch.Tensor | None) -> TrainResult:
        """One run of the budget: same seed (initial weights, batch order) as every other run."""
        training = self.config.training
        result = train_model(
            build_model(architecture, seed=training.seed),
            self.transfer,
            self.test,
            training,
            teacher_logits=teacher_logits,
            run=run,
            context=self.context.with_events(self.start(run)),
        )
        self.progress.finish(run)
        return result

    def logits_of(self, result: TrainResult) -> torch.Tensor:
        """A trained network's logits on the transfer set: the next student's soft targets."""
        return predict_logits(result.model, self.transfer.images, torch.device("cpu"))


def _mutual_learning(trainer: _Trainer) -> SchemeResult:
    """Deep mutual learning (Zhang et al. 2018): two peers of the student trained side by side,
    each also matching the other's current predictions (both updated from the same batch)."""
    config = trainer.config
    training = config.mutual_training
    # Peer 1 starts from the student alone's weights, so it is the one compared with the references.
    peers = [build_model(config.student, seed=training.seed), build_model(config.student, seed=training.seed + 1)]
    objectives = [PeerLoss(training.temperature, training.alpha) for _ in peers]
    on_event = trainer.progress.start("mutual", "Mutual learning (two peers)")
    first, second = train_models(
        peers,
        trainer.transfer,
        trainer.test,
        training,
        objectives,
        runs=["mutual peer 1", "mutual peer 2"],
        context=trainer.context.with_events(on_event),
    )
    trainer.progress.finish("mutual")
    runs = [SchemeRun("peer 1", "peer", config.student, first), SchemeRun("peer 2", "peer", config.student, second)]
    return SchemeResult("mutual", runs, training_runs=2, final_label="peer 1")


def _born_again(trainer: _Trainer, baseline: TrainResult) -> SchemeResult:
    """Born-again networks (Furlanello et al. 2018): each generation of the student is distilled
    from the previous one, generation 0 being the student alone."""
    scheme = SchemeResult("born-again")
    previous = baseline
    for generation in range(1, trainer.config.generations + 1):
        label = f"generation {generation}"
        previous = trainer.train(trainer.config.student, f"born-again {label}", trainer.logits_of(previous))
        scheme.runs.append(SchemeRun(label, "generation", trainer.config.student, previous))
        scheme.training_runs += 1
        if trainer.stopped:
            break
    return scheme


def _teacher_assistant(trainer: _Trainer, teacher_logits: torch.Tensor) -> SchemeResult:
    """Teacher assistant (Mirzadeh et al. 2020): the assistant from the teacher, the student from
    the assistant."""
    config = trainer.config
    assistant = trainer.train(config.assistant, "assistant", teacher_logits)
    scheme = SchemeResult("assistant", [SchemeRun("assistant", "assistant", config.assistant, assistant)], 1)
    if not trainer.stopped:
        student = trainer.train(config.student, "student via assistant", trainer.logits_of(assistant))
        scheme.runs.append(SchemeRun("student via assistant", "scheme", config.student, student))
        scheme.training_runs = 2
    return scheme


def compare_schemes(
    config: SchemeConfig,
    data: MnistData,
    schemes: tuple[str, ...] | list[str] = SCHEMES,
    *,
    teacher: Teacher | None = None,
    context: RunContext | None = None,
) -> SchemeComparison:
    """Train the references (student alone, offline KD) once, then each scheme in ``schemes``.

    Every training run uses ``config.training`` (mutual learning with its own temperature and
    alpha): the same transfer set, epochs and seed, so the student alone, offline KD, mutual
    peer 1, born-again generation 1 and the student taught by the assistant all start from the
    same initial weights and see the same batches.

    Args:
        config: the shared budget and architectures.
        data: MNIST in memory.
        schemes: any of ``SCHEMES``; "offline" adds nothing beyond the reference.
        teacher: a trained teacher to reuse; loaded from the cache or trained otherwise.
        context: where the training events of every run plus ``ProgressEvent``s go, the stop flag (when set,
            the running training stops and the comparison returns what finished), the device
            (``train.pick_device()`` when None) and the teacher cache (``KDLAB_CACHE_DIR`` or the user cache).

    Returns:
        The ``SchemeComparison``; ``summary()`` gives its JSON-ready form.

    Raises:
        ValueError: an unknown scheme name, or a config that does not fit the data.
    """
    unknown = [name for name in schemes if name not in SCHEMES]
    if unknown:
        raise ValueError(f"Unknown scheme {', '.join(unknown)}: choose from {', '.join(SCHEMES)}.")
    requested = tuple(name for name in SCHEMES if name in schemes)
    started = time.perf_counter()
    indices = config.transfer_indices(data)
    transfer = data.train.subset(indices)
    comparison = SchemeComparison(config, data.source, transfer.class_counts(), requested=requested)
    context = context or RunContext()
    progress = ProgressTracker(
        context.on_event, scheme_plan(config, requested, len(transfer), with_teacher=teacher is None)
    )
    trainer = _Trainer(config, transfer, data.test, progress, context)

    def finish() -> SchemeComparison:
        comparison.stopped = trainer.stopped
        comparison.seconds = time.perf_counter() - started
        progress.done(f"Finished: {comparison.status}.")
        return comparison

    if teacher is None:
        teacher = resolve_teacher(
            config.teacher,
            data,
            epochs=config.teacher_epochs,
            seed=config.teacher_seed,
            context=context.with_events(progress.start("teacher", "Teacher")),
        )
    progress.finish("teacher")
    comparison.teacher = teacher
    if teacher.status != "completed" or trainer.stopped:
        return finish()
    teacher_logits = teacher.logits_at(config.training.temperature)[indices]  # an ensemble's depend on T
    references = train_student_pair(
        teacher,
        transfer,
        indices,
        data.test,
        config.student,
        config.training,
        runs=REFERENCE_RUNS,
        on_start=trainer.start,
        on_finish=progress.finish,
        context=context,
    )
    baseline = references["baseline"]
    comparison.baseline = SchemeRun("student alone", "baseline", config.student, baseline)
    if "distilled" not in references:
        return finish()
    comparison.offline_kd = SchemeRun("offline KD", "distilled", config.student, references["distilled"])

    for name in requested:
        if trainer.stopped:
            break
        if name == "offline":
            comparison.schemes[name] = SchemeResult(name, [comparison.offline_kd])
        elif name == "mutual":
            comparison.schemes[name] = _mutual_learning(trainer)
        elif name == "born-again":
            comparison.schemes[name] = _born_again(trainer, baseline)
        elif name == "assistant":
            comparison.schemes[name] = _teacher_assistant(trainer, teacher_logits)
    return finish()


def scheme_plan(config: SchemeConfig, requested: tuple[str, ...], size: int, *, with_teacher: bool) -> dict[str, float]:
    """Each stage's share of the work, for one progress bar over the whole comparison. The
    teacher is weighed on the transfer set too: only the shares matter, and a cached teacher
    leaves the plan anyway."""
    epochs = config.training.epochs
    student = PlannedRun(config.student, size, epochs)
    stages: dict[str, PlannedRun | None] = {}
    if "mutual" in requested:
        stages["mutual"] = PlannedRun(config.student, 2 * size, epochs)  # two peers see every batch
    if "born-again" in requested:
        stages |= {f"born-again generation {k}": student for k in range(1, config.generations + 1)}
    if "assistant" in requested:
        stages |= {"assistant": PlannedRun(config.assistant, size, epochs), "student via assistant": student}
    teacher = PlannedRun(config.teacher, size, epochs) if with_teacher else None
    return student_pair_plan(teacher, student, REFERENCE_RUNS) | progress_plan(stages)
