"""Plans for a 50-minute class (``kdlab.classroom.plans``): the shipped ones, and what loading refuses."""

import pytest

from kdlab.classroom.lessons import LESSONS_DIR, LessonError, load_lessons
from kdlab.classroom.plans import CLASS_MINUTES, load_plans, parse_plans

LESSONS, _ = load_lessons(LESSONS_DIR)
PLAN = """
[[plans]]
title = "T"
audience = "A"
opening = {opening}
opening_text = "o"
lessons = {lessons}
closing = 5
closing_text = "c"
"""


def test_the_shipped_plans_fit_a_class_and_add_up_their_lessons_minutes():
    plans, problems = load_plans(LESSONS_DIR, LESSONS)
    assert problems == [] and len(plans) == 4
    for plan in plans:
        assert plan.minutes <= CLASS_MINUTES
        lessons = [item.lesson for item in plan.items if item.lesson is not None]
        assert len(lessons) >= 2
        assert (
            plan.minutes == sum(lesson.minutes for lesson in lessons) + plan.items[0].minutes + plan.items[-1].minutes
        )
        starts = [item.start for item in plan.items]
        assert starts == [sum(item.minutes for item in plan.items[:index]) for index in range(len(plan.items))]


def test_a_plan_longer_than_a_class_is_refused_with_its_length():
    slugs = [lesson.slug for lesson in LESSONS]
    with pytest.raises(LessonError, match=r"takes \d+ minutes, over a 50-minute class"):
        parse_plans(PLAN.format(opening=10, lessons=slugs), LESSONS)


@pytest.mark.parametrize(
    ("opening", "lessons", "message"),
    [
        (5, '["no-such-lesson"]', "no lesson no-such-lesson"),
        (5, "[]", "names its lessons"),
        (-1, '["1-temperature"]', "whole minutes from 0 to 15"),
        ('"five"', '["1-temperature"]', "whole minutes from 0 to 15"),
    ],
)
def test_a_bad_plan_says_what_to_fix(opening, lessons, message):
    with pytest.raises(LessonError, match=message):
        parse_plans(PLAN.format(opening=opening, lessons=lessons), LESSONS)


def test_a_folder_without_plans_has_none(tmp_path):
    assert load_plans(tmp_path, LESSONS) == ([], [])
    (tmp_path / "plans.toml").write_text("[[plans]\n")
    plans, problems = load_plans(tmp_path, LESSONS)
    assert plans == [] and "not valid TOML" in problems[0]


@pytest.mark.parametrize("language", ["es", "vi"])
def test_the_plans_are_translated_with_the_same_plans_lessons_and_minutes(language):
    lessons, _ = load_lessons(LESSONS_DIR, language=language)
    plans, problems = load_plans(LESSONS_DIR, lessons, language=language)
    english, _ = load_plans(LESSONS_DIR, LESSONS, language="en")
    assert problems == [] and len(plans) == len(english)
    for ours, theirs in zip(plans, english):
        assert ours.title != theirs.title and ours.audience != theirs.audience
        assert [(item.start, item.minutes) for item in ours.items] == [
            (item.start, item.minutes) for item in theirs.items
        ]
        assert [item.lesson and item.lesson.language for item in ours.items if item.lesson] == [language] * (
            len(ours.items) - 2
        )


def test_a_plans_translation_with_other_minutes_is_refused_and_the_english_shown(tmp_path):
    for path in [*LESSONS_DIR.glob("*.md"), LESSONS_DIR / "plans.toml"]:
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "es").mkdir()
    text = (LESSONS_DIR / "es" / "plans.toml").read_text(encoding="utf-8")
    (tmp_path / "es" / "plans.toml").write_text(text.replace("opening = 8", "opening = 9"), encoding="utf-8")
    plans, problems = load_plans(tmp_path, LESSONS, language="es")
    assert plans[0].title == "An introduction" and "lessons/es/plans.toml" in problems[0]
