"""Each distillation method's default lab run beside KD's: the same student, the same machine, one torch thread.

For each student, KD's distilled run trains first, then each feature- and relation-based method's that fits the
pair, with the lab's defaults otherwise (``DistillConfig()``: cnn-wide's cached teacher, 5,000 images, 40 epochs,
seed 0); the teacher and each method's teacher signal are read before any run is timed, so a run's time is its
training alone (``TrainResult.seconds``). Prints one line per run and its time over KD's: the factor
``kdlab.ml.methods.Method.cost`` holds, which the cost cap multiplies a distilled run by.

``--settings`` measures instead each setting of the temperature and each output-based method beside plain KD on
the lab's student (``mlp-200x1``): standardised logits, the annealed and the learned schedule, logit matching and
DIST. KD and the setting run in turn (KD, setting, KD, setting, ...) ``--repeats`` times, so a load that comes
and goes on a shared machine falls on both, and each figure is the median over the pairs.

    python bench/method_cost.py --data-dir /work/shared/data            # cnn-small: kd, hints, at, rkd, sp;
                                                                        # mlp-200x1: kd, hints, rkd, sp
    python bench/method_cost.py --data-dir DIR --epochs 5 --json        # a quick check
    python bench/method_cost.py --students cnn-small --methods kd at --repeats 3
    python bench/method_cost.py --data-dir DIR --settings --repeats 5   # standardise, annealed, learned,
                                                                        # logits, dist beside KD: medians

The machine is shared: each run's CPU time is printed beside its wall clock (the fair figure on a loaded machine),
and ``--repeats`` runs each method several times and keeps the one of least CPU time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from kdlab.experiments.distill import DistillConfig, run_distillation  # noqa: E402
from kdlab.ml.context import RunContext  # noqa: E402
from kdlab.ml.data import load_mnist  # noqa: E402
from kdlab.ml.methods.registry import METHODS  # noqa: E402
from kdlab.teachers.cache import resolve_teacher  # noqa: E402
from kdlab.teachers.features import teacher_signal  # noqa: E402

STUDENTS = {"cnn-small": ("kd", "hints", "at", "rkd", "sp"), "mlp-200x1": ("kd", "hints", "rkd", "sp")}
# What each --settings run changes in the lab's default config (plain KD, constant T, raw logits).
SETTINGS = {
    "standardise": {"standardise": True},
    "annealed": {"schedule": "annealed"},
    "learned": {"schedule": "learned"},
    "logits": {"soft": "logits"},
    "dist": {"soft": "dist"},
}


def time_run(config: DistillConfig, data, teacher) -> dict:
    """One distilled run of ``config`` (no baseline): its training seconds (wall clock), the CPU seconds of the
    whole call (the fair figure on a loaded machine: the teacher's logits for the transfer set are in both) and
    its test errors."""
    started = time.process_time()
    result = run_distillation(config, data, teacher=teacher, context=RunContext())
    return {
        "seconds": result.student.seconds,
        "cpu_seconds": time.process_time() - started,
        "test_errors": result.student.evaluation.errors,
    }


def measure(data, students: dict[str, tuple[str, ...]], epochs: int | None, repeats: int) -> list[dict]:
    """Every (student, method) run, KD first for each student, with its time over KD's."""
    base = DistillConfig(with_baseline=False)
    if epochs:
        base = replace(base, training=replace(base.training, epochs=epochs))
    teacher = resolve_teacher(base.teacher, data, context=RunContext())
    rows = []
    for student, methods in students.items():
        for name in methods:  # the teacher's signal is read (or loaded) before any run is timed
            if METHODS[name].transfer is not None:
                teacher_signal(teacher, METHODS[name], student, data)
        kd = None
        for name in methods:
            config = DistillConfig.build(**{**base.as_dict(), "student": student, "soft": name})
            runs = [time_run(config, data, teacher) for _ in range(repeats)]
            best = min(runs, key=lambda run: run["cpu_seconds"])
            kd = best if name == "kd" else kd
            rows.append(
                {
                    "student": student,
                    "method": name,
                    "seconds": round(best["seconds"], 2),
                    "cpu_seconds": round(best["cpu_seconds"], 2),
                    "over_kd": round(best["seconds"] / kd["seconds"], 2) if kd else None,
                    "cpu_over_kd": round(best["cpu_seconds"] / kd["cpu_seconds"], 2) if kd else None,
                    "test_errors": best["test_errors"],
                    "cost_factor": METHODS[name].cost,
                }
            )
            row = rows[-1]
            print(
                f"{student:<10} {name:<6} {row['seconds']:7.1f} s ({row['over_kd'] or float('nan'):5.2f}x KD)  "
                f"{row['cpu_seconds']:7.1f} CPU s ({row['cpu_over_kd'] or float('nan'):5.2f}x KD)  "
                f"{row['test_errors']:4d} errors  cost {row['cost_factor']:g}",
                file=sys.stderr,
            )
    return rows


def measure_settings(data, names: tuple[str, ...], epochs: int | None, repeats: int) -> list[dict]:
    """Each setting's run beside plain KD's on the lab's student, in turn (KD, setting, KD, setting, ...):
    the medians over ``repeats`` pairs of each one's seconds and of the setting's time over KD's."""
    base = DistillConfig(with_baseline=False)
    if epochs:
        base = replace(base, training=replace(base.training, epochs=epochs))
    teacher = resolve_teacher(base.teacher, data, context=RunContext())
    rows = []
    for name in names:
        config = DistillConfig.build(**{**base.as_dict(), **SETTINGS[name]})
        pairs = [(time_run(base, data, teacher), time_run(config, data, teacher)) for _ in range(repeats)]
        rows.append(
            {
                "student": base.student,
                "setting": name,
                "kd_seconds": round(statistics.median(kd["seconds"] for kd, _ in pairs), 2),
                "seconds": round(statistics.median(run["seconds"] for _, run in pairs), 2),
                "over_kd": round(statistics.median(run["seconds"] / kd["seconds"] for kd, run in pairs), 2),
                "cpu_over_kd": round(statistics.median(run["cpu_seconds"] / kd["cpu_seconds"] for kd, run in pairs), 2),
                "kd_test_errors": pairs[0][0]["test_errors"],
                "test_errors": pairs[0][1]["test_errors"],
                "pairs": repeats,
            }
        )
        row = rows[-1]
        print(
            f"{row['student']:<10} {name:<12} {row['seconds']:7.1f} s beside KD's {row['kd_seconds']:5.1f} s "
            f"({row['over_kd']:5.2f}x KD, {row['cpu_over_kd']:5.2f}x in CPU)  {row['test_errors']:4d} errors "
            f"(KD {row['kd_test_errors']})  medians of {repeats}",
            file=sys.stderr,
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="MNIST root (default: the cache, else the offline sample)")
    parser.add_argument("--epochs", type=int, help="epochs per run (default: the lab's, 40)")
    parser.add_argument("--repeats", type=int, default=1, help="runs per method, the fastest kept (default: 1)")
    parser.add_argument("--students", nargs="+", choices=list(STUDENTS), default=list(STUDENTS))
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), help="default: every one that fits")
    parser.add_argument(
        "--settings",
        nargs="*",
        choices=list(SETTINGS),
        help="measure these settings beside KD on the lab's student instead of the methods (none named: all)",
    )
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON object on stdout")
    args = parser.parse_args()
    torch.set_num_threads(1)
    data = load_mnist(args.data_dir)
    if args.settings is not None:
        rows = measure_settings(data, tuple(args.settings or SETTINGS), args.epochs, args.repeats)
    else:
        chosen = {
            student: tuple(name for name in methods if args.methods is None or name in args.methods or name == "kd")
            for student, methods in STUDENTS.items()
            if student in args.students
        }
        rows = measure(data, chosen, args.epochs, args.repeats)
    if args.json:
        print(
            json.dumps(
                {
                    "data": data.source.as_dict(),
                    "threads": torch.get_num_threads(),
                    "machine": platform.processor() or platform.machine(),
                    "rows": rows,
                }
            )
        )


if __name__ == "__main__":
    main()
