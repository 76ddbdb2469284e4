"""What one person (or one script) in the room would try against the limits the class shares: tabs from one
machine, a forged proxy header, a flood of cached runs, made-up class codes, wrong instructor keys. Each test
does it and checks that the class loses nothing."""

import collections
import logging
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kdlab.classroom.classes import class_for_link, class_runs, database_counts
from kdlab.cli import main
from kdlab.db.database import open_database
from kdlab.runs.store import RunLimitReached
from kdlab.serve import clients
from kdlab.serve.jobs import local_runner, runner_settings
from kdlab.serve.lab import request_distillation
from kdlab.serve.rate import NEW_STUDENTS_PER_ADDRESS
from kdlab.serve.request import TrainRequest
from kdlab.serve.runner import JobRunner, JobStatus
from tests.app.helpers import open_alone, texts
from tests.app.test_abuse import KEY, new_student
from tests.conftest import PROJECT_ROOT, tiny_config


def stop_all(runner: JobRunner, release: threading.Event) -> None:
    release.set()
    for job in runner.jobs():
        job.request_stop()
        runner.wait(job, timeout=60)


def test_tabs_from_this_machine_are_one_client_not_no_limit(monkeypatch, caplog, sample_data, linear_teacher):
    runner, release = JobRunner(1, max_per_client=1), threading.Event()
    runner.submit("a run from another network", lambda context: release.wait(60), owner="student:other")
    monkeypatch.setattr("kdlab.ui.lab_run.default_runner", lambda: runner)
    monkeypatch.setattr(clients, "_warned", threading.Event(), raising=False)  # as in a new server process
    try:
        tabs = []
        with caplog.at_level(logging.WARNING, logger="kdlab.serve.clients"):
            for seed in (73, 74):  # two private tabs on localhost (Streamlit gives no address), different runs
                link = {"teacher": "linear", "student": "mlp-10x1", "epochs": "1", "train_size": "500"}
                at = open_alone("pages/distillation_lab.py", query={**link, "seed": str(seed)})
                tabs.append(at.button(key="lab.train").click().run())
        assert not tabs[0].exception and not texts(tabs[0].error)
        assert "as many runs queued or running as one network may (1)" in texts(tabs[1].error)
        warnings = [record for record in caplog.records if "without a client address" in record.getMessage()]
        assert len(warnings) == 1 and "KDLAB_TRUSTED_PROXY_HEADER" in warnings[0].getMessage()
    finally:
        stop_all(runner, release)


