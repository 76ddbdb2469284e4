"""Hostile inputs a student in the room could send, each checked the way they would send it: a long link, a
classmate's link, a forged widget value. Each asserts what the class would lose today, and that it is not lost."""

from __future__ import annotations

import time
import tracemalloc

from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.ui import session
from tests.app.helpers import open_alone, run_until, texts

QUIET = {"lab.teacher": "linear"}


def test_the_longest_lock_link_shows_a_few_warnings_in_bounded_time_and_memory():
    # Streamlit ignores a query string over 512 Ki characters (or 1,000 parameters): this one is just under,
    # its commas sent as %2C, and named 50,000 unknown settings, a warning each.
    lock = ",".join(f"x{index:05d}" for index in range(50_000))
    tracemalloc.start()
    started = time.perf_counter()
    at = open_alone("pages/distillation_lab.py", QUIET, query={"lock": lock, "T": "8"})
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert not at.exception
    warnings = [element.value for element in at.warning]
    assert 1 <= len(warnings) <= 4, len(warnings)  # was 50,000 warnings
    assert any("longer than 200 characters" in warning for warning in warnings)
    assert at.select_slider(key="lab.temperature").value == 8.0  # the rest of the link still works
    assert len(at.session_state["lab.link.query"]["lock"]) <= 201  # the session keeps no 2 MB copy
    assert seconds < 60 and peak < 200 * 2**20, (seconds, peak)


def students() -> tuple[tuple[DatabaseRunStore, str], tuple[DatabaseRunStore, str]]:
    database = open_database()
    made = [create_student(database) for _ in range(2)]
    return tuple((DatabaseRunStore(database, student.id), token) for student, token in made)


def test_a_classmates_posted_link_does_not_file_my_runs_under_their_code():
    (mine, my_token), (theirs, their_token) = students()
    at = open_alone("pages/distillation_lab.py", QUIET, student=my_token)
    at.query_params["s"] = their_token  # the classmate's link, pasted in the chat, opened in my tab
    at.run()
    assert not at.exception
    assert "another student code than yours" in texts(at.warning)
    assert at.query_params["s"] == my_token and at.session_state[session.TOKEN_KEY] == my_token
    at.slider(key="lab.epochs").set_value(1)
    at.select_slider(key="lab.train_size").set_value(500)
    at.number_input(key="lab.seed").set_value(41)
    at.run()
    at.button(key="lab.train").click().run()
    run_until(at, lambda at: "Result of run 1" in texts(at.subheader))
    assert len(mine.records()) == 1 and theirs.records() == []  # filed under my code, not the classmate's


def test_switching_to_the_links_code_is_one_press_away():
    (_, my_token), (theirs, their_token) = students()
    at = open_alone("pages/runs.py", student=my_token)
    at.query_params["s"] = their_token  # my own bookmark from another day, say
    at.run()
    at.button(key="kdlab.switch.take").click().run()
    assert not at.exception
    assert at.session_state[session.TOKEN_KEY] == their_token and at.query_params["s"] == their_token
    assert "another student code" not in texts(at.warning)
    at.run()
    assert "another student code" not in texts(at.warning)
