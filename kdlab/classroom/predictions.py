"""A lesson's predictions: each student's answer to the lesson's question, filed per class, counted for the board.

A page a lesson's step opens asks the lesson's question (``kdlab.classroom.lessons.Question``); a student in a
class saves an answer here, one row per student per lesson per class (``kdlab.db.schema.predictions``), and may
change it until the class's results are revealed (``kdlab.classroom.classes.set_class``): from then on it is
final, and a new one is refused. Every answer is checked against the lesson's question when it is saved and
again when it is read (a lesson file may have changed since). The board counts them: a choice question by its
choices in their order, a number question in bins (``number_bins``).
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select

from kdlab.classroom.lessons import Lesson, Question
from kdlab.classroom.links import parse_class_code
from kdlab.db.database import Database, classes, insert_or_not, predictions, students
from kdlab.i18n import _

MAX_BINS = 12  # a number question's histogram: bars a projector shows legibly
CSV_COLUMNS = ("lesson", "student", "answer", "made_at")


class PredictionsClosed(ValueError):
    """The class's results are revealed: its lesson predictions are final."""


@dataclass(frozen=True)
class ClassPrediction:
    """One student's answer to one lesson's question, as the board and the export show it."""

    lesson: str  # the lesson's slug
    nickname: str
    student_id: int
    answer: str | int | float
    made_at: float


def save_prediction(database: Database, class_code: str, lesson: Lesson, student_id: int, raw: object):
    """File ``raw`` as the student's answer to ``lesson``'s question in class ``class_code`` (replacing their
    earlier one); returns the answer as stored.

    Raises:
        ValueError: the lesson asks no question, or ``raw`` is not one of its answers (the message says why).
        PredictionsClosed: the class does not exist, or its results are revealed.
    """
    if lesson.question is None:
        raise ValueError(_("The lesson “{title}” asks its prediction in words only.").format(title=lesson.title))
    answer = lesson.question.answer(raw)
    code, problem = parse_class_code(class_code)
    if code is None:
        raise ValueError(problem or _("A class code is 2 to 16 letters, digits or dashes."))
    row = dict(class_code=code, lesson=lesson.slug, student_id=student_id, answer=answer, made_at=time.time())
    statement = insert_or_not(database, predictions).values(**row)
    statement = statement.on_conflict_do_update(
        index_elements=[predictions.c.class_code, predictions.c.lesson, predictions.c.student_id],
        set_={"answer": statement.excluded.answer, "made_at": statement.excluded.made_at},
    )
    with database.write() as connection:
        # The class's row is locked (FOR UPDATE on PostgreSQL; SQLite's writer holds the file) until the answer is
        # written, so a Reveal pressed at the same moment comes either before (refused) or after (kept).
        state = connection.execute(
            select(classes.c.revealed_at).where(classes.c.code == code).with_for_update()
        ).first()
        if state is None:
            raise PredictionsClosed(
                _("There is no class {code} on this server, so the prediction was not saved.").format(code=code)
            )
        if state.revealed_at is not None:
            raise PredictionsClosed(
                _("Class {code}'s results are revealed: the predictions are final now.").format(code=code)
            )
        connection.execute(statement)
    return answer


def read_answer(question: Question | None, stored: object) -> str | int | float | None:
    """A stored answer if it still answers ``question``, else None."""
    if question is None:
        return None
    try:
        return question.answer(stored)
    except ValueError:
        return None


def student_prediction(database: Database, class_code: str, lesson: Lesson, student_id: int):
    """The student's answer to ``lesson``'s question in class ``class_code``, or None."""
    with database.read() as connection:
        stored = connection.execute(
            select(predictions.c.answer).where(
                predictions.c.class_code == class_code,
                predictions.c.lesson == lesson.slug,
                predictions.c.student_id == student_id,
            )
        ).scalar()
    return read_answer(lesson.question, stored)


def class_predictions(database: Database, class_code: str) -> list[ClassPrediction]:
    """Every prediction of class ``class_code``, oldest first, under the students' nicknames (one query on the
    table's primary key, whose first column is the class)."""
    query = (
        select(
            predictions.c.lesson,
            students.c.nickname,
            predictions.c.student_id,
            predictions.c.answer,
            predictions.c.made_at,
        )
        .join(students, students.c.id == predictions.c.student_id)
        .where(predictions.c.class_code == class_code)
        .order_by(predictions.c.made_at)
    )
    with database.read() as connection:
        return [ClassPrediction(*row) for row in connection.execute(query).all()]


def lesson_answers(question: Question | None, lesson_slug: str, made: Sequence[ClassPrediction]) -> list:
    """The answers to ``lesson_slug`` among ``made`` that still answer its ``question``."""
    answers = (read_answer(question, prediction.answer) for prediction in made if prediction.lesson == lesson_slug)
    return [answer for answer in answers if answer is not None]


def number_bins(values: Sequence[float], *, whole: bool) -> list[tuple[float, float]]:
    """At most ``MAX_BINS`` equal bins [low, high) covering ``values`` (the last one also takes its high end),
    each a whole number wide for whole numbers; [] for no values."""
    if not values:
        return []
    low, high = min(values), max(values)
    if whole:
        low = math.floor(low)
        width = max(1, math.ceil((math.floor(high) - low + 1) / MAX_BINS))
        count = math.ceil((math.floor(high) - low + 1) / width)
    else:
        width, count = ((high - low) / MAX_BINS, MAX_BINS) if high > low else (1.0, 1)
    return [(low + index * width, low + (index + 1) * width) for index in range(count)]


def bin_label(low: float, high: float, *, whole: bool) -> str:
    """A bin in words: "-5 to 4" for whole numbers (both ends included), "-5 to 4.5" otherwise."""
    if whole:
        return f"{low:g}" if high - low == 1 else _("{low} to {high}").format(low=f"{low:g}", high=f"{high - 1:g}")
    return _("{low} to {high}").format(low=f"{low:.3g}", high=f"{high:.3g}")


def answer_counts(question: Question, answers: Sequence, outcomes: Sequence[float] = ()) -> list[tuple[str, int, int]]:
    """(label, predictions, outcomes) per bar: a choice question's choices in their order; a number question's
    bins over the answers and the ``outcomes`` beside them (the class's errors removed, say)."""
    if question.kind == "choice":
        counted = Counter(answers)
        return [(choice, counted[choice], 0) for choice in question.choices]
    bins = number_bins([*answers, *outcomes], whole=question.whole)

    def count(values: Sequence[float], index: int) -> int:
        low, high = bins[index]
        last = index == len(bins) - 1
        return sum(low <= value < high or (last and value == high) for value in values)

    return [
        (bin_label(low, high, whole=question.whole), count(answers, index), count(outcomes, index))
        for index, (low, high) in enumerate(bins)
    ]


def predictions_csv(made: Sequence[ClassPrediction]) -> str:
    """The class's predictions as CSV (lesson, nickname, answer, time), for the instructor's export."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for prediction in made:
        made_at = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(prediction.made_at))
        writer.writerow((prediction.lesson, prediction.nickname, prediction.answer, made_at))
    return buffer.getvalue()
