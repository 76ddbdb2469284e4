import threading
import time

import pytest

from kdlab import jobs
from kdlab.jobs import JobRunner, JobStatus

TIMEOUT = 5


def wait_until(condition, timeout=TIMEOUT):
    """Poll briefly for state another thread is about to reach."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.005)
    return True


def blocking_target(release, started=None):
    def target(context):
        if started is not None:
            started.set()
        release.wait(TIMEOUT)
        return "done"

    return target


def test_result_and_completed_status():
    runner = JobRunner()
    job = runner.submit("add", lambda context: 1 + 2)
    assert runner.wait(job, timeout=TIMEOUT)
    assert job.status == JobStatus.COMPLETED == "completed"
    assert job.result == 3
    assert job.error is None
    assert job.is_finished
    assert job.started_at is not None and job.finished_at >= job.started_at
    assert job.elapsed_seconds >= 0
    assert job.queue_position() == 0


def test_events_and_progress_visible_while_running():
    runner = JobRunner()
    reported, release = threading.Event(), threading.Event()

    def target(context):
        context.emit({"epoch": 1, "loss": 0.5})
        context.set_progress(0.25, "epoch 1/4")
        reported.set()
        release.wait(TIMEOUT)
        context.set_progress(7, "overshoot")

    job = runner.submit("train", target)
    assert reported.wait(TIMEOUT)
    assert job.status == JobStatus.RUNNING
    assert job.events() == [{"epoch": 1, "loss": 0.5}]
    assert job.progress == 0.25 and job.progress_message == "epoch 1/4"
    snapshot = job.events()
    snapshot.append("not in the job")
    assert len(job.events()) == 1
    release.set()
    assert runner.wait(job, timeout=TIMEOUT)
    assert job.progress == 1.0 and type(job.progress) is float


def test_fifo_queue_with_one_slot():
    runner = JobRunner(max_concurrent=1)
    release, first_started = threading.Event(), threading.Event()
    order = []
    first = runner.submit("first", blocking_target(release, first_started))
    assert first_started.wait(TIMEOUT)
    second = runner.submit("second", lambda context: order.append("second"))
    third = runner.submit("third", lambda context: order.append("third"))

    assert (first.queue_position(), second.queue_position(), third.queue_position()) == (0, 1, 2)
    assert second.status == JobStatus.QUEUED and second.started_at is None
    assert runner.running_count() == 1 and runner.queued_count() == 2

    release.set()
    assert runner.wait(third, timeout=TIMEOUT)
    assert order == ["second", "third"]
    assert runner.running_count() == 0 and runner.queued_count() == 0


def test_two_slots_run_two_jobs_at_once():
    runner = JobRunner(max_concurrent=2)
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    release = threading.Event()

    def target(context):
        barrier.wait()  # only passes if both jobs run at the same time
        release.wait(TIMEOUT)

    first, second = runner.submit("a", target), runner.submit("b", target)
    third = runner.submit("c", lambda context: None)
    assert wait_until(lambda: runner.running_count() == 2)
    assert third.queue_position() == 1
    release.set()
    for job in (first, second, third):
        assert runner.wait(job, timeout=TIMEOUT)
        assert job.status == JobStatus.COMPLETED


def test_stop_running_job_that_honours_the_flag():
    runner = JobRunner()
    started = threading.Event()

    def target(context):
        started.set()
        context.stop_requested.wait(TIMEOUT)
        return "partial" if context.stop_requested.is_set() else "full"

    job = runner.submit("train", target)
    assert started.wait(TIMEOUT)
    job.request_stop()
    assert runner.wait(job, timeout=TIMEOUT)
    assert job.status == JobStatus.STOPPED
    assert job.result == "partial"


def test_cancel_queued_job_never_runs():
    runner = JobRunner()
    release = threading.Event()
    ran = threading.Event()
    first = runner.submit("first", blocking_target(release))
    cancelled = runner.submit("cancelled", lambda context: ran.set())
    last = runner.submit("last", lambda context: "last")

    cancelled.request_stop()
    assert cancelled.status == JobStatus.STOPPED and cancelled.is_finished
    assert runner.wait(cancelled, timeout=0)
    assert cancelled.elapsed_seconds == 0.0
    assert last.queue_position() == 1

    release.set()
    assert runner.wait(last, timeout=TIMEOUT) and runner.wait(first, timeout=TIMEOUT)
    assert not ran.is_set()
    assert last.result == "last"


def test_failure_is_recorded_and_next_job_runs():
    runner = JobRunner()

    def broken(context):
        raise ValueError("bad learning rate\nsecond line")

    failed = runner.submit("broken", broken)
    after = runner.submit("after", lambda context: "ok")
    assert runner.wait(failed, timeout=TIMEOUT) and runner.wait(after, timeout=TIMEOUT)
    assert failed.status == JobStatus.FAILED
    assert failed.error == "ValueError: bad learning rate"
    assert "Traceback" in failed.traceback and "bad learning rate" in failed.traceback
    assert after.status == JobStatus.COMPLETED and after.result == "ok"


@pytest.mark.parametrize("exception", [KeyboardInterrupt, SystemExit])
def test_base_exception_frees_the_slot(exception):
    runner = JobRunner()

    def interrupted(context):
        raise exception("interrupted")

    failed = runner.submit("interrupted", interrupted)
    after = runner.submit("after", lambda context: "ok")
    assert runner.wait(after, timeout=TIMEOUT)
    assert failed.status == JobStatus.FAILED
    assert failed.error == f"{exception.__name__}: interrupted"
    assert runner.running_count() == 0


def test_jobs_filters_by_owner_in_submission_order():
    runner = JobRunner()
    alice_1 = runner.submit("a1", lambda context: None, owner="alice")
    bob = runner.submit("b", lambda context: None, owner="bob")
    alice_2 = runner.submit("a2", lambda context: None, owner="alice")
    assert runner.jobs(owner="alice") == [alice_1, alice_2]
    assert runner.jobs() == [alice_1, bob, alice_2]
    assert runner.get(bob.id) is bob
    assert runner.get("missing") is None
    assert len({alice_1.id, bob.id, alice_2.id}) == 3


@pytest.fixture
def fresh_default_runner(monkeypatch):
    monkeypatch.setattr(jobs, "_default_runner", None)
    return monkeypatch


def test_default_runner_is_a_singleton(fresh_default_runner):
    fresh_default_runner.delenv("KDLAB_MAX_JOBS", raising=False)
    runner = jobs.default_runner()
    assert runner is jobs.default_runner()
    assert runner.max_concurrent == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3), (" 2 ", 2), ("0", 1), ("-4", 1), ("two", 1), ("", 1), ("1.5", 1)],
)
def test_default_runner_reads_max_jobs_from_env(fresh_default_runner, value, expected):
    fresh_default_runner.setenv("KDLAB_MAX_JOBS", value)
    assert jobs.default_runner().max_concurrent == expected
