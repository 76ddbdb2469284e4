"""How many trainings at once, with how many torch threads each? The measurement behind
``kdlab.serve.jobs.default_max_concurrent`` and ``kdlab.serve.jobs.torch_threads``.

Queues N default lab runs (different seeds) on a ``JobRunner`` with W workers and T torch
threads, for each "WxT" setting asked for, and reports each run's time from submission to
result and the time until the last one finished. No web server or browser: the library alone.

    python bench/concurrency.py --data-dir ../shared/data --runs 8 --settings 1x2 2x1 1x1 [--json]
    python bench/concurrency.py --synthetic ...   # random MNIST-shaped images: same work, no data needed

The students' work does not depend on the teacher (its logits are computed once), so a linear
teacher trained for one epoch stands in for the lab's to keep the setup short.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from kdlab.experiments.distill import DEMO_TRAIN_SIZE, DistillConfig, run_distillation  # noqa: E402
from kdlab.ml.data import DataSource, ImageSet, MnistData, load_mnist  # noqa: E402
from kdlab.serve.runner import JobRunner  # noqa: E402
from kdlab.teachers.cache import resolve_teacher  # noqa: E402


def synthetic_mnist(train: int = 60_000, test: int = 10_000) -> MnistData:
    """Random uint8 images with MNIST's shapes: the same arithmetic as the real digits."""
    generator = torch.Generator().manual_seed(0)

    def images(count: int) -> ImageSet:
        pixels = torch.randint(0, 256, (count, 28, 28), dtype=torch.uint8, generator=generator)
        return ImageSet(pixels, torch.randint(0, 10, (count,), generator=generator))

    return MnistData(images(train), images(test), DataSource("mnist-synthetic", "random", train, test))


def measure(data: MnistData, teacher, runs: int, workers: int, threads: int) -> dict:
    """N default lab runs (seeds 0..N-1) on W workers with T torch threads."""
    torch.set_num_threads(threads)
    runner = JobRunner(max_concurrent=workers, one_per_owner=False)
    size = min(DEMO_TRAIN_SIZE, len(data.train))
    configs = [
        DistillConfig.build(teacher="linear", teacher_epochs=1, train_size=size, seed=seed) for seed in range(runs)
    ]
    started = time.perf_counter()
    jobs = [runner.submit(f"seed {config.training.seed}", _target(config, data, teacher)) for config in configs]
    for job in jobs:
        runner.wait(job)
    failed = [job.error for job in jobs if job.error]
    if failed:
        raise RuntimeError(f"a run failed: {failed[0]}")
    results = sorted(job.finished_at - job.created_at for job in jobs)
    return {
        "workers": workers,
        "threads": threads,
        "runs": runs,
        "result_seconds": [round(seconds, 1) for seconds in results],
        "all_done_seconds": round(time.perf_counter() - started, 1),
        "mean_run_seconds": round(sum(job.elapsed_seconds for job in jobs) / runs, 1),
    }


def _target(config, data, teacher):
    def target(context):
        return context.run(run_distillation, config, data, teacher=teacher).status

    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", help="MNIST root (default: the usual search; see README)")
    parser.add_argument("--synthetic", action="store_true", help="random MNIST-shaped data instead of MNIST")
    parser.add_argument("--runs", type=int, default=8, help="lab runs queued at once (default: 8)")
    parser.add_argument("--settings", nargs="+", default=["1x2", "2x1"], help="WORKERSxTHREADS (default: 1x2 2x1)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args()
    settings = [tuple(int(part) for part in text.lower().split("x")) for text in args.settings]
    data = synthetic_mnist() if args.synthetic else load_mnist(args.data_dir)
    teacher = resolve_teacher("linear", data, epochs=1)
    report = {
        "data": data.source.name,
        "cores": len(os.sched_getaffinity(0)),
        "torch": torch.__version__,
        "python": platform.python_version(),
        "results": [],
    }
    for workers, threads in settings:
        result = measure(data, teacher, args.runs, workers, threads)
        report["results"].append(result)
        print(
            f"{workers} worker(s) x {threads} thread(s): all {args.runs} results in {result['all_done_seconds']} s; "
            f"each run {result['mean_run_seconds']} s; results at {result['result_seconds']}",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(report))


if __name__ == "__main__":
    main()
