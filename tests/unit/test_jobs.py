import collections
import gc
import subprocess
import sys
import threading

import pytest

from kdlab.serve import jobs
from kdlab.serve import runner as runner_module
from kdlab.serve.runner import JobRunner, JobStatus
from tests.conftest import PROJECT_ROOT, wait_until

TIMEOUT = 5


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


def test_failure_is_recorded_and_next_job_runs(caplog):
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
    assert failed.error_kind == "ValueError"  # what a page shows: no message that could name a path
    logged = [record for record in caplog.records if record.name == "kdlab.serve.runner"]
    assert any("broken" in record.getMessage() and "Traceback" in record.getMessage() for record in logged)


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
    runner = JobRunner(one_per_owner=False)
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
    for name in ("KDLAB_MAX_JOBS", "KDLAB_RAY_ADDRESS"):
        fresh_default_runner.delenv(name, raising=False)
    runner = jobs.default_runner()
    assert runner is jobs.default_runner()
    assert type(runner) is JobRunner
    assert runner.max_concurrent == jobs.default_max_concurrent(jobs.usable_cores())


@pytest.mark.parametrize(
    ("value", "expected"), [("3", 3), (" 2 ", 2), ("0", None), ("-4", None), ("two", None), ("", None), ("1.5", None)]
)
def test_default_runner_reads_max_jobs_from_env(fresh_default_runner, value, expected):
    fresh_default_runner.setenv("KDLAB_MAX_JOBS", value)
    fresh_default_runner.delenv("KDLAB_RAY_ADDRESS", raising=False)
    default = jobs.default_max_concurrent(jobs.usable_cores())
    assert jobs.default_runner().max_concurrent == (expected or default)


