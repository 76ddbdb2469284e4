"""Training schemes built on distillation, compared on equal terms.

- **Offline KD** (Hinton, Vinyals & Dean 2015): a fixed, pre-trained teacher; the student
  learns from its softened outputs. This is the reference every other scheme is held against.
- **Deep mutual learning** (Zhang et al. 2018): no pre-trained teacher; two students train
  at the same time and each also matches the other's current predictions.
- **Born-again networks** (Furlanello et al. 2018): the student architecture is trained
  alone, then each generation of the *same* architecture is distilled from the previous one.
- **Teacher assistant** (Mirzadeh et al. 2020): a mid-sized assistant is distilled from the
  teacher, then the small student from the assistant, to bridge a large capacity gap.

``compare_schemes`` trains the two references once (the student alone, and the student
distilled offline from the teacher) and runs the chosen schemes with the same transfer set,
seed (so the same initial weights and batch order) and epochs per training run. Every
training run reports through ``on_event`` and honours ``stop``; a stopped comparison returns
what finished, marked "stopped".
"""

from __future__ import annotations

import argparse
import math
import threading
import time
from dataclasses import asdict, dataclass, field

import torch
from torch import nn

from kdlab import cli
from kdlab.data import DataSource, ImageSet, MnistData, TransferSetSpec, load_mnist, normalize, select_transfer_indices
from kdlab.losses import mutual_learning_loss
from kdlab.metrics import evaluate_logits
from kdlab.models import attach_dropout_generator, build_model, describe_model, get_architecture
from kdlab.teachers import Teacher, load_or_train_teacher
from kdlab.train import (STEP_EVENTS_PER_EPOCH, cosine_schedule, EpochEvent, EvalEvent, EventCallback, StepEvent, TrainConfig,
                         TrainEvent, TrainResult, pick_device, predict_logits, train_model)

SCHEMES = ("offline", "mutual", "born-again", "assistant")
SCHEME_TITLES = {
    "offline": "Offline KD",
    "mutual": "Deep mutual learning",
    "born-again": "Born-again networks",
    "assistant": "Teacher assistant",
}
SCHEME_DESCRIPTIONS = {
    "offline": "A large teacher is trained first and frozen; the small student then learns from the teacher's "
               "softened outputs as well as the labels (Hinton, Vinyals & Dean 2015). It is the reference the "
               "other schemes are measured against.",
    "mutual": "There is no pre-trained teacher: two students train side by side and each one also learns to "
              "match the other's current predictions (Zhang et al. 2018). They teach each other as they go, so "
              "the knowledge is built during training rather than handed down.",
    "born-again": "A student is trained on the labels, then a new network of exactly the same architecture is "
                  "distilled from it, and so on for a few generations (Furlanello et al. 2018). No bigger model "
                  "is involved: the soft outputs alone are what each generation adds.",
    "assistant": "When the teacher is much larger than the student, a mid-sized assistant is distilled from the "
                 "teacher first and the student is then distilled from the assistant (Mirzadeh et al. 2020). "
                 "The assistant bridges the capacity gap in two smaller steps.",
}
SCHEME_PAPERS = {
    "offline": "Hinton, Vinyals & Dean (2015), Distilling the Knowledge in a Neural Network",
    "mutual": "Zhang, Xiang, Hospedales & Lu (2018), Deep Mutual Learning",
    "born-again": "Furlanello, Lipton, Tschannen, Itti & Anandkumar (2018), Born-Again Neural Networks",
    "assistant": "Mirzadeh, Farajtabar, Li, Levine, Matsukawa & Ghasemzadeh (2020), Improved Knowledge "
                 "Distillation via Teacher Assistant",
}
DEFAULT_TEACHER = "cnn"
DEFAULT_ASSISTANT = "mlp-300x1"
DEFAULT_STUDENT = "mlp-100x1"
MAX_GENERATIONS = 5


@dataclass(frozen=True)
class ProgressEvent:
    """Overall progress of a multi-run experiment, 0..1: which stage runs and how far it is."""

    fraction: float
    stage: str  # "Student alone", "Teacher mlp-1200x2", ...
    detail: str = ""  # "step 120/2,350"

    @property
    def message(self) -> str:
        return f"{self.stage}: {self.detail}" if self.detail else self.stage


