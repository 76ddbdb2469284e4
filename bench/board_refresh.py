"""What one class-board refresh costs the server: the measurement behind the README's numbers.

Fills a fresh SQLite database (in a temporary folder) with RUNS runs by STUDENTS students under
one class code, each with the summary of a real tiny run (teacher linear, 1 epoch on 500 sample
images), then times the board's database query, its figures, and the board page under AppTest:
once as the first viewer (the shared snapshot cleared first) and once as a later viewer within
``kdlab.ui.board.SHARED_SECONDS``. CPU time is the process's; wall time is the page run's.

    python bench/board_refresh.py [--runs 200] [--students 30] [--repeats 9] [--json]
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(KDLAB_OFFLINE="1", KDLAB_CACHE_DIR=tempfile.mkdtemp(), KDLAB_DEVICE="cpu")
os.environ.pop("KDLAB_INSTRUCTOR_KEY", None)
os.environ.pop("KDLAB_DATABASE_URL", None)

from streamlit.testing.v1 import AppTest  # noqa: E402

from kdlab.classroom.board import heat_cells, table_rows  # noqa: E402
from kdlab.classroom.board_groups import class_groups, varied_settings  # noqa: E402
from kdlab.classroom.classes import class_runs, open_class  # noqa: E402
from kdlab.classroom.lab_settings import TEMPERATURES  # noqa: E402
from kdlab.db.database import open_database  # noqa: E402
from kdlab.db.runs import DatabaseRunStore  # noqa: E402
from kdlab.db.students import create_student  # noqa: E402
from kdlab.experiments.distill import DistillConfig, run_distillation  # noqa: E402
from kdlab.ml.data import load_mnist  # noqa: E402
from kdlab.plots import board as board_plots  # noqa: E402
from kdlab.runs.record import RunRecord, new_run_id  # noqa: E402
from kdlab.ui.board import board_snapshot, groups_snapshot  # noqa: E402

CODE = "BENCH-1"


def fill(runs: int, students: int) -> None:
    """``runs`` runs spread over ``students`` students of class CODE, with random T, alpha and errors."""
    random.seed(0)
    data = load_mnist(offline=True)
    config = DistillConfig.build(teacher="linear", student="mlp-10x1", epochs=1, train_size=500)
    real = run_distillation(config, data).summary()
    database = open_database()
    open_class(database, CODE, "benchmark")
    for index in range(students):
        student, _ = create_student(database)
        store = DatabaseRunStore(database, student.id)
        for _ in range(runs // students + (1 if index < runs % students else 0)):
            summary = copy.deepcopy(real)
            summary["config"] |= {"temperature": random.choice(TEMPERATURES), "alpha": random.choice([0.1, 0.5, 0.9])}
            summary["baseline"]["test_errors"] = random.randint(50, 80)
            summary["student"]["test_errors"] = random.randint(30, 80)
            record = RunRecord(new_run_id(), store.reserve_number(), time.time(), "completed", summary)
            store.tagged(class_code=CODE, prediction={"fewer": True, "by": random.randint(-5, 30)}).add(record)


def measure(function, repeats: int) -> tuple[float, float]:
    """Median CPU and wall seconds of ``function()``."""
    cpu, wall = [], []
    for _ in range(repeats):
        started_cpu, started = time.process_time(), time.perf_counter()
        function()
        cpu.append(time.process_time() - started_cpu)
        wall.append(time.perf_counter() - started)
    return statistics.median(cpu), statistics.median(wall)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs in the class (default 200)")
    parser.add_argument("--students", type=int, default=30, help="students who made them (default 30)")
    parser.add_argument("--repeats", type=int, default=9, help="timings per measurement, median reported (default 9)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    fill(args.runs, args.students)
    database = open_database()

    def figures() -> None:
        runs = class_runs(database, CODE)
        board_plots.improvement_scatter(runs), board_plots.improvement_heatmap(heat_cells(runs))
        board_plots.prediction_figure(runs), table_rows(runs)
        grouping = varied_settings(runs)
        board_plots.groups_figure(class_groups(runs, grouping), grouping)

    page = AppTest.from_file(str(ROOT / "pages" / "class_board.py"), default_timeout=60)
    page.query_params["class"] = CODE
    page.run()
    assert not page.exception, page.exception

    def first_viewer() -> None:
        board_snapshot.clear()
        groups_snapshot.clear()
        page.run()

    query = measure(lambda: class_runs(database, CODE), args.repeats)
    built = measure(figures, args.repeats)
    first = measure(first_viewer, args.repeats)
    later = measure(page.run, args.repeats)
    sent = sum(len(chart.proto.spec) for chart in page.get("plotly_chart"))
    result = {
        "runs": args.runs,
        "students": args.students,
        "load_average": round(os.getloadavg()[0], 1),
        "query_ms": round(query[1] * 1000, 1),
        "query_cpu_ms": round(query[0] * 1000, 1),
        "query_figures_table_ms": round(built[1] * 1000, 1),
        "first_viewer_cpu_ms": round(first[0] * 1000, 1),
        "first_viewer_wall_ms": round(first[1] * 1000, 1),
        "later_viewer_cpu_ms": round(later[0] * 1000, 1),
        "later_viewer_wall_ms": round(later[1] * 1000, 1),
        "figure_kb": round(sent / 1000, 1),
    }
    if args.json:
        print(json.dumps(result))
        return
    print(f"{args.runs} runs by {args.students} students; load average {result['load_average']:.1f}")
    print(f"query:                    {query[0] * 1000:6.1f} ms CPU, {query[1] * 1000:6.1f} ms wall")
    print(f"query, figures and table: {built[1] * 1000:6.1f} ms wall")
    print(f"board page, first viewer: {first[0] * 1000:6.1f} ms CPU, {first[1] * 1000:6.1f} ms wall")
    print(f"board page, later viewer: {later[0] * 1000:6.1f} ms CPU, {later[1] * 1000:6.1f} ms wall")
    print(f"figure JSON per viewer:   {sent / 1000:6.1f} kB")
    print(
        f"summary: {args.runs} runs, query {result['query_cpu_ms']} ms CPU, first viewer {result['first_viewer_cpu_ms']} ms CPU, "
        f"later viewer {result['later_viewer_cpu_ms']} ms CPU (load average {result['load_average']})"
    )


if __name__ == "__main__":
    main()