def test_queue_size_and_job_lifetime_come_from_env(monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_QUEUE", "7")
    monkeypatch.setenv("KDLAB_JOB_TTL", "90")
    assert jobs.runner_settings()["max_queue"] == 7 and jobs.runner_settings()["job_ttl"] == 90.0
    monkeypatch.setenv("KDLAB_MAX_QUEUE", "lots")
    monkeypatch.delenv("KDLAB_JOB_TTL")
    settings = jobs.runner_settings()
    assert (
        settings["max_queue"] == runner_module.DEFAULT_MAX_QUEUE
        and settings["job_ttl"] == runner_module.DEFAULT_JOB_TTL
    )


@pytest.mark.parametrize(("cores", "workers"), [(1, 1), (2, 2), (3, 3), (4, 3), (16, 15)])
def test_default_concurrency_from_the_cores(cores, workers):
    assert jobs.default_max_concurrent(cores) == workers


@pytest.mark.parametrize(
    ("cores", "workers", "threads"), [(2, 2, 1), (2, 1, 1), (1, 1, 1), (16, 15, 1), (16, 4, 3), (8, 1, 7)]
)
def test_torch_threads_leave_a_core_to_the_server(cores, workers, threads):
    assert jobs.torch_threads(cores, workers) == threads
    assert workers * threads <= max(cores - 1, workers)


def test_cap_torch_threads_sets_the_process_wide_count(monkeypatch):
    torch = pytest.importorskip("torch")
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(jobs, "usable_cores", lambda: 9)
    try:
        assert jobs.cap_torch_threads(2) == 4 == torch.get_num_threads()
        monkeypatch.setenv("OMP_NUM_THREADS", "1")
        assert jobs.cap_torch_threads(8) == 4  # an explicit OMP_NUM_THREADS is left alone
    finally:
        torch.set_num_threads(before)


def test_without_a_ray_address_nothing_imports_ray():
    code = (
        "import os, sys\n"
        "os.environ.pop('KDLAB_RAY_ADDRESS', None)\n"
        "import kdlab.serve.jobs, kdlab.serve.tasks, kdlab.serve.ray_runner\n"
        "runner = kdlab.serve.jobs.default_runner()\n"
        "assert type(runner) is kdlab.serve.runner.JobRunner, runner\n"
        "sys.exit(1 if 'ray' in sys.modules else 0)"
    )
    completed = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert completed.returncode == 0, completed.stderr or "ray was imported"


def test_one_active_job_per_owner():
    runner = JobRunner(max_concurrent=2)
    release = threading.Event()
    first = runner.submit("Run 1", blocking_target(release), owner="alice")
    with pytest.raises(
        runner_module.OwnerBusy, match=r"You already have a run in progress \(Run 1, running\)"
    ) as refused:
        runner.submit("Run 2", lambda context: None, owner="alice")
    assert isinstance(refused.value, ValueError)
    other = runner.submit("Bob's run", lambda context: "bob", owner="bob")
    shared = [runner.submit(f"Teacher {n}", lambda context: None, owner=runner_module.SHARED_OWNER) for n in range(2)]
    anonymous = [runner.submit(f"anonymous {n}", lambda context: None) for n in range(2)]
    release.set()
    assert runner.wait(first, timeout=TIMEOUT)
    again = runner.submit("Run 2", lambda context: "again", owner="alice")
    for job in (other, again, *shared, *anonymous):
        assert runner.wait(job, timeout=TIMEOUT) and job.status == JobStatus.COMPLETED


def test_a_queued_job_also_keeps_its_owner_busy_until_cancelled():
    runner = JobRunner(max_concurrent=1)
    release = threading.Event()
    runner.submit("blocker", blocking_target(release))
    queued = runner.submit("Run 1", lambda context: None, owner="alice")
    with pytest.raises(runner_module.OwnerBusy, match="queued"):
        runner.submit("Run 2", lambda context: None, owner="alice")
    queued.request_stop()
    later = runner.submit("Run 2", lambda context: None, owner="alice")
    assert later.queue_position() == 1
    release.set()
    assert runner.wait(later, timeout=TIMEOUT)


def test_full_queue_refuses_students_with_a_message():
    runner = JobRunner(max_concurrent=1, max_queue=2)
    release = threading.Event()
    blocker = runner.submit("blocker", blocking_target(release), owner="a")
    waiting = [runner.submit(name, lambda context: None, owner=name) for name in ("b", "c")]
    with pytest.raises(runner_module.QueueFull) as refused:
        runner.submit("one too many", lambda context: None, owner="d")
    assert str(refused.value) == "The training queue is full (2 runs waiting); try again in a minute."
    assert isinstance(refused.value, ValueError)
    teacher = runner.submit("Teacher cnn", lambda context: "shared", owner=runner_module.SHARED_OWNER)  # never refused
    assert runner.queued_count() == 3
    release.set()
    for job in (blocker, *waiting, teacher):
        assert runner.wait(job, timeout=TIMEOUT) and job.status == JobStatus.COMPLETED


class FakeClock:
    """``time.time`` for the runner, moved by hand, so estimates are checked without timing anything."""

    def __init__(self) -> None:
        self.now = 1000.0

    def time(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(runner_module, "time", fake)
    return fake


def finish_job(runner, clock, seconds, *, kind="lab", cost=None):
    release, started = threading.Event(), threading.Event()
    job = runner.submit("done", blocking_target(release, started), kind=kind, cost=cost)
    assert started.wait(TIMEOUT)
    clock.now += seconds
    release.set()
    assert runner.wait(job, timeout=TIMEOUT)


def test_finished_jobs_are_pruned_after_their_ttl(clock):
    runner = JobRunner(job_ttl=60)
    old = runner.submit("old", lambda context: None)
    assert runner.wait(old, timeout=TIMEOUT)
    clock.now += 61
    recent = runner.submit("recent", lambda context: None)
    assert runner.wait(recent, timeout=TIMEOUT)
    clock.now += 30
    runner.submit("new", lambda context: None)
    assert runner.get(old.id) is None and runner.get(recent.id) is recent


def test_only_the_newest_finished_jobs_are_kept(clock):
    runner = JobRunner(keep_finished=2)
    finished = []
    for index in range(4):
        finished.append(runner.submit(f"job {index}", lambda context: None))
        assert runner.wait(finished[-1], timeout=TIMEOUT)
        clock.now += 1
    release = threading.Event()
    running = runner.submit("running", blocking_target(release))
    assert runner.jobs() == [*finished[2:], running]  # unfinished jobs are never pruned
    release.set()
    assert runner.wait(running, timeout=TIMEOUT)


def test_no_estimate_before_a_job_of_the_kind_finished(clock):
    runner = JobRunner(max_concurrent=1)
    release = threading.Event()
    running = runner.submit("first", blocking_target(release), kind="lab")
    queued = runner.submit("second", lambda context: None, kind="lab")
    assert running.eta_seconds() is None and queued.starts_in_seconds() is None and queued.eta_seconds() is None
    release.set()
    assert runner.wait(queued, timeout=TIMEOUT)
    assert queued.eta_seconds() == 0.0


def test_queue_estimates_from_recent_durations(clock):
    runner = JobRunner(max_concurrent=2)
    finish_job(runner, clock, 10)
    finish_job(runner, clock, 30)  # the lab kind takes 20 s on average
    finish_job(runner, clock, 500, kind="replay")  # another kind does not count
    release = threading.Event()
    running = [runner.submit(f"running {n}", blocking_target(release), kind="lab") for n in range(2)]
    queued = [runner.submit(f"queued {n}", lambda context: None, kind="lab") for n in range(3)]
    clock.now += 5
    assert [job.eta_seconds() for job in running] == [15.0, 15.0]  # no progress yet: 20 s expected, 5 s gone
    with running[0]._log_lock:
        running[0].progress = 0.25  # a quarter done after 5 s: 15 s left from its own pace
    assert running[0].eta_seconds() == 15.0
    with running[1]._log_lock:
        running[1].progress = 0.5
    assert running[1].eta_seconds() == 5.0
    # Two slots free up in 5 s and 15 s; each queued run takes 20 s.
    assert [(job.starts_in_seconds(), job.eta_seconds()) for job in queued] == [(5.0, 25.0), (15.0, 35.0), (25.0, 45.0)]
    release.set()
    for job in queued:
        assert runner.wait(job, timeout=TIMEOUT)


def test_estimates_scale_with_the_cost_of_the_run(clock):
    runner = JobRunner(max_concurrent=1)
    finish_job(runner, clock, 10, cost=100.0)
    finish_job(runner, clock, 30, cost=100.0)  # 0.2 s per unit of cost
    release = threading.Event()
    running = runner.submit("big", blocking_target(release), kind="lab", cost=300.0)
    small = runner.submit("small", lambda context: None, kind="lab", cost=50.0)
    assert running.eta_seconds() == 60.0
    assert (small.starts_in_seconds(), small.eta_seconds()) == (60.0, 70.0)
    release.set()
    assert runner.wait(small, timeout=TIMEOUT)


def test_context_run_calls_the_function_with_the_stop_flag_and_callback():
    runner = JobRunner()
    seen = []

    def library_call(first, second, *, scale, context):
        context.emit(("event", first))
        return (first + second) * scale, context.stop

    job = runner.submit("call", lambda context: context.run(library_call, 1, 2, scale=10, on_event=seen.append))
    assert runner.wait(job, timeout=TIMEOUT)
    total, stop = job.result
    assert total == 30 and stop is job._stop_requested and seen == [("event", 1)]


def test_the_progress_line_is_in_the_readers_language():
    from kdlab.i18n import current_language, use_language
    from kdlab.serve.lab import STAGE_NAMES
    from kdlab.ui.progress import progress_text

    before = current_language()
    try:
        use_language("es")  # the job's message is English, shared by everyone following the run
        assert (
            progress_text(f"{STAGE_NAMES['distilled']}: step 1,200/5,000")
            == "Destilando el estudiante: paso 1.200/5.000"
        )
        assert progress_text("Preparing teacher cnn-wide ...") == "Preparando el profesor cnn-wide ..."
        assert progress_text("Finished: stopped.") == "Terminada: detenida."
        assert progress_text("Starting the table replay ...") == "Starting the table replay ..."  # not the lab's
        use_language("en")
        assert progress_text(f"{STAGE_NAMES['baseline']}: step 12/40") == f"{STAGE_NAMES['baseline']}: step 12/40"
    finally:
        use_language(before)


def test_the_page_shows_queue_position_and_estimates(clock):
    from kdlab.ui.progress import eta_text, queue_text

    runner = JobRunner(max_concurrent=1)
    release = threading.Event()
    running = runner.submit("running", blocking_target(release), kind="lab")
    queued = runner.submit("queued", lambda context: None, kind="lab")
    assert queue_text(queued).startswith("Waiting for a free trainer: number 1 in the queue (you are next).")
    assert "start in" not in queue_text(queued)  # nothing timed yet
    clock.now += 2
    assert eta_text(running) == "2 s so far, estimating the time left ..."
    with runner._lock:
        runner._durations["lab"] = collections.deque([(None, 40.0)])
    assert "It should start in about 38 s and finish in about 78 s." in queue_text(queued)
    assert eta_text(running) == "2 s so far, about 38 s left"
    release.set()
    assert runner.wait(queued, timeout=TIMEOUT)


def test_the_queue_takes_turns_between_owners():
    runner, release = JobRunner(1, one_per_owner=False), threading.Event()
    busy = runner.submit("alice's first", lambda context: release.wait(60), owner="alice")
    alice = [runner.submit(f"alice {n}", lambda context, n=n: n, owner="alice") for n in range(3)]
    bob = runner.submit("bob", lambda context: "bob", owner="bob")
    assert bob.queue_position() == 1  # alice already has a job running: bob goes next
    assert [job.queue_position() for job in alice] == [2, 3, 4]
    release.set()
    assert runner.wait(alice[-1], timeout=TIMEOUT) and bob.started_at <= min(job.started_at for job in alice)
    assert busy.status == JobStatus.COMPLETED


def test_a_finished_job_is_released_after_hold_finished_and_lives_while_someone_holds_it(clock):
    runner = JobRunner(job_ttl=600, hold_finished=60)
    held = runner.submit("held", lambda context: None)
    dropped = runner.submit("dropped", lambda context: None)
    assert runner.wait(held, timeout=TIMEOUT) and runner.wait(dropped, timeout=TIMEOUT)
    dropped_id = dropped.id
    clock.now += 61
    runner.submit("new", lambda context: None)  # prunes: both finished jobs are released
    assert held not in runner.jobs() and runner.get(held.id) is held  # a session still shows it
    del dropped
    gc.collect()
    assert runner.get(dropped_id) is None  # nobody held it: its result left memory
    clock.now += 600
    assert runner.get(held.id) is None  # job_ttl still applies
