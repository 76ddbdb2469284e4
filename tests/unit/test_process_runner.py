"""Trainings in worker processes (``kdlab.serve.process_runner``): what a call gives there is what it gives
here, bit for bit at one torch thread; events, stop and errors cross the process boundary; a killed worker
fails its job and the next job runs; the settings travel with each call; nothing is left running."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import torch

from kdlab.experiments.distill import run_distillation
from kdlab.ml.events import EvalEvent
from kdlab.serve import jobs
from kdlab.serve.process_runner import ProcessRunner
from kdlab.serve.runner import JobRunner, JobStatus
from kdlab.settings import current_settings
from tests.conftest import PROJECT_ROOT, tiny_config, wait_until


@pytest.fixture(scope="module")
def runner():
    runner = ProcessRunner(2, threads=1)
    yield runner
    pids = runner.worker_pids()
    runner.shutdown()
    assert wait_until(lambda: not any(_alive(pid) for pid in pids), timeout=30), "a worker outlived the runner"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie waits for its parent only
        return stat.read().rpartition(")")[2].split()[0] != "Z"


def _distill(context, config, data, teacher, events):
    return context.run(run_distillation, config, data, teacher=teacher, on_event=events.append)


def worker_setting(*, context):
    """A call's view of the settings, in whichever process it runs."""
    return current_settings().max_queue, os.getpid()


def slow_steps(seconds: float, *, context):
    """Emits an event every 10 ms until the context's stop flag or ``seconds``; returns how it ended and its pid."""
    deadline = time.monotonic() + seconds
    count = 0
    while time.monotonic() < deadline and not context.stopped:
        context.emit(count)
        count += 1
        time.sleep(0.01)
    return ("stopped" if context.stopped else "ran out"), count, os.getpid()


def test_a_run_in_a_worker_is_the_run_here_bit_for_bit(runner, sample_data, linear_teacher):
    config = tiny_config(epochs=2, seed=5)
    events = []
    job = runner.submit("run", lambda context: _distill(context, config, sample_data, linear_teacher, events))
    assert runner.wait(job, timeout=120) and job.status == JobStatus.COMPLETED, job.error
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # the workers' count
    try:
        here = run_distillation(config, sample_data, teacher=linear_teacher)
    finally:
        torch.set_num_threads(threads)
    there = job.result
    for kind in ("student", "baseline"):
        ours, theirs = getattr(here, kind), getattr(there, kind)
        assert torch.equal(ours.test_logits, theirs.test_logits)
        assert ours.evaluation == theirs.evaluation
        assert [event.test_accuracy for event in ours.history] == [event.test_accuracy for event in theirs.history]
    assert there.teacher is linear_teacher  # came back as a reference to the teacher here, not a copy
    curve = [event for event in events if isinstance(event, EvalEvent)]
    assert len(curve) == len(here.student.history) + len(here.baseline.history)  # every curve point arrived


def test_stop_reaches_the_call_in_the_worker(runner):
    events = []
    job = runner.submit("long", lambda context: context.run(slow_steps, 60.0, on_event=events.append))
    assert wait_until(lambda: len(events) > 5, timeout=60), "no events from the worker"
    asked = time.monotonic()
    job.request_stop()
    assert runner.wait(job, timeout=10), "the call went on after its stop"
    assert time.monotonic() - asked < 5
    how, count, pid = job.result
    assert job.status == JobStatus.STOPPED and how == "stopped" and pid != os.getpid()
    assert events == list(range(count))  # every event, in order, none after the end


def test_a_library_error_reaches_the_job_with_its_own_type(runner, sample_data, linear_teacher):
    config = tiny_config(epochs=1, train_size=10_000)  # more images than the sample has
    job = runner.submit("too big", lambda context: _distill(context, config, sample_data, linear_teacher, []))
    assert runner.wait(job, timeout=60) and job.status == JobStatus.FAILED
    assert job.error_kind == "ValueError"


