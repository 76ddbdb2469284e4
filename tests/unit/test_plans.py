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
