"""What a feature method's live view (``kdlab.ml.methods.views``) adds to a lab run: the default run of each method
(teacher ``cnn-wide``, 5,000 images, 40 epochs, seed 0, its own default student) with and without its view, one
after the other in one process, and the seconds the view itself took (every ``LiveView`` read timed). Both runs
give the same test errors (the view draws no random numbers); the script checks it.

    python bench/feature_views.py [--data-dir ../shared/data] [--epochs 40] [--methods at,rkd,sp,hints] [--json]

Uses the cached teacher (``python -m kdlab prepare`` or a lab run trains it) and one torch thread, as a class
server's worker does.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's kdlab

import torch  # noqa: E402

from kdlab.experiments.distill import DistillConfig, run_distillation  # noqa: E402
from kdlab.ml.data import load_mnist  # noqa: E402
from kdlab.ml.methods import views  # noqa: E402
from kdlab.ml.methods.transfer import FeatureTransfer  # noqa: E402
from kdlab.teachers.cache import resolve_teacher  # noqa: E402

STUDENTS = {"at": "cnn-small", "rkd": "mlp-200x1", "sp": "mlp-200x1", "hints": "mlp-200x1"}


def measure(method: str, data, teacher, epochs: int) -> dict:
    """One method's default run without and with its view: seconds, the view's own seconds, test errors."""
    config = DistillConfig.build(student=STUDENTS[method], soft=method, epochs=epochs, with_baseline=False)
    read, spent = views.LiveView.student_side, []

    def timed(self, *args):
        started = time.perf_counter()
        try:
            return read(self, *args)
        finally:
            spent.append(time.perf_counter() - started)

    original = FeatureTransfer.live_view
    row = {"method": method, "student": config.student}
    for label, live_view in (("without", lambda self, *args: None), ("with", original)):
        FeatureTransfer.live_view = live_view
        views.LiveView.student_side = timed
        started = time.perf_counter()
        result = run_distillation(config, data, teacher=teacher)
        row[f"seconds_{label}"] = round(time.perf_counter() - started, 2)
        row[f"errors_{label}"] = result.student.evaluation.as_dict()["test_errors"]
    FeatureTransfer.live_view, views.LiveView.student_side = original, read
    row["view_seconds"] = round(sum(spent), 3)
    row["views"] = len(spent)
    row["same_errors"] = row["errors_with"] == row["errors_without"]
    return row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=None, help="a folder with MNIST/raw/ (default: the settings' data)")
    parser.add_argument("--epochs", type=int, default=40, help="epochs of each run (default 40, the lab's)")
    parser.add_argument("--methods", default="at,rkd,sp,hints", help="comma-separated (default at,rkd,sp,hints)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    data = load_mnist(arguments.data_dir) if arguments.data_dir else load_mnist()
    teacher = resolve_teacher("cnn-wide", data)
    rows = [measure(method, data, teacher, arguments.epochs) for method in arguments.methods.split(",")]
    if arguments.json:
        print(json.dumps(rows, indent=2))
        return
    for row in rows:
        added = row["seconds_with"] - row["seconds_without"]
        print(
            f"{row['method']:>5} {row['student']:>9}: {row['seconds_without']:6.2f} s without the view, "
            f"{row['seconds_with']:6.2f} s with ({added:+.2f} s); the view's own {row['view_seconds']:.3f} s over "
            f"{row['views']} points ({row['view_seconds'] / row['seconds_without']:.1%}); same errors: {row['same_errors']}"
        )


if __name__ == "__main__":
    main()
