"""What a finished job keeps in the server's memory: the measurement behind docs/classroom.md's "Bounded memory".

Runs JOBS real lab runs (teacher linear, 1 epoch on 500 sample images, student STUDENT) and one
teacher job (TEACHER, its default epochs on the offline sample) through a ``JobRunner``, then
prints the pickled size of what each finished job keeps (``job.result``) beside the size of what
it filed (the run's record, with its weights; the trained teacher) and the runner's kept jobs.

    python bench/job_memory.py [--jobs 3] [--student mlp-800x2] [--teacher mlp-1200x2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CACHE = Path(tempfile.mkdtemp())
os.environ.update(KDLAB_OFFLINE="1", KDLAB_CACHE_DIR=str(CACHE), KDLAB_DEVICE="cpu")

from kdlab.experiments.distill import DistillConfig  # noqa: E402
from kdlab.ml.data import load_mnist  # noqa: E402
from kdlab.runs.store import MemoryRunStore  # noqa: E402
from kdlab.serve.lab import request_distillation  # noqa: E402
from kdlab.serve.request import TrainRequest  # noqa: E402
from kdlab.serve.runner import JobRunner  # noqa: E402
from kdlab.serve.tasks import TEACHER_JOBS  # noqa: E402
from kdlab.teachers.cache import resolve_teacher  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=3, help="lab runs (default 3)")
    parser.add_argument("--student", default="mlp-800x2", help="the lab runs' student (default mlp-800x2)")
    parser.add_argument("--teacher", default="mlp-1200x2", help="the teacher job's architecture (default mlp-1200x2)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the summary line")
    args = parser.parse_args()
    data, runner, store = load_mnist(offline=True), JobRunner(1), MemoryRunStore()
    kept, filed = [], []
    for seed in range(args.jobs):
        config = DistillConfig.build(
            teacher="linear", student=args.student, epochs=1, train_size=500, teacher_epochs=1, seed=seed
        )
        ticket = request_distillation(runner, TrainRequest.build(config, data), data, store)
        runner.wait(ticket.job)
        kept.append(len(pickle.dumps(ticket.job.result)))
        filed.append(len(pickle.dumps(store.get(ticket.run_id))))
    job = TEACHER_JOBS.start(runner, args.teacher, data, CACHE)
    runner.wait(job)
    result = {
        "lab_job_kept_bytes": max(kept),
        "lab_record_bytes": max(filed),
        "teacher_job_kept_bytes": len(pickle.dumps(job.result)),
        "teacher_bytes": len(pickle.dumps(resolve_teacher(args.teacher, data))),
        "jobs_kept": len(runner.jobs()),
        "keep_finished": runner.keep_finished,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"a finished lab job keeps {result['lab_job_kept_bytes']:,} B (its {args.student} record: "
        f"{result['lab_record_bytes']:,} B, in the store); a teacher job {result['teacher_job_kept_bytes']:,} B "
        f"(the {args.teacher} teacher: {result['teacher_bytes']:,} B, on disk and in the teacher memory); "
        f"{result['jobs_kept']} jobs kept of at most {result['keep_finished']}"
    )


if __name__ == "__main__":
    main()
