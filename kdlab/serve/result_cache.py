"""The shared result cache, and live runs that identical requests join instead of queueing a copy.

A lab run is deterministic for its seed, so everything that decides it names it: the data
(source, sizes and a hash of every image and label), the teacher (architecture, epochs,
seed, and its test errors and size from its record, so a retrained teacher that came out
differently is a different run), the full ``DistillConfig``, the torch and kdlab versions,
the device type, and ``RESULT_CACHE_SALT``. ``result_key`` hashes that canonical JSON; the
database maps a key to the first completed run with it, and a later request for the same
key copies that run instead of training (see ``kdlab.serve.tasks.request_distillation``).

``request_key`` is the same without the teacher's results, known before the teacher is
loaded: ``LIVE_RUNS`` maps it to the job training that run right now and to every student
following it, so thirty students pressing Train on the defaults start one training.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
import weakref
from dataclasses import dataclass, field, replace
from typing import Any

import torch
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

import kdlab
from kdlab.db.database import Database, result_cache
from kdlab.db.runs import load_any_run
from kdlab.experiments.distill import DistillConfig
from kdlab.ml.data import MnistData
from kdlab.ml.train import pick_device
from kdlab.teachers.teacher import TeacherRecord, default_teacher_epochs

# Bump when a change to the training code changes the numbers a run produces: every cached
# result then stops matching and is trained again (the old rows stay, unused).
RESULT_CACHE_SALT = "kdlab-results-2"  # 2: curves on a fixed test subset

_FINGERPRINTS: dict[int, tuple[weakref.ref, dict]] = {}
_FINGERPRINTS_LOCK = threading.Lock()


def data_fingerprint(data: MnistData) -> dict:
    """Source, sizes and a sha256 of the train and test images and labels; computed once per
    ``MnistData`` object (about 0.1 s on full MNIST)."""
    with _FINGERPRINTS_LOCK:
        known = _FINGERPRINTS.get(id(data))
        if known is not None and known[0]() is data:
            return known[1]
    digest = hashlib.sha256()
    for tensor in (data.train.images, data.train.labels, data.test.images, data.test.labels):
        digest.update(str((tuple(tensor.shape), str(tensor.dtype))).encode())
        digest.update(tensor.contiguous().numpy().tobytes())
    fingerprint = {
        "source": data.source.name,
        "train_size": len(data.train),
        "test_size": len(data.test),
        "sha256": digest.hexdigest(),
    }
    with _FINGERPRINTS_LOCK:
        _FINGERPRINTS[id(data)] = (weakref.ref(data), fingerprint)
    return fingerprint


def run_identity(config: DistillConfig, data: MnistData, teacher: TeacherRecord | None = None) -> dict:
    """Everything that decides a lab run, as a JSON-ready dict; with ``teacher`` its results too."""
    teacher_identity: dict[str, Any] = {
        "architecture": config.teacher,
        "epochs": config.teacher_epochs or default_teacher_epochs(len(data.train)),
        "seed": config.teacher_seed,
    }
    if teacher is not None:
        teacher_identity |= {"test_errors": teacher.test_errors, "parameters": teacher.parameters}
    return {
        "data": data_fingerprint(data),
        "teacher": teacher_identity,
        "config": config.as_dict(),
        "torch": str(torch.__version__),
        "kdlab": kdlab.__version__,
        "device": pick_device().type,
        "salt": RESULT_CACHE_SALT,
    }


def _key(identity: dict) -> str:
    return hashlib.sha256(json.dumps(identity, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def request_key(config: DistillConfig, data: MnistData) -> str:
    """The key of a run request, before its teacher is loaded: identical requests share it."""
    return _key(run_identity(config, data))


def result_key(config: DistillConfig, data: MnistData, teacher: TeacherRecord) -> str:
    """The key of a run's result, with the teacher that trained it."""
    return _key(run_identity(config, data, teacher))


def teacher_matches(config: DistillConfig, data: MnistData, teacher: TeacherRecord) -> bool:
    """True when ``teacher`` is the one ``config`` asks for (architecture, data, epochs, seed)."""
    wanted = run_identity(config, data)["teacher"]
    return (teacher.architecture, teacher.epochs, teacher.seed, teacher.data_source, teacher.train_size) == (
        wanted["architecture"],
        wanted["epochs"],
        wanted["seed"],
        data.source.name,
        len(data.train),
    )


