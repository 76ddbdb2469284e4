"""The README's quick start, walked in order on a keyed server (``KDLAB_INSTRUCTOR_KEY`` set): prepare, the
app's pages, the instructor signs in and opens the class, the Lessons page shares a link (the server's network
address, never localhost, with a QR code), a student follows it and the run reaches the class board. And the
order a hurried class takes: the link first, the class opened later, and the run still reaches the board.

A one-lesson folder (``KDLAB_LESSONS_DIR``) keeps it cheap: its link trains a linear teacher's mlp-10x1 student
for one epoch on 500 images, and prepare is cut to that lesson's teacher and run (as tests/unit/test_prepare.py
does), where a real class's prepare trains the pages' teachers for minutes.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, urlsplit

import pytest

from kdlab.classroom import prepare as prepare_module
from kdlab.classroom.classes import find_class
from kdlab.cli import main
from kdlab.db.database import open_database
from tests.app.helpers import open_alone, open_page, run_until, texts

KEY = "a-quick-start-instructor-key"
SERVER = "http://192.168.1.20:8501"  # the machine's network address, as the server finds it
LESSONS, LAB, BOARD = "pages/lessons.py", "pages/distillation_lab.py", "pages/class_board.py"
LESSON = """+++
title = "Quick start"
minutes = 5
goal = "See a run reach the class board."
prediction = "Will the distilled student make fewer test errors than the same student trained alone?"
discuss = "Did it?"
notice = "The board shows every run of the class."

[[steps]]
text = "Predict, then press Train."
page = "lab"
params = { teacher = "linear", student = "mlp-10x1", epochs = 1, train_size = 500, seed = 3, lock = "all", predict = 1 }

[[steps]]
text = "Open the class board."
page = "board"
+++
Notes for the teacher.
"""


@pytest.fixture
def keyed_server(monkeypatch, tmp_path):
    """A fresh server with an instructor key: its own cache and database, one lesson, a network address."""
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("KDLAB_DATABASE_URL", raising=False)
    monkeypatch.delenv("KDLAB_PUBLIC_URL", raising=False)
    (tmp_path / "lessons").mkdir()
    (tmp_path / "lessons" / "1-quick-start.md").write_text(LESSON)
    monkeypatch.setenv("KDLAB_LESSONS_DIR", str(tmp_path / "lessons"))
    monkeypatch.setattr("kdlab.ui.sharing.network_address", lambda: SERVER.split("//")[1].split(":")[0])
    teachers, runs = prepare_module.default_teachers, prepare_module.lab_runs
    monkeypatch.setattr(
        prepare_module,
        "default_teachers",
        lambda data, replays=True: [
            need for need in teachers(data, replays=False) if "lesson 1-quick-start" in need.users
        ],
    )
    monkeypatch.setattr(
        prepare_module, "lab_runs", lambda data: {c: who for c, who in runs(data).items() if who != "the default demo"}
    )


def sign_in_and_open(code: str) -> None:
    """The instructor on the class board: signs in with the password field, then opens ``code``."""
    board = open_alone(BOARD, query={"class": code})
    board.text_input(key="board.sign_in.key").input(KEY)
    board.button(key="board.sign_in.submit").click().run()
    board.text_input(key="board.instructor.code").input(code)
    board.text_input(key="board.instructor.title").input("Physics, second period")
    board.button(key="board.instructor.submit").click().run()
    assert not board.exception, [e.value for e in board.exception]
    assert find_class(open_database(), code).is_open


def lesson_link(code: str) -> tuple[str, object]:
    """The Lessons page with ``code`` typed in: the lesson's lab link for a slide, and the page."""
    lessons = open_alone(LESSONS)
    lessons.text_input(key="lessons.class").input(code).run()
    assert not lessons.exception, [e.value for e in lessons.exception]
    links = [element.value for element in lessons.code]
    lab_links = [link for link in links if "/distillation_lab?" in link]
    assert len(lab_links) == 1 and all(link.startswith(SERVER + "/") for link in links)  # never localhost
    qr_codes = [element for element in lessons.get("html") if 'alt="QR code of ' in element.proto.body]
    assert len(qr_codes) >= len(links) + 1  # a QR code of each link and of the address, named for a screen reader
    return lab_links[0], lessons


