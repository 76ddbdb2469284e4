"""``python -m kdlab bench``: how fast our loop is, and what the default demo achieves.

1. One distillation epoch of kdlab's loop against the loop of the official PyTorch
   knowledge-distillation tutorial (torchvision dataset with ``ToTensor`` and ``Normalize``
   per sample, a ``DataLoader`` with the tutorial's two workers, and a teacher forward pass
   every batch), with the same teacher, student, batch size and data, in one process.
2. Student training samples per second, and the fraction of this machine's measured
   matmul FLOP/s that it reaches (training counted as 3 x forward FLOPs).
3. The accuracy table of the default demo: teacher, student alone, distilled student.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch
import torch.nn.functional as F
from torch import nn

from kdlab.data import MnistData
from kdlab.distill import DistillConfig, StageEvent, run_distillation
from kdlab.models import build_model, describe_model
from kdlab.teachers import Teacher, load_or_train_teacher
from kdlab.train import EventCallback, StepEvent, TrainConfig, pick_device, predict_logits, train_model


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
        on_event=lambda event: steps.append(event) if isinstance(event, StepEvent) else None,
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


def run_benchmark(data: MnistData, on_event: EventCallback | None = None) -> dict:
    """Time both loops, measure the matmul peak and run the default demo; a JSON-ready report.

    Stages are announced as ``StageEvent``s through ``on_event`` (teacher training events too).
    """
    emit = on_event or (lambda event: None)
    demo = DistillConfig(with_baseline=True)
    teacher = load_or_train_teacher(
        demo.teacher, data, epochs=demo.teacher_epochs, seed=demo.teacher_seed, on_event=on_event
    )
    epoch_config = replace(demo.training, epochs=1, evals_per_epoch=1)
    emit(StageEvent("kdlab-epoch", "Timing one distillation epoch of kdlab's loop ..."))
    ours = time_kdlab_epoch(teacher, demo.student, data, epoch_config)
    emit(StageEvent("tutorial-epoch", "Timing one epoch of the PyTorch tutorial's loop ..."))
    tutorial = time_tutorial_epoch(teacher.model, demo.student, data, epoch_config)
    started = time.perf_counter()
    teacher_logits_seconds = _time_teacher_logits(teacher, data)
    emit(StageEvent("matmul", "Measuring matmul FLOP/s ..."))
    peak = measure_matmul_flops()
    train_flops = 3 * describe_model(demo.student).flops_per_image * len(data.train) / ours
    emit(StageEvent("demo", "Running the default demo (distilled student and student alone) ..."))
    result = run_distillation(demo, data, teacher=teacher)
    student, baseline = result.student, result.baseline
    fewer = 1 - student.evaluation.errors / max(baseline.evaluation.errors, 1)
    report = {
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
            "config": demo.as_dict() | {"train_size": sum(result.transfer_class_counts)},
            "teacher": teacher.summary(),
            "baseline": {
                "test_accuracy": baseline.evaluation.accuracy,
                "test_errors": baseline.evaluation.errors,
                "seconds": round(baseline.seconds, 2),
            },
            "distilled": {
                "test_accuracy": student.evaluation.accuracy,
                "test_errors": student.evaluation.errors,
                "seconds": round(student.seconds, 2),
            },
            "fewer_errors_than_baseline": round(fewer, 3),
            "student_trainings_seconds": round(student.seconds + baseline.seconds, 2),
        },
        "seconds": round(time.perf_counter() - started + ours + tutorial, 1),
    }
    return report


def _time_teacher_logits(teacher: Teacher, data: MnistData) -> float:
    started = time.perf_counter()
    predict_logits(teacher.model.to(pick_device()), data.train.images)
    teacher.model.cpu()
    return time.perf_counter() - started
