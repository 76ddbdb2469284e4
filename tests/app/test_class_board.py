"""The class board page: runs under a class code from several students, their counts, figures and table,
hidden results, large text, and the instructor's controls behind KDLAB_INSTRUCTOR_KEY."""

import pytest
from streamlit.testing.v1 import AppTest

from kdlab.classroom.classes import class_runs, clear_class, find_class, list_classes, open_class, set_class
from kdlab.db.database import open_database
from tests.app.helpers import chart_spec, open_alone, run_until, texts
from tests.conftest import FEWER_BY_10, MORE, make_class

BOARD = "pages/class_board.py"
LAB = "pages/distillation_lab.py"
KEY = "correct-horse-battery-staple"


@pytest.fixture(autouse=True)
def no_instructor_key(monkeypatch):
    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)


def instructor_panel(at: AppTest) -> list:
    """The instructor's expander and every instructor widget on the page (none without the key)."""
    return [element for element in at.expander if element.label == "Instructor"] + [
        widget for widget in at.get("button") + at.get("download_button") if "instructor" in widget.proto.id
    ]


def test_the_board_page_shows_counts_figures_table_and_text_alternatives():
    nicknames = make_class(
        "PAGE-1", [[(2.0, 0.5, 80, 60, FEWER_BY_10)], [(8.0, 0.5, 80, 75, MORE)], [(8.0, 0.9, 80, 70, None)]]
    )
    at = open_alone(BOARD, query={"class": "page-1"})
    assert not at.exception, [e.value for e in at.exception]
    assert "3 runs by 3 students" in texts(at.markdown)
    assert at.query_params["class"] == "PAGE-1"
    assert chart_spec(at, "board.scatter")["data"] and chart_spec(at, "board.heatmap")["data"][0]["type"] == "heatmap"
    assert "T = 2: +20.0 (1 training); T = 8: +7.5 (2 trainings)" in texts(at.markdown)  # the scatter in words
    assert "2 predictions: 1 said the distilled student would make fewer errors" in texts(at.markdown)
    alts = [element.proto.alt for element in at.get("plotly_chart")]
    assert all(alts) and any("T = 8: +7.5" in alt for alt in alts)
    table = at.dataframe[-1].value
    assert sorted(table["student"]) == sorted(nicknames) and set(table["errors_removed"]) == {20, 5, 10}
    assert len(at.get("html")) == 0
    at.toggle(key="board.large").set_value(True).run()
    assert len(at.get("html")) == 1 and chart_spec(at, "board.scatter")["layout"]["font"]["size"] == 22


def test_runs_from_several_lab_sessions_fill_the_board():
    link = {
        "teacher": "linear",
        "student": "mlp-10x1",
        "epochs": "1",
        "train_size": "500",
        "seed": "42",
        "lock": "all",
        "class": "LIVE-1",
    }
    sessions = []
    for _ in range(2):  # two students follow the same link: the first trains, the second gets it from the cache
        at = open_alone(LAB, query=link)
        at.button(key="lab.train").click().run()
        run_until(at, lambda at: "Result of run 1" in texts(at.subheader), timeout=180)
        sessions.append(at)
    assert sessions[0].query_params["s"] != sessions[1].query_params["s"]
    board = open_alone(BOARD, query={"class": "LIVE-1"})
    assert "2 runs by 2 students" in texts(board.markdown)
    assert sorted(board.dataframe[-1].value["source"]) == ["cache", "trained"]


def test_hidden_results_show_counts_and_predictions_only():
    make_class("HIDE-1", [[(4.0, 0.5, 60, 40, FEWER_BY_10)], [(4.0, 0.5, 60, 40, MORE)]])
    set_class(open_database(), "HIDE-1", results_hidden=True)
    at = open_alone(BOARD, query={"class": "HIDE-1"})
    assert "2 runs by 2 students" in texts(at.markdown)
    assert "results are hidden until your teacher reveals them" in texts(at.info)
    assert not at.get("plotly_chart")
    table = at.dataframe[-1].value
    assert set(table["status"]) == {"hidden"} and table["errors_removed"].isna().all()


def test_an_unknown_or_malformed_class_is_explained():
    at = open_alone(BOARD, query={"class": "GHOST-1"})
    assert "There is no class GHOST-1 on this server yet" in texts(at.info)
    at = open_alone(BOARD, query={"class": "<b>x</b>"})
    assert "is not a class code" in texts(at.warning) and not at.exception


def test_without_the_key_no_instructor_control_is_reachable(monkeypatch):
    make_class("KEY-1", [[(4.0, 0.5, 60, 40, None)]])
    assert not instructor_panel(
        open_alone(BOARD, query={"class": "KEY-1", "key": KEY})
    )  # no key on the server: nothing to unlock
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    wrong = open_alone(BOARD, query={"class": "KEY-1", "key": KEY + "x"})
    assert "not the one set on this server" in texts(wrong.warning)
    assert not instructor_panel(wrong) and "key" not in wrong.query_params
    assert not instructor_panel(open_alone(BOARD, query={"class": "KEY-1"}))
    assert instructor_panel(open_alone(BOARD, query={"class": "KEY-1", "key": KEY}))


def test_the_instructor_opens_hides_reveals_exports_and_clears(monkeypatch):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    make_class("TEACH-1", [[(4.0, 0.5, 60, 40, None)], [(8.0, 0.5, 60, 55, None)]])
    at = open_alone(BOARD, query={"class": "TEACH-1", "key": KEY})
    assert not at.exception, [e.value for e in at.exception]
    assert "key" not in at.query_params  # off the projector's address bar at once
    assert instructor_panel(at)
    panel = texts(at.markdown)
    assert "**Queue:**" in panel and "**Database:** sqlite" in panel and "cached results" in panel
    assert "/" not in panel.split("**Database:**")[1].split(";")[0]  # the dialect, never a path or URL

    at.button(key="board.instructor.hide").click().run()
    assert find_class(open_database(), "TEACH-1").results_hidden and "results are hidden" in texts(at.info)
    at.button(key="board.instructor.hide").click().run()
    assert not find_class(open_database(), "TEACH-1").results_hidden
    at.button(key="board.instructor.open").click().run()
    assert not find_class(open_database(), "TEACH-1").is_open
    csv_button = next(button for button in at.get("download_button") if button.proto.id.endswith("instructor.csv"))
    assert "Export" in csv_button.proto.label

    at.text_input(key="board.instructor.code").input("new-7")
    at.text_input(key="board.instructor.title").input("Second period")
    at.button(key="board.instructor.submit").click().run()
    assert "NEW-7" in [info.code for info, _ in list_classes(open_database())]

    assert clear_class(open_database(), "TEACH-1") == 2 and class_runs(open_database(), "TEACH-1") == []


def test_a_server_with_a_key_only_accepts_classes_the_instructor_opened(monkeypatch):
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    at = open_alone(LAB, query={"class": "UNOPENED-1", "T": "8"})
    assert "Class UNOPENED-1 is not open on this server" in texts(at.warning)
    assert find_class(open_database(), "UNOPENED-1") is None
    open_class(open_database(), "OPENED-1")
    set_class(open_database(), "OPENED-1", is_open=False)
    closed = open_alone(LAB, query={"class": "OPENED-1"})
    assert "Class OPENED-1 is closed" in texts(closed.warning)
