"""Figure builders: one colour per role, labelled axes, the numbers they were given."""

import re
import subprocess
import sys

import plotly.graph_objects as go
import pytest

from kdlab.plots import lab as plots
from kdlab.plots import replays as replay_plots
from kdlab.plots import schemes as scheme_plots
from kdlab.plots import style


def points(accuracies, soft=0.5, hard=0.1):
    return [
        {"epoch": (i + 1) / 2, "test_accuracy": a, "soft_loss": soft, "hard_loss": hard, "loss": soft + hard}
        for i, a in enumerate(accuracies)
    ]


def assert_labelled(figure: go.Figure) -> None:
    assert figure.layout.title.text
    assert figure.layout.xaxis.title.text
    assert figure.layout.yaxis.title.text


def test_role_colors_are_okabe_ito_and_distinct():
    assert set(style.ROLE_COLORS) >= {"teacher", "distilled", "baseline"}
    colors = [style.ROLE_COLORS[role] for role in ("teacher", "distilled", "baseline")]
    assert len(set(colors)) == 3
    assert all(color in style.OKABE_ITO.values() for color in colors)
    assert all(re.fullmatch(r"#[0-9A-F]{6}", color) for color in colors)


def test_probability_bars_show_both_temperatures():
    plain = [0.9] + [0.1 / 9] * 9
    soft = [0.5] + [0.5 / 9] * 9
    figure = plots.probability_bars(plain, soft, 4.0, true_label=0)
    assert_labelled(figure)
    assert [trace.name for trace in figure.data] == ["T = 1", "T = 4"]
    assert list(figure.data[1].y) == soft
    assert figure.data[0].x[0] == "0 (true)"
    assert all(trace.marker.color == style.ROLE_COLORS["teacher"] for trace in figure.data)
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
    figure = plots.accuracy_curves(
        {"distilled": points([0.9, 0.95]), "baseline": points([0.88, 0.93])}, teacher_accuracy=0.99, total_epochs=1
    )
    assert_labelled(figure)
    by_name = {trace.name: trace for trace in figure.data}
    assert by_name[style.ROLE_NAMES["distilled"]].line.color == style.ROLE_COLORS["distilled"]
    assert by_name[style.ROLE_NAMES["baseline"]].line.color == style.ROLE_COLORS["baseline"]
    assert by_name[style.ROLE_NAMES["baseline"]].line.dash == "dash"
    teacher_lines = [shape for shape in figure.layout.shapes if shape.line.color == style.ROLE_COLORS["teacher"]]
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
    assert soft.line.color == style.ROLE_COLORS["distilled"]


def test_per_class_accuracy_tolerates_absent_digits():
    values = [0.9] * 9 + [float("nan")]
    figure = plots.per_class_accuracy({"teacher": values, "baseline": [0.8] * 9 + [None]})
    assert_labelled(figure)
    assert figure.data[0].y[-1] is None
    assert figure.data[0].marker.color == style.ROLE_COLORS["teacher"]


def test_confusion_heatmap_shows_mistakes_only():
    confusion = [[100 if row == col else row for col in range(10)] for row in range(10)]
    figure = plots.confusion_heatmap(confusion, "baseline")
    assert_labelled(figure)
    assert figure.data[0].z[4][4] is None and figure.data[0].z[4][2] == 4
    assert plots.confusion_heatmap(confusion, "baseline", zmax=20).data[0].zmax == 20


def test_runs_overlay_uses_role_colours_and_one_dash_per_run():
    runs = [
        ("run 1", {"distilled": points([0.9]), "baseline": points([0.8])}),
        ("run 2", {"distilled": points([0.92]), "baseline": points([0.85])}),
    ]
    figure = plots.runs_overlay(runs)
    assert_labelled(figure)
    assert len(figure.data) == 4
    roles = {style.ROLE_COLORS["distilled"], style.ROLE_COLORS["baseline"]}
    assert {trace.line.color for trace in figure.data} == roles
    assert figure.data[0].line.dash != figure.data[2].line.dash


def test_table_figure_sets_the_papers_errors_beside_ours():
    rows = [
        {"paper": paper, "ours": ours, "paper_total": 10_000, "ours_total": 1_000}
        for paper, ours in ((67, 31), (146, 52), (74, None))
    ]
    figure = replay_plots.table_figure({"comparison": rows, "budget": {"name": "quick"}})
    assert figure.layout.title.text and figure.layout.yaxis.title.text == "test error (%)"
    paper, ours = figure.data
    assert list(paper.y) == pytest.approx([0.67, 1.46, 0.74]) and list(ours.y[:2]) == pytest.approx([3.1, 5.2])
    assert ours.y[2] is None and ours.text[2] == "-"
    assert list(ours.marker.color) == [style.ROLE_COLORS[role] for role in ("teacher", "baseline", "distilled")]