def cached_result(database: Database, key: str):
    """The first completed run with this result key (a ``RunRecord`` of any student, with weights), or None."""
    with database.read() as connection:
        run_id = connection.execute(select(result_cache.c.run_id).where(result_cache.c.cache_key == key)).scalar()
    return load_any_run(database, run_id) if run_id else None


def remember_result(database: Database, key: str, run_id: str) -> None:
    """Record ``run_id`` as the result of ``key``, unless another run got there first."""
    try:
        with database.write() as connection:
            if connection.execute(select(result_cache.c.run_id).where(result_cache.c.cache_key == key)).first():
                return
            connection.execute(insert(result_cache).values(cache_key=key, run_id=run_id, created_at=time.time()))
    except IntegrityError:  # another process inserted the same key between the check and the insert
        return


@dataclass
class Follower:
    """A student who gets a record of a live run when it ends."""

    student: str  # the store's student_key (or the session's owner id): finds the run again after a reload
    store: Any  # a RunStore or DatabaseRunStore
    number: int
    run_id: str
    source: str  # "trained" (started it) or "joined"


@dataclass
class LiveRun:
    """A job training one run request, and who follows it."""

    key: str
    job: Any = None  # kdlab.serve.runner.Job, set once submitted
    followers: list[Follower] = field(default_factory=list)
    closed: bool = False  # stopping or ending: nobody joins any more


class LiveRuns:
    """Process-wide registry of runs in progress, keyed by ``request_key``. Thread safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, LiveRun] = {}

    def join_or_start(self, key: str, follower: Follower, submit) -> tuple[LiveRun, Follower]:
        """Follow the live run of ``key`` if there is one; otherwise call ``submit(live_run)``, which
        must return the new job, and register it. Returns the live run and the follower's place in
        it: ``follower`` itself, marked "joined" when it joined, or the student's earlier place
        when they already follow this run (a second tab: one record, not two).

        ``submit`` runs under the registry's lock, so two identical requests never both start a job.
        """
        with self._lock:
            live = self._runs.get(key)
            if live is not None and not live.closed and not live.job.is_finished:
                earlier = next((f for f in live.followers if f.student == follower.student), None)
                if earlier is not None:
                    return live, earlier
                follower = replace(follower, source="joined")
                live.followers.append(follower)
                return live, follower
            live = LiveRun(key, followers=[follower])
            live.job = submit(live)
            self._runs[key] = live
            return live, follower

    def take_first(self, live: LiveRun) -> Follower | None:
        """The follower whose record becomes the cached one (taken off the list), when the job ends."""
        with self._lock:
            return live.followers.pop(0) if live.followers else None

    def finish(self, live: LiveRun) -> list[Follower]:
        """Close ``live`` (nobody joins any more) and return its remaining followers."""
        with self._lock:
            live.closed = True
            if self._runs.get(live.key) is live:
                del self._runs[live.key]
            followers, live.followers = live.followers, []
            return followers

    def stop_or_leave(self, job, run_id: str) -> tuple[str, Follower | None]:
        """A follower's Stop: ("left", the follower) when others still follow the run (it keeps
        training for them, and this follower gets no record), else ("stop", None): the caller
        stops the job, whose partial result this follower keeps."""
        with self._lock:
            for live in self._runs.values():
                if live.job is job and not live.closed:
                    leaving = next((follower for follower in live.followers if follower.run_id == run_id), None)
                    others = [follower for follower in live.followers if follower is not leaving]
                    if others and leaving is not None:
                        live.followers = others
                        return "left", leaving
                    live.closed = True
                    return "stop", None
        return "stop", None

    def find(self, student: str) -> tuple[Any, Follower] | None:
        """The unfinished job ``student`` follows and their place in it (after a reload), or None."""
        with self._lock:
            for live in self._runs.values():
                for follower in live.followers:
                    if follower.student == student and not live.job.is_finished:
                        return live.job, follower
        return None


LIVE_RUNS = LiveRuns()
