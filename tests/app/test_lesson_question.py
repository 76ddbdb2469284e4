"""The lesson's question on the pages a lesson's step opens: asked once above the page, saved for the class
(changeable until the reveal, then final), kept in the session without a class, and an unknown lesson
ignored with one warning."""

import pytest

from kdlab.classroom.classes import find_class, set_class
from kdlab.classroom.predictions import class_predictions
from kdlab.db.database import open_database
from kdlab.experiments.replays.registry import REPLAYS as REPLAY_REGISTRY
from tests.app.helpers import open_alone, texts

REPLAYS = "pages/paper_replays.py"
LAB = "pages/distillation_lab.py"
MISSING_3 = "4-the-missing-3"


@pytest.fixture(autouse=True)
def no_instructor_key(monkeypatch):
    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)


def test_a_student_in_a_class_saves_changes_and_then_cannot_change_after_the_reveal():
    at = open_alone(REPLAYS, query={"replay": "omit-3", "lesson": MISSING_3, "class": "ASK-1"})
    assert not at.exception and not at.warning, texts(at.warning)
    radio = at.radio(key=f"replays.question.{MISSING_3}")
    assert radio.options == ["None", "A few", "About half", "Most"] and radio.value is None
    assert "What share of the test 3s will it get right" in texts(at.markdown)
    at.button(key="replays.question.save").click().run()
    assert "Choose an answer first" in texts(at.error)
    assert class_predictions(open_database(), "ASK-1") == []

    at.radio(key=f"replays.question.{MISSING_3}").set_value("A few").run()
    at.button(key="replays.question.save").click().run()
    assert "Saved for class ASK-1: **A few**" in texts(at.success)
    at.radio(key=f"replays.question.{MISSING_3}").set_value("Most").run()
    at.button(key="replays.question.save").click().run()
    (made,) = class_predictions(open_database(), "ASK-1")  # one row per student: changed, not added
    assert made.lesson == MISSING_3 and made.answer == "Most"

    set_class(open_database(), "ASK-1", results_hidden=True)
    set_class(open_database(), "ASK-1", results_hidden=False)  # the board's Reveal
    assert find_class(open_database(), "ASK-1").revealed
    at.run()
    assert "predictions are closed. Yours: **Most**" in texts(at.info)
    assert not [radio for radio in at.radio if radio.key == f"replays.question.{MISSING_3}"]


def test_a_student_without_a_class_answers_a_number_kept_in_the_session():
    at = open_alone(LAB, query={"lesson": "2-does-the-teacher-help"})
    assert not at.exception and not at.warning, texts(at.warning)
    box = at.number_input(key="lab.question.2-does-the-teacher-help")
    assert "errors" in box.label and box.min == -10000 and box.max == 10000
    box.set_value(12).run()
    at.button(key="lab.question.save").click().run()
    assert "Saved in this tab: **12**" in texts(at.success)
    assert "kept in this browser tab only" in texts(at.caption)
    assert at.session_state["lesson.answers"] == {"2-does-the-teacher-help": 12}
    assert at.query_params["lesson"] == "2-does-the-teacher-help"


@pytest.mark.parametrize(
    ("lesson", "says"), [("nope", "there is no lesson `nope`"), ("../x", "is not a lesson's name")]
)
def test_an_unknown_lesson_gets_one_warning_and_no_question(lesson, says):
    at = open_alone(REPLAYS, query={"lesson": lesson})
    assert not at.exception
    assert says in texts(at.warning).lower() or says in texts(at.warning)
    assert not [button for button in at.button if button.key == "replays.question.save"]
    at.run()
    assert says not in texts(at.warning)  # once per link, not on every rerun


def test_the_replay_keeps_what_it_shows_folded_until_the_prediction_is_saved():
    folded = "What this replay shows: read it after you save your prediction"
    at = open_alone(REPLAYS, query={"replay": "omit-3", "lesson": MISSING_3, "class": "ASK-9"})
    assert len([expander for expander in at.expander if expander.label == folded]) == len(REPLAY_REGISTRY)  # a tab each
    at.radio(key=f"replays.question.{MISSING_3}").set_value("Most").run()
    at.button(key="replays.question.save").click().run()
    assert not [expander for expander in at.expander if expander.label == folded]
    assert "It still learns a lot about 3s" in texts(at.markdown)  # the omit-3 tab's text, unfolded
    at.run()
    assert not [expander for expander in at.expander if expander.label == folded]  # saved stays saved
    plain = open_alone(REPLAYS, query={"replay": "omit-3"})  # no lesson: nothing folded
    assert not [expander for expander in plain.expander if expander.label == folded]


def test_a_spanish_student_sees_the_choices_in_spanish_and_files_the_same_answer_key():
    at = open_alone(REPLAYS, query={"replay": "omit-3", "lesson": MISSING_3, "class": "ASK-ES", "lang": "es"})
    assert not at.exception and not at.warning, texts(at.warning)
    radio = at.radio(key=f"replays.question.{MISSING_3}")
    assert radio.options == ["Ninguno", "Unos pocos", "Más o menos la mitad", "La mayoría"]
    assert "¿Qué parte de los 3 de prueba acertará" in texts(at.markdown)
    radio.set_value("A few").run()
    at.button(key="replays.question.save").click().run()
    assert "Guardada para la clase ASK-ES: **Unos pocos**" in texts(at.success)
    (made,) = class_predictions(open_database(), "ASK-ES")
    assert made.answer == "A few"  # the board counts it with the English class's answers
