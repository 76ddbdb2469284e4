"""The class board shows the class's answers to a lesson's question: only their count while the results are
hidden, a histogram with its text alternative after the reveal (a number question beside the class's errors
removed), every answered lesson when the link names none; the instructor's export carries them."""

import pytest

from kdlab.classroom.classes import find_class, open_class, set_class
from kdlab.classroom.lessons import LESSONS_DIR, load_lesson
from kdlab.classroom.predictions import save_prediction
from kdlab.db.database import open_database
from kdlab.db.students import create_student
from tests.app.helpers import chart_spec, open_alone, texts
from tests.conftest import make_class

BOARD = "pages/class_board.py"
KEY = "correct-horse-battery-staple"
MISSING_3 = load_lesson(LESSONS_DIR / "4-the-missing-3.md")
TEACHER_HELPS = load_lesson(LESSONS_DIR / "2-does-the-teacher-help.md")


@pytest.fixture(autouse=True)
def no_instructor_key(monkeypatch):
    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)


def predict(code: str, lesson, answers) -> None:
    database = open_database()
    for answer in answers:
        save_prediction(database, code, lesson, create_student(database)[0].id, answer)


def lesson_charts(at) -> list:
    return [chart for chart in at.get("plotly_chart") if ".lesson." in chart.proto.id]


def test_hidden_predictions_show_their_count_only_and_after_the_reveal_a_histogram_in_order():
    open_class(open_database(), "HIST-1")
    set_class(open_database(), "HIST-1", results_hidden=True)
    predict("HIST-1", MISSING_3, ["Most", "A few", "Most"])
    at = open_alone(BOARD, query={"class": "HIST-1", "lesson": MISSING_3.slug})
    assert not at.exception, [e.value for e in at.exception]
    assert "**3 predictions made.** The answers show after **Reveal**." in texts(at.markdown)
    assert not lesson_charts(at) and "Most: 2" not in texts(at.markdown)

    set_class(open_database(), "HIST-1", results_hidden=False)
    at.run()
    spec = chart_spec(at, f"board.lesson.{MISSING_3.slug}")
    assert spec["data"][0]["x"] == ["None", "A few", "About half", "Most"] and spec["data"][0]["y"] == [0, 1, 0, 2]
    words = "3 predictions: None: 0; A few: 1; About half: 0; Most: 2."
    assert words in texts(at.markdown) and words in lesson_charts(at)[0].proto.alt


def test_a_number_question_sits_beside_the_class_errors_removed_and_every_answered_lesson_shows():
    make_class("HIST-2", [[(4.0, 0.9, 80, 60, None)], [(8.0, 0.9, 80, 75, None)]])  # +20 and +5
    predict("HIST-2", TEACHER_HELPS, [-5, 10, 30])
    predict("HIST-2", MISSING_3, ["About half"])
    at = open_alone(BOARD, query={"class": "HIST-2"})  # no lesson in the link: each lesson answered
    assert not at.exception, [e.value for e in at.exception]
    assert not lesson_charts(at) and "**3 predictions made.**" in texts(at.markdown)  # no key: until Reveal
    at.button(key="board.reveal").click().run()
    assert len(lesson_charts(at)) == 2
    spec = chart_spec(at, f"board.lesson.{TEACHER_HELPS.slug}")
    predicted, outcome = spec["data"]
    assert sum(predicted["y"]) == 3 and sum(outcome["y"]) == 2 and outcome["marker"]["pattern"]["shape"] == "/"
    assert "Errors removed by the class's trainings:" in texts(at.markdown)


def test_the_board_reveal_without_a_key_closes_the_predictions_and_the_instructor_exports_them(monkeypatch):
    open_class(open_database(), "HIST-3")
    predict("HIST-3", MISSING_3, ["Most"])
    at = open_alone(BOARD, query={"class": "HIST-3"})
    at.button(key="board.reveal").click().run()
    assert find_class(open_database(), "HIST-3").revealed and not [b for b in at.button if b.key == "board.reveal"]

    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    at = open_alone(BOARD, query={"class": "HIST-3", "key": KEY})
    assert not [b for b in at.button if b.key == "board.reveal"]  # the instructor's own Reveal does it
    labels = [button.proto.label for button in at.get("download_button") if "predictions_csv" in button.proto.id]
    assert labels == ["Export the predictions (CSV)"]


def test_a_class_that_answered_only_the_lessons_question_is_not_told_nobody_predicted():
    make_class("HIST-4", [[(4.0, 0.9, 80, 60, None)]])  # one run, filed without a prediction of its own
    set_class(open_database(), "HIST-4", results_hidden=True)
    predict("HIST-4", TEACHER_HELPS, [10, 20])
    at = open_alone(BOARD, query={"class": "HIST-4", "lesson": TEACHER_HELPS.slug})
    assert "**2 predictions made.**" in texts(at.markdown)
    assert "Nobody has made a prediction yet." not in texts(at.markdown)
    set_class(open_database(), "HIST-4", results_hidden=False)
    at.run()
    assert "Nobody has made a prediction yet." not in texts(at.markdown)
    assert chart_spec(at, f"board.lesson.{TEACHER_HELPS.slug}")  # the lesson's answers beside the outcome

    make_class("HIST-5", [[(4.0, 0.9, 80, 60, None)]])  # no prediction of any kind: the board says so
    assert "Nobody has made a prediction yet." in texts(open_alone(BOARD, query={"class": "HIST-5"}).markdown)
