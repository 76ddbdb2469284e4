"""Words for students: the Glossary page and the links to it, the lab's and the explorer's Advanced sections
(closed unless a link opens them), and the Lessons page's worksheets (the answer key for the instructor only)."""

import re

from streamlit.testing.v1 import AppTest

from kdlab.classroom.glossary import TERMS
from kdlab.classroom.lessons import LESSONS_DIR, load_lesson
from tests.app.helpers import APP, open_alone, run_until, texts

LAB = "pages/distillation_lab.py"
EXPLORER = "pages/dark_knowledge.py"
LESSONS = "pages/lessons.py"
KEY = "correct-horse-battery-staple"
GLOSSARY_LINK = re.compile(r"\]\(glossary#([a-z0-9-]+)\)")
WORDS_LINK = re.compile(r"\[([^\]\[]+)\]\(glossary#([a-z0-9-]+)\)")  # the linked words and their anchor


def advanced(at) -> list[bool]:
    """Whether each Advanced section of the page starts open."""
    return [expander.proto.expanded for expander in at.expander if expander.label.startswith("Advanced")]


def test_the_glossary_draws_every_term_under_its_anchor_and_every_link_finds_one():
    glossary = open_alone("pages/glossary.py")
    assert not glossary.exception
    anchors = {heading.proto.anchor for heading in glossary.subheader}
    assert anchors == {term.anchor for term in TERMS}
    home = open_alone("pages/home.py")
    lab = open_alone(LAB, {"lab.teacher": "linear"})
    lessons = open_alone(LESSONS, query={"lesson": "6-where-the-dark-knowledge-lives"})
    for at in (home, lab, lessons):
        assert not at.exception, [e.value for e in at.exception]
        linked = GLOSSARY_LINK.findall(texts(at.markdown) + texts(at.caption))
        assert len(linked) >= 3 and set(linked) <= anchors
    assert len(GLOSSARY_LINK.findall(texts(home.markdown))) == len(set(GLOSSARY_LINK.findall(texts(home.markdown))))


def test_the_labs_advanced_section_is_closed_unless_the_link_opens_it():
    at = open_alone(LAB, {"lab.teacher": "linear"})
    assert advanced(at) == [False]
    assert at.radio(key="lab.soft").value == "kd"  # inside the closed section, still a control
    opened = open_alone(LAB, {"lab.teacher": "linear"}, query={"advanced": "1"})
    assert advanced(opened) == [True] and not opened.warning
    forged = open_alone(LAB, {"lab.teacher": "linear"}, query={"advanced": "<b>open</b>"})
    assert advanced(forged) == [False]
    assert [w.value for w in forged.warning if "advanced=" in w.value] == [
        "**This link's setting was not used.** advanced=`<b>open</b>` is not 1 or 0; the Advanced sections start "
        "closed."
    ]


def test_lesson_6s_lab_links_open_the_advanced_section():
    lesson = load_lesson(LESSONS_DIR / "6-where-the-dark-knowledge-lives.md")
    (lab_step,) = [step for step in lesson.steps if step.page == "lab"]
    _, params = lab_step.links()[2]  # NCKD only
    at = open_alone(LAB, {"lab.teacher": "linear"}, query=params)
    assert not at.exception and not at.warning, texts(at.warning)
    assert advanced(at) == [True] and at.radio(key="lab.soft").value == "nckd"


def test_the_explorers_advanced_section_is_closed_unless_the_link_opens_it():
    at = open_alone(EXPLORER, {"explorer.teacher": "linear"})
    at = run_until(at, lambda at: len(at.select_slider) > 0, timeout=240)
    assert advanced(at) == [False]
    linked = GLOSSARY_LINK.findall(texts(at.markdown) + texts(at.caption))
    assert {"temperature", "dark-knowledge"} <= set(linked) <= {term.anchor for term in TERMS}
    assert len(linked) == len(set(linked))  # each word linked once, where the page first uses it
    opened = open_alone(EXPLORER, {"explorer.teacher": "linear"}, query={"advanced": "yes", "digit": "3"})
    assert advanced(opened) == [True] and "what NCKD matches" in texts(opened.markdown)
    forged = open_alone(EXPLORER, {"explorer.teacher": "linear"}, query={"advanced": "2"})
    assert advanced(forged) == [False]
    assert len([w for w in forged.warning if "advanced=" in w.value]) == 1


def test_the_worksheet_is_for_everyone_and_the_answer_key_goes_with_the_answer(monkeypatch):
    query = {"lesson": "2-does-the-teacher-help"}
    at = open_alone(LESSONS, query=query)  # a server without an instructor key: anyone, after Show the answer
    labels = [button.proto.label for button in at.get("download_button")]
    assert any("Worksheet" in label for label in labels) and not any("Answer key" in label for label in labels)
    at.button(key="lessons.show_answer").click().run()
    assert any("Answer key" in button.proto.label for button in at.get("download_button"))
    monkeypatch.setenv("KDLAB_INSTRUCTOR_KEY", KEY)
    student = open_alone(LESSONS, query=query)
    labels = [button.proto.label for button in student.get("download_button")]
    assert any("Worksheet" in label for label in labels) and not any("Answer key" in label for label in labels)
    instructor = open_alone(LESSONS, query=query | {"key": KEY})
    assert any("Answer key" in button.proto.label for button in instructor.get("download_button"))


def test_the_glossary_and_its_links_speak_the_pages_language():
    for language, teacher, transfer in (("es", "Profesor", "(5.000 por defecto)"), ("vi", "Mô hình thầy", "5.000")):
        at = AppTest.from_file(APP, default_timeout=120)
        at.query_params["lang"] = language
        at.run()
        home = texts(at.markdown)  # Home's translated text links the language's own words
        assert {"teacher", "student", "temperature"} <= set(GLOSSARY_LINK.findall(home)), language
        at.switch_page("pages/glossary.py")
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        headings = {heading.proto.anchor: heading.value for heading in at.subheader}
        assert headings["teacher"] == teacher and set(headings) == {term.anchor for term in TERMS}
        assert transfer in texts(at.markdown) and "by default" not in texts(at.markdown)
        lesson = open_alone(LESSONS, query={"lesson": "6-where-the-dark-knowledge-lives", "lang": language})
        linked = dict(WORDS_LINK.findall(texts(lesson.markdown)))  # a translated lesson's words link too
        assert len(linked) >= 3 and set(linked.values()) <= {term.anchor for term in TERMS}
        assert "teacher" not in linked and "student" not in linked, linked
