"""The one training loop: plain training, distillation and mutual learning alike.

``train_models`` trains N models on the same batches, each minimising its own pluggable
objective (``kdlab.ml.losses``): N = 1 with the labels is plain training, N = 1 with a teacher's
logits is distillation, N = 2 peers is deep mutual learning. ``train_model`` is the N = 1 case.
The loop runs over in-memory uint8 tensors (indexing a batch is one gather, normalising it
one fused op), and takes teacher logits precomputed once for the whole transfer set, so a
distillation step costs no teacher forward pass. Progress leaves through ``on_event``
callbacks carrying small frozen dataclasses; a ``threading.Event`` stops the run, which
then returns its partial result marked "stopped". A NaN or infinite loss ends the run as
"diverged". The loop never sleeps, prints or touches a UI.

Reproducibility: the data order, jitter and dropout masks come from generators seeded by
``config.seed`` (never the global RNG), and the model's initial weights from
``models.build_model(name, seed)``; the same seed, config and machine give the same numbers.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.ml.config import TrainConfig
from kdlab.ml.curve_points import SPLIT_IMAGES, curve_set, soft_split
from kdlab.ml.data import ImageSet, normalize
from kdlab.ml.losses import LabelsLoss, Objective, TeacherLoss
from kdlab.ml.metrics import Evaluation, evaluate_logits
from kdlab.ml.models import attach_dropout_generator, describe_model
from kdlab.settings import current_settings

RunStatus = Literal["completed", "stopped", "diverged"]
STEP_EVENTS_PER_EPOCH = 20


def pick_device() -> torch.device:
    """CUDA, then Apple MPS, then CPU; ``KDLAB_DEVICE`` (e.g. "cpu") overrides."""
    requested = current_settings().device
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class StepEvent:
    """Mean losses over the last few optimisation steps (about 20 reports per epoch)."""

    run: str
    step: int
    total_steps: int
    epoch: float  # fractional epochs done
    loss: float
    soft_loss: float
    hard_loss: float
    seconds: float


@dataclass(frozen=True)
class EvalEvent:
    """An accuracy point for the live curves (``evals_per_epoch`` of them per epoch)."""

    run: str
    step: int
    total_steps: int
    epoch: float
    train_accuracy: float  # running accuracy on the batches since the previous point
    test_accuracy: float
    loss: float  # mean losses since the previous point
    soft_loss: float
    hard_loss: float
    seconds: float
    # A distilled student's soft term in its two parts, as its loss weights them (``soft_split``); None without a teacher
    tckd: float | None = None
    nckd: float | None = None


@dataclass(frozen=True)
class EpochEvent:
    run: str
    epoch: int
    total_epochs: int
    test_accuracy: float
    seconds: float


TrainEvent = StepEvent | EvalEvent | EpochEvent
EventCallback = Callable[[TrainEvent], None]


@dataclass
class TrainResult:
    """What a run produced, complete or partial."""

    run: str
    status: RunStatus
    model: nn.Module  # on the CPU, in eval mode
    test_logits: torch.Tensor  # (N_test, 10) on the CPU
    evaluation: Evaluation
    history: list[EvalEvent] = field(default_factory=list)
    losses: list[StepEvent] = field(default_factory=list)
    steps: int = 0
    seconds: float = 0.0  # the whole run, final evaluation included
    eval_seconds: float = 0.0  # of which measuring the curve points and the final test accuracy

    @property
    def test_accuracy(self) -> float:
        return self.evaluation.accuracy


@torch.no_grad()
def predict_logits(
    model: nn.Module, images: torch.Tensor, device: torch.device | None = None, batch_size: int = 512
) -> torch.Tensor:
    """Logits (N, 10) on the CPU for uint8 images (N, 28, 28), in eval mode."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs = [
        model(normalize(images[i : i + batch_size].to(device))).float().cpu() for i in range(0, len(images), batch_size)
    ]
    model.train(was_training)
    return torch.cat(outputs) if outputs else torch.empty(0, 10)


