"""Stacked training: K runs of one MLP shape trained together as one batched model, each exactly as alone.

A class that tries thirty temperatures trains thirty small MLPs of the same shape; one after another
each runs its own loop of small matrix products. ``train_stacked`` runs them through the one loop
(``kdlab.ml.train.drive``) as one model whose layers are ``torch.baddbmm`` over the members' weights
stacked to (K, out, in), so a step is a few larger products instead of K rounds of small ones.

Each member keeps everything its solo run (``train_models`` with that model alone) has: its own
model built from its own seed (its initial weights), its own transfer set and batch order (a
generator seeded by its ``config.seed``, jitter drawn from it), its own objective (T, alpha, soft
loss), its own Adam optimiser and cosine schedule over its own parameters (so learning rates may
differ), its own events, stop flag and result. The members' parameters stay their own leaf tensors
(``torch.stack`` gathers them each step, and its backward hands each member exactly its gradient
slice), so each optimiser step is literally the solo one; a member that stops or diverges leaves
the stack and the others go on untouched.

Exactness depends on the machine's matrix library, and ``batched_products_exact`` measures it. Where
``baddbmm`` gives each slice bit for bit what ``nn.Linear`` (``addmm``) gives that slice alone, forward and
backward, a stacked member's logits, curves and errors equal its solo run's (tests/unit/test_stacked.py).
Measured: exact at one torch thread on the CPU that ran CI on 2026-12-03 (MKL); not exact on an AMD EPYC
with AVX2 (MKL, 2026-12-06), where the default lab run's logits differed from the solo run's by at most
1.4e-6 after 20 steps and every error count was the same. At two threads MKL splits one small product across
threads differently from a batch of them, and batches of 8 or 40 rows then differ in the last bits; the
server trains with one thread per job. GPUs make no such promise either: there, as wherever
``batched_products_exact`` is False, a stacked run is the same computation up to rounding.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache

import torch
from torch import nn

from kdlab.ml.config import TrainConfig
from kdlab.ml.data import ImageSet, jitter, normalize
from kdlab.ml.events import EventCallback, TrainResult
from kdlab.ml.losses import Objective
from kdlab.ml.models import build_model
from kdlab.ml.train import Loop, cosine_schedule, drive, pick_device, predict_logits


@dataclass(frozen=True)
class StackMember:
    """One run of a stack: what ``train_models([model], transfer_set, ...)`` would get for it alone."""

    model: nn.Module  # freshly built (``build_model(name, seed)``): its weights are updated in place
    transfer_set: ImageSet
    config: TrainConfig
    objective: Objective
    run: str = "student"
    on_event: EventCallback | None = None
    stop: threading.Event | None = None


def stack_key(member: StackMember) -> tuple:
    """What members of one stack must share: the layer shapes, and what fixes the step count and schedule."""
    config = member.config
    shapes = tuple(tuple(layer.weight.shape) for layer in linear_layers(member.model))
    schedule = (config.epochs, config.batch_size, config.evaluations_per_epoch, config.curve_test_images)
    return shapes, len(member.transfer_set), *schedule


@lru_cache(maxsize=64)
def stackable(architecture: str) -> bool:
    """True when models of ``architecture`` can train in a stack (``linear_layers``)."""
    try:
        linear_layers(build_model(architecture))
    except ValueError:
        return False
    return True


def linear_layers(model: nn.Module) -> list[nn.Linear]:
    """The Linear layers of a stackable model: ``nn.Flatten``, then ``nn.Linear`` with ``nn.ReLU`` between.

    Raises:
        ValueError: the model is anything else (a CNN, or an MLP with dropout).
    """
    modules = list(model.children()) if isinstance(model, nn.Sequential) else [model]
    layers = [module for module in modules[1:] if isinstance(module, nn.Linear)]
    expected = [nn.Flatten] + [kind for _ in layers for kind in (nn.Linear, nn.ReLU)][:-1]
    if not layers or [type(module) for module in modules] != expected:
        raise ValueError("Only MLPs without dropout (linear, mlp-<width>x<depth>) can be trained in a stack.")
    return layers


@lru_cache(maxsize=8)
def _products_exact(threads: int, device: str) -> bool:
    generator = torch.Generator().manual_seed(0)
    models = [build_model("mlp-20x1", seed=seed).to(device) for seed in range(4)]
    inputs = torch.randn(4, 40, 784, generator=generator).to(device)  # (K, B, 784)
    stacked = stacked_logits(models, inputs)
    stacked.square().sum().backward()
    stacked_grads = [parameter.grad.clone() for model in models for parameter in model.parameters()]
    for model in models:
        model.zero_grad(set_to_none=True)
    alone = torch.stack([model(row) for model, row in zip(models, inputs)])
    alone.square().sum().backward()
    alone_grads = [parameter.grad for model in models for parameter in model.parameters()]
    return torch.equal(stacked, alone) and all(map(torch.equal, stacked_grads, alone_grads))


def batched_products_exact(device: torch.device | None = None) -> bool:
    """True when, on this machine at the current torch thread count, a stacked MLP's products give each member
    bit for bit what its own ``nn.Linear`` layers give it, forward and backward (then a stacked run equals its
    solo run exactly); False where they agree only up to rounding. Measured once per thread count and device."""
    device = device or pick_device()
    return _products_exact(torch.get_num_threads(), device.type)


def stacked_logits(models: list[nn.Module], inputs: torch.Tensor) -> torch.Tensor:
    """Logits (K, B, 10) of K same-shaped MLPs for their inputs (K, B, 784), one ``baddbmm`` per layer."""
    depth = len(linear_layers(models[0]))
    layers = [linear_layers(model) for model in models]
    hidden = inputs
    for level in range(depth):
        weight = torch.stack([member[level].weight for member in layers])  # (K, out, in)
        bias = torch.stack([member[level].bias for member in layers]).unsqueeze(1)  # (K, 1, out)
        hidden = torch.baddbmm(bias, hidden, weight.transpose(1, 2))  # (K, B, out)
        if level < depth - 1:
            hidden = hidden.relu()
    return hidden


def train_stacked(
    members: list[StackMember], test_set: ImageSet, *, device: torch.device | None = None
) -> list[TrainResult]:
    """Train ``members`` together, each as ``train_models`` would train it alone; one result each, in order.

    Raises:
        ValueError: no members, a model that cannot be stacked, or members that differ in layer shapes,
            training-set size, epochs, batch size or curve settings (``stack_key``).
    """
    if not members:
        raise ValueError("A stack needs at least one member.")
    if len({stack_key(member) for member in members}) != 1:
        raise ValueError(
            "Members of a stack need the same model shape, number of training images, epochs, batch size "
            "and curve settings."
        )
    if len(members[0].transfer_set) == 0:
        raise ValueError("The transfer set is empty: choose a training-set size of at least 1.")
    return drive(_Stacked(members, test_set, device or pick_device()))


class _Stacked(Loop):
    """``train_stacked``'s loop: each member its own batches, all members' products batched together."""

    def __init__(self, members: list[StackMember], test_set: ImageSet, device: torch.device) -> None:
        emits = [member.on_event or (lambda event: None) for member in members]
        groups = [[index] for index in range(len(members))]
        first = members[0]
        stops = [member.stop for member in members]
        runs = [member.run for member in members]
        super().__init__(first.config, len(first.transfer_set), test_set, runs, emits, groups, stops, device)
        self.members, self.models = members, [member.model for member in members]
        on_device: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}  # members sharing a transfer set share it here
        self.data = [
            on_device.setdefault(
                id(m.transfer_set), (m.transfer_set.images.to(device), m.transfer_set.labels.to(device))
            )
            for m in members
        ]
        self.generators = [torch.Generator().manual_seed(member.config.seed) for member in members]
        self.objectives = [member.objective.to(device) for member in members]
        self.optimizers, self.schedules = [], []
        for model, member in zip(self.models, members):
            model.to(device).train()
            optimizer = torch.optim.Adam(model.parameters(), lr=member.config.learning_rate)
            self.optimizers.append(optimizer)
            self.schedules.append(cosine_schedule(optimizer, self.total_steps))
        self.orders: dict[int, torch.Tensor] = {}

    def start_epoch(self) -> None:
        for index in self.active_models():
            self.orders[index] = torch.randperm(len(self.data[index][0]), generator=self.generators[index])
            self.orders[index] = self.orders[index].to(self.device)

    def train_step(self, step_in_epoch: int) -> None:
        """One optimisation step of every open member, each on its own epoch's ``step_in_epoch``-th batch."""
        active, size = self.active_models(), self.config.batch_size
        batches = [self.orders[index][(step_in_epoch - 1) * size : step_in_epoch * size] for index in active]
        inputs, labels = [], []
        for index, batch_index in zip(active, batches):
            images, all_labels = self.data[index]
            batch = normalize(images[batch_index])  # (B, 1, 28, 28)
            pixels = self.members[index].config.jitter_pixels
            inputs.append((jitter(batch, pixels, self.generators[index]) if pixels else batch).flatten(1))
            labels.append(all_labels[batch_index])
        logits = stacked_logits([self.models[index] for index in active], torch.stack(inputs))  # (K, B, 10)
        parts = [
            self.objectives[index]([logits[row]], 0, labels[row], batches[row]) for row, index in enumerate(active)
        ]
        for index in active:
            self.optimizers[index].zero_grad(set_to_none=True)
        torch.stack([part.total for part in parts]).sum().backward()  # each member's total gets gradient 1
        for index in active:
            self.optimizers[index].step()
            self.schedules[index].step()
        self.record(active, parts, list(logits), labels)

    def predict(self, models: list[int], images: torch.Tensor) -> list[torch.Tensor]:
        # Each member alone, as its solo run predicts: exact by construction, and measured no slower on
        # this CPU than one batched product over a copy of the images per member (8 members, 2 epochs).
        return [predict_logits(self.models[index], images, self.device) for index in models]

    def transfer_data(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        return self.data[index]

    def release(self, models: list[int]) -> list[nn.Module]:
        for index in models:
            self.models[index].to("cpu").eval()
            self.orders.pop(index, None)
        return [self.models[index] for index in models]
