"""Paper replays shared by a class: a replay that several students run with the same settings trains once.

A press of a replay's Run is one ``ReplayRequest`` (the replay, its budget, its seeds, its config and its key,
``kdlab.serve.keys.replay_key``); ``kdlab.serve.gate.admit_replay`` answers it in one of three ways, as a
``ReplayTicket``, the way the lab answers Train (``kdlab.serve.lab``):

- **"cache"**: the same replay completed earlier on this server, read from the replay cache at once. A
  completed replay's result (its summary, the test logits its sliders redraw from, its example images and
  students) is one file per key under the cache dir's ``replays/``, written atomically;
- **"joined"**: the identical replay in progress, followed: the same job, its progress and its result. The
  live runs are the lab's registry (``kdlab.serve.live.LiveRuns``): a follower here files no record, since
  the job's result is the replay's, shown to everyone who follows it;
- **"trained"**: a new job, which stores its completed result in the cache before it lets its followers go,
  so a later press finds it there.

Fifteen pairs pressing Run on lesson 4's omit-3 replay queue one training instead of fifteen
(``bench/replay_sharing.py``).
"""

from __future__ import annotations

import io
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import torch

from kdlab.experiments.replays import ReplayResult, replay_config
from kdlab.ml.data import MnistData, default_cache_dir
from kdlab.ml.files import write_atomically
from kdlab.runs.record import new_run_id
from kdlab.serve.keys import replay_key
from kdlab.serve.live import Follower, LiveRun, LiveRuns
from kdlab.serve.runner import Job, JobContext, JobRunner, JobStatus
from kdlab.serve.tasks import replay_task

log = logging.getLogger(__name__)
# Bump when the file's layout changes (what ``store_replay`` writes); a training change bumps RESULT_CACHE_SALT.
REPLAY_CACHE_FORMAT = 1
LIVE_REPLAYS = LiveRuns()  # replays in progress by key, and the students following each
HOW_WORDS = {"trained": "trained for you", "joined": "joined a run in progress"}
# Cached replays held in memory, shared by the sessions showing them: the lessons' two, both budgets, and more.
KEEP_LOADED = 8
_LOADED: OrderedDict[Path, tuple[int, tuple[ReplayResult, float]]] = OrderedDict()  # path -> (mtime, result)
_LOADED_LOCK = threading.Lock()


@dataclass(frozen=True)
class ReplayRequest:
    """One press of a replay's Run: the replay, its budget and seeds, its config and its key, computed once."""

    name: str
    budget: str
    seeds: int
    config: object = field(repr=False)
    key: str

    @classmethod
    def build(cls, name: str, budget: str, data: MnistData, seeds: int = 1) -> ReplayRequest:
        """The request for replay ``name`` at ``budget`` and ``seeds`` on ``data``.

        Raises:
            ValueError: an unknown replay or budget.
        """
        config = replay_config(name, budget)
        return cls(name, budget, seeds, config, replay_key(name, config, data, seeds))


@dataclass
class ReplayTicket:
    """What pressing Run gave a student: a result from the cache at once, or a job to follow."""

    how: str  # "cache": completed earlier, read now; "joined": the identical replay in progress; "trained": a new job
    request: ReplayRequest
    follower_id: str = ""  # this student's place among the job's followers (a Stop leaves while others follow)
    job: Job | None = None  # "joined", "trained"
    cached: ReplayResult | None = None  # "cache"
    trained_at: float | None = None  # "cache": when it finished training

    @property
    def result(self) -> ReplayResult | None:
        """The replay's result: the cached one, or the job's once it completed."""
        if self.cached is not None:
            return self.cached
        if self.job is not None and self.job.status == JobStatus.COMPLETED:
            return self.job.result
        return None

    def source_words(self) -> str:
        """Where the result came from, for its student: "trained for you", "joined a run in progress" or
        "from the cache: trained at 09:41" (the server's clock)."""
        if self.how == "cache":
            return f"from the cache: trained at {time.strftime('%H:%M', time.localtime(self.trained_at or 0))}"
        return HOW_WORDS[self.how]


def replay_cache_path(key: str, cache_dir: Path | None = None) -> Path:
    """Where the completed replay of ``key`` (a sha256 in hex) is kept."""
    return Path(cache_dir or default_cache_dir()).expanduser() / "replays" / f"{key}.pt"


