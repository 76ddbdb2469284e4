"""The class board's data: runs under a class code from several students, their counts, predictions checked
in words, and figures that do not rely on colour alone. The page is tests/app/test_class_board.py."""

import math

from kdlab.classroom.board import (
    TABLE_COLUMNS,
    board_csv,
    check_prediction,
    class_run,
    headline,
    heat_cells,
    mean_by_temperature,
    prediction_summary,
    table_rows,
)
from kdlab.classroom.classes import class_runs
from kdlab.db.database import open_database
from kdlab.db.students import ADJECTIVES, ANIMALS, NICKNAME_NUMBERS, random_nickname
from kdlab.plots import board as board_plots
from tests.conftest import FEWER_BY_10, MORE, make_class


def test_the_store_files_runs_under_their_class_with_nicknames():
    nicknames = make_class(
        "STORE-1", [[(4.0, 0.5, 60, 40, FEWER_BY_10), (8.0, 0.5, 60, 50, None)], [(4.0, 0.9, 60, 70, MORE)]]
    )
    runs = class_runs(open_database(), "store-1")  # codes are case-insensitive
    assert headline(runs) == "3 runs by 2 students"
    assert sorted({run.nickname for run in runs}) == sorted(set(nicknames))
    assert [run.errors_removed for run in runs] == [20, 10, -10]
    assert runs[0].prediction == FEWER_BY_10
    assert mean_by_temperature(runs) == [(4.0, 5.0, 2), (8.0, 10.0, 1)]
    cells = heat_cells(runs)
    assert (cells.temperatures, cells.alphas) == ([4.0, 8.0], [0.5, 0.9])
    assert cells.means == [[20.0, 10.0], [-10.0, None]] and cells.counts == [[1, 1], [1, 0]]
    assert prediction_summary(runs) == {"made": 2, "said_fewer": 1, "checked": 2, "right": 2}
    table = board_csv(runs)
    assert table.splitlines()[0].startswith("student,time,teacher") and len(table.splitlines()) == 4
    assert all(nickname in table for nickname in nicknames)
    assert headline([]) == "No runs yet" and class_runs(open_database(), "NOPE-9") == []


def test_two_students_with_one_nickname_are_told_apart(monkeypatch):
    monkeypatch.setattr("kdlab.db.students.random_nickname", lambda: "Calm Owl 17")
    make_class("TWINS-1", [[(4.0, 0.5, 60, 40, None), (8.0, 0.5, 60, 50, None)], [(4.0, 0.9, 60, 70, None)]])
    runs = class_runs(open_database(), "TWINS-1")
    assert [run.nickname for run in runs] == ["Calm Owl 17", "Calm Owl 17", "Calm Owl 17 (2)"]
    assert "Calm Owl 17 (2)," in board_csv(runs)


def test_nicknames_rarely_repeat_in_a_class_of_60():
    names = len(ADJECTIVES) * len(ANIMALS) * len(NICKNAME_NUMBERS)
    assert 1 - math.exp(-60 * 59 / (2 * names)) < 0.05  # the birthday bound behind the lists' sizes
    assert len({random_nickname() for _ in range(2000)}) > 1950  # and they are drawn from all of them


def test_predictions_are_checked_in_words():
    check = check_prediction(FEWER_BY_10, 14)
    assert check.right_direction and check.off_by == 4
    assert check.sentence() == "Distilling removed 14 errors: right about the direction; the guess was off by 4."
    wrong = check_prediction(MORE, 3)
    assert not wrong.right_direction and wrong.off_by is None
    assert check_prediction({"fewer": True, "by": -5}, -5).right_direction  # the number's sign wins
    assert check_prediction(None, 3) is None and check_prediction(FEWER_BY_10, None) is None


def test_the_figures_do_not_rely_on_colour_alone():
    make_class(
        "FIG-1",
        [
            [(1.0, 0.1, 50, 49, FEWER_BY_10), (4.0, 0.9, 50, 30, FEWER_BY_10)],
            [(4.0, 0.9, 50, 40, {"fewer": False, "by": -3}), (20.0, 0.6, 50, 45, None)],
        ],
    )
    runs = class_runs(open_database(), "FIG-1")
    scatter = board_plots.improvement_scatter(runs)
    symbols = {trace.marker.symbol for trace in scatter.data if trace.mode == "markers"}
    assert len(symbols) == 3  # three alpha bands: three marker shapes as well as three colours
    mean = next(trace for trace in scatter.data if trace.name == "class mean")
    assert mean.line.dash == "dash" and list(mean.y) == [1.0, 15.0, 5.0]
    heatmap = board_plots.improvement_heatmap(heat_cells(runs))
    # alpha 0.9, T = 4: the mean and the count in the cell. Two students' runs of one seed and settings are one
    # training (their numbers differ here only because the test makes them up), counted once.
    assert heatmap.data[0].text[2][1] == "+15<br>n=1"
    predictions = board_plots.prediction_figure(runs)
    assert {trace.marker.symbol for trace in predictions.data if trace.mode == "markers"} == {"circle", "x"}
    assert board_plots.improvement_scatter(runs, font_size=22).layout.font.size == 22


def test_the_table_says_which_soft_loss_each_run_learnt_from():
    summary = {"config": {"temperature": 4.0, "alpha": 0.9, "soft": "nckd"}, "baseline": {"test_errors": 50}}
    older = {"config": {"temperature": 4.0, "alpha": 0.9}}  # a summary without the field: classical KD
    runs = [class_run("Ada", 1, 2.0, "completed", "trained", summary, None)]
    runs.append(class_run("Bo", 2, 1.0, "completed", "trained", older, None))
    rows = table_rows(runs)
    assert [row["method"] for row in rows] == ["nckd", "kd"]
    assert list(rows[0]) == list(TABLE_COLUMNS)


def test_the_table_sorts_students_by_size_not_by_name():
    runs = [
        class_run("Owl", n, float(n), "completed", "trained", {"config": {"student": student}}, None)
        for n, student in enumerate(["mlp-100x1", "mlp-10x1", "mlp-300x1", "mlp-30x1", "?"])
    ]
    rows = [row for row in table_rows(runs) if row["student_parameters"] is not None]  # "?": no size to sort by
    by_name = [row["student_model"] for row in sorted(rows, key=lambda row: row["student_model"])]
    by_size = [row["student_model"] for row in sorted(rows, key=lambda row: row["student_parameters"])]
    assert by_name == ["mlp-100x1", "mlp-10x1", "mlp-300x1", "mlp-30x1"]  # what lesson 5's sort gave before
    assert by_size == ["mlp-10x1", "mlp-30x1", "mlp-100x1", "mlp-300x1"]
    assert "student_parameters" in board_csv(runs).splitlines()[0].split(",")


def test_the_board_csv_is_english_data_whatever_the_page_speaks():
    from kdlab.i18n import speaking

    make_class("CSV-ES", [[(4.0, 0.5, 60, 40, FEWER_BY_10)]])
    runs = class_runs(open_database(), "CSV-ES")
    with speaking("es"):
        table = board_csv(runs)
        shown = table_rows(runs)[0]["prediction"]
    assert "fewer errors, by about 10" in table
    assert shown != "fewer errors, by about 10" and "10" in shown  # the page's table speaks the reader's language
