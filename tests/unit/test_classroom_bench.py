"""``python -m kdlab bench classroom``: the class it builds and the report it gives."""

import pytest

from kdlab.classroom.lab_settings import TEMPERATURES
from kdlab.classroom.lessons import LESSONS_DIR, load_lesson, parse_lesson
from kdlab.cli.classroom import class_configs, lesson_classes, run_classroom
from tests.conftest import tiny_config


def test_a_lesson_spreads_the_labs_temperatures_over_one_seed():
    configs = class_configs("lesson", 30)
    temperatures = [config.training.temperature for config in configs]
    assert (temperatures[0], temperatures[-1]) == (min(TEMPERATURES), max(TEMPERATURES))
    assert set(temperatures) == set(TEMPERATURES) and temperatures == sorted(temperatures)
    assert {config.training.seed for config in configs} == {0}


def test_a_free_class_has_a_seed_each_and_the_default_temperature():
    configs = class_configs("free", 8)
    assert [config.training.seed for config in configs] == list(range(8))
    assert {config.training.temperature for config in configs} == {configs[0].training.temperature}


@pytest.mark.parametrize(("mode", "students"), [("exam", 3), ("lesson", 0)])
def test_a_class_that_cannot_be_is_refused(mode, students):
    with pytest.raises(ValueError):
        class_configs(mode, students)


def test_the_report_times_every_student(sample_data, linear_teacher):
    report = run_classroom(sample_data, "lesson", 3, base=tiny_config())
    # three students: the lab's lowest, middle and highest T
    middle = TEMPERATURES[round((len(TEMPERATURES) - 1) / 2)]
    assert [wait["temperature"] for wait in report["waits"]] == [TEMPERATURES[0], middle, TEMPERATURES[-1]]
    assert all(0 < wait["seconds"] <= report["last_result_seconds"] for wait in report["waits"])
    assert report["single_run_seconds"] > 0 and report["cpu_seconds_per_result"] > 0
    last, single, half = report["last_result_seconds"], report["single_run_seconds"], 0.005  # rounded to 0.01
    low, high = (last - half) / (single + half) - half, (last + half) / (single - half) + half
    assert low <= report["last_result_in_single_runs"] <= high


def test_beside_a_script_that_fills_the_queue_and_the_board_every_student_is_served(sample_data, linear_teacher):
    report = run_classroom(sample_data, "free", 3, base=tiny_config(), script=True)
    assert report["served"] == 3 and report["class_board_runs"] == 3
    assert all(wait["seconds"] is not None for wait in report["waits"])
    script = report["script"]
    assert script["visitor jobs"] >= 4 and script["student jobs"] >= 26  # the defaults (tiny runs end meanwhile)
    assert script["board runs"] <= 60 and report["board_runs"] == 3 + script["board runs"]
    refused = " ".join(script["refusals"])
    assert "from pages opened without a student code" in refused and "as one network may" in refused


def test_a_lessons_links_are_dealt_round_the_room_step_by_step():
    lesson = load_lesson(LESSONS_DIR / "5-how-small-can-the-student-be.md")
    ((number, configs),) = lesson_classes(lesson, 7, 5_000)  # one lab step; its board step trains nothing
    assert lesson.steps[number - 1].page == "lab"
    sizes = ["mlp-10x1", "mlp-30x1", "mlp-100x1", "mlp-300x1", "mlp-800x2"]
    assert [config.student for config in configs] == sizes + sizes[:2]
    assert {config.training.seed for config in configs} == {0}


def test_a_lesson_without_a_lab_step_trains_nothing():
    text = """+++
title = "Look"
minutes = 5
goal = "g"
prediction = "p"
discuss = "d"
notice = "n"
[[steps]]
text = "Open the explorer."
page = "explorer"
+++
"""
    assert lesson_classes(parse_lesson(text, "look"), 30, 5_000) == []


def test_a_lesson_steps_report_times_each_step(sample_data, linear_teacher):
    text = """+++
title = "Two temperatures"
minutes = 5
goal = "g"
prediction = "p"
discuss = "d"
notice = "n"
[[steps]]
text = "Train."
page = "lab"
params = { teacher = "linear", student = "linear", epochs = 1, lock = "all" }
vary = { T = [1, 20] }
+++
"""
    from kdlab.cli.classroom import run_lesson

    report = run_lesson(sample_data, parse_lesson(text, "two"), 3)
    (step,) = report["steps"]
    assert step["step"] == 1 and step["trainings"] == 2 and step["served"] == 3
    assert [wait["temperature"] for wait in step["waits"]] == [1.0, 20.0, 1.0]
    assert [wait["how"] for wait in step["waits"]].count("trained") == 2  # the third student joined or was copied