def test_each_call_reads_the_settings_of_the_server_at_that_moment(runner, monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_QUEUE", "7")
    job = runner.submit("settings", lambda context: context.run(worker_setting))
    assert runner.wait(job, timeout=60) and job.result[0] == 7 and job.result[1] != os.getpid()
    monkeypatch.delenv("KDLAB_MAX_QUEUE")
    job = runner.submit("settings", lambda context: context.run(worker_setting))
    assert runner.wait(job, timeout=60) and job.result[0] == 60


def test_two_calls_run_in_two_workers_at_once(runner):
    calls = [runner.submit(f"call {n}", lambda context: context.run(slow_steps, 1.0)) for n in range(2)]
    for job in calls:
        assert runner.wait(job, timeout=60) and job.status == JobStatus.COMPLETED, job.error
    assert len({job.result[2] for job in calls}) == 2
    overlap = min(job.finished_at for job in calls) - max(job.started_at for job in calls)
    assert overlap > 0.5  # side by side, not one after the other
    assert runner.worker_cpu_seconds > 0


def test_a_failing_event_handler_here_stops_the_call_there(runner):
    def broken(event):
        raise RuntimeError("a bug in the page's handler")

    job = runner.submit("broken handler", lambda context: context.run(slow_steps, 30.0, on_event=broken))
    assert runner.wait(job, timeout=30) and job.status == JobStatus.FAILED
    started = time.monotonic()
    calls = [runner.submit(f"after {n}", lambda context: context.run(slow_steps, 0.2)) for n in range(2)]
    for call in calls:
        assert runner.wait(call, timeout=60) and call.status == JobStatus.COMPLETED, call.error
    assert time.monotonic() - started < 10  # both workers free: the broken call did not run on for 30 s


def test_a_killed_worker_fails_its_job_and_the_next_job_runs():
    runner = ProcessRunner(1)
    try:
        events = []
        job = runner.submit("doomed", lambda context: context.run(slow_steps, 60.0, on_event=events.append))
        assert wait_until(lambda: len(events) > 0, timeout=60)
        (pid,) = runner.worker_pids()
        os.kill(pid, signal.SIGKILL)  # what the kernel's out-of-memory killer does
        assert runner.wait(job, timeout=30) and job.status == JobStatus.FAILED
        assert job.error_kind == "RuntimeError" and "stopped unexpectedly" in job.error
        after = runner.submit("next", lambda context: context.run(slow_steps, 0.2))
        assert runner.wait(after, timeout=120) and after.status == JobStatus.COMPLETED, after.error
        assert after.result[2] != pid
    finally:
        runner.shutdown()


def test_the_workers_exit_when_their_server_is_killed(tmp_path):
    script = textwrap.dedent(
        """
        import sys, time
        from kdlab.serve.process_runner import ProcessRunner
        if __name__ == "__main__":
            runner = ProcessRunner(2)
            print(*runner.worker_pids(), flush=True)
            time.sleep(600)
        """
    )
    (tmp_path / "server.py").write_text(script)
    server = subprocess.Popen(
        [sys.executable, str(tmp_path / "server.py")], cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        pids = [int(pid) for pid in server.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(pid) for pid in pids)
    finally:
        server.kill()  # no clean exit: what a crash or `kill -9` leaves
        server.wait()
    assert wait_until(lambda: not any(_alive(pid) for pid in pids), timeout=30), "a worker outlived its server"


def test_the_app_trains_in_worker_processes_on_a_cpu(monkeypatch):
    monkeypatch.setattr(jobs, "_default_runner", None)
    monkeypatch.delenv("KDLAB_PROCESSES")  # the default, which the test suite turns off
    monkeypatch.setenv("KDLAB_MAX_JOBS", "1")
    chosen = jobs.default_runner()
    try:
        assert isinstance(chosen, ProcessRunner) and chosen.threads == 1
    finally:
        chosen.shutdown()
    monkeypatch.setattr(jobs, "_default_runner", None)
    monkeypatch.setenv("KDLAB_PROCESSES", "off")
    assert type(jobs.default_runner()) is JobRunner


def test_a_stop_before_the_call_starts_is_not_lost(runner):
    started = threading.Event()

    def target(context):
        started.set()
        time.sleep(0.5)  # the stop below comes before the call reaches a worker
        return context.run(slow_steps, 30.0)

    job = runner.submit("stopped early", target)
    assert started.wait(30)
    job.request_stop()
    assert runner.wait(job, timeout=15) and job.status == JobStatus.STOPPED
