"""``python -m kdlab bench``: how fast our loop is, and what the default demo achieves.

1. One distillation epoch of kdlab's loop against the loop of the official PyTorch
   knowledge-distillation tutorial (torchvision dataset with ``ToTensor`` and ``Normalize``
   per sample, a ``DataLoader`` with the tutorial's two workers, and a teacher forward pass
   every batch), with the same teacher, student, batch size and data, in one process.
2. Student training samples per second, and the fraction of this machine's measured
   matmul FLOP/s that it reaches (training counted as 3 x forward FLOPs).
3. The accuracy table of the default demo: teacher, student alone, distilled student, and its
   time on one torch thread (the app's setting) and on all of them, split into training steps,
   evaluations and overhead.
4. The training throughput of the teachers (default, quick replay, the paper's 1200-1200) as a
   share of the matmul peak, and the quick ``table`` replay's time with its teacher trained from
   scratch and loaded from the cache.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.experiments.distill import DistillConfig, StageEvent, run_distillation
from kdlab.experiments.replays import BUDGETS, PAPER_TEACHER, run_replay
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.ml.events import EventCallback, StepEvent
from kdlab.ml.models import build_model, describe_model
from kdlab.ml.train import TrainConfig, pick_device, predict_logits, train_model
from kdlab.teachers.cache import forget_cached_teachers, resolve_teacher
from kdlab.teachers.teacher import Teacher


def measure_matmul_flops(size: int = 1024, seconds: float = 1.0) -> float:
    """Sustained float32 matmul FLOP/s of this machine (all torch threads)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    torch.mm(a, b)  # warm up
    repeats, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        torch.mm(a, b)
        repeats += 1
    return 2 * size**3 * repeats / (time.perf_counter() - started)


def time_kdlab_epoch(teacher: Teacher, student: str, data: MnistData, config: TrainConfig) -> float:
    """Seconds for one epoch of kdlab's loop (training steps only, teacher logits cached)."""
    steps: list[StepEvent] = []
    train_model(
        build_model(student, seed=config.seed),
        data.train,
        data.test,
        config,
        teacher_logits=teacher.train_logits,
        context=RunContext(on_event=lambda event: steps.append(event) if isinstance(event, StepEvent) else None),
    )
    return steps[-1].seconds  # the last step report comes before the end-of-epoch evaluation


class _TensorMnist(torch.utils.data.Dataset):
    """torchvision's MNIST ``__getitem__`` (PIL image, then the transform) over our tensors."""

    def __init__(self, data: MnistData, transform):
        self.images, self.labels, self.transform = data.train.images, data.train.labels, transform

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        from PIL import Image

        return self.transform(Image.fromarray(self.images[index].numpy(), mode="L")), int(self.labels[index])


def time_tutorial_epoch(teacher_model: nn.Module, student: str, data: MnistData, config: TrainConfig) -> float:
    """Seconds for one epoch of the PyTorch tutorial's ``train_knowledge_distillation`` loop."""
    from torchvision import datasets, transforms

    transform = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    if data.source.is_full:
        dataset = datasets.MNIST(root=data.source.location, train=True, download=False, transform=transform)
    else:
        dataset = _TensorMnist(data, transform)
    loader = torch.utils.data.DataLoader(dataset, batch_size=config.batch_size, shuffle=True, num_workers=2)
    device = pick_device()
    teacher_model = teacher_model.to(device).eval()
    student_model = build_model(student, seed=config.seed).to(device).train()
    optimizer = torch.optim.Adam(student_model.parameters(), lr=config.learning_rate)
    temperature = config.temperature
    started = time.perf_counter()
    for inputs, labels in loader:  # the tutorial's loop, step for step
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        with torch.no_grad():
            teacher_logits = teacher_model(inputs)
        student_logits = student_model(inputs)
        soft_targets = F.softmax(teacher_logits / temperature, dim=-1)
        soft_prob = F.log_softmax(student_logits / temperature, dim=-1)
        soft_targets_loss = (
            torch.sum(soft_targets * (soft_targets.log() - soft_prob)) / soft_prob.size()[0] * temperature**2
        )
        label_loss = F.cross_entropy(student_logits, labels)
        loss = config.alpha * soft_targets_loss + (1 - config.alpha) * label_loss
        loss.backward()
        optimizer.step()
        loss.item()  # the tutorial accumulates running_loss += loss.item()
    seconds = time.perf_counter() - started
    teacher_model.cpu()
    return seconds