class ProgressTracker:
    """Turns the step events of several planned training runs into one overall fraction.

    ``weights`` gives each planned stage its share of the work (e.g. its number of steps
    times the model's cost); ``start(stage, message)`` returns an ``on_event`` for that
    stage that forwards every event and adds a ``ProgressEvent``; ``finish(stage)`` ends it.
    """

    def __init__(self, on_event: EventCallback | None, weights: dict[str, float]):
        self._emit = on_event or (lambda event: None)
        self._weights = dict(weights)
        self._done: set[str] = set()
        self._stepped: set[str] = set()

    def _fraction(self, stage: str | None = None, part: float = 0.0) -> float:
        done = sum(self._weights.get(name, 0.0) for name in self._done)
        current = self._weights.get(stage, 0.0) * part if stage not in self._done else 0.0
        return min(1.0, (done + current) / (sum(self._weights.values()) or 1.0))

    def start(self, stage: str, message: str) -> EventCallback:
        """Announce ``stage`` and return the callback its training run should report to."""
        self._emit(ProgressEvent(self._fraction(stage), message))

        def forward(event: TrainEvent) -> None:
            self._emit(event)
            if isinstance(event, StepEvent):
                self._stepped.add(stage)
                self._emit(ProgressEvent(self._fraction(stage, event.step / event.total_steps), message,
                                         f"step {event.step:,}/{event.total_steps:,}"))

        return forward

    def finish(self, stage: str) -> None:
        """Mark ``stage`` done. A stage that took no step (a teacher from the cache) leaves the
        plan, so the bar and its time estimate count only the work that really runs."""
        if stage not in self._stepped:
            self._weights.pop(stage, None)
        self._done.add(stage)

    def done(self, message: str) -> None:
        self._emit(ProgressEvent(1.0, message))


def progress_printer() -> EventCallback:
    """An ``on_event`` for the command line: each new stage and each epoch end, on stderr."""
    last_stage: list[str] = []

    def printer(event) -> None:
        if isinstance(event, ProgressEvent) and (not last_stage or event.stage != last_stage[-1]):
            last_stage.append(event.stage)
            cli.log(f"[{event.fraction:4.0%}] {event.stage} ...")
        elif isinstance(event, EpochEvent):
            cli.progress_printer(event)

    return printer


@dataclass(frozen=True)
class SchemeConfig:
    """One budget for every scheme: the same transfer set, seed and epochs per training run.

    ``alpha`` weights the soft term (see ``losses.kd_loss``) and, with ``temperature``, is used
    by every teacher -> student step (offline KD, born-again generations, teacher assistant).
    Mutual learning uses ``mutual_temperature`` and ``mutual_alpha`` (the paper: T = 1 and an
    equal mix of labels and peer). ``train_size`` None uses the whole training set.
    """

    teacher: str = DEFAULT_TEACHER
    assistant: str = DEFAULT_ASSISTANT
    student: str = DEFAULT_STUDENT
    temperature: float = 4.0
    alpha: float = 0.9
    epochs: int = 20
    learning_rate: float = 1e-3
    batch_size: int = 128
    train_size: int | None = 10_000
    seed: int = 0
    teacher_epochs: int | None = None  # None: kdlab.teachers.default_teacher_epochs
    teacher_seed: int = 0
    generations: int = 2
    mutual_temperature: float = 1.0
    mutual_alpha: float = 0.5
    evals_per_epoch: int | None = None

    def __post_init__(self) -> None:
        for architecture in (self.teacher, self.assistant, self.student):
            get_architecture(architecture)
        self.train_config()
        self.mutual_train_config()
        TransferSetSpec(size=self.train_size, seed=self.seed)
        if not (isinstance(self.generations, int) and 1 <= self.generations <= MAX_GENERATIONS):
            raise ValueError(f"Born-again generations must be 1 to {MAX_GENERATIONS} (got {self.generations}): "
                             f"each generation is one more training run of the student.")
        if self.teacher_epochs is not None and not 1 <= self.teacher_epochs <= 100:
            raise ValueError(f"Teacher epochs must be 1 to 100 (got {self.teacher_epochs}).")

    def train_config(self) -> TrainConfig:
        """The settings of every single training run (student alone, KD steps)."""
        return TrainConfig(epochs=self.epochs, learning_rate=self.learning_rate, batch_size=self.batch_size,
                           seed=self.seed, temperature=self.temperature, alpha=self.alpha,
                           evals_per_epoch=self.evals_per_epoch)

    def mutual_train_config(self) -> TrainConfig:
        """The same budget with mutual learning's temperature and mix."""
        return TrainConfig(epochs=self.epochs, learning_rate=self.learning_rate, batch_size=self.batch_size,
                           seed=self.seed, temperature=self.mutual_temperature, alpha=self.mutual_alpha,
                           evals_per_epoch=self.evals_per_epoch)

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class SchemeRun:
    """One trained network of a scheme, with its place in the comparison."""

    label: str  # "student alone", "offline KD", "peer 1", "generation 2", ...
    role: str  # colour role: "baseline", "distilled", "assistant", "peer", "generation", "scheme"
    architecture: str
    result: TrainResult

    def summary(self) -> dict:
        result = self.result
        return {"label": self.label, "role": self.role, "arch": self.architecture,
                "params": describe_model(self.architecture).parameters, "status": result.status,
                "epochs_done": round(result.history[-1].epoch, 3) if result.history else 0.0,
                "train_seconds": round(result.seconds, 2),
                "test_accuracy": result.evaluation.accuracy, "test_errors": result.evaluation.errors,
                "test_total": result.evaluation.total,
                "curve": [{"epoch": round(event.epoch, 3), "test_accuracy": event.test_accuracy}
                          for event in result.history]}