def test_decoupled_figure_has_one_bar_per_student_in_percent():
    labels = {"baseline": "Alone", "kd": "KD", "tckd": "TCKD", "nckd": "NCKD", "dkd": "DKD"}
    ours = {"baseline_errors": 50, "kd_errors": 40, "tckd_errors": 48, "nckd_errors": 41, "dkd_errors": None}
    figure = replay_plots.decoupled_figure({"ours": ours | {"test_size": 1_000}}, labels)
    (bars,) = figure.data
    assert list(bars.x) == list(labels.values())
    assert list(bars.y[:4]) == pytest.approx([5.0, 4.0, 4.8, 4.1]) and bars.y[4] is None and bars.text[4] == "-"
    assert (
        bars.marker.color[0] == style.ROLE_COLORS["baseline"] and bars.marker.color[1] == style.ROLE_COLORS["distilled"]
    )
    assert len(set(bars.marker.color)) == 5


def test_transfer_counts_mark_the_missing_digit():
    counts = [100] * 10
    counts[3] = 0
    figure = replay_plots.transfer_counts_figure(counts, missing=(3,))
    colors = list(figure.data[0].marker.color)
    assert colors[3] == replay_plots.MISSING_COLOR and colors[4] == style.ROLE_COLORS["distilled"]
    assert "never sees a 3" in figure.layout.title.text and figure.data[0].text[3] == "none"


def test_bias_sweep_figure_marks_every_bias_and_widens_its_axis():
    sweep = {"bias": [-20.0, 0.0, 20.0], "errors": [900, 200, 800], "class_errors": [100, 50, 1]}
    figure = replay_plots.bias_sweep_figure(sweep, "3s", current_bias=1.0, chosen_bias=2.5, paper_bias=12.0)
    assert_labelled(figure)
    assert [line.x0 for line in figure.layout.shapes] == [12.0, 2.5, 1.0]
    assert tuple(figure.layout.xaxis.range) == (-10.0, 14.0) and figure.layout.yaxis.type == "log"


def test_temperature_width_heatmap_colours_the_gain_over_the_student_alone():
    grid = [
        {"width": 30, "temperature": temperature, "arch": "mlp-30x2", "test_accuracy": accuracy}
        for temperature, accuracy in ((None, 0.90), (2.0, 0.93), (8.0, 0.91))
    ]
    figure = replay_plots.temperature_width_figure(grid)
    heatmap = figure.data[0]
    assert list(heatmap.x) == ["alone", "T = 2", "T = 8"] and list(heatmap.y) == ["mlp-30x2"]
    assert list(heatmap.z[0]) == pytest.approx([0.0, 3.0, 1.0])


def scheme_run(label: str, role: str, accuracy: float) -> dict:
    return {
        "label": label,
        "role": role,
        "arch": "mlp-30x1",
        "test_accuracy": accuracy,
        "test_errors": 10,
        "curve": points([accuracy - 0.05, accuracy]),
    }


def scheme_summary() -> dict:
    peers = [scheme_run("peer 1", "peer", 0.95), scheme_run("peer 2", "peer", 0.94)]
    return {
        "student_alone": scheme_run("student alone", "baseline", 0.9),
        "offline_kd": scheme_run("offline KD", "distilled", 0.93),
        "teacher": {"arch": "cnn", "test_accuracy": 0.99},
        "schemes": {
            "offline": {"title": "Offline KD", "runs": [], "final": None},
            "dml": {"title": "Deep mutual learning", "runs": peers, "final": peers[0]},
        },
    }


def test_scheme_figures_set_each_scheme_beside_both_references():
    summary = scheme_summary()
    bars = scheme_plots.scheme_figure(summary, "dml")
    assert list(bars.data[0].x) == ["student alone", "offline KD", "peer 1", "peer 2"]
    assert bars.data[0].marker.color[2] == scheme_plots.ROLE_COLORS["peer"]
    overview = scheme_plots.schemes_overview_figure(summary)
    assert len(overview.data[0].x) == 3 and "Deep mutual learning" in overview.data[0].x[2]
    curves = scheme_plots.scheme_curves_figure(summary, "dml")
    assert_labelled(curves)
    assert [trace.name for trace in curves.data] == ["student alone", "offline KD", "peer 1", "peer 2"]
    assert [trace.line.dash for trace in curves.data] == ["solid", "solid", "dot", "dot"]


def test_replay_plots_hold_only_the_replay_figures():
    assert not any(name.startswith("scheme") for name in dir(replay_plots))


def test_figure_modules_do_not_import_streamlit():
    code = (
        "import sys, kdlab.plots.lab, kdlab.plots.replays, kdlab.plots.schemes, kdlab.runs.record; "
        "assert 'streamlit' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
