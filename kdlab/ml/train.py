"""The one training loop: plain training, distillation and mutual learning alike.

``train_models`` trains N models on the same batches, each minimising its own pluggable
objective (``kdlab.ml.losses``): N = 1 with the labels is plain training, N = 1 with a teacher's
logits is distillation, N = 2 peers is deep mutual learning. ``train_model`` is the N = 1 case.
The loop runs over in-memory uint8 tensors (indexing a batch is one gather, normalising it
one fused op), and takes teacher logits precomputed once for the whole transfer set, so a
distillation step costs no teacher forward pass. Progress leaves through the ``RunContext``'s
``on_event`` callback, carrying small frozen dataclasses; its ``threading.Event`` stops the run, which
then returns its partial result marked "stopped". A NaN or infinite loss ends the run as
"diverged". The loop never sleeps, prints or touches a UI.

Reproducibility: the data order, jitter and dropout masks come from generators seeded by
``config.seed`` (never the global RNG), and the model's initial weights from
``models.build_model(name, seed)``; the same seed, config and machine give the same numbers.
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from kdlab.ml.config import TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.curve_points import SPLIT_IMAGES, feature_view, soft_split
from kdlab.ml.data import ImageSet, curve_subset, jitter, normalize
from kdlab.ml.events import EpochEvent, EvalEvent, FeatureViewEvent, RunStatus, StepEvent, TrainResult
from kdlab.ml.losses import KDLoss, LabelsLoss, Objective, TeacherLoss
from kdlab.ml.metrics import evaluate_logits
from kdlab.ml.models import attach_dropout_generator, describe_model
from kdlab.settings import current_settings

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
    context: RunContext | None = None,
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
        context: where events go (each ``StepEvent``, ``EvalEvent`` and ``EpochEvent``), the stop flag
            (when set, the run ends after the current step and returns as "stopped") and the device
            (``pick_device()`` when None); None for none of them.

    Returns:
        A ``TrainResult`` with the model back on the CPU.
    """
    if teacher_logits is not None and len(teacher_logits) != len(transfer_set):
        raise ValueError("teacher_logits must have one row per transfer-set image.")
    objective = (
        LabelsLoss() if teacher_logits is None else TeacherLoss(teacher_logits, config.temperature, config.alpha)
    )
    return train_models([model], transfer_set, test_set, config, [objective], runs=[run], context=context)[0]


def train_models(
    models: list[nn.Module],
    transfer_set: ImageSet,
    test_set: ImageSet,
    config: TrainConfig,
    objectives: list[Objective],
    *,
    runs: list[str],
    context: RunContext | None = None,
) -> list[TrainResult]:
    """Train ``models`` side by side on the same batches, model i minimising ``objectives[i]``.

    Every model sees the same batch order (from ``config.seed``), has its own Adam optimiser
    with the same cosine learning-rate decay, and draws dropout masks from its own generator
    (seed + 1 + i). All losses are summed into one backward pass: each objective depends on
    the other models only through detached logits, so each model gets exactly its own gradient.
    The models stop and diverge together: they are one run.

    Args:
        models: freshly built models (their weights are updated in place).
        transfer_set: uint8 images and labels to learn from.
        test_set: images and labels to report accuracy on.
        config: the hyper-parameters shared by every model.
        objectives: one per model (``kdlab.ml.losses.LabelsLoss``, ``TeacherLoss``, ``PeerLoss``).
        runs: one label per model, carried by its events.
        context: where each model's events go, the stop flag (when set, the run ends after the
            current step and returns as "stopped") and the device (``pick_device()`` when None).

    Returns:
        One ``TrainResult`` per model, models back on the CPU in eval mode.
    """
    if len(transfer_set) == 0:
        raise ValueError("The transfer set is empty: choose a training-set size of at least 1.")
    if not len(models) == len(objectives) == len(runs) >= 1:
        raise ValueError("Give one objective and one run label per model.")
    loop = _SharedBatches(models, transfer_set, test_set, config, objectives, runs, context or RunContext())
    return drive(loop)


