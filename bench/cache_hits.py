"""What cache hits cost the database: HITS students each get a copy of one run trained before.

Fills a fresh SQLite database (in a temporary folder) with one run of STUDENT's size (weights of an
untrained ``build_model(STUDENT)`` for both the distilled student and the student alone: no training),
records it in the result cache, then lets HITS new students take it the way the lab's Train does
(``cached_result`` then ``copy_into``). Prints the file's growth per hit and the time per hit.
Works on any schema version, so the same script measures the code before and after a change.

    python bench/cache_hits.py [--hits 100] [--student mlp-1200x3] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.update(KDLAB_OFFLINE="1", KDLAB_CACHE_DIR=tempfile.mkdtemp(), KDLAB_DEVICE="cpu")
os.environ.pop("KDLAB_DATABASE_URL", None)

import torch  # noqa: E402

from kdlab.db.database import open_database  # noqa: E402
from kdlab.db.runs import DatabaseRunStore  # noqa: E402
from kdlab.db.students import create_student  # noqa: E402
from kdlab.ml.export import model_to_bytes  # noqa: E402
from kdlab.ml.models import build_model  # noqa: E402
from kdlab.runs.record import RunRecord, new_run_id  # noqa: E402
from kdlab.serve.lab import copy_into  # noqa: E402


def file_bytes(database) -> int:
    with database.read() as connection:
        pages = connection.exec_driver_sql("PRAGMA page_count").scalar()
        return pages * connection.exec_driver_sql("PRAGMA page_size").scalar()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hits", type=int, default=100, help="students who take the cached run (default 100)")
    parser.add_argument("--student", default="mlp-1200x3", help="the student architecture (default mlp-1200x3)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    torch.manual_seed(0)
    student, alone = (model_to_bytes(build_model(args.student)) for _ in range(2))
    database = open_database()
    first = DatabaseRunStore(database, create_student(database)[0].id)
    summary = {"config": {"student": args.student}, "student": None, "baseline": None, "seconds": 0.0}
    run = RunRecord(new_run_id(), first.reserve_number(), time.time(), "completed", summary, cache_key="key")
    run.student_weights, run.baseline_weights = student, alone
    first.add(run)
    first.remember_result("key", run.run_id)
    before, started = file_bytes(database), time.perf_counter()
    for _ in range(args.hits):
        store = DatabaseRunStore(database, create_student(database)[0].id)
        copy_into(store.cached_result("key"), store, source="cache")
    seconds = time.perf_counter() - started
    result = {
        "hits": args.hits,
        "student": args.student,
        "weights_bytes": len(student) + len(alone),
        "growth_bytes_per_hit": (file_bytes(database) - before) / args.hits,
        "ms_per_hit": seconds / args.hits * 1000,
        "load_average": os.getloadavg()[0],
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{args.hits} cache hits of {args.student} ({result['weights_bytes'] / 1e6:.1f} MB of weights a run): "
        f"database +{result['growth_bytes_per_hit'] / 1e3:,.1f} kB a hit, {result['ms_per_hit']:.1f} ms a hit "
        f"(load average {result['load_average']:.1f})"
    )


if __name__ == "__main__":
    main()
