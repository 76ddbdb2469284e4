"""Guided lessons: every lesson file in lessons/ loads and every link in it is valid; a broken file
is explained; the lessons page renders; a lesson's links open the explorer, the lab and the replay
page with their settings set and locked."""

import time
from urllib.parse import parse_qs, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from kdlab.classroom.lessons import LESSONS_DIR, LessonError, lesson_files, load_lesson, load_lessons, parse_lesson
from kdlab.classroom.links import check_link
from kdlab.experiments.replays.config import REPLAY_TITLES
from tests.conftest import PROJECT_ROOT

GOOD = """+++
title = "A lesson written without Python"
minutes = 10
goal = "g"
prediction = "p"
discuss = "d"
notice = "n"

[[steps]]
text = "Open the lab."
page = "lab"
params = { T = 8, lock = "T" }
vary = { alpha = [0.5, 0.9] }
+++
Notes for the teacher.
"""


def texts(elements) -> str:
    return "\n".join(str(element.value) for element in elements)


def test_every_lesson_file_loads_and_every_link_is_valid():
    lessons, problems = load_lessons()
    assert problems == []
    assert 3 <= len(lessons) == len(lesson_files()) <= 5
    for lesson in lessons:
        assert 10 <= lesson.minutes <= 15, lesson.slug
        assert lesson.goal and lesson.prediction and lesson.discuss and lesson.notice
        links = [(step.page, params) for step in lesson.steps for _, params in step.links(class_code="PHYS-7")]
        assert links, f"{lesson.slug} has no link"
        for page, params in links:
            assert check_link(page, params) == [], (lesson.slug, params)
    pages = {step.page for lesson in lessons for step in lesson.steps}
    assert {"lab", "explorer", "replays", "board"} <= pages
    assert any(step.vary for lesson in lessons for step in lesson.steps)  # each table gets its own T or student


def test_a_new_lesson_is_a_data_file(tmp_path):
    (tmp_path / "my-lesson.md").write_text(GOOD)
    (lesson,), problems = load_lessons(tmp_path)
    assert problems == [] and lesson.slug == "my-lesson" and lesson.notes == "Notes for the teacher."
    (step,) = lesson.steps
    assert step.links(class_code="C1") == [
        ("alpha = 0.5", {"T": "8", "lock": "T", "class": "C1", "alpha": "0.5"}),
        ("alpha = 0.9", {"T": "8", "lock": "T", "class": "C1", "alpha": "0.9"}),
    ]
    assert step.urls("http://server:8501")[0][1] == "http://server:8501/distillation_lab?T=8&lock=T&alpha=0.5"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda text: text.replace("+++\n", "", 1), "must open with TOML front matter"),
        (lambda text: text.replace('goal = "g"', 'goal = "g'), "is not valid TOML"),
        (lambda text: text.replace('goal = "g"\n', ""), "add goal to the front matter"),
        (lambda text: text.replace("minutes = 10", "minutes = 90"), "a lesson takes 5 to 20 minutes"),
        (lambda text: text.replace("T = 8", "T = 7"), "T=`7` is not one of the lab's temperatures"),
        (lambda text: text.replace("T = 8", "temperature = 8"), "`temperature` is not a parameter of the lab page"),
        (lambda text: text.replace('page = "lab"', 'page = "kitchen"'), "page = `kitchen`; use one of lab,"),
        (lambda text: text.replace("alpha = [0.5, 0.9]", "alpha = [0.5, 1.5]"), "alpha=`1.5` must be from 0 to 1"),
    ],
)
def test_a_broken_lesson_says_which_file_and_what_to_fix(tmp_path, change, message):
    with pytest.raises(LessonError, match="lessons/broken.md") as raised:
        parse_lesson(change(GOOD), "broken")
    assert message in str(raised.value)
    (tmp_path / "broken.md").write_text(change(GOOD))
    (tmp_path / "fine.md").write_text(GOOD)
    lessons, problems = load_lessons(tmp_path)  # one bad file does not hide the others
    assert [lesson.slug for lesson in lessons] == ["fine"] and message in problems[0]


def test_the_lessons_page_renders_a_lesson_with_slide_links():
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "lessons.py"), default_timeout=60)
    at.query_params["lesson"] = "3-too-cold-too-hot"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Too cold, too hot" in texts(at.header)
    at.text_input(key="lessons.class").input("phys-7").run()
    urls = [element.value for element in at.code]
    assert len([url for url in urls if "/distillation_lab?" in url]) == 5
    assert all("class=PHYS-7" in url for url in urls)
    assert not any("s" in parse_qs(urlparse(url).query) for url in urls)  # never the teacher's student code
    assert "Take this lesson home" in at.get("download_button")[0].proto.label
    assert "**Predict first.**" in texts(at.markdown) and "**Discuss.**" in texts(at.markdown)


def test_every_lab_link_of_a_lesson_opens_the_lab_locked_without_a_warning():
    lesson = load_lesson(LESSONS_DIR / "3-too-cold-too-hot.md")
    for _, params in lesson.steps[0].links():
        at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "distillation_lab.py"), default_timeout=60)
        at.query_params.update(params)
        at.run()
        assert not at.exception and not at.warning, texts(at.warning)
        temperature = at.select_slider(key="lab.temperature")
        assert temperature.value == float(params["T"]) and temperature.disabled
        assert at.button(key="lab.train").disabled  # the lesson asks for a prediction first


def test_explorer_and_replay_links_set_their_pages():
    at = AppTest.from_file(str(PROJECT_ROOT / "pages" / "dark_knowledge.py"), default_timeout=60)
    at.query_params.update({"explorer.teacher": "linear", "digit": "7", "T": "1", "lock": "T,digit"})
    at.run()
    deadline = time.time() + 180
    while not at.select_slider:  # the page trains the linear teacher first if this test session has none
        assert time.time() < deadline and not at.exception
        time.sleep(0.3)
        at.run()
    slider = at.select_slider(key="explorer.temperature")
    assert slider.value == 1.0 and slider.disabled and "locked" in slider.label
    assert at.radio(key="explorer.digit").value == 7 and at.radio(key="explorer.digit").disabled
    assert "labelled 7" in " ".join(caption for image in at.image for caption in image.captions)

    replays = AppTest.from_file(str(PROJECT_ROOT / "pages" / "paper_replays.py"), default_timeout=60)
    replays.query_params.update({"replay": "omit-3", "bias": "3.5"})
    replays.run()
    assert not replays.exception and not replays.warning
    assert replays.session_state["replay.tab"] == REPLAY_TITLES["omit-3"]
    wrong = AppTest.from_file(str(PROJECT_ROOT / "pages" / "paper_replays.py"), default_timeout=60)
    wrong.query_params.update({"replay": "omit-4", "bias": "x"})
    wrong.run()
    assert "replay=`omit-4` is not a replay" in texts(wrong.warning) and "bias=`x` is not a number" in texts(
        wrong.warning
    )
