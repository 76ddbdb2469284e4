"""One training loop for training from scratch and for distillation.

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
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Literal

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.data import ImageSet, normalize
from kdlab.losses import kd_loss
from kdlab.metrics import Evaluation, evaluate_logits
from kdlab.models import attach_dropout_generator

RunStatus = Literal["completed", "stopped", "diverged"]
STEP_EVENTS_PER_EPOCH = 20
EVALUATION_POINTS_PER_RUN = 40


def pick_device() -> torch.device:
    """CUDA, then Apple MPS, then CPU; ``KDLAB_DEVICE`` (e.g. "cpu") overrides."""
    requested = os.environ.get("KDLAB_DEVICE", "").strip()
    if requested:
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run. Validates itself on creation.

    ``temperature`` and ``alpha`` only matter when the run is given teacher logits;
    ``alpha`` weights the soft (teacher) term of the loss, see ``losses.kd_loss``.
    """

    epochs: int = 5
    learning_rate: float = 1e-3
    batch_size: int = 128
    seed: int = 0
    temperature: float = 4.0
    alpha: float = 0.9
    weight_decay: float = 0.0
    jitter_pixels: int = 0
    evals_per_epoch: int | None = None  # None: about 40 points over the run, 1 to 10 per epoch

    def __post_init__(self) -> None:
        checks = [
            (isinstance(self.epochs, int) and 1 <= self.epochs <= 500, f"Epochs must be a whole number from 1 to 500 (got {self.epochs})."),
            (math.isfinite(self.learning_rate) and 0 < self.learning_rate <= 1, f"Learning rate must be above 0 and at most 1 (got {self.learning_rate}); 0.001 is a good start."),
            (isinstance(self.batch_size, int) and 1 <= self.batch_size <= 60_000, f"Batch size must be a whole number from 1 to 60,000 (got {self.batch_size})."),
            (isinstance(self.seed, int) and 0 <= self.seed < 2 ** 31, f"Seed must be a whole number from 0 to 2,147,483,647 (got {self.seed})."),
            (math.isfinite(self.temperature) and self.temperature > 0, f"Temperature T must be above 0 (got {self.temperature}); T = 1 is the plain softmax."),
            (0.0 <= self.alpha <= 1.0, f"alpha must be between 0 and 1 (got {self.alpha}): it is the weight of the soft-target term."),
            (self.weight_decay >= 0, f"Weight decay must be 0 or more (got {self.weight_decay})."),
            (isinstance(self.jitter_pixels, int) and 0 <= self.jitter_pixels <= 4, f"Jitter must be 0 to 4 pixels (got {self.jitter_pixels})."),
            (self.evals_per_epoch is None or (isinstance(self.evals_per_epoch, int) and 1 <= self.evals_per_epoch <= 50),
             f"Evaluations per epoch must be 1 to 50 (got {self.evals_per_epoch})."),
        ]
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    @property
    def evaluations_per_epoch(self) -> int:
        """Test evaluations per epoch: enough points for a smooth curve, few enough to stay cheap."""
        if self.evals_per_epoch is not None:
            return self.evals_per_epoch
        return max(1, min(10, math.ceil(EVALUATION_POINTS_PER_RUN / self.epochs)))


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
    seconds: float = 0.0

    @property
    def test_accuracy(self) -> float:
        return self.evaluation.accuracy


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, device: torch.device | None = None,
                   batch_size: int = 512) -> torch.Tensor:
    """Logits (N, 10) on the CPU for uint8 images (N, 28, 28), in eval mode."""
    device = device or next(model.parameters()).device
    was_training = model.training
    model.eval()
    outputs = [model(normalize(images[i:i + batch_size].to(device))).float().cpu()
               for i in range(0, len(images), batch_size)]
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
        optimizer, lambda done: 0.5 * (1 + math.cos(math.pi * min(done, total_steps) / total_steps)))


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
    """Train ``model`` on ``transfer_set``, distilling from ``teacher_logits`` when given.

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
    if len(transfer_set) == 0:
        raise ValueError("The transfer set is empty: choose a training-set size of at least 1.")
    if teacher_logits is not None and len(teacher_logits) != len(transfer_set):
        raise ValueError("teacher_logits must have one row per transfer-set image.")
    device = device or pick_device()
    emit = on_event or (lambda event: None)
    started = time.perf_counter()

    shuffle_generator = torch.Generator().manual_seed(config.seed)
    dropout_generator = torch.Generator(device=device).manual_seed(config.seed + 1)
    model.to(device).train()
    attach_dropout_generator(model, dropout_generator)
    images = transfer_set.images.to(device)
    labels = transfer_set.labels.to(device)
    targets_from_teacher = teacher_logits.to(device) if teacher_logits is not None else None
    test_images = test_set.images.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)

    size = len(transfer_set)
    steps_per_epoch = math.ceil(size / config.batch_size)
    total_steps = steps_per_epoch * config.epochs
    log_every = max(1, steps_per_epoch // STEP_EVENTS_PER_EPOCH)
    evaluations = min(config.evaluations_per_epoch, steps_per_epoch)
    eval_points = {round(steps_per_epoch * k / evaluations) for k in range(1, evaluations + 1)}
    zero = torch.zeros((), device=device)
    schedule = cosine_schedule(optimizer, total_steps)

    history: list[EvalEvent] = []
    losses: list[StepEvent] = []
    status: RunStatus = "completed"
    step = 0
    # Sums since the last step event and since the last eval point, kept on the device so the
    # loop never waits on .item() between reports.
    log_sums = torch.zeros(3, device=device)
    eval_sums = torch.zeros(3, device=device)
    log_count = eval_count = 0
    correct = torch.zeros((), device=device, dtype=torch.long)
    seen = 0

    for epoch in range(config.epochs):
        order = torch.randperm(size, generator=shuffle_generator).to(device)
        for step_in_epoch in range(1, steps_per_epoch + 1):
            batch_index = order[(step_in_epoch - 1) * config.batch_size: step_in_epoch * config.batch_size]
            inputs = normalize(images[batch_index])  # (B, 1, 28, 28)
            if config.jitter_pixels:
                inputs = jitter(inputs, config.jitter_pixels, shuffle_generator)
            batch_labels = labels[batch_index]
            logits = model(inputs)  # (B, 10)
            if targets_from_teacher is None:
                loss = F.cross_entropy(logits, batch_labels)
                soft, hard = zero, loss
            else:
                loss, soft, hard = kd_loss(logits, targets_from_teacher[batch_index], batch_labels,
                                           config.temperature, config.alpha)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            step += 1

            parts = torch.stack([loss.detach(), soft.detach(), hard.detach()])
            log_sums += parts
            eval_sums += parts
            log_count += 1
            eval_count += 1
            correct += (logits.detach().argmax(1) == batch_labels).sum()
            seen += len(batch_index)
            epoch_progress = epoch + step_in_epoch / steps_per_epoch

            if step % log_every == 0 or step_in_epoch == steps_per_epoch:
                mean = (log_sums / log_count).tolist()
                if not all(math.isfinite(value) for value in mean):
                    status = "diverged"
                    break
                event = StepEvent(run, step, total_steps, epoch_progress, *mean, time.perf_counter() - started)
                losses.append(event)
                emit(event)
                log_sums.zero_()
                log_count = 0

            stopping = stop is not None and stop.is_set()
            if step_in_epoch in eval_points or stopping:
                test_accuracy = float((predict_logits(model, test_images, device).argmax(1)
                                       == test_set.labels).float().mean())
                mean = (eval_sums / max(eval_count, 1)).tolist()
                event = EvalEvent(run, step, total_steps, epoch_progress, int(correct) / max(seen, 1),
                                  test_accuracy, *mean, time.perf_counter() - started)
                history.append(event)
                emit(event)
                eval_sums.zero_()
                eval_count = seen = 0
                correct.zero_()
            if stopping:
                status = "stopped"
                break
        if status != "completed":
            break
        emit(EpochEvent(run, epoch + 1, config.epochs, history[-1].test_accuracy, time.perf_counter() - started))

    attach_dropout_generator(model, None)
    test_logits = predict_logits(model, test_images, device)
    model.to("cpu").eval()
    return TrainResult(run, status, model, test_logits, evaluate_logits(test_logits, test_set.labels),
                       history, losses, step, time.perf_counter() - started)
