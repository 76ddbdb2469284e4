"""The class board groups the class's trainings by what a lesson varies: student sizes by their parameters, two
settings at once, seeds pooled and copies counted once per group, the share of the gap to the teacher closed,
and the board link's ``vary=`` (records built here; the page is tests/app/test_board_groups_page.py)."""

import pytest

from kdlab.classroom.board import ClassRun, class_run, table_rows
from kdlab.classroom.board_groups import (
    GROUP_NAMES,
    GROUP_SETTINGS,
    MAX_GROUPING,
    class_groups,
    setting_value,
    varied_settings,
)
from kdlab.classroom.lab_settings import LAB_SETTINGS
from kdlab.classroom.links import check_link, parse_board_link
from kdlab.experiments.seeds import t_interval
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.models import describe_model
from kdlab.plots import board as board_plots


def run(seed=0, alone=600, distilled=400, *, student_id=1, teacher_errors=100, source="trained", **settings):
    return ClassRun(
        nickname=f"Student {student_id}",
        student_id=student_id,
        created_at=float(seed),
        status="completed",
        source=source,
        teacher=settings.get("teacher", "cnn-wide"),
        student=settings.get("student", "mlp-200x1"),
        temperature=settings.get("temperature", 4.0),
        alpha=settings.get("alpha", 0.9),
        epochs=40,
        train_images=5000,
        seed=seed,
        baseline_errors=alone,
        distilled_errors=distilled,
        test_size=10_000,
        soft=settings.get("soft", "kd"),
        learning_rate=0.001,
        batch_size=128,
        method_settings=settings.get("method_settings", ()),
        teacher_errors=teacher_errors,
    )


def test_grouping_by_student_sorts_by_parameters_not_by_name():
    names = ["mlp-100x1", "mlp-10x1", "mlp-300x1", "mlp-30x1"]
    runs = [run(student=name, distilled=600 - 10 * n, student_id=n) for n, name in enumerate(names)]
    assert varied_settings(runs) == ("student",)  # nothing else differs; the seed never groups
    groups = class_groups(runs, ("student",))
    by_size = sorted(names, key=lambda name: describe_model(name).parameters)
    assert [group.values for group in groups] == [(name,) for name in by_size] != [(name,) for name in sorted(names)]
    assert [group.mean for group in groups] == [10 * names.index(name) for name in by_size]
    figure = board_plots.groups_figure(groups, ("student",))
    assert list(figure.layout.xaxis.categoryarray) == by_size
    assert figure.layout.xaxis.title.text == "Student architecture"  # the setting's label, from LAB_SETTINGS


def test_teachers_sort_weakest_first_by_size_without_a_record_and_soft_losses_in_the_labs_order():
    errors = {"ensemble:cnn*3": 60, "cnn": 80, "linear": 765, "cnn-wide": 65, "lenet5": 116}  # the ensemble strongest
    recorded = [run(teacher=name, teacher_errors=errors[name], student_id=n) for n, name in enumerate(errors)]
    groups = class_groups(recorded, ("teacher",))
    assert [group.values[0] for group in groups] == ["linear", "lenet5", "cnn", "cnn-wide", "ensemble:cnn*3"]
    unrecorded = [run(teacher=name, teacher_errors=None, student_id=n) for n, name in enumerate(errors)]
    by_size = ["linear", "lenet5", "cnn", "ensemble:cnn*3", "cnn-wide"]  # an ensemble: its members' parameters
    assert [group.values[0] for group in class_groups(unrecorded, ("teacher",))] == by_size
    softs = [run(soft=name, student_id=n) for n, name in enumerate(["dkd", "kd", "nckd", "tckd"])]
    assert [group.values[0] for group in class_groups(softs, ("soft",))] == ["kd", "tckd", "nckd", "dkd"]


def test_two_varied_settings_group_together_and_the_figure_has_a_series_per_second_value():
    runs = [
        run(student=student, temperature=temperature, distilled=500 - int(temperature), student_id=n)
        for n, (student, temperature) in enumerate(
            [("mlp-30x1", 8.0), ("mlp-10x1", 4.0), ("mlp-30x1", 4.0), ("mlp-10x1", 8.0)]
        )
    ]
    assert varied_settings(runs) == ("student", "T")
    groups = class_groups(runs, ("student", "T"))
    assert [group.values for group in groups] == [
        ("mlp-10x1", 4.0),
        ("mlp-10x1", 8.0),
        ("mlp-30x1", 4.0),
        ("mlp-30x1", 8.0),
    ]
    assert [group.mean for group in groups] == [104, 108, 104, 108]
    figure = board_plots.groups_figure(groups, ("student", "T"))
    series = {trace.name: list(trace.x) for trace in figure.data}
    assert series == {"T = 4": ["mlp-10x1", "mlp-30x1"], "T = 8": ["mlp-10x1", "mlp-30x1"]}
    assert len({trace.marker.symbol for trace in figure.data}) == 2  # shape as well as colour
    assert [group.values for group in class_groups(runs, ("T", "student"))][0] == (4.0, "mlp-10x1")
    assert len(class_groups(runs, ())) == 1 and class_groups(runs, ())[0].trainings == 4