def drive(loop: Loop) -> list[TrainResult]:
    """The one loop: ``loop.config.epochs`` epochs of ``loop.train_step``, with step events, curve
    points and epoch events on the same schedule for every model; a group of models ends alone,
    "stopped" when its stop flag is set (after a last curve point) or "diverged" when its loss is
    not finite (without one). Returns one ``TrainResult`` per model, in the loop's order."""
    steps_per_epoch = loop.steps_per_epoch
    for epoch in range(loop.config.epochs):
        loop.start_epoch()
        for step_in_epoch in range(1, steps_per_epoch + 1):
            loop.train_step(step_in_epoch)
            epoch_progress = epoch + step_in_epoch / steps_per_epoch
            if loop.step % loop.log_every == 0 or step_in_epoch == steps_per_epoch:
                loop.log_step(epoch_progress)
            stopping = [group for group in loop.open_groups if loop.stop_set(group)]
            if step_in_epoch in loop.eval_points:
                loop.eval_point(epoch_progress, loop.active_models())
            elif stopping:
                loop.eval_point(epoch_progress, [index for group in stopping for index in loop.groups[group]])
            loop.close(stopping, "stopped")
            if not loop.open_groups:
                break
        if not loop.open_groups:
            break
        loop.end_epoch(epoch + 1)
    loop.close(list(loop.open_groups), "completed")
    return loop.results


