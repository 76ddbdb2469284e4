"""What a curious student in the room would try, each asserting that the class is unaffected."""

from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.serve.jobs import default_runner
from kdlab.serve.lab import TrainRequest, request_distillation, stop_lab_run
from kdlab.serve.runner import JobStatus
from tests.app.helpers import open_alone
from tests.conftest import tiny_config


def new_student() -> tuple[DatabaseRunStore, str]:
    database = open_database()  # the app's own database (in the tests' private cache dir)
    student, token = create_student(database)
    return DatabaseRunStore(database, student.id), token


def test_a_followers_stop_on_the_runs_page_leaves_and_the_run_goes_on(sample_data, linear_teacher):
    (alice, _), (bob, bob_token) = new_student(), new_student()
    config = tiny_config(epochs=50, train_size=4000, batch_size=16)  # long enough to be live while bob looks
    runner = default_runner()
    first = request_distillation(runner, TrainRequest.build(config, sample_data), sample_data, alice)
    second = request_distillation(runner, TrainRequest.build(config, sample_data), sample_data, bob)
    assert second.how == "joined" and second.job is first.job
    try:
        assert stop_lab_run(first.job, "not-a-follower") == "left"  # a forged or stale run id stops nothing
        at = open_alone("pages/runs.py", {"kdlab.job.lab": first.job.id}, student=bob_token)  # as after the lab
        stop = at.button(key="runs.progress.stop")
        stop.click().run()
        assert not at.exception
        assert not first.job._stop_requested.is_set()  # bob left; alice's run trains on
        assert first.job.status in (JobStatus.QUEUED, JobStatus.RUNNING)
    finally:
        assert stop_lab_run(first.job, first.run_id) == "stop"  # alice, the last follower, may stop it
        assert runner.wait(first.job, timeout=120)
    assert alice.get(first.run_id).status == "stopped" and bob.records() == []
