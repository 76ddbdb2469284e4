"""A distillation experiment: a cached teacher, a student distilled from it, and the same
student trained alone with the same seed and data order (the baseline).

This is the call the command line and the app's lab page both make.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import torch

from kdlab.i18n import N_, _
from kdlab.ml.config import HoldsTraining, TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import DataSource, ImageSet, MnistData, TransferSetSpec, available_images, select_transfer_indices
from kdlab.ml.events import EventCallback
from kdlab.ml.losses import LabelsLoss
from kdlab.ml.methods.registry import METHODS, method_settings, teacher_objective
from kdlab.ml.models import build_model, canonical_architecture
from kdlab.ml.stacked import StackMember
from kdlab.ml.temperature import SCHEDULES
from kdlab.ml.train import TrainResult, run_summary, train_models
from kdlab.teachers.cache import resolve_teacher
from kdlab.teachers.ensembles import parse_teacher_name
from kdlab.teachers.features import transfer_signal
from kdlab.teachers.teacher import Teacher

# The default pair tells the story the Home page tells: a big, accurate teacher (1.1 M parameters,
# 65 test errors on full MNIST) and a student 7x smaller with 30x less compute per image. Chosen on full
# MNIST, seed 0, one torch thread: the student alone makes 583 test errors and distilled 395 (32% fewer)
# in about 7 s for both trainings. Students that learn from fewer images for more epochs gain most: with
# 10,000 images for 20 epochs the same pair gained 21%, and 10 epochs gave 4% (the baseline had not yet
# overfitted, so the soft targets had little to add).
DEFAULT_TEACHER = "cnn-wide"
DEFAULT_STUDENT = "mlp-200x1"
DEMO_TRAIN_SIZE = 5_000
STUDENT_WORDS = {"distilled": "distilled student", "baseline": "student alone"}
# The stage lines of a lab run, marked for translation: the event carries its template and values.
TRAINING_STAGES = {
    "distilled": N_("Training the distilled student ..."),
    "baseline": N_("Training the student alone ..."),
}


@dataclass(frozen=True)
class StageEvent:
    """A coarse stage of an experiment, for status lines ("Training the teacher ..."): ``message`` in English (logs,
    the command line); ``template`` and ``values``, where given, rebuild it in the reader's language (``text``)."""

    stage: str  # "teacher", "distilled", "baseline", "done"
    message: str
    template: str | None = None
    values: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, stage: str, template: str, **values: object) -> StageEvent:
        """The event of ``template`` (marked with ``N_``) filled with ``values``."""
        pairs = tuple((name, str(value)) for name, value in values.items())
        return cls(stage, template.format(**values), template, pairs)

    def text(self) -> str:
        """The message in the current language (``kdlab.i18n``)."""
        if self.template is None:
            return _(self.message)
        return _(self.template).format(**dict(self.values))


