"""Hostile inputs a student in the room could send, each checked the way they would send it: a long link, a
classmate's link, a forged widget value. Each asserts what the class would lose today, and that it is not lost."""

from __future__ import annotations

import time
import tracemalloc

import pytest
from streamlit.proto.WidgetStates_pb2 import WidgetState

from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from kdlab.ml.data import RAW_FILES
from kdlab.serve.jobs import default_runner
from kdlab.serve.tasks import TEACHER_JOBS
from kdlab.ui import session
from tests.app.helpers import open_alone, open_page, run_until, texts

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


def test_a_corrupt_teacher_file_is_trained_again_in_the_queue_not_in_the_page(sample_data, monkeypatch):
    """A damaged or old-format teacher file was trained over inside the page request: outside the queue, its
    limits and the cost cap, holding the page (and a core) for the whole training."""
    from kdlab.ml.data import default_cache_dir
    from kdlab.teachers import cache
    from kdlab.teachers.teacher import default_teacher_epochs

    epochs = default_teacher_epochs(len(sample_data.train))
    path = cache.teacher_cache_path(default_cache_dir(), "mlp-13x1", sample_data, epochs, 0)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a teacher file from an older kdlab, or cut off by a full disk")
    cache.forget_cached_teachers()
    trained_in = []
    train = cache._train
    monkeypatch.setattr(cache, "_train", lambda *args: trained_in.append(args[0]) or train(*args))
    at = open_alone("pages/dark_knowledge.py", query={"explorer.teacher": "mlp-13x1"})
    assert not at.exception
    assert "Training the teacher mlp-13x1" in texts(at.info)  # queued, with its progress shown
    assert not path.exists()  # the unusable file is gone: the teacher counts as untrained everywhere
    job = TEACHER_JOBS.existing(default_runner(), "mlp-13x1", sample_data, default_cache_dir())
    assert default_runner().wait(job, timeout=300) and job.status == "completed"
    assert len(trained_in) == 1  # once, by the job
    assert path.exists() and cache.load_cached_teacher("mlp-13x1", sample_data) is not None


@pytest.mark.parametrize("damage", ["missing", "lacking", "corrupt"])
def test_a_broken_data_folder_is_explained_without_the_servers_paths(tmp_path, monkeypatch, damage):
    folder = tmp_path / "srv-private-mnist"
    raw = folder / "MNIST" / "raw"
    if damage != "missing":
        raw.mkdir(parents=True)
    if damage == "corrupt":
        for name in RAW_FILES:
            (raw / name).write_bytes(b"\0" * 64)
    monkeypatch.setenv("KDLAB_DATA_DIR", str(folder))
    at = open_page("pages/home.py")  # through app.py: the sidebar says it too
    shown = texts(at.error) + texts(at.sidebar.error)
    assert not at.exception
    assert "No usable MNIST data" in shown and "log" in shown
    assert "srv-private-mnist" not in shown and str(tmp_path) not in shown


def forge(monkeypatch, widget, value: str) -> None:
    """Make every later run send ``value`` as ``widget``'s state, as a forged websocket message would: the
    browser only offers the options, but nothing stops a script from sending another string."""
    kind = type(widget)
    honest = kind._widget_state

    def state(self) -> WidgetState:
        if self.id != widget.id:
            return honest.fget(self)
        forged = WidgetState()
        forged.id = self.id
        forged.string_value = value
        return forged

    monkeypatch.setattr(kind, "_widget_state", property(state))


@pytest.mark.parametrize(
    "page, state, find, key",
    [
        ("pages/lessons.py", {}, "selectbox", "lessons.lesson"),  # a lesson that is not one: a KeyError
        ("pages/distillation_lab.py", QUIET, "radio", "lab.soft"),  # a soft loss that is not one: a KeyError
        ("pages/distillation_lab.py", QUIET, "radio", "lab.student.family"),  # an architecture that is not one
        ("pages/dark_knowledge.py", {"explorer.teacher": "linear"}, "radio", "explorer.digit"),  # compared to labels
    ],
)
def test_a_forged_choice_is_brought_back_to_the_options_on_the_server(monkeypatch, page, state, find, key):
    """Streamlit (1.67) checks a radio's or select box's value against its options on the server, so the pages
    take their values as they come; this guards that for an upgrade (it passed before the pages were touched)."""
    at = run_until(open_alone(page, state), lambda at: any(widget.key == key for widget in getattr(at, find)))
    forge(monkeypatch, getattr(at, find)(key=key), "../../etc/passwd")
    at.run()
    assert not at.exception, [exception.value for exception in at.exception]
    widget = getattr(at, find)(key=key)
    assert "passwd" not in texts(at.error) + texts(at.markdown) + texts(at.caption)
    assert widget.options  # the page drew the widget again, with its own options
