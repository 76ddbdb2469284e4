"""A lesson's predictions: filed per student per lesson per class (insert-on-conflict update), changed until
the class's results are revealed, checked against the lesson's question, counted for the board and exported.
Run on SQLite and on PostgreSQL (``database_url``)."""

import csv
import io

import pytest
from sqlalchemy import inspect, select

from kdlab.classroom.classes import find_class, open_class, set_class
from kdlab.classroom.lessons import Lesson, Question, Step
from kdlab.classroom.predictions import (
    PredictionsClosed,
    answer_counts,
    class_predictions,
    lesson_answers,
    predictions_csv,
    save_prediction,
    student_prediction,
)
from kdlab.db import database as schema
from kdlab.db.database import open_database
from kdlab.db.students import create_student
from tests.conftest import database_at_version


def lesson(slug: str, question: Question | None) -> Lesson:
    return Lesson(slug, "A lesson", 10, "g", "Which?", "d", "n", (Step("Open the lab.", "lab"),), question=question)


WHICH_T = lesson("which-t", Question("choice", ("T = 1", "T = 4", "T = 20")))
HOW_MANY = lesson("how-many", Question("number", unit="errors", bounds=(-100, 100)))


@pytest.fixture
def database(database_url):
    return open_database(database_url)


def test_a_student_changes_their_mind_until_the_reveal_then_it_is_final(database):
    open_class(database, "PRED-1")
    set_class(database, "PRED-1", results_hidden=True)
    student = create_student(database)[0]
    save_prediction(database, "PRED-1", WHICH_T, student.id, "T = 1")
    save_prediction(database, "pred-1", WHICH_T, student.id, "T = 4")  # the code in any case
    assert student_prediction(database, "PRED-1", WHICH_T, student.id) == "T = 4"
    assert [(p.lesson, p.answer) for p in class_predictions(database, "PRED-1")] == [("which-t", "T = 4")]
    set_class(database, "PRED-1", results_hidden=False)  # Reveal
    assert find_class(database, "PRED-1").revealed
    with pytest.raises(PredictionsClosed, match="results are revealed"):
        save_prediction(database, "PRED-1", WHICH_T, student.id, "T = 20")
    late = create_student(database)[0]
    with pytest.raises(PredictionsClosed):  # nor a first one after the reveal
        save_prediction(database, "PRED-1", WHICH_T, late.id, "T = 20")
    assert [p.answer for p in class_predictions(database, "PRED-1")] == ["T = 4"]
    set_class(database, "PRED-1", results_hidden=True)  # hidden again: a new round
    save_prediction(database, "PRED-1", WHICH_T, late.id, "T = 20")
    assert sorted(p.answer for p in class_predictions(database, "PRED-1")) == ["T = 20", "T = 4"]


def test_a_forged_answer_or_an_unknown_class_is_refused_and_nothing_is_stored(database):
    open_class(database, "PRED-2")
    student = create_student(database)[0]
    for forged in ("T = 3", "<script>", 4, None, ["T = 1"]):
        with pytest.raises(ValueError, match="is not one of the answers"):
            save_prediction(database, "PRED-2", WHICH_T, student.id, forged)
    for forged in (101, 2.5, float("inf"), "12", True):
        with pytest.raises(ValueError, match="is not"):
            save_prediction(database, "PRED-2", HOW_MANY, student.id, forged)
    with pytest.raises(ValueError, match="in words only"):
        save_prediction(database, "PRED-2", lesson("words", None), student.id, "yes")
    with pytest.raises(PredictionsClosed, match="no class NOPE"):
        save_prediction(database, "NOPE", WHICH_T, student.id, "T = 1")
    assert class_predictions(database, "PRED-2") == []


def test_answers_are_read_back_only_if_they_still_answer_the_question(database):
    open_class(database, "PRED-3")
    ids = [create_student(database)[0].id for _ in range(3)]
    for student_id, answer in zip(ids, (-3, 40, 40)):
        save_prediction(database, "PRED-3", HOW_MANY, student_id, answer)
    made = class_predictions(database, "PRED-3")
    assert lesson_answers(HOW_MANY.question, "how-many", made) == [-3, 40, 40]
    narrower = Question("number", unit="errors", bounds=(0, 100))  # the lesson file changed since
    assert lesson_answers(narrower, "how-many", made) == [40, 40]
    assert lesson_answers(WHICH_T.question, "which-t", made) == []


def test_the_counts_keep_the_choices_order_and_bin_numbers_beside_the_outcomes():
    assert answer_counts(WHICH_T.question, ["T = 20", "T = 1", "T = 20"]) == [
        ("T = 1", 1, 0),
        ("T = 4", 0, 0),
        ("T = 20", 2, 0),
    ]
    rows = answer_counts(HOW_MANY.question, [-3, 0, 40, 41], outcomes=[10, 12, 44])
    assert sum(row[1] for row in rows) == 4 and sum(row[2] for row in rows) == 3
    assert rows[0][0].startswith("-3") and len(rows) <= 12
    assert answer_counts(HOW_MANY.question, [5, 5]) == [("5", 2, 0)]


def test_the_export_has_every_prediction_under_nicknames(database):
    open_class(database, "PRED-4")
    student = create_student(database)[0]
    save_prediction(database, "PRED-4", WHICH_T, student.id, "T = 4")
    save_prediction(database, "PRED-4", HOW_MANY, student.id, -7)
    rows = list(csv.DictReader(io.StringIO(predictions_csv(class_predictions(database, "PRED-4")))))
    assert [(row["lesson"], row["student"], row["answer"]) for row in rows] == [
        ("which-t", student.nickname, "T = 4"),
        ("how-many", student.nickname, "-7"),
    ]


def test_a_version_5_database_gains_the_predictions_and_keeps_its_classes(database_url):
    old = database_at_version(database_url, 5)
    with old.write() as connection:
        connection.execute(
            schema.classes.insert().values(code="OLD-1", title="t", is_open=True, results_hidden=True, created_at=0.0)
        )
    old.engine.dispose()
    database = open_database(database_url)
    assert database.version() == len(schema.MIGRATIONS) == 6
    with database.read() as connection:
        assert "predictions" in inspect(connection).get_table_names()
        assert connection.execute(select(schema.classes.c.revealed_at)).scalar() is None
    info = find_class(database, "OLD-1")
    assert info.results_hidden and not info.revealed
    save_prediction(database, "OLD-1", WHICH_T, create_student(database)[0].id, "T = 1")
