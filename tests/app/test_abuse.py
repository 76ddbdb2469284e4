"""What a curious student in the room would try, each asserting that the class is unaffected."""

import collections
import dataclasses
import re
import threading

import pytest
import torch

from kdlab.classroom.classes import database_counts
from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.runs.store import MemoryRunStore
from kdlab.serve.clients import client_address
from kdlab.serve.gate import admit_replay, replay_cost
from kdlab.serve.jobs import default_runner
from kdlab.serve.lab import request_distillation, stop_lab_run
from kdlab.serve.limits import default_run_cost
from kdlab.serve.rate import RateLimit
from kdlab.serve.ray_runner import MAX_SHARED, RayRunner
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import KEEP_FINISHED, ClientBusy, JobRunner, JobStatus, OwnerBusy
from kdlab.serve.tasks import TEACHER_JOBS
from kdlab.teachers.cache import resolve_teacher
from kdlab.teachers.memory import MAX_TEACHERS_IN_MEMORY, MEMORY
from kdlab.teachers.teacher import Teacher
from kdlab.ui.pages import PAGES
from tests.app.helpers import open_alone, texts
from tests.conftest import needs_module, tiny_config

KEY = "correct-horse-battery-staple"
QUIET_TEACHERS = {"explorer.teacher": "linear", "lab.teacher": "linear"}  # seconds to train, if not cached yet


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


@pytest.mark.parametrize("page", [entry.path for entry in PAGES])
def test_the_instructor_key_leaves_the_url_on_every_page(monkeypatch, page):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    at = open_alone(page, QUIET_TEACHERS, query={"key": KEY})
    assert not at.exception, [e.value for e in at.exception]
    assert "key" not in at.query_params  # a projector shows the address bar
    assert at.session_state["kdlab.instructor"] is True  # the session remembers it was right


def test_a_short_instructor_key_stops_the_server_with_a_message(monkeypatch):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", "guessable")
    at = open_alone("pages/class_board.py", query={"key": "guessable"})
    assert not at.exception
    assert "KDLAB_INSTRUCTOR_KEY is 9 characters long; use at least 16" in texts(at.error)
    assert "guessable" not in texts(at.error)


def test_wrong_guesses_are_limited_per_session_and_per_address(monkeypatch):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    at = open_alone("pages/class_board.py")
    for guess in range(5):  # a student tries keys in the board's password field
        at.text_input(key="board.sign_in.key").input(f"guess-number-{guess}-of-many")
        at.button(key="board.sign_in.submit").click().run()
        assert "not the one set on this server" in texts(at.warning)
    at.text_input(key="board.sign_in.key").input(KEY)
    at.button(key="board.sign_in.submit").click().run()
    assert "Too many wrong instructor keys" in texts(at.warning)  # even the right key waits now
    assert not at.session_state["kdlab.instructor"]

    monkeypatch.setattr("kdlab.ui.client.client_address", lambda: "203.0.113.7")
    for guess in range(5):  # new tabs from one machine share its address's limit
        open_alone("pages/home.py", query={"key": f"guess-number-{guess}-from-tabs"})
    blocked = open_alone("pages/class_board.py", query={"key": KEY})
    assert "Too many wrong instructor keys" in texts(blocked.warning) and "key" not in blocked.query_params
    monkeypatch.setattr("kdlab.ui.client.client_address", lambda: "203.0.113.8")
    assert open_alone("pages/class_board.py", query={"key": KEY}).session_state["kdlab.instructor"]


def test_a_crafted_teacher_in_a_link_is_shown_escaped():
    crafted = "![x](https://evil.example/x.png)"  # an image on the trusted host
    at = open_alone("pages/dark_knowledge.py", query={"explorer.teacher": crafted})
    assert not at.exception
    message = texts(at.error)
    assert "**Teacher `![x](https://evil" in message  # the value itself in a code span
    outside_code = re.sub(r"`[^`]*`", "", message)
    assert not re.search(r"(?<!\\)\]\(|(?<!\\)!\[", outside_code)  # no link or image outside it
    assert "\\!\\[x\\]\\(https\\:" in outside_code  # the quoted name, escaped in the explanation


def test_the_instructor_signs_in_with_the_password_field(monkeypatch):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    at = open_alone("pages/class_board.py")
    assert at.text_input(key="board.sign_in.key").proto.type == at.text_input(key="board.sign_in.key").proto.PASSWORD
    at.text_input(key="board.sign_in.key").input(KEY)
    at.button(key="board.sign_in.submit").click().run()
    assert any(expander.label == "Instructor" for expander in at.expander)