@dataclass
class SchemeResult:
    """The runs one scheme produced; ``final`` is the network the scheme hands over."""

    scheme: str
    runs: list[SchemeRun] = field(default_factory=list)
    training_runs: int = 0  # training runs of the budget this scheme cost beyond the references
    final_label: str | None = None  # None: the last run

    @property
    def final(self) -> SchemeRun | None:
        return next((run for run in self.runs if run.label == self.final_label), self.runs[-1] if self.runs else None)

    @property
    def status(self) -> str:
        return next((run.result.status for run in self.runs if run.result.status != "completed"), "completed")


@dataclass
class SchemeComparison:
    """The references and the schemes, all on the same transfer set, seed and budget."""

    config: SchemeConfig
    data_source: DataSource
    transfer_class_counts: list[int]
    teacher: Teacher | None = None
    student_alone: SchemeRun | None = None
    offline_kd: SchemeRun | None = None
    schemes: dict[str, SchemeResult] = field(default_factory=dict)
    requested: tuple[str, ...] = ()
    stopped: bool = False
    seconds: float = 0.0

    @property
    def status(self) -> str:
        statuses = [run.result.status for run in (self.student_alone, self.offline_kd) if run is not None]
        statuses += [scheme.status for scheme in self.schemes.values()]
        if self.stopped or (self.teacher is not None and self.teacher.status != "completed"):
            statuses.append("stopped")
        if self.student_alone is None or self.offline_kd is None or set(self.schemes) != set(self.requested):
            statuses.append("stopped")
        return next((status for status in statuses if status != "completed"), "completed")

    def summary(self) -> dict:
        """JSON-ready: data, budget, teacher, both references and each scheme's runs."""
        alone = self.student_alone.summary() if self.student_alone else None
        offline = self.offline_kd.summary() if self.offline_kd else None
        schemes = {}
        for name, scheme in self.schemes.items():
            final = scheme.final.summary() if scheme.final else None
            schemes[name] = {
                "title": SCHEME_TITLES[name], "description": SCHEME_DESCRIPTIONS[name], "paper": SCHEME_PAPERS[name],
                "runs": [run.summary() for run in scheme.runs], "final": final,
                "extra_training_runs": scheme.training_runs, "status": scheme.status,
                "vs_student_alone_errors": _difference(final, alone),
                "vs_offline_kd_errors": _difference(final, offline),
            }
        return {
            "data": self.data_source.as_dict(),
            "budget": {"epochs_per_run": self.config.epochs, "train_size": sum(self.transfer_class_counts),
                       "seed": self.config.seed, "batch_size": self.config.batch_size,
                       "learning_rate": self.config.learning_rate},
            "config": self.config.as_dict(),
            "transfer_set": {"size": sum(self.transfer_class_counts), "class_counts": self.transfer_class_counts},
            "teacher": self.teacher.summary() if self.teacher else None,
            "student_alone": alone,
            "offline_kd": offline,
            "schemes": schemes,
            "status": self.status,
            "seconds": round(self.seconds, 2),
        }


