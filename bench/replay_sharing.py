"""Lesson 4's queue: PAIRS pairs press Run on the omit-3 quick replay at once; how long until the last pair has
its result, and how many trainings started.

Runs the library and the app's job runner in this process (no browser): a fresh cache folder, the replay's
teacher trained first (as ``kdlab prepare`` does, outside the clock), then every pair's press through
``kdlab.serve.gate.admit_replay`` as the replays page makes it (its own owner, capped like a student), and a
wait for every pair's result. The data: the offline 5,000 digits by default, full MNIST with ``--data-dir``.
Works on the code before replays were shared (``admit_replay`` returned the job) and after (a ticket), so the
same script measures both: copy it into a checkout of the older code and run it there.

    python bench/replay_sharing.py [--pairs 15] [--replay omit-3] [--data-dir DIR] [--json]
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
os.environ.update(KDLAB_CACHE_DIR=tempfile.mkdtemp(prefix="kdlab-replay-sharing-"), KDLAB_DEVICE="cpu")

from kdlab.experiments.replays import REPLAYS  # noqa: E402
from kdlab.ml.context import RunContext  # noqa: E402
from kdlab.ml.data import load_mnist  # noqa: E402
from kdlab.serve.gate import admit_replay  # noqa: E402
from kdlab.serve.jobs import local_runner, runner_settings  # noqa: E402
from kdlab.serve.process_runner import ProcessRunner  # noqa: E402
from kdlab.teachers.cache import resolve_teacher  # noqa: E402

POLL_SECONDS = 0.2
LIMIT_SECONDS = 3600  # bounded: give up on a pair after an hour


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15, help="pairs pressing Run at once (default 15)")
    parser.add_argument("--replay", default="omit-3", choices=list(REPLAYS), help="the replay (default omit-3)")
    parser.add_argument("--data-dir", help="MNIST root with MNIST/raw (default: the offline 5,000 digits)")
    parser.add_argument("--json", action="store_true", help="print the result as one JSON object")
    args = parser.parse_args()
    data = load_mnist(args.data_dir) if args.data_dir else load_mnist(offline=True)
    replay = REPLAYS[args.replay]
    for teacher in replay.teachers(replay.config("quick"), data):  # before class: prepare's work, not the lesson's
        resolve_teacher(
            teacher.name,
            teacher.data,
            epochs=teacher.epochs,
            seed=teacher.seed,
            jitter_pixels=teacher.jitter_pixels,
            context=RunContext(),
        )
    runner = local_runner(runner_settings())
    started = time.perf_counter()
    waits, jobs = [], {}
    for pair in range(args.pairs):
        answer = admit_replay(runner, args.replay, "quick", data, owner=f"student:pair{pair}", client=f"10.0.0.{pair}")
        job = getattr(answer, "job", answer)  # the older code returned the job itself; a cached ticket has none
        waits.append(job)
        if job is not None:
            jobs[job.id] = job
    finished_at = []
    for job in waits:
        if job is not None:
            runner.wait(job, timeout=LIMIT_SECONDS)
            assert job.status == "completed", f"{job.name}: {job.status} {job.error}"
        finished_at.append(time.perf_counter() - started)
    report = {
        "replay": args.replay,
        "data": data.source.name,
        "train_images": len(data.train),
        "pairs": args.pairs,
        "max_concurrent": runner_settings()["max_concurrent"],
        "trainings_started": len(jobs),
        "seconds_until_the_last_pair_has_its_result": round(max(finished_at), 1),
        "seconds_until_the_first_pair_has_its_result": round(min(finished_at), 1),
    }
    if isinstance(runner, ProcessRunner):  # its worker processes end with it
        runner.shutdown()
    print(json.dumps(report) if args.json else "\n".join(f"{key}: {value}" for key, value in report.items()))


if __name__ == "__main__":
    main()