def store_replay(key: str, result: ReplayResult, trained_at: float, cache_dir: Path | None = None) -> None:
    """Keep a completed replay's result under ``key`` (atomically); a cache that cannot be written only
    means the next press trains it again."""
    content = {
        "format": REPLAY_CACHE_FORMAT,
        "key": key,
        "trained_at": trained_at,
        "name": result.name,
        "summary": result.summary,
        "test_labels": result.test_labels,
        "test_logits": result.test_logits,
        "images": result.images,
        "student_files": result.student_files,
    }
    buffer = io.BytesIO()
    torch.save(content, buffer)
    try:
        write_atomically(replay_cache_path(key, cache_dir), lambda file: file.write(buffer.getbuffer()))
    except OSError as error:
        log.warning("could not keep the replay %s in the cache: %s", result.name, error)


def load_cached_replay(key: str, cache_dir: Path | None = None) -> tuple[ReplayResult, float] | None:
    """The completed replay of ``key`` and when it was trained, or None: not cached, or a file that cannot
    be read, is of another format or holds another key (the replay then trains again and rewrites it).

    One result object per file for every session that shows it (the newest ``KEEP_LOADED`` files): a class
    pressing Run on one replay shares its students' weights and test logits instead of a copy each.
    """
    path = replay_cache_path(key, cache_dir)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    with _LOADED_LOCK:
        known = _LOADED.get(path)
        if known is not None and known[0] == stamp:
            _LOADED.move_to_end(path)
            return known[1]
    loaded = _read(path, key)
    if loaded is not None:
        with _LOADED_LOCK:
            _LOADED[path] = (stamp, loaded)
            while len(_LOADED) > KEEP_LOADED:
                _LOADED.popitem(last=False)
    return loaded


def _read(path: Path, key: str) -> tuple[ReplayResult, float] | None:
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)  # tensors and plain values only
        if content["format"] != REPLAY_CACHE_FORMAT or content["key"] != key:
            return None
        result = ReplayResult(
            content["name"],
            content["summary"],
            content["test_labels"],
            content["test_logits"],
            content["images"],
            content["student_files"],
        )
        trained_at = float(content["trained_at"])
    except Exception as error:  # a torn or foreign file: zip, pickle, torch or key errors alike; train it again
        log.warning("ignoring the unreadable replay cache file %s: %s", path.name, error)
        return None
    return (result, trained_at) if result.status == "completed" else None


def follow_or_submit(
    runner: JobRunner,
    request: ReplayRequest,
    data: MnistData,
    *,
    owner: str,
    client: str | None,
    submit_checks,
    cost: float,
) -> ReplayTicket:
    """The replay in progress for ``request.key`` (followed: "joined"), else a new job ("trained"), after
    ``submit_checks()`` (the gate's cost cap: a follower does not pay it). The runner's rules (one job per
    owner, the queue's limit) apply to a new job only.

    Raises:
        CostTooHigh (from ``submit_checks``), OwnerBusy, ClientBusy, QueueFull: no job was started.
    """
    follower = Follower(owner, None, 0, new_run_id(), "trained")

    def submit(live: LiveRun) -> Job:
        submit_checks()
        return runner.submit(
            f"Replay {request.name} ({request.budget})",
            _target(request, data, live),
            owner=owner,
            client=client,
            kind=f"Replay {request.name} ({request.budget})",
            cost=cost,
        )

    live, follower = LIVE_REPLAYS.join_or_start(request, follower, submit)
    return ReplayTicket(follower.source, request, follower.run_id, live.job)


def leave_replay(ticket: ReplayTicket) -> str:
    """A student's Stop on a replay they follow: "stop" stops the job when nobody else follows it; "left"
    when others do (it goes on for them)."""
    action, _ = LIVE_REPLAYS.stop_or_leave(ticket.job, ticket.follower_id)
    if action == "stop":
        ticket.job.request_stop()
    return action


def _target(request: ReplayRequest, data: MnistData, live: LiveRun):
    run = replay_task(request.name, request.budget, data, request.seeds)

    def target(context: JobContext) -> ReplayResult:
        try:
            result = run(context)
            if result.status == "completed" and not context.stop_requested.is_set():
                store_replay(request.key, result, time.time())  # before newcomers stop joining: none misses both
            return result
        finally:
            LIVE_REPLAYS.finish(live)

    return target