@dataclass(frozen=True)
class DistillConfig(HoldsTraining):
    """Everything that defines a distillation experiment. Validates itself on creation.

    ``training`` holds the students' hyper-parameters (temperature, alpha, epochs, learning
    rate, batch size, seed); ``DistillConfig.build(temperature=8, ...)`` takes them flat.
    ``alpha`` weights the soft (teacher) term: loss = alpha * soft + (1 - alpha) * CE, where
    ``soft`` names the soft term (a method of ``kdlab.ml.methods``): "kd" is all of T^2 * KL,
    "tckd" and "nckd" one of Zhao et al.'s parts of it, "dkd" TCKD + ``beta`` * NCKD (``beta``
    None: ``kdlab.ml.methods.dkd.DKD_BETA``; only with "dkd"). ``train_size`` None means the demo size: 5,000 images,
    or all of them when the filters leave fewer.
    """

    teacher: str = DEFAULT_TEACHER
    student: str = DEFAULT_STUDENT
    training: TrainConfig = TrainConfig(epochs=40, curve_test_images=2_000)
    train_size: int | None = None
    omit_classes: tuple[int, ...] = ()
    only_classes: tuple[int, ...] = ()
    teacher_epochs: int | None = None  # None: kdlab.teachers.cache.default_teacher_epochs
    teacher_seed: int = 0
    with_baseline: bool = True
    soft: str = "kd"
    # Each method's own settings (``kdlab.ml.methods``), None: the method's default; only with that method.
    beta: float | None = None
    hint_weight: float | None = None
    hint_stage: float | None = None
    at_weight: float | None = None
    rkd_distance: float | None = None
    rkd_angle: float | None = None
    sp_weight: float | None = None
    dist_inter: float | None = None
    dist_intra: float | None = None
    # How T softens the logits (``kdlab.ml.temperature``), for a method that softens by T: each sample's logits
    # z-scored first (Sun et al. 2024), and T constant, annealed or learned over the run.
    standardise: bool = False
    schedule: str = "constant"

    def __post_init__(self) -> None:
        object.__setattr__(self, "omit_classes", tuple(self.omit_classes))
        object.__setattr__(self, "only_classes", tuple(self.only_classes))
        object.__setattr__(self, "teacher", parse_teacher_name(self.teacher).name)  # an architecture or an ensemble
        object.__setattr__(self, "student", canonical_architecture(self.student))
        if self.training.jitter_pixels:
            raise ValueError("Students do not jitter their images: the teacher's logits are for the unshifted ones.")
        TransferSetSpec(size=self.train_size, omit_classes=self.omit_classes, only_classes=self.only_classes)
        if self.teacher_epochs is not None and not 1 <= self.teacher_epochs <= 100:
            raise ValueError(f"Teacher epochs must be 1 to 100 (got {self.teacher_epochs}).")
        self._check_soft()
        self._check_softening()

    def _check_softening(self) -> None:
        """The schedule one kdlab knows; standardising and a schedule only for a method that softens by T."""
        if self.schedule not in SCHEDULES:
            raise ValueError(f"Unknown temperature schedule '{self.schedule}': choose one of {', '.join(SCHEDULES)}.")
        if not isinstance(self.standardise, bool):
            raise ValueError(f"standardise is on or off (got {self.standardise!r}).")
        method = METHODS[self.soft]
        if (self.standardise or self.schedule != "constant") and not method.softened:
            raise ValueError(
                f"{method.label} has no temperature: standardised logits and a {self.schedule} schedule need a "
                "method that softens by T (choose KD, or keep the schedule constant and the logits raw)."
            )

    @property
    def method_settings(self) -> dict[str, float | None]:
        """The settings of this run's distillation method (``kdlab.ml.methods``) by name, None where left unset
        (the method's default): ``{"beta": 2.0}`` for dkd, ``{}`` for kd."""
        return {setting.name: getattr(self, setting.name) for setting in METHODS[self.soft].settings}

    def _check_soft(self) -> None:
        """The method (``kdlab.ml.methods``) and each method setting given: that method's, within its range."""
        if self.soft not in METHODS:
            raise ValueError(f"Unknown method '{self.soft}': choose one of {', '.join(METHODS)}.")
        unfit = METHODS[self.soft].unfit(self.teacher, self.student)
        if unfit:
            raise ValueError(unfit)
        for name, (method, setting) in method_settings().items():
            value = getattr(self, name)
            if value is None:
                continue
            if self.soft != method.name:
                raise ValueError(
                    f"{name} is a setting of the {method.name} method only: choose method {method.name}, or leave "
                    f"{name} out."
                )
            if not (isinstance(value, int | float) and setting.low <= value <= setting.high):
                raise ValueError(
                    f"{name} must be a number from {setting.low:g} to {setting.high:g} (got {value}); its default is "
                    f"{setting.default:g}."
                )

    @property
    def student_runs(self) -> dict[str, str]:
        """The student runs of ``train_student_pair``, each labelled by its kind: distilled, then the baseline."""
        return {"distilled": "distilled", "baseline": "baseline"} if self.with_baseline else {"distilled": "distilled"}

    def transfer_spec(self, data: MnistData) -> TransferSetSpec:
        """The student's training images; no size given: the demo size, or all when fewer pass the filters."""
        spec = TransferSetSpec(
            size=self.train_size,
            omit_classes=self.omit_classes,
            only_classes=self.only_classes,
            seed=self.training.seed,
        )
        if self.train_size is None:
            available = available_images(data.train.labels, spec)
            spec = TransferSetSpec(
                min(DEMO_TRAIN_SIZE, available) or None, spec.omit_classes, spec.only_classes, spec.seed
            )
        return spec

    def transfer_indices(self, data: MnistData) -> torch.Tensor:
        """Indices of the student's training images; raises ``ValueError`` when they do not fit."""
        return select_transfer_indices(data.train.labels, self.transfer_spec(data), batch_size=self.training.batch_size)


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
    trained_here: tuple[str, ...] | None = None  # the kinds asked for here; None: all of config.student_runs

    @property
    def status(self) -> str:
        """ "completed", or the first run's "stopped" / "diverged"; a kind asked for but missing: "stopped"."""
        runs = [self.teacher.status] + [r.status for r in (self.student, self.baseline) if r is not None]
        asked = self.trained_here if self.trained_here is not None else tuple(self.config.student_runs)
        if any({"distilled": self.student, "baseline": self.baseline}[kind] is None for kind in asked):
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


