"""Solo vs stacked student training: the measurement behind ``KDLAB_STACK``'s default.

For each K, trains K lab students (mlp-200x1 by default, 5,000 images, the lab's epochs, batch size
and curve settings) one after another with ``train_models``, then together with
``kdlab.ml.stacked.train_stacked``, on the available device, and prints one line per K: both times,
the speed-up (wall clock, and CPU time: the fair figure on a loaded machine) and the largest difference between a member's test logits stacked and alone (0 means
bit for bit). *free*: K seeds (own images, order and weights); *lesson*: one seed, T from 1 to 20.

    python bench/stacking.py                          # K = 1, 8, 30 on random MNIST-shaped images
    python bench/stacking.py --data-dir ../shared/data --epochs 5 --ks 1 8 --json
    KDLAB_DEVICE=cuda python bench/stacking.py        # on a GPU box

The students' work does not depend on what the teacher says, so random teacher logits stand in
for a trained teacher (no teacher training, no data needed with the default random images).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from kdlab.experiments.distill import DEMO_TRAIN_SIZE, DistillConfig  # noqa: E402
from kdlab.ml.context import RunContext  # noqa: E402
from kdlab.ml.data import DataSource, ImageSet, MnistData, TransferSetSpec, load_mnist, select_transfer_indices  # noqa: E402
from kdlab.ml.methods.registry import teacher_objective  # noqa: E402
from kdlab.ml.models import build_model  # noqa: E402
from kdlab.ml.stacked import StackMember, train_stacked  # noqa: E402
from kdlab.ml.train import pick_device, train_models  # noqa: E402


def synthetic_mnist(train: int = 60_000, test: int = 10_000) -> MnistData:
    """Random uint8 images with MNIST's shapes: the same arithmetic as the real digits."""
    generator = torch.Generator().manual_seed(0)

    def images(count: int) -> ImageSet:
        pixels = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=generator)
        return ImageSet(pixels, torch.randint(0, 10, (count,), generator=generator))

    return MnistData(images(train), images(test), DataSource("mnist-synthetic", "random", train, test))


def members(data: MnistData, count: int, mode: str, student: str, epochs: int | None) -> list[StackMember]:
    """``count`` fresh lab students: one seed each (free) or one seed with T spread from 1 to 20 (lesson)."""
    training = DistillConfig().training
    training = replace(training, epochs=epochs or training.epochs)
    teacher_logits = torch.randn(len(data.train), 10, generator=torch.Generator().manual_seed(1)) * 5
    made = []
    for index in range(count):
        seed = index if mode == "free" else 0
        temperature = 4.0 if mode == "free" else 1 + 19 * index / max(1, count - 1)
        config = replace(training, seed=seed, temperature=temperature)
        spec = TransferSetSpec(size=min(DEMO_TRAIN_SIZE, len(data.train)), seed=seed)
        indices = select_transfer_indices(data.train.labels, spec)
        objective = teacher_objective(teacher_logits[indices], config.temperature, config.alpha)
        transfer = data.train.subset(indices)
        made.append(StackMember(build_model(student, seed=seed), transfer, config, objective, f"student-{index}"))
    return made


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def measure(data: MnistData, count: int, mode: str, student: str, epochs: int | None, device) -> dict:
    """K students alone one after another, then stacked: seconds, speed-up, largest logit difference."""
    alone_members = members(data, count, mode, student, epochs)
    synchronize(device)
    started, cpu_started = time.perf_counter(), time.process_time()
    alone = [
        train_models(
            [m.model],
            m.transfer_set,
            data.test,
            m.config,
            [m.objective],
            runs=[m.run],
            context=RunContext(device=device),
        )[0]
        for m in alone_members
    ]
    synchronize(device)
    solo_seconds, solo_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    stack = members(data, count, mode, student, epochs)
    started, cpu_started = time.perf_counter(), time.process_time()
    stacked = train_stacked(stack, data.test, device=device)
    synchronize(device)
    stacked_seconds, stacked_cpu = time.perf_counter() - started, time.process_time() - cpu_started
    difference = max(float((a.test_logits - s.test_logits).abs().max()) for a, s in zip(alone, stacked))
    return {
        "k": count,
        "solo_seconds": round(solo_seconds, 2),
        "stacked_seconds": round(stacked_seconds, 2),
        "speedup": round(solo_seconds / stacked_seconds, 2),
        "solo_cpu_seconds": round(solo_cpu, 2),
        "stacked_cpu_seconds": round(stacked_cpu, 2),
        "cpu_speedup": round(solo_cpu / stacked_cpu, 2),
        "max_logit_difference": difference,
        "same_errors": all(a.evaluation.errors == s.evaluation.errors for a, s in zip(alone, stacked)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ks", type=int, nargs="+", default=[1, 8, 30], help="stack sizes (default: 1 8 30)")
    parser.add_argument("--mode", choices=("free", "lesson"), default="free", help="own seeds or one (default: free)")
    parser.add_argument("--student", default="mlp-200x1", help="the student (default: the lab's, mlp-200x1)")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default: the lab's, 40)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads on the CPU (default: 1, as a job)")
    parser.add_argument("--data-dir", default=None, help="MNIST root (default: random MNIST-shaped images)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of lines")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    data = load_mnist(args.data_dir) if args.data_dir else synthetic_mnist()
    device = pick_device()
    rows = [measure(data, k, args.mode, args.student, args.epochs, device) for k in args.ks]
    if args.json:
        report = {"device": str(device), "threads": args.threads, "mode": args.mode, "machine": platform.node()}
        print(json.dumps({**report, "data": data.source.as_dict(), "rows": rows}))
        return 0
    for row in rows:
        print(
            f"K={row['k']:>3} on {device} ({args.threads} thread(s), {args.mode}): solo {row['solo_seconds']:.1f} s, "
            f"stacked {row['stacked_seconds']:.1f} s, speed-up {row['speedup']:.2f}x (CPU time {row['solo_cpu_seconds']:.1f} s "
            f"vs {row['stacked_cpu_seconds']:.1f} s: {row['cpu_speedup']:.2f}x), "
            f"max logit difference {row['max_logit_difference']:.2g}, same errors {row['same_errors']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
