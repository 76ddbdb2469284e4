"""Plotly figures for the training-scheme page: each scheme's students beside the references.

Pure functions: each takes the JSON-ready summary of ``kdlab.experiments.schemes`` and returns a
``go.Figure``; nothing here trains, reads files or touches Streamlit. Colours follow
``kdlab.plots.lab`` (Okabe-Ito, one per role: teacher orange, distilled blue, student alone
grey), extended with the schemes' own roles; the layout is the paper replays' one.
"""

from __future__ import annotations

import re

import plotly.graph_objects as go

from kdlab.i18n import N_, _, number
from kdlab.plots.style import LAYOUT, OKABE_ITO
from kdlab.plots.style import ROLE_COLORS as BASE_ROLE_COLORS

ROLE_COLORS = {
    **BASE_ROLE_COLORS,
    "assistant": OKABE_ITO["reddish_purple"],
    "peer": OKABE_ITO["bluish_green"],
    "generation": OKABE_ITO["vermillion"],
    "scheme": OKABE_ITO["sky_blue"],  # the student taught through the assistant
}
# A run's label in the comparison's JSON (kdlab.experiments.schemes) is data, in English; shown, it is translated.
RUN_LABELS = {
    "student alone": N_("student alone"),
    "offline KD": N_("offline KD"),
    "assistant": N_("assistant"),
    "student via assistant": N_("student via assistant"),
}
NUMBERED_LABELS = {"peer": N_("peer {number}"), "generation": N_("generation {number}")}
NUMBERED = re.compile(r"(peer|generation) (\d+)")


def run_label(label: str) -> str:
    """A scheme run's label (``SchemeRun.label``: "student alone", "peer 2", "generation 3", ...) in the current
    language; a label it does not know, unchanged."""
    if label in RUN_LABELS:
        return _(RUN_LABELS[label])
    numbered = NUMBERED.fullmatch(label)
    if numbered:
        return _(NUMBERED_LABELS[numbered[1]]).format(number=numbered[2])
    return label


def scheme_title(entry: dict) -> str:
    """A scheme's title from its summary entry, in the current language."""
    title = entry["title"]  # the English of SCHEME_TITLES, in the comparison's summary
    return _(title)


def accuracy_text(accuracy: float) -> str:
    """A test accuracy (a fraction) as the charts write it: "98.12%" in the current language's digits."""
    return _("{accuracy}%").format(accuracy=number(100 * accuracy, 2))


def _scheme_bars(runs: list[tuple[str, dict]], teacher: dict | None, title: str) -> go.Figure:
    labels = [label for label, _run in runs]
    accuracies = [100 * run["test_accuracy"] for _label, run in runs]
    figure = go.Figure(
        go.Bar(
            x=labels,
            y=accuracies,
            marker_color=[ROLE_COLORS.get(run["role"], ROLE_COLORS["scheme"]) for _label, run in runs],
            text=[
                _("{accuracy}<br>{errors} errors").format(
                    accuracy=accuracy_text(run["test_accuracy"]), errors=number(run["test_errors"])
                )
                for _label, run in runs
            ],
            textposition="outside",
            customdata=[run["arch"] for _label, run in runs],
            hovertemplate="%{x} (%{customdata}): %{y:.2f}%<extra></extra>",
        )
    )
    low = min(accuracies + ([100 * teacher["test_accuracy"]] if teacher else []))
    if teacher:
        figure.add_hline(
            y=100 * teacher["test_accuracy"],
            line=dict(color=ROLE_COLORS["teacher"], dash="dash"),
            annotation_text=_("teacher {model}: {accuracy}").format(
                model=teacher["arch"], accuracy=accuracy_text(teacher["test_accuracy"])
            ),
        )
    figure.update_layout(
        title=title,
        yaxis_title=_("test accuracy (%)"),
        showlegend=False,
        yaxis_range=[max(0.0, low - 2.0), 100.5],
        **LAYOUT,
    )
    return figure


def scheme_figure(summary: dict, scheme: str) -> go.Figure:
    """One scheme's runs beside the student alone and offline KD (same seed and budget)."""
    entry = summary["schemes"][scheme]
    runs = [(run_label("student alone"), summary["student_alone"]), (run_label("offline KD"), summary["offline_kd"])]
    if scheme != "offline":
        runs += [(run_label(run["label"]), run) for run in entry["runs"]]
    title = _("{scheme} beside both references").format(scheme=scheme_title(entry))
    return _scheme_bars([(label, run) for label, run in runs if run], summary.get("teacher"), title)


def schemes_overview_figure(summary: dict) -> go.Figure:
    """What each scheme hands over (its final student) beside both references."""
    runs = [(run_label("student alone"), summary["student_alone"]), (run_label("offline KD"), summary["offline_kd"])]
    for name, entry in summary["schemes"].items():
        if name != "offline" and entry["final"]:
            runs.append((f"{scheme_title(entry)}<br>{run_label(entry['final']['label'])}", entry["final"]))
    return _scheme_bars(
        [(label, run) for label, run in runs if run],
        summary.get("teacher"),
        _("Every scheme's final student, same seed and budget"),
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
                    name=run_label(run["label"]),
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
        title=_("Test accuracy during training"),
        xaxis_title=_("epoch"),
        yaxis_title=_("test accuracy (%)"),
        **LAYOUT,
    )
    return figure