@pytest.mark.parametrize(
    ("page", "slot"), [("pages/training_schemes.py", "schemes"), ("pages/paper_replays.py", "replay.table")]
)
def test_a_failed_job_shows_no_server_path(page, slot):
    def broken(context):
        raise FileNotFoundError("[Errno 2] No such file: '/srv/kdlab/cache/teachers/cnn.pt'")

    job = default_runner().submit("broken", broken)
    assert default_runner().wait(job, timeout=30) and job.status == JobStatus.FAILED
    at = open_alone(page, {f"kdlab.job.{slot}": job.id})
    assert not at.exception
    shown = texts(at.error)
    assert "FileNotFoundError" in shown and "/srv" not in shown


def student_count() -> int:
    return database_counts(open_database())["students"]


def test_visits_that_do_nothing_write_nothing():
    before = student_count()
    for page in [entry.path for entry in PAGES] + ["pages/home.py"] * 4:  # new tabs, reloads, every page
        assert not open_alone(page, QUIET_TEACHERS).exception
    assert student_count() == before


def test_new_students_are_limited_per_client_address(monkeypatch):
    monkeypatch.setattr("kdlab.serve.rate.NEW_STUDENTS_PER_ADDRESS", RateLimit(2, 3600.0))
    monkeypatch.setattr("kdlab.ui.client.client_address", lambda: "198.51.100.4")
    link = {"teacher": "linear", "student": "mlp-10x1", "epochs": "1", "train_size": "500", "seed": "61"}
    before, tabs = student_count(), []
    for _ in range(3):  # three private tabs from one machine press Train
        at = open_alone("pages/distillation_lab.py", query=link)
        tabs.append(at.button(key="lab.train").click().run())
    assert student_count() == before + 2
    assert "Too many new students from this address" in texts(tabs[2].error) and "s" not in tabs[2].query_params
    assert all(len(tab.query_params["s"]) >= 22 for tab in tabs[:2])
    for job in default_runner().jobs():
        assert default_runner().wait(job, timeout=120)


def test_forged_explorer_links_queue_one_teacher_per_student(monkeypatch):
    runner, release = JobRunner(1), threading.Event()
    runner.submit("another student's run", lambda context: release.wait(60), owner="student:other")
    monkeypatch.setattr("kdlab.ui.resources.default_runner", lambda: runner)
    try:
        _, token = new_student()
        at = open_alone("pages/dark_knowledge.py", query={"explorer.teacher": "mlp-37x1"}, student=token)
        assert "Training the teacher mlp-37x1" in texts(at.info)
        for forged in ("mlp-38x1", "mlp-0039x1"):  # more links, each in a new tab of the same student
            tab = open_alone("pages/dark_knowledge.py", query={"explorer.teacher": forged}, student=token)
            assert not tab.exception
            assert "cannot be trained now" in texts(tab.error) and "already have a run" in texts(tab.error)
        assert [job.name for job in runner.jobs() if not job.is_finished] == [
            "another student's run",
            "Teacher mlp-37x1",
        ]
    finally:
        release.set()
        for job in runner.jobs():
            job.request_stop()
            runner.wait(job, timeout=60)


