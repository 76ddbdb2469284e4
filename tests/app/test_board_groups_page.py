"""The class board page groups the class's runs by what they vary: by default the settings that differ, a link's
``vary=`` or the "Group by" control otherwise; a figure with its sentence and table, the share of the gap closed,
and the (T, alpha) heat map only for a class that varies T or alpha."""

import pytest

from kdlab.classroom.classes import open_class
from kdlab.db.database import open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student
from tests.app.helpers import chart_spec, open_alone, texts
from tests.conftest import add_run

BOARD = "pages/class_board.py"


@pytest.fixture(autouse=True)
def no_instructor_key(monkeypatch):
    monkeypatch.delenv("KDLAB_INSTRUCTOR_KEY", raising=False)


def students_class(code: str) -> None:
    """Lesson 5's class: one student per size (given out of order), teacher 20 errors, alone 80."""
    database = open_database()
    open_class(database, code)
    for student, distilled in [("mlp-100x1", 50), ("mlp-10x1", 85), ("mlp-300x1", 40), ("mlp-30x1", 70)]:
        store = DatabaseRunStore(database, create_student(database)[0].id)
        add_run(
            store,
            temperature=4.0,
            alpha=0.9,
            alone=80,
            distilled=distilled,
            code=code,
            teacher_errors=20,
            student=student,
        )


def shown(at) -> str:
    """The page's Markdown as it reads (a group's values are escaped: "mlp\\-10x1")."""
    return texts(at.markdown).replace("\\", "")


def groups_table(at):
    return next(frame.value for frame in at.dataframe if "share of the gap closed" in frame.value.columns)


def test_the_board_groups_by_the_student_size_the_class_varies_sorted_by_parameters():
    students_class("SIZES-1")
    at = open_alone(BOARD, query={"class": "SIZES-1"})
    assert not at.exception, [e.value for e in at.exception]
    assert at.multiselect(key="board.group").value == ["student"]
    spec = chart_spec(at, "board.groups")
    assert spec["layout"]["xaxis"]["categoryarray"] == ["mlp-10x1", "mlp-30x1", "mlp-100x1", "mlp-300x1"]
    assert spec["layout"]["xaxis"]["title"]["text"] == "Student architecture"
    sentence = (
        "Mean errors removed by distilling, by student: student = mlp-10x1: -5.0 (1 training, -8% of the gap to the "
        "teacher closed); student = mlp-30x1"
    )
    assert sentence in shown(at)
    assert "student = mlp-300x1: +40.0 (1 training, 67% of the gap to the teacher closed)" in shown(at)
    alts = [element.proto.alt for element in at.get("plotly_chart")]
    assert any("mlp-300x1: +40.0" in alt for alt in alts)
    table = groups_table(at)
    assert list(table["student"]) == ["mlp-10x1", "mlp-30x1", "mlp-100x1", "mlp-300x1"]
    assert list(table["share of the gap closed"]) == ["-8%", "17%", "50%", "67%"]  # -5 of a gap of 60
    assert not [chart for chart in at.get("plotly_chart") if chart.proto.id.endswith("board.heatmap")]
    assert set(at.dataframe[-1].value["gap_closed"].round(3)) >= {0.5, round(40 / 60, 3)}  # the runs' table too

    at.multiselect(key="board.group").set_value(
        ["T"]
    ).run()  # the viewer regroups: one T, one group: (-5 + 10 + 30 + 40) / 4, 75 of 240
    assert "by T: T = 4: +18.8 (4 trainings, 31% of the gap to the teacher closed)" in shown(at)
    at.run()  # the board's refresh keeps the viewer's choice
    assert at.multiselect(key="board.group").value == ["T"]


def test_a_links_vary_sets_the_grouping_and_a_bad_name_is_one_message():
    students_class("SIZES-2")
    at = open_alone(BOARD, query={"class": "SIZES-2", "vary": "T,alpha"})
    assert at.multiselect(key="board.group").value == ["T", "alpha"]
    assert "by T, alpha: T = 4, alpha = 0.9: +18.8 (4 trainings" in shown(at)
    bad = open_alone(BOARD, query={"class": "SIZES-2", "vary": "<b>size</b>,teacher"})
    assert not bad.exception
    warnings = [element.value for element in bad.warning]
    assert len(warnings) == 1 and "`<b>size</b>` is not a setting the board can group by" in warnings[0]
    assert bad.multiselect(key="board.group").value == ["teacher"]


def test_a_class_that_varies_t_and_alpha_keeps_its_heat_map_beside_the_groups():
    database = open_database()
    open_class(database, "HEAT-2")
    store = DatabaseRunStore(database, create_student(database)[0].id)
    for temperature, alpha, distilled in [(2.0, 0.5, 70), (8.0, 0.5, 60), (8.0, 0.9, 65)]:
        add_run(store, temperature=temperature, alpha=alpha, alone=80, distilled=distilled, code="HEAT-2")
    at = open_alone(BOARD, query={"class": "HEAT-2"})
    assert at.multiselect(key="board.group").value == ["T", "alpha"]
    assert chart_spec(at, "board.heatmap")["data"][0]["type"] == "heatmap" and chart_spec(at, "board.groups")
    assert "recorded without the teacher's test errors" in shown(at)  # these summaries lack them


def test_lesson_7s_board_shows_the_teachers_weakest_first_and_writes_an_ensembles_name_as_it_is():
    database = open_database()
    open_class(database, "TEACH-7")
    for teacher, teacher_errors, distilled in [
        ("cnn-wide", 65, 395),
        ("ensemble:cnn*3", 60, 380),
        ("linear", 765, 745),
    ]:
        store = DatabaseRunStore(database, create_student(database)[0].id)
        add_run(
            store,
            temperature=4.0,
            alpha=0.9,
            alone=586,
            distilled=distilled,
            code="TEACH-7",
            teacher_errors=teacher_errors,
            teacher=teacher,
        )
    at = open_alone(BOARD, query={"class": "TEACH-7", "vary": "teacher"})
    assert chart_spec(at, "board.groups")["layout"]["xaxis"]["categoryarray"] == [
        "linear",
        "cnn-wide",
        "ensemble:cnn*3",
    ]
    assert "ensemble\\:cnn\\*3: +206.0" in texts(at.markdown)  # escaped: not an emphasis
    assert "teacher = linear: -159.0 (1 training);" in shown(at)  # a teacher worse than alone: no gap to close