def jitter(batch: torch.Tensor, max_shift: int, generator: torch.Generator) -> torch.Tensor:
    """Shift each image (B, 1, 28, 28) by up to ``max_shift`` pixels in x and y, zero-filled."""
    size = batch.shape[-1]
    shifts = torch.randint(0, 2 * max_shift + 1, (2, len(batch)), generator=generator).to(batch.device)
    padded = F.pad(batch, (max_shift,) * 4, value=float(batch.min()))  # (B, 1, 28 + 2s, 28 + 2s)
    offsets = torch.arange(size, device=batch.device)
    rows = (shifts[0][:, None] + offsets)[:, :, None]  # (B, 28, 1)
    cols = (shifts[1][:, None] + offsets)[:, None, :]  # (B, 1, 28)
    batch_index = torch.arange(len(batch), device=batch.device)[:, None, None]
    return padded[batch_index, 0, rows, cols].unsqueeze(1)


def cosine_schedule(optimizer: torch.optim.Optimizer, total_steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """Cosine decay of the learning rate to zero over ``total_steps``: short classroom runs
    end at a settled minimum instead of bouncing around it."""
    return torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda done: 0.5 * (1 + math.cos(math.pi * min(done, total_steps) / total_steps))
    )


def train_model(
    model: nn.Module,
    transfer_set: ImageSet,
    test_set: ImageSet,
    config: TrainConfig,
    *,
    teacher_logits: torch.Tensor | None = None,
    run: str = "student",
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    device: torch.device | None = None,
) -> TrainResult:
    """Train one model on ``transfer_set``, distilling from ``teacher_logits`` when given.

    Args:
        model: a freshly built model (its weights are updated in place).
        transfer_set: uint8 images and labels to learn from.
        test_set: images and labels to report accuracy on.
        config: the hyper-parameters.
        teacher_logits: (len(transfer_set), 10) teacher outputs for the transfer set, computed
            once by the caller; None trains on the labels alone (cross-entropy).
        run: a label carried by every event ("distilled", "baseline", "teacher", ...).
        on_event: called with each ``StepEvent``, ``EvalEvent`` and ``EpochEvent``.
        stop: when set, the run ends after the current step and returns as "stopped".
        device: where to train; ``pick_device()`` by default.

    Returns:
        A ``TrainResult`` with the model back on the CPU.
    """
    if teacher_logits is not None and len(teacher_logits) != len(transfer_set):
        raise ValueError("teacher_logits must have one row per transfer-set image.")
    objective = (
        LabelsLoss() if teacher_logits is None else TeacherLoss(teacher_logits, config.temperature, config.alpha)
    )
    return train_models(
        [model], transfer_set, test_set, config, [objective], runs=[run], on_event=on_event, stop=stop, device=device
    )[0]


def train_models(
    models: list[nn.Module],
    transfer_set: ImageSet,
    test_set: ImageSet,
    config: TrainConfig,
    objectives: list[Objective],
    *,
    runs: list[str],
    on_event: EventCallback | None = None,
    stop: threading.Event | None = None,
    device: torch.device | None = None,
) -> list[TrainResult]:
    """Train ``models`` side by side on the same batches, model i minimising ``objectives[i]``.

    Every model sees the same batch order (from ``config.seed``), has its own Adam optimiser
    with the same cosine learning-rate decay, and draws dropout masks from its own generator
    (seed + 1 + i). All losses are summed into one backward pass: each objective depends on
    the other models only through detached logits, so each model gets exactly its own gradient.

    Args:
        models: freshly built models (their weights are updated in place).
        transfer_set: uint8 images and labels to learn from.
        test_set: images and labels to report accuracy on.
        config: the hyper-parameters shared by every model.
        objectives: one per model (``kdlab.ml.losses.LabelsLoss``, ``TeacherLoss``, ``PeerLoss``).
        runs: one label per model, carried by its events.
        on_event: called with each model's ``StepEvent``, ``EvalEvent`` and ``EpochEvent``.
        stop: when set, the run ends after the current step and returns as "stopped".
        device: where to train; ``pick_device()`` by default.

    Returns:
        One ``TrainResult`` per model, models back on the CPU in eval mode.
    """
    if len(transfer_set) == 0:
        raise ValueError("The transfer set is empty: choose a training-set size of at least 1.")
    if not len(models) == len(objectives) == len(runs) >= 1:
        raise ValueError("Give one objective and one run label per model.")
    loop = _Loop(models, transfer_set, test_set, config, objectives, runs, on_event, device or pick_device())
    steps_per_epoch, batch_size = loop.steps_per_epoch, config.batch_size
    for epoch in range(config.epochs):
        order = torch.randperm(len(transfer_set), generator=loop.shuffle_generator).to(loop.device)
        for step_in_epoch in range(1, steps_per_epoch + 1):
            loop.train_step(order[(step_in_epoch - 1) * batch_size : step_in_epoch * batch_size])
            epoch_progress = epoch + step_in_epoch / steps_per_epoch
            if loop.step % loop.log_every == 0 or step_in_epoch == steps_per_epoch:
                if not loop.log_step(epoch_progress):
                    loop.status = "diverged"
                    break
            stopping = stop is not None and stop.is_set()
            if step_in_epoch in loop.eval_points or stopping:
                loop.eval_point(epoch_progress)
            if stopping:
                loop.status = "stopped"
                break
        if loop.status != "completed":
            break
        loop.end_epoch(epoch + 1)
    return loop.finish(test_set)


