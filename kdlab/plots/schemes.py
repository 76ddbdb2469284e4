"""Plotly figures for the training-scheme page: each scheme's students beside the references.

Pure functions: each takes the JSON-ready summary of ``kdlab.experiments.schemes`` and returns a
``go.Figure``; nothing here trains, reads files or touches Streamlit. Colours follow
``kdlab.plots.lab`` (Okabe-Ito, one per role: teacher orange, distilled blue, student alone
grey), extended with the schemes' own roles; the layout is the paper replays' one.
"""

from __future__ import annotations

import plotly.graph_objects as go

from kdlab.plots.style import LAYOUT, OKABE_ITO
from kdlab.plots.style import ROLE_COLORS as BASE_ROLE_COLORS

ROLE_COLORS = {
    **BASE_ROLE_COLORS,
    "assistant": OKABE_ITO["reddish_purple"],
    "peer": OKABE_ITO["bluish_green"],
    "generation": OKABE_ITO["vermillion"],
    "scheme": OKABE_ITO["sky_blue"],  # the student taught through the assistant
}


def _scheme_bars(runs: list[tuple[str, dict]], teacher: dict | None, title: str) -> go.Figure:
    labels = [label for label, _ in runs]
    accuracies = [100 * run["test_accuracy"] for _, run in runs]
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=accuracies,
            marker_color=[ROLE_COLORS.get(run["role"], ROLE_COLORS["scheme"]) for _, run in runs],
            text=[f"{100 * run['test_accuracy']:.2f}%<br>{run['test_errors']} errors" for _, run in runs],
            textposition="outside",
            customdata=[run["arch"] for _, run in runs],
            hovertemplate="%{x} (%{customdata}): %{y:.2f}%<extra></extra>",
        )
    )
    low = min(accuracies + ([100 * teacher["test_accuracy"]] if teacher else []))
    if teacher:
        figure.add_hline(
            y=100 * teacher["test_accuracy"],
            line=dict(color=ROLE_COLORS["teacher"], dash="dash"),
            annotation_text=f"teacher {teacher['arch']}: {100 * teacher['test_accuracy']:.2f}%",
        )
    figure.update_layout(
        title=title,
        yaxis_title="test accuracy (%)",
        showlegend=False,
        yaxis_range=[max(0.0, low - 2.0), 100.5],
        **LAYOUT,
    )
    return figure


def scheme_figure(summary: dict, scheme: str) -> go.Figure:
    """One scheme's runs beside the student alone and offline KD (same seed and budget)."""
    entry = summary["schemes"][scheme]
    runs = [("student alone", summary["student_alone"]), ("offline KD", summary["offline_kd"])]
    if scheme != "offline":
        runs += [(run["label"], run) for run in entry["runs"]]
    title = f"{entry['title']} beside both references"
    return _scheme_bars([(label, run) for label, run in runs if run], summary.get("teacher"), title)


def schemes_overview_figure(summary: dict) -> go.Figure:
    """What each scheme hands over (its final student) beside both references."""
    runs = [("student alone", summary["student_alone"]), ("offline KD", summary["offline_kd"])]
    for name, entry in summary["schemes"].items():
        if name != "offline" and entry["final"]:
            runs.append((f"{entry['title']}<br>{entry['final']['label']}", entry["final"]))
    return _scheme_bars(
        [(label, run) for label, run in runs if run],
        summary.get("teacher"),
        "Every scheme's final student, same seed and budget",
    )


def scheme_curves_figure(summary: dict, scheme: str) -> go.Figure:
    """Test accuracy during training for the references and the scheme's runs."""
    entry = summary["schemes"][scheme]
    runs = [summary["student_alone"], summary["offline_kd"]] + ([] if scheme == "offline" else entry["runs"])
    figure = go.Figure()
    for run in runs:
        if run:
            figure.add_trace(
                go.Scatter(
                    name=run["label"],
                    x=[point["epoch"] for point in run["curve"]],
                    y=[100 * point["test_accuracy"] for point in run["curve"]],
                    mode="lines",
                    line=dict(
                        color=ROLE_COLORS.get(run["role"], ROLE_COLORS["scheme"]),
                        dash="solid" if run["role"] in ("baseline", "distilled") else "dot",
                    ),
                )
            )
    figure.update_layout(
        title="Test accuracy during training", xaxis_title="epoch", yaxis_title="test accuracy (%)", **LAYOUT
    )
    return figure
