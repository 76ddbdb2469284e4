"""Figure builders: one colour per role, labelled axes, the numbers they were given."""

import re
import subprocess
import sys

import plotly.graph_objects as go
import pytest

from kdlab import plots


def points(accuracies, soft=0.5, hard=0.1):
    return [{"epoch": (i + 1) / 2, "test_accuracy": a, "soft_loss": soft, "hard_loss": hard, "loss": soft + hard}
            for i, a in enumerate(accuracies)]


def assert_labelled(figure: go.Figure) -> None:
    assert figure.layout.title.text
    assert figure.layout.xaxis.title.text
    assert figure.layout.yaxis.title.text


def test_role_colors_are_okabe_ito_and_distinct():
    assert set(plots.ROLE_COLORS) >= {"teacher", "distilled", "baseline"}
    colors = [plots.ROLE_COLORS[role] for role in ("teacher", "distilled", "baseline")]
    assert len(set(colors)) == 3
    assert all(color in plots.OKABE_ITO.values() for color in colors)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", color) for color in colors)


def test_probability_bars_show_both_temperatures():
    plain = [0.9] + [0.1 / 9] * 9
    soft = [0.5] + [0.5 / 9] * 9
    figure = plots.probability_bars(plain, soft, 4.0, true_label=0)
    assert_labelled(figure)
    assert [trace.name for trace in figure.data] == ["T = 1", "T = 4"]
    assert list(figure.data[1].y) == soft
    assert figure.data[0].x[0] == "0 (true)"
    assert all(trace.marker.color == plots.ROLE_COLORS["teacher"] for trace in figure.data)
    assert "T = 4" in figure.layout.title.text
    assert plots.probability_bars(plain, soft, 4.0, log_scale=True).layout.yaxis.type == "log"


def test_entropy_curve_marks_the_current_temperature():
    figure = plots.entropy_curve([0.5, 1, 2, 4], [0.1, 0.3, 1.0, 2.0], 2.0, 1.0)
    assert_labelled(figure)
    assert figure.layout.xaxis.type == "log"
    marker = figure.data[1]
    assert list(marker.x) == [2.0] and list(marker.y) == [1.0]


def test_similarity_heatmap_hides_the_diagonal_on_request():
    matrix = [[0.9 if row == col else 0.01 for col in range(10)] for row in range(10)]
    hidden = plots.similarity_heatmap(matrix, 4.0)
    assert_labelled(hidden)
    assert all(hidden.data[0].z[i][i] is None for i in range(10))
    assert hidden.data[0].z[3][5] == pytest.approx(0.01)
    shown = plots.similarity_heatmap(matrix, 4.0, hide_diagonal=False)
    assert shown.data[0].z[2][2] == pytest.approx(0.9)


def test_accuracy_curves_colour_each_role_and_draw_the_teacher():
    figure = plots.accuracy_curves({"distilled": points([0.9, 0.95]), "baseline": points([0.88, 0.93])},
                                   teacher_accuracy=0.99, total_epochs=1)
    assert_labelled(figure)
    by_name = {trace.name: trace for trace in figure.data}
    assert by_name[plots.ROLE_NAMES["distilled"]].line.color == plots.ROLE_COLORS["distilled"]
    assert by_name[plots.ROLE_NAMES["baseline"]].line.color == plots.ROLE_COLORS["baseline"]
    assert by_name[plots.ROLE_NAMES["baseline"]].line.dash == "dash"
    teacher_lines = [shape for shape in figure.layout.shapes if shape.line.color == plots.ROLE_COLORS["teacher"]]
    assert len(teacher_lines) == 1 and teacher_lines[0].y0 == pytest.approx(0.99)
    assert figure.layout.yaxis.range[0] <= 0.88


def test_accuracy_curves_accept_no_points_yet():
    figure = plots.accuracy_curves({})
    assert len(figure.data) == 0


def test_loss_anatomy_splits_soft_and_hard_terms():
    figure = plots.loss_anatomy({"distilled": points([0.9], soft=0.7, hard=0.05), "baseline": points([0.9])})
    assert_labelled(figure)
    names = [trace.name for trace in figure.data]
    assert any("soft" in name for name in names) and any("hard" in name for name in names)
    soft = next(trace for trace in figure.data if "soft" in trace.name)
    assert list(soft.y) == [0.7]
    assert soft.line.color == plots.ROLE_COLORS["distilled"]


def test_per_class_accuracy_tolerates_absent_digits():
    values = [0.9] * 9 + [float("nan")]
    figure = plots.per_class_accuracy({"teacher": values, "baseline": [0.8] * 9 + [None]})
    assert_labelled(figure)
    assert figure.data[0].y[-1] is None
    assert figure.data[0].marker.color == plots.ROLE_COLORS["teacher"]


def test_confusion_heatmap_shows_mistakes_only():
    confusion = [[100 if row == col else row for col in range(10)] for row in range(10)]
    figure = plots.confusion_heatmap(confusion, "baseline")
    assert_labelled(figure)
    assert figure.data[0].z[4][4] is None and figure.data[0].z[4][2] == 4
    assert plots.confusion_heatmap(confusion, "baseline", zmax=20).data[0].zmax == 20


def test_runs_overlay_uses_role_colours_and_one_dash_per_run():
    runs = [("run 1", {"distilled": points([0.9]), "baseline": points([0.8])}),
            ("run 2", {"distilled": points([0.92]), "baseline": points([0.85])})]
    figure = plots.runs_overlay(runs)
    assert_labelled(figure)
    assert len(figure.data) == 4
    roles = {plots.ROLE_COLORS["distilled"], plots.ROLE_COLORS["baseline"]}
    assert {trace.line.color for trace in figure.data} == roles
    assert figure.data[0].line.dash != figure.data[2].line.dash


def test_plots_and_runs_do_not_import_streamlit():
    code = "import sys, kdlab.plots, kdlab.runs; assert 'streamlit' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
