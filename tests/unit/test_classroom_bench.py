"""``python -m kdlab bench classroom``: the class it builds and the report it gives."""

import pytest

from kdlab.classroom.lab_settings import TEMPERATURES
from kdlab.cli.classroom import class_configs, run_classroom
from tests.conftest import tiny_config


def test_a_lesson_spreads_the_labs_temperatures_over_one_seed():
    configs = class_configs("lesson", 30)
    temperatures = [config.training.temperature for config in configs]
    assert (temperatures[0], temperatures[-1]) == (1.0, 20.0)
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
    assert [wait["temperature"] for wait in report["waits"]] == [1.0, 5.0, 20.0]
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