def run_benchmark(data: MnistData, on_event: EventCallback | None = None, *, with_replay: bool = True) -> dict:
    """Every figure README quotes, as one JSON-ready report (see the module docstring).

    Stages are announced as ``StageEvent``s through ``on_event`` (teacher training events too).
    ``with_replay=False`` leaves out the quick ``table`` replay, which trains for minutes.
    """
    emit = on_event or (lambda event: None)
    demo = DistillConfig(with_baseline=True)
    teacher = resolve_teacher(
        demo.teacher, data, epochs=demo.teacher_epochs, seed=demo.teacher_seed, context=RunContext(on_event=on_event)
    )
    started = time.perf_counter()
    epoch_config = replace(demo.training, epochs=1, evals_per_epoch=1)
    emit(StageEvent("kdlab-epoch", "Timing one distillation epoch of kdlab's loop ..."))
    ours = time_kdlab_epoch(teacher, demo.student, data, epoch_config)
    emit(StageEvent("tutorial-epoch", "Timing one epoch of the PyTorch tutorial's loop ..."))
    tutorial = time_tutorial_epoch(teacher.model, demo.student, data, epoch_config)
    teacher_logits_seconds = _time_teacher_logits(teacher, data)
    emit(StageEvent("matmul", "Measuring matmul FLOP/s ..."))
    peak = measure_matmul_flops()
    train_flops = 3 * describe_model(demo.student).flops_per_image * len(data.train) / ours
    emit(StageEvent("demo", "Running the default demo on one torch thread, then on all of them ..."))
    timings = {
        "one_thread": time_demo(demo, data, teacher, 1),
        "all_threads": time_demo(demo, data, teacher, torch.get_num_threads()),
    }
    emit(StageEvent("teachers", "Measuring the teachers' training throughput ..."))
    quick = BUDGETS["quick"]
    teachers = [
        teacher_throughput(demo.teacher, data, peak),
        teacher_throughput(quick.teacher, data, peak, jitter_pixels=2),
        teacher_throughput(PAPER_TEACHER, data, peak, jitter_pixels=2),
    ]
    replay = None
    if with_replay:
        emit(StageEvent("replay", "Timing the quick table replay (its teacher from scratch, then cached) ..."))
        replay = time_quick_table(data, on_event)
    one = timings["one_thread"]
    baseline, distilled = one["baseline_errors"], one["distilled_errors"]
    return {
        "data": data.source.as_dict(),
        "device": str(pick_device()),
        "torch_threads": torch.get_num_threads(),
        "epoch": {
            "teacher": demo.teacher,
            "student": demo.student,
            "batch_size": demo.training.batch_size,
            "images": len(data.train),
            "kdlab_seconds": round(ours, 3),
            "tutorial_seconds": round(tutorial, 3),
            "speedup": round(tutorial / ours, 2),
            "teacher_logits_once_seconds": round(teacher_logits_seconds, 3),
            "speedup_counting_teacher_logits_in_one_epoch": round(tutorial / (ours + teacher_logits_seconds), 2),
        },
        "throughput": {
            "student_samples_per_second": round(len(data.train) / ours),
            "student_training_gflops": round(train_flops / 1e9, 2),
            "matmul_peak_gflops": round(peak / 1e9, 2),
            "fraction_of_matmul_peak": round(train_flops / peak, 3),
        },
        "demo": {
            "config": demo.as_dict() | {"train_size": len(demo.transfer_indices(data))},
            "teacher": teacher.summary() | {"train_seconds": teacher.record.train_seconds},
            "baseline": {"test_errors": baseline, "test_accuracy": 1 - baseline / len(data.test)},
            "distilled": {"test_errors": distilled, "test_accuracy": 1 - distilled / len(data.test)},
            "fewer_errors_than_baseline": round(1 - distilled / max(baseline, 1), 3),
            "timing": timings,
        },
        "teachers": teachers,
        "replay_table": replay,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _time_teacher_logits(teacher: Teacher, data: MnistData) -> float:
    started = time.perf_counter()
    predict_logits(teacher.model.to(pick_device()), data.train.images)
    teacher.model.cpu()
    return time.perf_counter() - started


def time_demo(demo: DistillConfig, data: MnistData, teacher: Teacher, threads: int) -> dict:
    """The default demo's two student trainings on ``threads`` torch threads, with a breakdown."""
    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        started = time.perf_counter()
        result = run_distillation(demo, data, teacher=teacher)
        wall = time.perf_counter() - started
    finally:
        torch.set_num_threads(previous)
    trainings = [result.student, result.baseline]
    training = sum(run.seconds for run in trainings)
    evaluation = sum(run.eval_seconds for run in trainings)
    return {
        "threads": threads,
        "seconds": round(wall, 2),
        "student_trainings_seconds": round(training, 2),
        "steps_seconds": round(training - evaluation, 2),
        "evaluation_seconds": round(evaluation, 2),
        "overhead_seconds": round(wall - training, 2),
        "curve_points": len(result.student.history),
        "baseline_errors": result.baseline.evaluation.errors,
        "distilled_errors": result.student.evaluation.errors,
    }


def teacher_throughput(
    architecture: str, data: MnistData, peak: float, *, jitter_pixels: int = 0, steps: int = 60
) -> dict:
    """Training samples per second of a teacher architecture over ``steps`` batches of 128, and
    the share of the matmul peak it reaches (training counted as 3 x forward FLOPs)."""
    images = min(len(data.train), steps * 128)
    subset = data.train.subset(torch.arange(images))
    reports: list[StepEvent] = []
    config = TrainConfig(epochs=1, jitter_pixels=jitter_pixels, evals_per_epoch=1)
    train_model(
        build_model(architecture, seed=0),
        subset,
        data.test,
        config,
        context=RunContext(on_event=lambda event: reports.append(event) if isinstance(event, StepEvent) else None),
    )
    seconds = reports[-1].seconds
    flops = 3 * describe_model(architecture).flops_per_image * images / seconds
    return {
        "arch": architecture,
        "jitter_pixels": jitter_pixels,
        "samples_per_second": round(images / seconds),
        "gflops": round(flops / 1e9, 2),
        "fraction_of_matmul_peak": round(flops / peak, 3),
    }


def time_quick_table(data: MnistData, on_event: EventCallback | None = None) -> dict:
    """The quick ``table`` replay twice: its teacher trained from scratch (a fresh cache), then loaded."""
    timings = {}
    with tempfile.TemporaryDirectory() as cache:
        for case in ("teacher_trained", "teacher_cached"):
            forget_cached_teachers()  # the second run loads the teacher from disk, as a new process would
            started = time.perf_counter()
            result = run_replay("table", data, "quick", context=RunContext(on_event=on_event, cache_dir=cache))
            timings[case] = {"seconds": round(time.perf_counter() - started, 1), **result.summary["ours"]}
    forget_cached_teachers()
    return timings