def heavy_parts(value, seen=None) -> list[str]:
    """What in ``value`` (walking dataclasses, dicts, lists) holds tensors, modules or weights bytes."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return []
    seen.add(id(value))
    if isinstance(value, torch.Tensor | torch.nn.Module) or (isinstance(value, bytes) and len(value) > 1024):
        return [type(value).__name__]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        children = [getattr(value, item.name) for item in dataclasses.fields(value)]
    elif isinstance(value, dict):
        children = list(value.values())
    elif isinstance(value, list | tuple | set):
        children = list(value)
    else:
        return []
    return [part for child in children for part in heavy_parts(child, seen)]


def test_sixty_tabs_from_one_address_queue_no_more_than_its_limit(sample_data, linear_teacher):
    runner, release = JobRunner(1, max_per_client=5), threading.Event()
    runner.submit("a run from another network", lambda context: release.wait(60), owner="student:other")
    refused = 0
    try:
        for tab in range(60):  # sixty private tabs of one machine: sixty students to every other rule
            request = TrainRequest.build(tiny_config(seed=100 + tab), sample_data)  # no two runs alike
            try:
                request_distillation(
                    runner, request, sample_data, MemoryRunStore(), owner=f"tab:{tab}", client="198.51.100.9"
                )
            except ClientBusy as error:
                refused += 1
                assert "as many runs queued or running as one network may (5)" in str(error)
        mine = [job for job in runner.jobs() if job.client == "198.51.100.9" and not job.is_finished]
        assert len(mine) == 5 and refused == 55
        other = request_distillation(  # a student elsewhere still finds room in the queue
            runner, TrainRequest.build(tiny_config(seed=99), sample_data), sample_data, MemoryRunStore(), owner="b"
        )
        assert other.how == "trained" and runner.queued_count() == 6
    finally:
        release.set()
        for job in runner.jobs():
            job.request_stop()
            runner.wait(job, timeout=60)


def test_the_lab_page_passes_the_address_to_the_limit(monkeypatch, sample_data, linear_teacher):
    runner, release = JobRunner(1, max_per_client=1), threading.Event()
    runner.submit("a run from another network", lambda context: release.wait(60), owner="student:other")
    monkeypatch.setattr("kdlab.ui.lab_run.default_runner", lambda: runner)
    monkeypatch.setattr("kdlab.ui.lab_run.client_address", lambda: "198.51.100.10")
    try:
        tabs = []
        for seed in (71, 72):  # two private tabs of one machine, different runs
            link = {"teacher": "linear", "student": "mlp-10x1", "epochs": "1", "train_size": "500", "seed": str(seed)}
            at = open_alone("pages/distillation_lab.py", query=link)
            tabs.append(at.button(key="lab.train").click().run())
        assert not tabs[0].exception and not texts(tabs[0].error)
        assert "as many runs queued or running as one network may (1)" in texts(tabs[1].error)
        assert [job.client for job in runner.jobs() if not job.is_finished] == [None, "198.51.100.10"]
    finally:
        release.set()
        for job in runner.jobs():
            job.request_stop()
            runner.wait(job, timeout=60)


def test_a_forged_proxy_header_is_ignored_unless_the_instructor_trusts_one(monkeypatch):
    forged = ["203.0.113.66"]  # what a student's browser can send as X-Forwarded-For
    assert client_address("198.51.100.20", forged) == "198.51.100.20"  # no trusted header: the connection's
    monkeypatch.setenv("KDLAB_TRUSTED_PROXY_HEADER", "X-Forwarded-For")
    # behind the proxy: the browser's forged entries first, the proxy's own (what it saw) right-most
    assert client_address("10.0.0.2", ["203.0.113.66, 198.51.100.21"]) == "198.51.100.21"
    assert client_address("10.0.0.2", ["203.0.113.66", "198.51.100.22"]) == "198.51.100.22"
    assert client_address("10.0.0.2", []) == "10.0.0.2"


def test_a_replay_goes_through_the_gate_and_its_cap(monkeypatch, sample_data):
    runner = JobRunner(1)
    monkeypatch.setattr("kdlab.ui.replays_page.default_runner", lambda: runner)
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)  # a classroom server: students are capped
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "0.01x")
    at = open_alone("pages/paper_replays.py", query={"replay.tab": "Decoupled KD"})
    at.button(key="replay.decoupled.run").click().run()
    assert not at.exception
    assert "too big for the shared server" in texts(at.error) and runner.jobs() == []
    release = threading.Event()
    lab_run = runner.submit("alice's lab run", lambda context: release.wait(60), owner="student:alice")
    try:
        with pytest.raises(OwnerBusy):  # one job per student, whatever the page: uncapped too
            admit_replay(runner, "decoupled", "quick", sample_data, owner="student:alice", capped=False)
    finally:
        release.set()
    assert runner.wait(lab_run, timeout=60) and [job.name for job in runner.jobs()] == ["alice's lab run"]


def test_the_lessons_quick_replays_fit_the_default_cap(full_data):
    unit = default_run_cost()
    costs = {name: replay_cost(name, "quick", full_data) / unit for name in ("omit-3", "decoupled")}  # the lessons'
    assert all(cost <= 20 for cost in costs.values()), costs
    assert replay_cost("table", "quick", full_data) / unit > 20  # the instructor's, on the projector


def test_many_finished_jobs_leave_the_server_memory_bounded(sample_data, linear_teacher, tmp_path):
    runner = JobRunner(2)
    for index in range(3):  # tiny real trainings, filed for their students
        ticket = request_distillation(
            runner, TrainRequest.build(tiny_config(seed=200 + index), sample_data), sample_data, MemoryRunStore()
        )
        assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED
        assert ticket.job.result.filed == [ticket.run_id]
        assert heavy_parts(ticket.job.result) == []  # the record (and its weights) is in the store only
    teacher_job = TEACHER_JOBS.start(runner, "mlp-11x1", sample_data, tmp_path)
    assert runner.wait(teacher_job, timeout=120) and teacher_job.result.status == "completed"
    assert heavy_parts(teacher_job.result) == []  # the teacher is on disk and in the bounded teacher memory
    for index in range(KEEP_FINISHED + 80):  # fake jobs through the real runner, each with a payload
        runner.wait(runner.submit(f"job {index}", lambda context: torch.zeros(1000)), timeout=30)
    assert len(runner.jobs()) <= KEEP_FINISHED + 1  # pruned on each submit: the newest finished since then
    for width in range(12, 12 + MAX_TEACHERS_IN_MEMORY + 3):
        resolve_teacher(f"mlp-{width}x1", sample_data, epochs=1)
    assert len(MEMORY._teachers) <= MAX_TEACHERS_IN_MEMORY and not MEMORY._locks


@pytest.mark.ray
def test_the_ray_runner_pins_a_bounded_number_of_objects(monkeypatch, sample_data, linear_teacher):
    ray = needs_module("ray")
    monkeypatch.setattr(ray, "put", lambda value: f"ref-{id(value)}")  # no cluster needed to count pins
    runner = RayRunner.__new__(RayRunner)  # share() alone: no connection
    runner.shared_types, runner._shared, runner._shared_lock = (Teacher,), collections.OrderedDict(), threading.Lock()
    teachers = [dataclasses.replace(linear_teacher) for _ in range(MAX_SHARED + 10)]  # a teacher per page visit
    for teacher in teachers:
        runner.share(teacher)
    assert runner.shared_count == MAX_SHARED
    assert runner.share(teachers[-1]) == f"ref-{id(teachers[-1])}"  # the newest stay shared


def test_a_thousand_cache_hits_store_the_weights_once(sample_data, linear_teacher):
    database = open_database()
    runner, request = JobRunner(1), TrainRequest.build(tiny_config(seed=71), sample_data)
    first, _ = new_student()
    ticket = request_distillation(runner, request, sample_data, first, teacher=linear_teacher)
    assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED, ticket.job.error
    trained, before = first.get(ticket.run_id), stored_weights(database)
    for _ in range(1000):  # a thousand students (or tabs) press Train on a run done before
        store, _ = new_student()
        assert request_distillation(runner, request, sample_data, store, teacher=linear_teacher).how == "cache"
    assert stored_weights(database) == before  # the blobs of the trained run, no copy more
    copy = store.latest()
    assert copy.student_weights == trained.student_weights and copy.baseline_weights == trained.baseline_weights
    assert len(runner.jobs()) == 1


def stored_weights(database) -> tuple[int, int]:
    """(weights blobs, their bytes)."""
    from sqlalchemy import func, select

    from kdlab.db.database import weight_blobs

    with database.read() as connection:
        return tuple(connection.execute(select(func.count(), func.sum(weight_blobs.c.size))).one())


def test_a_student_at_the_run_cap_reads_why_train_does_nothing(monkeypatch, sample_data, linear_teacher):
    store, token = new_student()
    runner = JobRunner(1)
    for seed in (72, 73):
        request = TrainRequest.build(tiny_config(seed=seed), sample_data)
        ticket = request_distillation(runner, request, sample_data, store, teacher=linear_teacher)
        assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED, ticket.job.error
    monkeypatch.setenv("KDLAB_MAX_RUNS_PER_STUDENT", "2")
    link = {"teacher": "linear", "student": "mlp-10x1", "epochs": "1", "train_size": "500", "seed": "62"}
    at = open_alone("pages/distillation_lab.py", QUIET_TEACHERS, link, student=token)
    at.button(key="lab.train").click().run()
    assert not at.exception
    assert "You have 2 runs saved, the most this server keeps for one student" in texts(at.error)
    assert len(store.records()) == 2