def _difference(run: dict | None, reference: dict | None) -> int | None:
    """Test errors of ``run`` minus those of ``reference`` (negative: fewer errors)."""
    if run is None or reference is None:
        return None
    return run["test_errors"] - reference["test_errors"]


def select_scheme_transfer_set(config: SchemeConfig, data: MnistData) -> torch.Tensor:
    """Indices of the training images every scheme learns from (all of them if fewer than asked)."""
    size = None if config.train_size is None or config.train_size >= len(data.train) else config.train_size
    indices = select_transfer_indices(data.train.labels, TransferSetSpec(size=size, seed=config.seed))
    if config.batch_size > len(indices):
        raise ValueError(f"Batch size {config.batch_size} is larger than the training set ({len(indices):,} "
                         f"images): choose a batch size of at most {len(indices):,}.")
    return indices


def _step_cost(architecture: str, steps: int) -> float:
    """Relative work of a training run, for the progress bar: steps times forward FLOPs."""
    return steps * max(describe_model(architecture).flops_per_image, 1)


def train_mutual(
    peers: tuple[nn.Module, nn.Module],
    transfer_set: ImageSet,
    test_set: ImageSet,
    config: TrainConfig,
    *,
    runs: tuple[str, str] = ("peer 1", "peer 2"),
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    device: torch.device | None = None,
) -> tuple[TrainResult, TrainResult]:
    """Deep mutual learning (Zhang et al. 2018): two students, each also matching the other.

    Each step both peers see the same batch; each minimises
    ``losses.mutual_learning_loss(own, peer, labels)`` with the peer's current logits as a
    fixed target. Both are updated from the same forward pass (the simultaneous variant of
    the paper's alternating update). Batch order comes from ``config.seed`` exactly as in
    ``train.train_model``, so peer 1 sees the batches the student alone sees. Each peer has
    its own Adam optimiser and the same cosine learning-rate decay.

    Returns:
        One ``TrainResult`` per peer, models back on the CPU; "stopped" if ``stop`` was set.
    """
    if len(transfer_set) == 0:
        raise ValueError("The transfer set is empty: choose a training-set size of at least 1.")
    device = device or pick_device()
    emit = on_event or (lambda event: None)
    started = time.perf_counter()
    shuffle_generator = torch.Generator().manual_seed(config.seed)
    images, labels = transfer_set.images.to(device), transfer_set.labels.to(device)
    test_images = test_set.images.to(device)
    optimizers, schedules = [], []
    size = len(transfer_set)
    steps_per_epoch = math.ceil(size / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    for index, model in enumerate(peers):
        model.to(device).train()
        attach_dropout_generator(model, torch.Generator(device=device).manual_seed(config.seed + 1 + index))
        optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
        optimizers.append(optimizer)
        schedules.append(cosine_schedule(optimizer, total_steps))

    log_every = max(1, steps_per_epoch // STEP_EVENTS_PER_EPOCH)
    evaluations = min(config.evaluations_per_epoch, steps_per_epoch)
    eval_points = {round(steps_per_epoch * k / evaluations) for k in range(1, evaluations + 1)}
    histories: tuple[list[EvalEvent], list[EvalEvent]] = ([], [])
    losses: tuple[list[StepEvent], list[StepEvent]] = ([], [])
    sums = torch.zeros(2, 2, 3, device=device)  # (log/eval, peer, total/soft/hard)
    counts = [0, 0]  # steps since the last log / eval point
    correct = torch.zeros(2, device=device, dtype=torch.long)
    seen = 0
    status = "completed"
    step = 0

    for epoch in range(config.epochs):
        order = torch.randperm(size, generator=shuffle_generator).to(device)
        for step_in_epoch in range(1, steps_per_epoch + 1):
            batch_index = order[(step_in_epoch - 1) * config.batch_size: step_in_epoch * config.batch_size]
            inputs = normalize(images[batch_index])  # (B, 1, 28, 28)
            batch_labels = labels[batch_index]
            logits = [model(inputs) for model in peers]  # 2 x (B, 10)
            for index, (optimizer, schedule) in enumerate(zip(optimizers, schedules)):
                loss, soft, hard = mutual_learning_loss(logits[index], logits[1 - index], batch_labels,
                                                        config.temperature, config.alpha)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                schedule.step()
                parts = torch.stack([loss.detach(), soft.detach(), hard.detach()])
                sums[0, index] += parts
                sums[1, index] += parts
                correct[index] += (logits[index].detach().argmax(1) == batch_labels).sum()
            step += 1
            counts[0] += 1
            counts[1] += 1
            seen += len(batch_index)
            epoch_progress = epoch + step_in_epoch / steps_per_epoch
            elapsed = time.perf_counter() - started

            if step % log_every == 0 or step_in_epoch == steps_per_epoch:
                means = (sums[0] / counts[0]).tolist()
                if not all(math.isfinite(value) for peer in means for value in peer):
                    status = "diverged"
                    break
                for index in range(2):
                    event = StepEvent(runs[index], step, total_steps, epoch_progress, *means[index], elapsed)
                    losses[index].append(event)
                    emit(event)
                sums[0].zero_()
                counts[0] = 0

            stopping = stop is not None and stop.is_set()
            if step_in_epoch in eval_points or stopping:
                means = (sums[1] / max(counts[1], 1)).tolist()
                for index, model in enumerate(peers):
                    test_accuracy = float((predict_logits(model, test_images, device).argmax(1)
                                           == test_set.labels).float().mean())
                    event = EvalEvent(runs[index], step, total_steps, epoch_progress,
                                      int(correct[index]) / max(seen, 1), test_accuracy, *means[index], elapsed)
                    histories[index].append(event)
                    emit(event)
                sums[1].zero_()
                counts[1] = seen = 0
                correct.zero_()
            if stopping:
                status = "stopped"
                break
        if status != "completed":
            break
        for index in range(2):
            emit(EpochEvent(runs[index], epoch + 1, config.epochs, histories[index][-1].test_accuracy,
                            time.perf_counter() - started))

    seconds = time.perf_counter() - started
    results = []
    for index, model in enumerate(peers):
        attach_dropout_generator(model, None)
        test_logits = predict_logits(model, test_images, device)
        model.to("cpu").eval()
        results.append(TrainResult(runs[index], status, model, test_logits,
                                   evaluate_logits(test_logits, test_set.labels), histories[index],
                                   losses[index], step, seconds))
    return results[0], results[1]


@dataclass
class _Trainer:
    """What every training run of one comparison shares: budget, data, progress, stop flag."""

    config: SchemeConfig
    transfer: ImageSet
    test: ImageSet
    progress: ProgressTracker
    stop: threading.Event | None
    device: torch.device | None

    @property
    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()

    def train(self, architecture: str, run: str, teacher_logits: torch.Tensor | None) -> TrainResult:
        """One run of the budget: same seed (initial weights, batch order) as every other run."""
        result = train_model(build_model(architecture, seed=self.config.seed), self.transfer, self.test,
                             self.config.train_config(), teacher_logits=teacher_logits, run=run,
                             on_event=self.progress.start(run, run[0].upper() + run[1:]), stop=self.stop,
                             device=self.device)
        self.progress.finish(run)
        return result

    def logits_of(self, result: TrainResult) -> torch.Tensor:
        """A trained network's logits on the transfer set: the next student's soft targets."""
        return predict_logits(result.model, self.transfer.images, torch.device("cpu"))


def _mutual_learning(trainer: _Trainer) -> SchemeResult:
    config = trainer.config
    peers = (build_model(config.student, seed=config.seed), build_model(config.student, seed=config.seed + 1))
    first, second = train_mutual(peers, trainer.transfer, trainer.test, config.mutual_train_config(),
                                 runs=("mutual peer 1", "mutual peer 2"),
                                 on_event=trainer.progress.start("mutual", "Mutual learning (two peers)"),
                                 stop=trainer.stop, device=trainer.device)
    trainer.progress.finish("mutual")
    # Peer 1 starts from the student alone's weights, so it is the one compared with the references.
    return SchemeResult("mutual", [SchemeRun("peer 1", "peer", config.student, first),
                                   SchemeRun("peer 2", "peer", config.student, second)], training_runs=2,
                        final_label="peer 1")


def _born_again(trainer: _Trainer, student_alone: TrainResult) -> SchemeResult:
    scheme = SchemeResult("born-again")
    previous = student_alone  # generation 0
    for generation in range(1, trainer.config.generations + 1):
        label = f"generation {generation}"
        previous = trainer.train(trainer.config.student, f"born-again {label}", trainer.logits_of(previous))
        scheme.runs.append(SchemeRun(label, "generation", trainer.config.student, previous))
        scheme.training_runs += 1
        if trainer.stopped:
            break
    return scheme


def _teacher_assistant(trainer: _Trainer, teacher_logits: torch.Tensor) -> SchemeResult:
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
    cache_dir=None,
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    device: torch.device | None = None,
) -> SchemeComparison:
    """Train the references (student alone, offline KD) once, then each scheme in ``schemes``.

    Every training run uses ``config.train_config()``: the same transfer set, epochs and seed,
    so the student alone, offline KD, mutual peer 1, born-again generation 1 and the student
    taught by the assistant all start from the same initial weights and see the same batches.

    Args:
        config: the shared budget and architectures.
        data: MNIST in memory.
        schemes: any of ``SCHEMES``; "offline" adds nothing beyond the reference.
        teacher: a trained teacher to reuse; loaded from the cache or trained otherwise.
        on_event: training events of every run plus ``ProgressEvent``s.
        stop: when set, the running training stops and the comparison returns what finished.

    Raises:
        ValueError: an unknown scheme name, or a config that does not fit the data.
    """
    unknown = [name for name in schemes if name not in SCHEMES]
    if unknown:
        raise ValueError(f"Unknown scheme {', '.join(unknown)}: choose from {', '.join(SCHEMES)}.")
    requested = tuple(name for name in SCHEMES if name in schemes)
    started = time.perf_counter()
    indices = select_scheme_transfer_set(config, data)
    transfer = data.train.subset(indices)
    comparison = SchemeComparison(config, data.source, transfer.class_counts(), requested=requested)
    trainer = _Trainer(config, transfer, data.test, ProgressTracker(on_event, _plan(config, requested, len(transfer),
                                                                                    teacher is None)), stop, device)

    def finish() -> SchemeComparison:
        comparison.stopped = trainer.stopped
        comparison.seconds = time.perf_counter() - started
        trainer.progress.done(f"Finished: {comparison.status}.")
        return comparison

    if teacher is None:
        teacher = load_or_train_teacher(config.teacher, data, epochs=config.teacher_epochs, seed=config.teacher_seed,
                                        cache_dir=cache_dir, on_event=trainer.progress.start("teacher", "Teacher"),
                                        stop=stop, device=device)
    trainer.progress.finish("teacher")
    comparison.teacher = teacher
    if teacher.status != "completed" or trainer.stopped:
        return finish()
    teacher_logits = teacher.train_logits[indices]
    alone = trainer.train(config.student, "student alone", None)
    comparison.student_alone = SchemeRun("student alone", "baseline", config.student, alone)
    if trainer.stopped:
        return finish()
    offline = trainer.train(config.student, "offline KD", teacher_logits)
    comparison.offline_kd = SchemeRun("offline KD", "distilled", config.student, offline)

    for name in requested:
        if trainer.stopped:
            break
        if name == "offline":
            comparison.schemes[name] = SchemeResult(name, [comparison.offline_kd])
        elif name == "mutual":
            comparison.schemes[name] = _mutual_learning(trainer)
        elif name == "born-again":
            comparison.schemes[name] = _born_again(trainer, alone)
        elif name == "assistant":
            comparison.schemes[name] = _teacher_assistant(trainer, teacher_logits)
    return finish()


def _plan(config: SchemeConfig, requested: tuple[str, ...], size: int, with_teacher: bool) -> dict[str, float]:
    """Each stage's share of the work, for one progress bar over the whole comparison."""
    steps = math.ceil(size / config.batch_size) * config.epochs
    student = _step_cost(config.student, steps)
    plan = {"teacher": _step_cost(config.teacher, steps) if with_teacher else 0.0,
            "student alone": student, "offline KD": student}
    if "mutual" in requested:
        plan["mutual"] = 2 * student
    if "born-again" in requested:
        plan |= {f"born-again generation {k}": student for k in range(1, config.generations + 1)}
    if "assistant" in requested:
        plan |= {"assistant": _step_cost(config.assistant, steps), "student via assistant": student}
    return plan


# ---------------------------------------------------------------- command line


def _add_scheme_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = SchemeConfig()
    parser.add_argument("--scheme", nargs="+", choices=SCHEMES, default=list(SCHEMES), metavar="NAME",
                        help=f"schemes to run (default: all of {', '.join(SCHEMES)})")
    parser.add_argument("--teacher", default=defaults.teacher,
                        help=f"teacher architecture (default: {defaults.teacher})")
    parser.add_argument("--assistant", default=defaults.assistant,
                        help=f"teacher-assistant architecture (default: {defaults.assistant})")
    parser.add_argument("--student", default=defaults.student,
                        help=f"student architecture (default: {defaults.student})")
    parser.add_argument("--temperature", type=float, default=defaults.temperature,
                        help=f"temperature T of every teacher -> student step (default: {defaults.temperature:g})")
    parser.add_argument("--alpha", type=float, default=defaults.alpha,
                        help=f"weight of the soft term (default: {defaults.alpha})")
    parser.add_argument("--epochs", type=int, default=defaults.epochs,
                        help=f"epochs of every training run (default: {defaults.epochs})")
    parser.add_argument("--train-size", type=cli._train_size, default=defaults.train_size,
                        help=f"training images, or 'all' (default: {defaults.train_size:,})")
    parser.add_argument("--generations", type=int, default=defaults.generations,
                        help=f"born-again generations (default: {defaults.generations})")
    parser.add_argument("--seed", type=int, default=0, help="seed of every student run (default: 0)")
    parser.add_argument("--teacher-epochs", type=int, help="teacher epochs (default: 4 on full MNIST)")
    cli.add_data_arguments(parser)


def _command_schemes(args: argparse.Namespace) -> dict:
    config = SchemeConfig(teacher=args.teacher, assistant=args.assistant, student=args.student,
                          temperature=args.temperature, alpha=args.alpha, epochs=args.epochs,
                          train_size=None if args.train_size == "all" else args.train_size,
                          generations=args.generations, seed=args.seed, teacher_epochs=args.teacher_epochs)
    data = load_mnist(args.data_dir)
    cli.log(f"Data: {data.source.label}; device: {pick_device()}")
    comparison = compare_schemes(config, data, args.scheme, on_event=progress_printer())
    summary = comparison.summary()
    for line in comparison_lines(summary):
        cli.log("  " + line)
    cli.log(f"Done in {summary['seconds']:.1f} s ({summary['status']}).")
    return summary


def comparison_lines(summary: dict) -> list[str]:
    """The comparison as aligned text: every run, its errors, and the difference to both references."""
    alone, offline = summary["student_alone"], summary["offline_kd"]
    rows = [("reference", run) for run in (alone, offline) if run]
    rows += [(name, run) for name, scheme in summary["schemes"].items() if name != "offline" for run in scheme["runs"]]
    lines = [f"{'scheme':<11} {'run':<22} {'arch':<11} {'accuracy':>8} {'errors':>7} {'vs alone':>9} {'vs KD':>6}"]
    for scheme, run in rows:
        cells = ["" if reference is None else f"{run['test_errors'] - reference['test_errors']:+d}"
                 for reference in (alone, offline)]
        lines.append(f"{scheme:<11} {run['label']:<22} {run['arch']:<11} {run['test_accuracy']:>8.2%} "
                     f"{run['test_errors']:>7} {cells[0]:>9} {cells[1]:>6}")
    return lines


cli.EXTRA_COMMANDS["schemes"] = ("compare offline KD, mutual learning, born-again and teacher-assistant training",
                                 _add_scheme_arguments, _command_schemes)