def test_a_group_pools_its_seeds_and_counts_copies_of_one_training_once():
    lesson_link = [run(0, 600, 400, student_id=n, source="cache" if n else "trained") for n in range(30)]  # +200
    other_seeds = [run(1, 600, 420, student_id=31), run(2, 600, 440, student_id=32)]  # +180, +160
    small = [run(0, 600, 590, student="mlp-10x1", student_id=33)]  # +10, a group of its own
    groups = class_groups(lesson_link + other_seeds + small, ("student",))
    assert [(group.values, group.trainings) for group in groups] == [(("mlp-10x1",), 1), (("mlp-200x1",), 3)]
    big = groups[1]
    assert big.mean == 180.0  # not 30 copies of +200 beside two other seeds
    assert big.pool.seeds == 3 and big.pool.interval == pytest.approx(t_interval([200, 180, 160]))
    figure = board_plots.groups_figure(groups, ("student",))
    bars = figure.data[0].error_y
    assert bars.array[1] == pytest.approx(big.pool.interval[1] - 180) and bars.array[0] == 0  # one seed: no bar


def test_the_share_of_the_gap_closed_by_hand():
    # alone 600, teacher 100: a gap of 500; distilled 400 removed 200 of it: 40%. Another seed: 300 of 400.
    one = run(0, 600, 400, teacher_errors=100)
    assert one.gap == 500 and one.gap_closed == pytest.approx(0.4)
    two = [one, run(1, 500, 200, teacher_errors=100)]
    assert class_groups(two, ())[0].gap_closed == pytest.approx((200 + 300) / (500 + 400))  # pooled like the errors
    worse_teacher = run(0, 60, 50, teacher_errors=91)  # the teacher makes more errors than the student alone
    assert worse_teacher.gap_closed is None and class_groups([worse_teacher], ())[0].gap_closed is None
    unknown = class_groups([run(0, 600, 400, teacher_errors=None)], ())[0]
    assert unknown.gap_closed is None and unknown.teacher_errors_unknown == 1
    mixed = class_groups([one, run(1, 600, 500, teacher_errors=None)], ())[0]
    assert mixed.gap_closed == pytest.approx(0.4) and mixed.teacher_errors_unknown == 1


def test_the_table_and_csv_carry_the_teachers_errors_and_the_share_of_the_gap():
    summary = {
        "config": {"teacher": "cnn", "student": "mlp-10x1"},
        "teacher": {"test_errors": 16},
        "baseline": {"test_errors": 62},
        "student": {"test_errors": 37},
    }
    runs = [class_run("Ada", 1, 1.0, "completed", "trained", summary, None)]
    assert runs[0].teacher_errors == 16
    assert table_rows(runs)[0]["gap_closed"] == round(25 / 46, 3)
    assert table_rows(runs, hide_results=True)[0]["gap_closed"] is None
    older = class_run("Bo", 2, 1.0, "completed", "trained", {**summary, "teacher": None}, None)
    assert older.teacher_errors is None and table_rows([older])[0]["gap_closed"] is None


def test_every_setting_of_a_run_can_group_the_board_but_the_seed():
    assert "seed" not in GROUP_NAMES and "seeds" not in GROUP_NAMES
    assert set(GROUP_NAMES) == {setting.url for setting in LAB_SETTINGS} - {"seed", "seeds"}
    for method in METHODS.values():  # a run of each method has a value for every setting but other methods' own
        own = method.setting_values({})
        ran = run(soft=method.name, method_settings=tuple(own.items()))
        for setting in GROUP_SETTINGS:
            other_methods = setting.only_with is not None and setting.only_with[1] != method.name
            assert (setting_value(ran, setting) is None) == other_methods, (method.name, setting.url)
    assert varied_settings([run(soft="kd"), run(soft="dkd", method_settings=(("beta", 8.0),))]) == ("soft",)


def test_a_board_link_groups_by_what_vary_names_and_says_what_it_ignored():
    assert parse_board_link({"class": "PHYS-7", "vary": "student"}).values == {"vary": ("student",)}
    assert parse_board_link({"vary": " T , alpha,T"}).values == {"vary": ("T", "alpha")}
    link = parse_board_link({"vary": "student,bogus,<b>x</b>,seed"})
    assert link.values == {"vary": ("student",)} and len(link.problems) == 1
    assert "`bogus`, `<b>x</b>`, `seed` are not settings the board can group by" in link.problems[0]
    nothing = parse_board_link({"vary": "nope"})
    assert (
        nothing.values == {}
        and len(nothing.problems) == 1
        and "grouping by what the class's runs vary" in (nothing.problems[0])
    )
    many = parse_board_link({"vary": "T,alpha,student,teacher"})
    assert many.values["vary"] == ("T", "alpha", "student")[:MAX_GROUPING] and "at most 3" in many.problems[0]
    too_long = parse_board_link({"vary": "T," * 150})
    assert too_long.values == {} and "longer than 200 characters" in too_long.problems[0]
    assert check_link("board", {"vary": "teacher"}) == [] and check_link("board", {"vary": "x"})
