"""``kdlab.serve.replays`` through ``kdlab.serve.gate.admit_replay``: a replay several students run with the same
settings trains once (joined while it runs, from the cache after), the gate counts it once, and a corrupt cache
file is trained again. The decoupled replay, shrunk through its registry entry to a linear teacher and a
20-unit student on 500 images."""

import threading
from dataclasses import replace

import pytest

import kdlab.experiments.replays as replays
from kdlab.experiments.replays.decoupled import decoupled_config
from kdlab.serve.gate import admit_replay
from kdlab.serve.limits import CostTooHigh
from kdlab.serve.replays import ReplayRequest, replay_cache_path
from kdlab.serve.runner import JobRunner, JobStatus, OwnerBusy
from tests.conftest import TINY_TEACHER_EPOCHS

TIMEOUT = 120


@pytest.fixture
def tiny_decoupled(monkeypatch, linear_teacher):
    """The decoupled replay with the tests' linear teacher (cached for the session) and a tiny student."""

    def tiny(budget, **settings):
        small = dict(teacher="linear", teacher_epochs=TINY_TEACHER_EPOCHS, student="mlp-20x1", train_size=500)
        return decoupled_config(budget, **small, **settings)

    monkeypatch.setitem(replays.REPLAYS, "decoupled", replace(replays.REPLAYS["decoupled"], config=tiny))


@pytest.fixture
def held_runner():
    """A one-slot runner whose slot another student's job holds until ``release`` is set, so a replay waits in
    the queue while others press Run."""
    runner, release = JobRunner(1), threading.Event()
    blocker = runner.submit("someone else's run", lambda context: release.wait(60), owner="student:other")
    yield runner, release
    release.set()
    runner.wait(blocker, timeout=60)
    for job in runner.jobs():
        job.request_stop()
        runner.wait(job, timeout=TIMEOUT)


def press(runner, data, owner: str, **changes):
    return admit_replay(runner, "decoupled", "quick", data, owner=owner, **changes)


def test_two_students_share_one_training_and_a_third_gets_it_from_the_cache(tiny_decoupled, held_runner, sample_data):
    runner, release = held_runner
    alice = press(runner, sample_data, "student:alice")
    bob = press(runner, sample_data, "student:bob")
    assert (alice.how, bob.how) == ("trained", "joined")
    assert bob.job is alice.job and alice.job.owner == "student:alice"
    assert [job.name for job in runner.jobs() if job.name.startswith("Replay")] == ["Replay decoupled (quick)"]
    release.set()
    assert runner.wait(alice.job, timeout=TIMEOUT) and alice.job.status == JobStatus.COMPLETED
    assert alice.result is bob.result and alice.result.status == "completed"
    assert (alice.source_words(), bob.source_words()) == ("trained for you", "joined a run in progress")

    carol = press(runner, sample_data, "student:carol")
    assert carol.how == "cache" and carol.job is None
    assert carol.result.summary == alice.result.summary
    assert carol.source_words().startswith("from the cache: trained at ")
    assert press(runner, sample_data, "student:dave").result is carol.result  # one copy in memory for the class
    assert len([job for job in runner.jobs() if job.name.startswith("Replay")]) == 1  # trained once for three


def test_other_seeds_or_another_budget_are_not_shared(tiny_decoupled, held_runner, sample_data):
    runner, _ = held_runner
    keys = {
        ReplayRequest.build("decoupled", "quick", sample_data).key,
        ReplayRequest.build("decoupled", "quick", sample_data, seeds=2).key,
        ReplayRequest.build("decoupled", "full", sample_data).key,
        ReplayRequest.build("omit-3", "quick", sample_data).key,
    }
    assert len(keys) == 4
    alice = press(runner, sample_data, "student:alice")
    bob = press(runner, sample_data, "student:bob", seeds=2)
    assert (alice.how, bob.how) == ("trained", "trained") and alice.job is not bob.job


def test_the_gate_counts_a_shared_replay_once(monkeypatch, tiny_decoupled, held_runner, sample_data):
    runner, release = held_runner
    alice = press(runner, sample_data, "student:alice", capped=False)  # the instructor's, on the projector
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "0.0001x")
    with pytest.raises(CostTooHigh):  # a replay of its own is over the cap ...
        press(runner, sample_data, "student:bob", seeds=2)
    bob = press(runner, sample_data, "student:bob")  # ... following the instructor's costs nothing
    assert bob.how == "joined" and bob.job is alice.job
    busy = runner.submit("dave's lab run", lambda context: release.wait(60), owner="student:dave")
    with pytest.raises(OwnerBusy):  # dave's own replay would be his second job
        press(runner, sample_data, "student:dave", seeds=2, capped=False)
    assert press(runner, sample_data, "student:dave").how == "joined"  # following takes no place in the queue
    assert len([job for job in runner.jobs() if not job.is_finished]) == 3  # the blocker, the replay, dave's run
    release.set()
    assert runner.wait(alice.job, timeout=TIMEOUT) and runner.wait(busy, timeout=TIMEOUT)


def test_a_joiners_stop_leaves_and_the_last_stop_stops(tiny_decoupled, held_runner, sample_data):
    from kdlab.serve.replays import leave_replay

    runner, _ = held_runner
    alice = press(runner, sample_data, "student:alice")
    bob = press(runner, sample_data, "student:bob")
    assert leave_replay(bob) == "left" and not alice.job.is_finished
    assert leave_replay(alice) == "stop"
    assert runner.wait(alice.job, timeout=TIMEOUT) and alice.job.status == JobStatus.STOPPED


def test_a_corrupt_cache_file_is_ignored_and_trained_again(tiny_decoupled, sample_data):
    runner = JobRunner(1)
    first = press(runner, sample_data, "student:alice")
    assert runner.wait(first.job, timeout=TIMEOUT) and first.job.status == JobStatus.COMPLETED
    path = replay_cache_path(first.request.key)
    assert path.exists()
    path.write_bytes(path.read_bytes()[:100])  # torn
    again = press(runner, sample_data, "student:bob")
    assert again.how == "trained" and again.job is not None
    assert runner.wait(again.job, timeout=TIMEOUT) and again.job.status == JobStatus.COMPLETED
    assert press(runner, sample_data, "student:carol").how == "cache"  # rewritten whole