class Upstream(BaseHTTPRequestHandler):
    """A replica that records the forwarding headers the proxy passed on."""

    seen: list = []

    def do_GET(self):
        self.seen.append((self.headers.get_all("X-Forwarded-For"), self.headers.get("X-Real-IP")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def through_nginx(port: int, source: str) -> bytes:
    """A request from ``source`` (a laptop's address) with a forged X-Forwarded-For and X-Real-IP."""
    forged = b"X-Forwarded-For: 203.0.113.66\r\nX-Real-IP: 203.0.113.66\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0)) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: kdlab\r\n" + forged + b"Connection: close\r\n\r\n")
        return b"".join(iter(lambda: connection.recv(4096), b""))


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_the_proxy_replaces_a_forged_forwarded_header_with_the_address_it_saw(monkeypatch):
    Upstream.seen = []
    replicas = [ThreadingHTTPServer(("127.0.0.1", 0), Upstream) for _ in range(2)]
    for replica in replicas:
        threading.Thread(target=replica.serve_forever, daemon=True).start()
    prefix = Path(tempfile.mkdtemp(prefix="kdlab-nginx-"))  # not pytest's 0700 folder: nginx's workers read it
    prefix.chmod(0o755)
    port, template = free_port(), (PROJECT_ROOT / "deploy" / "nginx.conf.template").read_text()
    for name, value in {"PREFIX": prefix, "PORT": port, "REPLICA_1": replicas[0].server_port}.items():
        template = template.replace(f"@{name}@", str(value))
    (prefix / "nginx.conf").write_text(template.replace("@REPLICA_2@", str(replicas[1].server_port)))
    nginx = ["nginx", "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e", str(prefix / "error.log")]
    subprocess.run(nginx, check=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not (prefix / "nginx.pid").exists():
            time.sleep(0.05)
        answers = [through_nginx(port, source) for source in ("127.0.0.2", "127.0.0.3")]  # two laptops
    finally:
        subprocess.run([*nginx, "-s", "stop"], check=False)
        for replica in replicas:
            replica.shutdown()
        shutil.rmtree(prefix, ignore_errors=True)
    assert all(answer.startswith(b"HTTP/1.1 200") for answer in answers), answers
    assert Upstream.seen == [(["127.0.0.2"], "127.0.0.2"), (["127.0.0.3"], "127.0.0.3")]  # the forged value gone
    monkeypatch.setenv("KDLAB_TRUSTED_PROXY_HEADER", "X-Forwarded-For")  # as deploy/rehearse.sh sets it
    # The app sees the proxy's loopback connection (Streamlit: no address) and reads the header.
    assert [clients.client_address(None, forwarded) for forwarded, _ in Upstream.seen] == ["127.0.0.2", "127.0.0.3"]


def test_tabs_without_a_student_code_share_a_few_jobs_per_address(monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_JOBS", "1")
    monkeypatch.setenv("KDLAB_MAX_VISITOR_JOBS_PER_CLIENT", "2")
    runner, release = local_runner(runner_settings()), threading.Event()
    runner.submit("another network's run", lambda context: release.wait(60), owner="student:other")
    monkeypatch.setattr("kdlab.ui.schemes_page.default_runner", lambda: runner)
    try:
        tabs = []
        for _ in range(3):  # three tabs of one machine, no student code, each starts a scheme comparison
            at = open_alone("pages/training_schemes.py")
            at.selectbox(key="schemes.teacher").select("linear")
            compare = next(button for button in at.button if button.label.startswith("Compare the schemes"))
            tabs.append(compare.click().run())
        assert not any(tab.exception for tab in tabs)
        assert not texts(tabs[0].error) and not texts(tabs[1].error)
        refused = texts(tabs[2].error)
        assert "from pages opened without a student code" in refused and "wait for one to finish" in refused
        assert [job.name for job in runner.jobs() if not job.is_finished] == ["another network's run"] + [
            "Training schemes"
        ] * 2
    finally:
        stop_all(runner, release)


def test_sixty_tabs_of_one_laptop_take_one_turn_between_everyone_elses():
    runner, release = JobRunner(1, max_per_client=60), threading.Event()
    runner.submit("running", lambda context: release.wait(60), owner="student:first", client="198.51.100.1")
    try:
        for tab in range(20):  # one laptop's tabs queue first
            runner.submit(f"tab {tab}", lambda context: None, owner=f"tab:{tab}", client="203.0.113.5")
        classmates = [
            runner.submit(f"classmate {n}", lambda context: None, owner=f"student:{n}", client=f"198.51.100.{10 + n}")
            for n in range(3)
        ]
        assert [job.queue_position() for job in classmates] == [2, 3, 4]  # one of the laptop's, then theirs
    finally:
        stop_all(runner, release)


def test_a_script_pressing_train_on_a_cached_run_leaves_room_on_the_board(monkeypatch, sample_data, linear_teacher):
    monkeypatch.setenv("KDLAB_MAX_RUNS_PER_CLASS", "150")
    database, runner = open_database(), JobRunner(1)
    class_for_link(database, "FLOOD-1", create=True)
    request = TrainRequest.build(tiny_config(seed=91), sample_data, class_code="FLOOD-1")
    first, _ = new_student()
    ticket = request_distillation(runner, request, sample_data, first, teacher=linear_teacher, client="198.51.100.60")
    assert runner.wait(ticket.job, timeout=120) and ticket.job.status == JobStatus.COMPLETED, ticket.job.error
    filed, made, refusals, store = 0, 0, collections.Counter(), None
    for _ in range(400):  # one machine, as fast as it can: Train on the cached run, a new student when refused
        if store is None:
            if made == NEW_STUDENTS_PER_ADDRESS.limit:  # as many new students as the page allows one address
                break
            (store, _), made = new_student(), made + 1
        try:
            answer = request_distillation(
                runner, request, sample_data, store, teacher=linear_teacher, client="203.0.113.77"
            )
            filed += answer.how == "cache"
        except RunLimitReached as error:
            refusals[str(error).split(":")[0]] += 1
            store = None
    assert filed <= 60, (filed, refusals)  # KDLAB_MAX_RUNS_PER_CLIENT_PER_MINUTE
    assert "Your network started 60 runs in the last minute, the most one network may" in refusals
    classmate, _ = new_student()  # another laptop of the class presses Train
    late = request_distillation(runner, request, sample_data, classmate, teacher=linear_teacher, client="198.51.100.61")
    assert late.how == "cache" and classmate.latest().run_id == late.run_id
    assert len(class_runs(database, "FLOOD-1")) == filed + 2


def test_links_from_one_address_create_a_few_classes_an_hour(monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_CLASSES_PER_CLIENT", "2")
    before = database_counts(open_database())["classes"]
    tabs = [open_alone("pages/distillation_lab.py", query={"class": f"SPAM-{n}"}) for n in range(3)]  # made-up codes
    assert not any(tab.exception for tab in tabs)
    assert database_counts(open_database())["classes"] == before + 2
    refused = texts(tabs[2].warning)
    assert "Class SPAM-2 was not created" in refused and "check the code with your teacher" in refused
    assert "SPAM-1" in texts(tabs[1].markdown)  # the second still counts for its class


def test_the_instructor_signs_in_with_a_one_time_link_after_students_locked_the_field(monkeypatch, capsys):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    monkeypatch.setattr("kdlab.ui.client.client_address", lambda: "198.51.100.80")  # the school's one address
    for guess in range(5):  # students try keys in links, each in a new tab
        open_alone("pages/home.py", query={"key": f"a-students-guess-number-{guess}"})
    locked = open_alone("pages/class_board.py", query={"key": KEY})
    assert "Too many wrong instructor keys" in texts(locked.warning) and "instructor-link" in texts(locked.warning)
    assert main(["instructor-link", "--url", "http://kdlab.school.example/"]) == 0  # on the server
    url = capsys.readouterr().out.strip()
    assert url.startswith("http://kdlab.school.example/class_board?signin=")
    token = url.partition("signin=")[2]
    board = open_alone("pages/class_board.py", query={"signin": token})
    assert not board.exception and "signin" not in board.query_params  # a projector shows the address bar
    assert board.session_state["kdlab.instructor"] is True
    assert any(expander.label == "Instructor" for expander in board.expander)
    again = open_alone("pages/class_board.py", query={"signin": token})  # the link again, from the history
    assert "used already" in texts(again.warning) and not any(e.label == "Instructor" for e in again.expander)
    forged = open_alone("pages/class_board.py", query={"signin": f"{10**11}.0123456789abcdef.{'0' * 32}"})
    assert "not one of this server's" in texts(forged.warning)