def train_student_pair(
    teacher: Teacher,
    transfer: ImageSet,
    indices: torch.Tensor,
    test: ImageSet,
    student: str,
    training: TrainConfig,
    *,
    runs: Mapping[str, str],
    soft: str = "kd",
    method_settings: Mapping[str, float | None] | None = None,
    on_start: Callable[[str], EventCallback | None] = lambda run: None,
    on_finish: Callable[[str], None] = lambda run: None,
    context: RunContext | None = None,
    together: Callable[[list[StackMember], ImageSet], list[TrainResult]] | None = None,
    signal: dict[str, torch.Tensor] | None = None,
    standardise: bool = False,
    schedule: str = "constant",
) -> dict[str, TrainResult]:
    """The core experiment: ``student`` distilled from ``teacher`` and/or trained alone, one after the other.

    Both runs build the student with ``training.seed`` and see the same batches in the same order,
    so the only difference between them is the teacher's soft targets (at ``training.temperature``,
    weighted by ``training.alpha``, learnt through the soft loss ``soft``, a ``kdlab.ml.methods`` method, with its ``method_settings``:
    ``{"beta": 2.0}`` for "dkd", None or a missing one its default).

    Args:
        teacher: a trained teacher; nothing trains unless its status is "completed".
        transfer: the student's training images, ``indices`` into the teacher's training set.
        test: images and labels to report accuracy on.
        runs: which students to train, in order: "distilled" and/or "baseline" (the student
            alone), each with the label its events carry.
        on_start: called with a run's label before it trains; returns that run's ``on_event``.
        on_finish: called with a run's label after it trained.
        context: the stop flag (when set, the running student stops and the next is not started) and the
            device; each run's events go where ``on_start`` says, not to ``context.on_event``.
        together: trains the runs' ``StackMember``s at once (with ``test``), one result each (``kdlab.ml.stacked``
            through ``kdlab.serve.stacking``); a run after a stopped one is dropped, as if never started.
            None: one after another with ``train_models``.
        signal: a feature- or relation-based method's teacher signal for the transfer images
            (``kdlab.teachers.features.transfer_signal``); None reads it from the teacher.
        standardise, schedule: how T softens the distilled run's logits (``DistillConfig``'s fields of those names).

    Returns:
        The students that trained, by kind ("distilled", "baseline").
    """
    unknown = [kind for kind in runs if kind not in STUDENT_WORDS]
    if unknown:
        raise ValueError(f"Unknown student run {', '.join(unknown)}: choose distilled or baseline.")
    context = context or RunContext()
    if teacher.status != "completed" or context.stopped:
        return {}

    transfer_method = METHODS[soft].transfer
    features = {}
    if transfer_method is not None and "distilled" in runs:  # a feature method: the teacher's signal, read once
        if signal is None:
            signal = transfer_method.signal_for(teacher.model, transfer.images, student)
        features = {"signal": signal, "student": student, "teacher": teacher.record.architecture, "seed": training.seed}
        features["live"] = transfer_method.live_view(teacher.model, test, student)  # the lab's view, on test digits

    def member(kind: str) -> StackMember:
        # An ensemble's soft targets depend on T: logits_at(T) averages its members' softened outputs.
        objective = (
            teacher_objective(
                teacher.logits_at(training.temperature)[indices],
                training.temperature,
                training.alpha,
                soft,
                **features,
                standardise=standardise,
                schedule=schedule,
                **(method_settings or {}),
            )
            if kind == "distilled"
            else LabelsLoss()
        )
        model = build_model(student, seed=training.seed)
        return StackMember(model, transfer, training, objective, runs[kind], on_start(runs[kind]), context.stop)

    if together is not None:
        results = dict(zip(runs, together([member(kind) for kind in runs], test)))
        for run in runs.values():
            on_finish(run)
    else:
        results = {}
        for kind in runs:
            if context.stopped:
                break
            one = member(kind)
            [results[kind]] = train_models(
                [one.model],
                transfer,
                test,
                training,
                [one.objective],
                runs=[one.run],
                context=context.with_events(one.on_event),
            )
            on_finish(runs[kind])
            if results[kind].status == "stopped":
                break
    trained: dict[str, TrainResult] = {}
    for kind, result in results.items():  # in order: a stopped run's later runs never started
        trained[kind] = result
        if result.status == "stopped":
            break
    return trained