class _Loop:
    """The state of one ``train_models`` run between steps: the models and their optimisers, the
    step count, and the loss and accuracy sums since the last step event and the last eval point.
    Built from ``train_models``' arguments (same types), with everything moved to ``device``."""

    def __init__(self, models, transfer_set, test_set, config, objectives, runs, on_event, device) -> None:
        self.models, self.config, self.runs, self.device = models, config, list(runs), device
        self.emit = on_event or (lambda event: None)
        self.started = time.perf_counter()
        self.shuffle_generator = torch.Generator().manual_seed(config.seed)
        self.images, self.labels = transfer_set.images.to(device), transfer_set.labels.to(device)
        self.test_images = test_set.images.to(device)
        self.curve_images, self.curve_labels = curve_set(test_set, self.test_images, config.curve_test_images)
        self.objectives = [objective.to(device) for objective in objectives]
        self.split_index = torch.arange(min(SPLIT_IMAGES, len(transfer_set)), device=device)  # see soft_split
        self.steps_per_epoch = math.ceil(len(transfer_set) / config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.optimizers, self.schedules = [], []
        for index, model in enumerate(models):
            model.to(device).train()
            attach_dropout_generator(model, torch.Generator(device=device).manual_seed(config.seed + 1 + index))
            optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate)
            self.optimizers.append(optimizer)
            self.schedules.append(cosine_schedule(optimizer, self.total_steps))
        self.log_every = max(1, self.steps_per_epoch // STEP_EVENTS_PER_EPOCH)
        evaluations = min(config.evaluations_per_epoch, self.steps_per_epoch)
        self.eval_points = {round(self.steps_per_epoch * k / evaluations) for k in range(1, evaluations + 1)}
        self.histories: list[list[EvalEvent]] = [[] for _ in models]
        self.losses: list[list[StepEvent]] = [[] for _ in models]
        self.status: RunStatus = "completed"
        self.step = 0
        # Sums since the last step event and since the last eval point, (model, total/soft/hard), kept
        # on the device so the loop never waits on .item() between reports.
        self.log_sums = torch.zeros(len(models), 3, device=device)
        self.eval_sums = torch.zeros(len(models), 3, device=device)
        self.log_count = self.eval_count = 0
        self.eval_seconds = 0.0
        self.correct = torch.zeros(len(models), device=device, dtype=torch.long)  # since the last eval point
        self.seen = 0

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def train_step(self, batch_index: torch.Tensor) -> None:
        """One optimisation step of every model on the batch ``batch_index``; the sums take its losses."""
        inputs = normalize(self.images[batch_index])  # (B, 1, 28, 28)
        if self.config.jitter_pixels:
            inputs = jitter(inputs, self.config.jitter_pixels, self.shuffle_generator)
        batch_labels = self.labels[batch_index]
        logits = [model(inputs) for model in self.models]  # one (B, 10) per model
        parts = [objective(logits, index, batch_labels, batch_index) for index, objective in enumerate(self.objectives)]
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=True)
        (parts[0].total if len(parts) == 1 else torch.stack([part.total for part in parts]).sum()).backward()
        for optimizer, schedule in zip(self.optimizers, self.schedules):
            optimizer.step()
            schedule.step()
        self.step += 1
        detached = torch.stack([torch.stack([p.total.detach(), p.soft.detach(), p.hard.detach()]) for p in parts])
        self.log_sums += detached
        self.eval_sums += detached
        self.log_count += 1
        self.eval_count += 1
        self.correct += torch.stack([(output.detach().argmax(1) == batch_labels).sum() for output in logits])
        self.seen += len(batch_index)

    def log_step(self, epoch_progress: float) -> bool:
        """Emit each model's ``StepEvent`` of mean losses; False (and no event) when a loss is not finite."""
        means = (self.log_sums / self.log_count).tolist()
        if not all(math.isfinite(value) for model_means in means for value in model_means):
            return False
        elapsed = self.seconds()
        for index, run in enumerate(self.runs):
            event = StepEvent(run, self.step, self.total_steps, epoch_progress, *means[index], elapsed)
            self.losses[index].append(event)
            self.emit(event)
        self.log_sums.zero_()
        self.log_count = 0
        return True

    def eval_point(self, epoch_progress: float) -> None:
        """Emit each model's ``EvalEvent``: accuracy on the curve images, running train accuracy, mean losses."""
        eval_started = time.perf_counter()
        means = (self.eval_sums / max(self.eval_count, 1)).tolist()
        point = (self.step, self.total_steps, epoch_progress)
        for index, model in enumerate(self.models):
            predictions = predict_logits(model, self.curve_images, self.device).argmax(1)
            test_accuracy = float((predictions == self.curve_labels).float().mean())
            train_accuracy = int(self.correct[index]) / max(self.seen, 1)
            split = soft_split(self.objectives[index], model, self.images, self.labels, self.split_index)
            event = EvalEvent(
                self.runs[index], *point, train_accuracy, test_accuracy, *means[index], self.seconds(), *split
            )
            self.histories[index].append(event)
            self.emit(event)
        self.eval_sums.zero_()
        self.eval_seconds += time.perf_counter() - eval_started
        self.eval_count = self.seen = 0
        self.correct.zero_()

    def end_epoch(self, epochs_done: int) -> None:
        """Emit each model's ``EpochEvent`` with its latest curve accuracy."""
        for run, history in zip(self.runs, self.histories):
            self.emit(EpochEvent(run, epochs_done, self.config.epochs, history[-1].test_accuracy, self.seconds()))

    def finish(self, test_set: ImageSet) -> list[TrainResult]:
        """Each model's test logits and result; the models go back to the CPU in eval mode."""
        final_started = time.perf_counter()
        outputs = []
        for model in self.models:
            attach_dropout_generator(model, None)
            outputs.append(predict_logits(model, self.test_images, self.device))
            model.to("cpu").eval()
        self.eval_seconds += time.perf_counter() - final_started
        timing = (self.step, self.seconds(), self.eval_seconds)
        rows = zip(self.runs, self.models, outputs, self.histories, self.losses)
        return [
            TrainResult(run, self.status, model, out, evaluate_logits(out, test_set.labels), history, losses, *timing)
            for run, model, out, history, losses in rows
        ]


def run_summary(architecture: str, result: TrainResult | None) -> dict | None:
    """A JSON-ready summary of one trained model (None stays None): the one builder every
    experiment's ``--json`` output uses for a run."""
    if result is None:
        return None
    return {
        "arch": architecture,
        "params": describe_model(architecture).parameters,
        "status": result.status,
        "epochs_done": round(result.history[-1].epoch, 3) if result.history else 0.0,
        "train_seconds": round(result.seconds, 2),
        **result.evaluation.as_dict(),
    }
