"""Guided lessons: every lesson file in lessons/ loads and every link in it is valid; a broken file
is explained. The lessons page and its links are tests/app/test_lessons_page.py."""

import pytest

from kdlab.classroom.board_groups import class_groups
from kdlab.classroom.lessons import LESSONS_DIR, LessonError, lesson_files, load_lesson, load_lessons, parse_lesson
from kdlab.classroom.links import check_link, parse_board_link
from tests.unit.test_board_groups import run

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


def test_every_lesson_file_loads_and_every_link_is_valid():
    lessons, problems = load_lessons()
    assert problems == []
    assert 3 <= len(lessons) == len(lesson_files()) <= 7
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


def test_the_best_teacher_lesson_hands_out_teachers_that_its_board_step_groups_weakest_first():
    lesson = load_lesson(LESSONS_DIR / "7-the-best-teacher.md")
    assert lesson.order == 7 and 12 <= lesson.minutes <= 15
    (lab,) = [step for step in lesson.steps if step.page == "lab"]
    (board,) = [step for step in lesson.steps if step.page == "board"]
    name, teachers = lab.vary
    assert name == "teacher" and len(teachers) >= 4 and any(teacher.startswith("ensemble:") for teacher in teachers)
    assert parse_board_link(board.links(class_code="PHYS-7")[0][1]).values == {"vary": ("teacher",)}
    # the teachers' test errors on full MNIST (seed 0, recorded in each run): the board shows them in the step's order
    errors = {"linear": 765, "lenet5": 116, "cnn": 80, "ensemble:cnn*3": 76, "cnn-wide": 68}
    runs = [run(teacher=teacher, teacher_errors=errors[teacher], student_id=n) for n, teacher in enumerate(teachers)]
    assert [group.values[0] for group in class_groups(runs, ("teacher",))] == list(teachers)


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
        # Found by the hypothesis test (test_fuzz.py): a list where the page's name goes raised a TypeError.
        (lambda text: text.replace('page = "lab"', "page = []"), "has page = `[]`; use one of lab,"),
        (lambda text: text.replace("alpha = [0.5, 0.9]", "alpha = [0.5, 1.5]"), "alpha=`1.5` must be from 0 to 1"),
        # An integer of 5,000 digits: tomllib raised a plain ValueError (Python prints at most 4,300 digits), which
        # load_lessons let through, so the lessons page and kdlab prepare stopped for every lesson.
        (lambda text: text.replace("minutes = 10", "minutes = " + "9" * 5000), "is not valid TOML"),
        (lambda text: text.replace("alpha = [0.5, 0.9]", f"alpha = {[0.5] * 61}"), "vary lists 61 values; at most 60"),
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