def train_config_pair(
    config: DistillConfig,
    teacher: Teacher,
    transfer: ImageSet,
    indices: torch.Tensor,
    test: ImageSet,
    *,
    runs: Mapping[str, str],
    **options,
) -> dict[str, TrainResult]:
    """``train_student_pair`` for a lab ``config``'s student, training and method (its soft term, the method's own
    settings, standardising and schedule), so no caller can leave one of them out; ``options``: the rest of
    ``train_student_pair``'s keywords (``on_start``, ``context``, ``signal``, ...)."""
    return train_student_pair(
        teacher,
        transfer,
        indices,
        test,
        config.student,
        config.training,
        runs=runs,
        soft=config.soft,
        method_settings=config.method_settings,
        standardise=config.standardise,
        schedule=config.schedule,
        **options,
    )


def run_distillation(
    config: DistillConfig,
    data: MnistData,
    *,
    teacher: Teacher | None = None,
    context: RunContext | None = None,
    indices: torch.Tensor | None = None,
    students: tuple[str, ...] | None = None,
    together: Callable[[list[StackMember], ImageSet], list[TrainResult]] | None = None,
) -> DistillationResult:
    """Distill ``config.student`` from ``config.teacher`` and, if asked, train the baseline.

    Both student runs start from the same initial weights and see the same batches in the
    same order (same seed), so the only difference is the teacher's soft targets. ``indices``:
    ``config.transfer_indices(data)`` when the caller has computed them already. ``students``: the
    kinds of ``config.student_runs`` to train here (default all); each run is seeded on its own, so
    a baseline trained elsewhere for the same seed is the one this call would train
    (``kdlab.serve.baselines`` shares it between the runs of a lesson). ``together``: see
    ``train_student_pair`` (the job runner's stacked training, ``kdlab.serve.stacking``). ``context``: the
    events (stages, then each run's), stop flag, device and teacher cache.

    Raises:
        ValueError: the config does not fit the data (e.g. the filters leave too few images), or
            ``students`` names a kind the config does not train.
    """
    runs = config.student_runs
    if students is not None:
        unknown = [kind for kind in students if kind not in runs]
        if unknown:
            raise ValueError(f"This run does not train the {', '.join(unknown)} student (it trains {', '.join(runs)}).")
        runs = {kind: run for kind, run in runs.items() if kind in students}
    context = context or RunContext()
    emit = context.emit
    started = time.perf_counter()
    indices = config.transfer_indices(data) if indices is None else indices
    transfer = data.train.subset(indices)
    if teacher is None:
        emit(StageEvent.of("teacher", N_("Preparing teacher {name} ..."), name=config.teacher))
        teacher = resolve_teacher(
            config.teacher,
            data,
            epochs=config.teacher_epochs,
            seed=config.teacher_seed,
            context=context,
        )
    result = DistillationResult(config, data.source, teacher, transfer.class_counts(), trained_here=tuple(runs))

    def announce(run: str) -> EventCallback | None:
        emit(StageEvent.of(run, TRAINING_STAGES[run]))
        return context.on_event

    method = METHODS[config.soft]
    signal = None
    if method.transfer is not None and "distilled" in runs:
        emit(StageEvent.of("teacher", N_("Reading the teacher's features for {method} ..."), method=method.label))
        signal = transfer_signal(teacher, method, config.student, data, indices, cache_dir=context.cache_dir)
    trained = train_config_pair(
        config,
        teacher,
        transfer,
        indices,
        data.test,
        runs=runs,
        on_start=announce,
        context=context,
        together=together,
        signal=signal,
    )
    result.student, result.baseline = trained.get("distilled"), trained.get("baseline")
    result.seconds = time.perf_counter() - started
    emit(StageEvent.of("done", N_("Finished: {status}."), status=result.status))
    return result
