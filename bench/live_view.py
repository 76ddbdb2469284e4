"""What the lab's live figures cost the server per watching session, built for each session or shared.

A running lab job gets a new curve point at least every live tick (2 s); each session watching it
reruns its live view every tick. Simulated here without a browser or a server, on fake jobs with the
default run's 40 points per student: ``watchers`` sessions on each of ``running`` jobs, for
``ticks`` ticks (the clock moved by hand), once building both figures per view
(``kdlab.ui.live_figures.build_live_figures``, as each session did) and once through the shared
``LiveFigureCache``. CPU is ``time.process_time``.

    python bench/live_view.py [--running 2] [--watchers 3] [--ticks 30] [--json]

A lesson of 30 on 11 temperatures has about 3 students on each run; KDLAB_MAX_JOBS (2 on 2 cores)
run at once, and a queued run's view draws no figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this checkout's kdlab

from kdlab.ml.train import EvalEvent  # noqa: E402
from kdlab.serve.lab import TeacherReady  # noqa: E402
from kdlab.ui.live_figures import LiveFigureCache, build_live_figures  # noqa: E402

TICK_SECONDS = 2.0  # kdlab.ui.lab_page.LIVE_SECONDS


@dataclass
class FakeJob:
    id: str
    log: list = field(default_factory=list)
    is_finished: bool = False

    def events(self) -> list:
        return list(self.log)


def point(run: str, step: int) -> EvalEvent:
    return EvalEvent(run, step, 1600, step / 40, 0.9, 0.9 + step / 1e4, 0.5, 0.3, 0.2, float(step))


def simulate(running: int, watchers: int, ticks: int, shared: bool) -> dict:
    now = [0.0]
    cache = LiveFigureCache(clock=lambda: now[0])
    start = [TeacherReady("cnn-wide", 0.99, 100, "cached")]
    points = [point(run, step) for step in range(20) for run in ("distilled", "baseline")]  # half way through
    jobs = [FakeJob(str(index), start + points) for index in range(running)]
    began, builds = time.process_time(), 0
    for tick in range(ticks):
        now[0] = tick * TICK_SECONDS
        for job in jobs:
            job.log.append(point("distilled", 100 + tick))
        for job in jobs:
            for _ in range(watchers):
                if shared:
                    cache.figures(job, 40)
                else:
                    build_live_figures(job.events(), 40)
                    builds += 1
    seconds = time.process_time() - began
    views = ticks * running * watchers
    return {
        "cpu_seconds": round(seconds, 2),
        "ms_per_view": round(1000 * seconds / views, 2),
        "builds": cache.builds if shared else builds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--running", type=int, default=2, help="jobs running at once (default 2)")
    parser.add_argument("--watchers", type=int, default=3, help="sessions watching each job (default 3)")
    parser.add_argument("--ticks", type=int, default=30, help="live ticks of 2 s (default 30: a minute)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    args = parser.parse_args()
    if min(args.running, args.watchers, args.ticks) < 1:
        parser.error("--running, --watchers and --ticks must be at least 1")
    report = {
        "running": args.running,
        "watchers": args.watchers,
        "ticks": args.ticks,
        "per_session": simulate(args.running, args.watchers, args.ticks, shared=False),
        "shared": simulate(args.running, args.watchers, args.ticks, shared=True),
    }
    before, after = report["per_session"], report["shared"]
    print(
        f"live view, {args.running} jobs x {args.watchers} watchers, {args.ticks} ticks: per session "
        f"{before['cpu_seconds']} s CPU ({before['ms_per_view']} ms a view, {before['builds']} builds), shared "
        f"{after['cpu_seconds']} s ({after['ms_per_view']} ms a view, {after['builds']} builds)",
        file=sys.stderr,
    )
    if args.json:
        print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