class Loop:
    """The bookkeeping of one ``drive`` run, whatever trains in it: the step count, each model's loss
    and accuracy sums since its last step event and curve point, its events and its result. Models
    come in groups that end together (``train_models``' models are one group; a stack's members
    are one each), each group with its own stop flag. A subclass trains (``start_epoch``,
    ``train_step``, calling ``record``), predicts (``predict``) and hands a model back (``release``)."""

    def __init__(self, config, transfer_size, test_set, runs, emits, groups, stops, device) -> None:
        self.config, self.runs, self.emits, self.device = config, list(runs), list(emits), device
        self.groups, self.stops = [list(group) for group in groups], list(stops)
        self.open_groups = list(range(len(self.groups)))
        self.started = time.perf_counter()
        self.test_set, self.test_images = test_set, test_set.images.to(device)
        self.curve_images, self.curve_labels = curve_subset(test_set, self.test_images, config.curve_test_images)
        self.steps_per_epoch = math.ceil(transfer_size / config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.log_every = max(1, self.steps_per_epoch // STEP_EVENTS_PER_EPOCH)
        evaluations = min(config.evaluations_per_epoch, self.steps_per_epoch)
        self.eval_points = {round(self.steps_per_epoch * k / evaluations) for k in range(1, evaluations + 1)}
        count = len(self.runs)
        self.histories: list[list[EvalEvent]] = [[] for _ in range(count)]
        self.views: list[FeatureViewEvent | None] = [None] * count  # each model's latest live view, if it has one
        self.losses: list[list[StepEvent]] = [[] for _ in range(count)]
        self.results: list[TrainResult | None] = [None] * count
        self.step = 0
        # Sums since the last step event and since each model's last curve point, (model, total/soft/hard/feature),
        # kept on the device so the loop never waits on .item() between reports.
        self.log_sums = torch.zeros(count, 4, device=device)
        self.eval_sums = torch.zeros(count, 4, device=device)
        self.with_feature: set[int] = set()  # the models whose objective has a feature term (KDLoss.feature)
        self.correct = torch.zeros(count, device=device, dtype=torch.long)  # since each model's last curve point
        self.log_count, self.eval_counts, self.seen = 0, [0] * count, [0] * count
        self.eval_seconds = 0.0

    def seconds(self) -> float:
        return time.perf_counter() - self.started

    def active_models(self) -> list[int]:
        """The models of the groups still training, in order."""
        return sorted(index for group in self.open_groups for index in self.groups[group])

    def stop_set(self, group: int) -> bool:
        return self.stops[group] is not None and self.stops[group].is_set()

    def start_epoch(self) -> None:
        raise NotImplementedError

    def train_step(self, step_in_epoch: int) -> None:
        raise NotImplementedError

    def predict(self, models: list[int], images: torch.Tensor) -> list[torch.Tensor]:
        """Each of ``models``' logits (N, 10) on the CPU for uint8 ``images`` on the device, in eval mode."""
        raise NotImplementedError

    def release(self, models: list[int]) -> list[nn.Module]:
        """``models`` back on the CPU in eval mode; they train no more."""
        raise NotImplementedError

    def transfer_data(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Model ``index``'s transfer images and labels, on the device."""
        raise NotImplementedError

    def soft_split(self, index: int) -> tuple[float | None, float | None]:
        """Model ``index``'s soft term in its two parts on its first ``SPLIT_IMAGES`` transfer images."""
        images, labels = self.transfer_data(index)
        chosen = torch.arange(min(SPLIT_IMAGES, len(images)), device=self.device)
        return soft_split(self.objectives[index], self.models[index], images, labels, chosen)

    def feature_view(self, index: int, point: tuple[int, int, float]) -> tuple[FeatureViewEvent, float] | None:
        """Model ``index``'s live view at ``point`` and its distance (``kdlab.ml.curve_points.feature_view``)."""
        return feature_view(self.objectives[index], self.models[index], self.runs[index], point)

    def record(self, models: list[int], parts: list[KDLoss], logits: list[torch.Tensor], labels) -> None:
        """Count one step of ``models``: their losses ``parts``, their ``logits`` against ``labels`` (one per model)."""
        self.step += 1
        for index, part in zip(models, parts):
            if part.feature is not None:
                self.with_feature.add(index)
        detached = torch.stack(
            [torch.stack([p.total.detach(), p.soft.detach(), p.hard.detach(), _feature_of(p)]) for p in parts]
        )
        self.log_sums[models] += detached
        self.eval_sums[models] += detached
        self.log_count += 1
        self.correct[models] += torch.stack([(out.detach().argmax(1) == y).sum() for out, y in zip(logits, labels)])
        for index, batch_labels in zip(models, labels):
            self.eval_counts[index] += 1
            self.seen[index] += len(batch_labels)

    def log_step(self, epoch_progress: float) -> None:
        """Emit each open model's ``StepEvent`` of mean losses; a group with a loss that is not finite
        ends "diverged" instead (and emits none)."""
        means = (self.log_sums / self.log_count).tolist()
        elapsed = self.seconds()
        diverged = []
        for group in self.open_groups:
            if not all(math.isfinite(value) for index in self.groups[group] for value in means[index]):
                diverged.append(group)
                continue
            for index in self.groups[group]:
                *losses, feature = means[index]
                feature = feature if index in self.with_feature else None
                event = StepEvent(
                    self.runs[index], self.step, self.total_steps, epoch_progress, *losses, elapsed, feature
                )
                self.losses[index].append(event)
                self.emits[index](event)
        self.close(diverged, "diverged")
        self.log_sums.zero_()
        self.log_count = 0

    def eval_point(self, epoch_progress: float, models: list[int]) -> None:
        """Emit ``models``' ``EvalEvent``: accuracy on the curve images, running train accuracy, mean losses; then a
        feature method's ``FeatureViewEvent``."""
        eval_started = time.perf_counter()
        point = (self.step, self.total_steps, epoch_progress)
        for index, logits in zip(models, self.predict(models, self.curve_images)):
            test_accuracy = float((logits.argmax(1) == self.curve_labels).float().mean())
            train_accuracy = int(self.correct[index]) / max(self.seen[index], 1)
            *losses, feature = (self.eval_sums[index] / max(self.eval_counts[index], 1)).tolist()
            feature = feature if index in self.with_feature else None
            split = self.soft_split(index)
            view = self.feature_view(index, point)
            distance = None if view is None else view[1]
            event = EvalEvent(
                self.runs[index],
                *point,
                train_accuracy,
                test_accuracy,
                *losses,
                self.seconds(),
                *split,
                feature,
                distance,
                getattr(self.objectives[index], "temperature_now", None),
            )
            self.histories[index].append(event)
            self.emits[index](event)
            if view is not None:
                self.views[index] = view[0]
                self.emits[index](view[0])
            self.eval_sums[index].zero_()
            self.correct[index] = 0
            self.eval_counts[index] = self.seen[index] = 0
        self.eval_seconds += time.perf_counter() - eval_started

    def end_epoch(self, epochs_done: int) -> None:
        """Emit each open model's ``EpochEvent`` with its latest curve accuracy."""
        for index in self.active_models():
            accuracy = self.histories[index][-1].test_accuracy
            self.emits[index](EpochEvent(self.runs[index], epochs_done, self.config.epochs, accuracy, self.seconds()))

    def close(self, groups: list[int], status: RunStatus) -> None:
        """End ``groups`` with ``status``: each model's test logits and result."""
        for group in groups:
            final_started = time.perf_counter()
            models = self.groups[group]
            outputs = self.predict(models, self.test_images)
            self.open_groups.remove(group)
            released = self.release(models)
            self.eval_seconds += time.perf_counter() - final_started
            timing = (self.step, self.seconds(), self.eval_seconds)
            for index, model, out in zip(models, released, outputs):
                evaluation = evaluate_logits(out, self.test_set.labels)
                history, losses = self.histories[index], self.losses[index]
                self.results[index] = TrainResult(
                    self.runs[index], status, model, out, evaluation, history, losses, *timing, self.views[index]
                )


class _SharedBatches(Loop):
    """``train_models``' loop: its models on the same batches of one transfer set, in one group."""

    def __init__(self, models, transfer_set, test_set, config, objectives, runs, context: RunContext) -> None:
        device = context.device or pick_device()
        emits = [context.emit] * len(models)
        super().__init__(config, len(transfer_set), test_set, runs, emits, [range(len(models))], [context.stop], device)
        self.models = models
        self.shuffle_generator = torch.Generator().manual_seed(config.seed)
        self.images, self.labels = transfer_set.images.to(device), transfer_set.labels.to(device)
        self.objectives = [objective.to(device) for objective in objectives]
        self.optimizers, self.schedules = [], []
        for index, model in enumerate(models):
            model.to(device).train()
            attach_dropout_generator(model, torch.Generator(device=device).manual_seed(config.seed + 1 + index))
            objective = self.objectives[index]
            if hasattr(objective, "attach"):  # a feature method reads the model's taps (kdlab.ml.methods.transfer)
                objective.attach(model, self.total_steps)
            own = list(objective.parameters()) if hasattr(objective, "parameters") else []  # the hint regressor
            optimizer = torch.optim.Adam([*model.parameters(), *own], lr=config.learning_rate)
            self.optimizers.append(optimizer)
            self.schedules.append(cosine_schedule(optimizer, self.total_steps))
        self.order = torch.empty(0, dtype=torch.long)

    def start_epoch(self) -> None:
        self.order = torch.randperm(len(self.images), generator=self.shuffle_generator).to(self.device)

    def train_step(self, step_in_epoch: int) -> None:
        """One optimisation step of every model on the epoch's ``step_in_epoch``-th batch."""
        batch_size = self.config.batch_size
        batch_index = self.order[(step_in_epoch - 1) * batch_size : step_in_epoch * batch_size]
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
        self.record(list(range(len(self.models))), parts, logits, [batch_labels] * len(self.models))

    def predict(self, models: list[int], images: torch.Tensor) -> list[torch.Tensor]:
        return [predict_logits(self.models[index], images, self.device) for index in models]

    def transfer_data(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.images, self.labels

    def release(self, models: list[int]) -> list[nn.Module]:
        for index in models:
            if hasattr(self.objectives[index], "detach"):
                self.objectives[index].detach()
            attach_dropout_generator(self.models[index], None)
            self.models[index].to("cpu").eval()
        return [self.models[index] for index in models]


def _feature_of(part: KDLoss) -> torch.Tensor:
    """A loss's feature term, detached; 0 for an objective without one."""
    return part.hard.new_zeros(()) if part.feature is None else part.feature.detach()


def run_summary(architecture: str, result: TrainResult | None) -> dict | None:
    """A JSON-ready summary of one trained model (None stays None): the one builder every
    experiment's ``--json`` output uses for a run. A run with a feature or relation term (``KDLoss.feature``)
    adds ``feature_loss``: the term at its last curve point; a run whose temperature a schedule moved adds
    ``final_temperature``: T at its last curve point (a learned temperature's value)."""
    if result is None:
        return None
    last = result.history[-1] if result.history else None
    return {
        "arch": architecture,
        "params": describe_model(architecture).parameters,
        "status": result.status,
        "epochs_done": round(last.epoch, 3) if last else 0.0,
        "train_seconds": round(result.seconds, 2),
        **result.evaluation.as_dict(),
        **({"feature_loss": last.feature_loss} if last is not None and last.feature_loss is not None else {}),
        **({"final_temperature": round(last.temperature, 4)} if last is not None and last.temperature else {}),
    }