def follow(link: str):
    """A student's browser opening ``link``."""
    assert link.startswith(SERVER)
    return open_alone(LAB, query=dict(parse_qsl(urlsplit(link).query)))


def predict_and_train(student, run: int):
    student.radio(key=f"lab.predict.fewer.{run - 1}").set_value("Yes, fewer errors").run()
    student.button(key="lab.train").click().run()
    return run_until(student, lambda at: f"Result of run {run}" in texts(at.subheader), timeout=180)


def board_summary(code: str, expect: str = "") -> tuple[str, list[str]]:
    """The class board's headline and its runs' sources, once it shows ``expect`` (boards opened within 2 s share
    one reading, so a run filed just after the instructor's board was drawn shows at a refresh)."""
    board = open_alone(BOARD, query={"class": code})
    run_until(board, lambda at: expect in texts(at.markdown), timeout=30)
    assert not board.exception, [e.value for e in board.exception]
    runs = [] if not board.dataframe else list(board.dataframe[-1].value.get("source", []))
    return texts(board.markdown), runs


def test_the_quick_start_in_order_puts_a_students_run_on_the_board(keyed_server, capsys):
    # 1. prepare, before the students arrive (offline here: the sample; the teacher and the lesson's run)
    assert main(["prepare", "--skip-replays", "--json"]) == 0
    checklist = json.loads(capsys.readouterr().out)
    statuses = {step["name"]: step["status"] for step in checklist["steps"]}
    assert statuses["data"] == "already done" and statuses["result cache"] == "done"
    assert [name for name in statuses if name.startswith("teacher linear")]

    # 2. the server: every page of the app opens, with its sidebar, on the keyed server
    home = open_page()
    assert not home.exception, [e.value for e in home.exception]

    # 3. the Lessons page says where students go; the class is not open yet, and it says so
    lessons = open_alone(LESSONS)
    assert f"**Students open** `{SERVER}`" in texts(lessons.markdown)
    lessons.text_input(key="lessons.class").input("phys-7").run()
    assert "Class PHYS-7 is not open yet." in texts(lessons.warning)

    # 4. the instructor signs in on the board and opens the class
    sign_in_and_open("PHYS-7")

    # 5. the Lessons page's link, shared; a student follows it and their run reaches the board
    link, lessons = lesson_link("phys-7")
    assert "Class PHYS-7 is open" in texts(lessons.caption) and not lessons.warning
    assert "class=PHYS-7" in link and "predict=1" in link
    student = follow(link)
    assert not student.warning, texts(student.warning)
    assert "Your runs count for class **PHYS-7**" in texts(student.markdown)
    predict_and_train(student, 1)
    _, sources = board_summary("PHYS-7", "1 run by 1 student")
    assert sources == ["cache"]  # prepare's run, served at once


def test_a_link_followed_before_the_class_opens_still_reaches_the_board(keyed_server):
    link, lessons = lesson_link("phys-8")
    assert "Class PHYS-8 is not open yet." in texts(lessons.warning)
    student = follow(link)  # the students are faster than the instructor
    warning = texts(student.warning)
    assert "Class PHYS-8 is not open on this server yet" in warning and "nothing to reload" in warning
    assert "will count for class **PHYS-8** once your teacher opens it" in texts(student.markdown)
    predict_and_train(student, 1)  # a run before the class opens stays the student's own
    assert board_summary("PHYS-8")[1] == []

    sign_in_and_open("PHYS-8")
    # The same session, no reload: the prediction's rerun (a browser reruns on every click) joins the class.
    student.radio(key="lab.predict.fewer.1").set_value("No, as many or more").run()
    assert "Class PHYS-8 is open now" in texts(student.success)
    assert "Your runs count for class **PHYS-8**" in texts(student.markdown)
    student.button(key="lab.train").click().run()
    run_until(student, lambda at: "Result of run 2" in texts(at.subheader), timeout=180)
    _, sources = board_summary("PHYS-8", "1 run by 1 student")
    assert len(sources) == 1
