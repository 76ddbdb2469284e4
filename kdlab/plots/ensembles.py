"""Plotly figures for ensemble teachers and the compression replay.

Pure functions from numbers to ``go.Figure``; nothing here trains or touches Streamlit. Colours
follow ``kdlab.plots.lab`` (Okabe-Ito): the ensemble is the teacher's orange, its members lighter
outlines of it, the student alone grey, and each transfer set its own colour.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from kdlab.i18n import N_, _, ngettext, number
from kdlab.plots.style import DIGITS, LAYOUT, OKABE_ITO, ROLE_COLORS

MEMBER_COLORS = [OKABE_ITO[name] for name in ("sky_blue", "bluish_green", "reddish_purple", "yellow", "vermillion")]
TRANSFER_COLORS = {
    "labelled": OKABE_ITO["sky_blue"],
    "real": OKABE_ITO["blue"],
    "munge": OKABE_ITO["bluish_green"],
    "noise": OKABE_ITO["vermillion"],
}
# The student from each transfer set, as its bar is labelled ({size}: the set's images).
STUDENT_FROM = {
    "labelled": N_("Student from labelled set, soft targets ({size})"),
    "real": N_("Student from real images ({size})"),
    "munge": N_("Student from MUNGE images ({size})"),
    "noise": N_("Student from noise ({size})"),
}


def member_distributions(
    member_probabilities: Sequence[Sequence[float]],
    member_names: Sequence[str],
    ensemble_probabilities: Sequence[float],
    temperature: float,
    true_label: int | None = None,
    log_scale: bool = False,
) -> go.Figure:
    """Each member's softened probabilities for one image beside the ensemble's (their mean).

    Args:
        member_probabilities: one list of 10 probabilities per member, softmax(z_m / T).
        member_names: a label per member, e.g. "cnn (seed 1)".
        ensemble_probabilities: the 10 averaged probabilities.
        temperature: T, for the title.
        true_label: the image's digit, marked on the x axis.
        log_scale: a log y axis, which shows the tiny probabilities.
    """
    ticks = [f"<b>{digit}</b>" if digit == str(true_label) else digit for digit in DIGITS]
    bars = [
        go.Bar(
            name=name,
            x=ticks,
            y=list(probabilities),
            marker_color=MEMBER_COLORS[index % len(MEMBER_COLORS)],
            opacity=0.55,
        )
        for index, (name, probabilities) in enumerate(zip(member_names, member_probabilities))
    ]
    bars.append(
        go.Bar(
            name=_("Ensemble (their mean)"),
            x=ticks,
            y=list(ensemble_probabilities),
            marker_color=ROLE_COLORS["teacher"],
        )
    )
    figure = go.Figure(bars)
    figure.update_layout(
        title=_("Each member and the ensemble at T = {temperature}").format(temperature=number(temperature)),
        barmode="group",
        xaxis_title=_("digit") if true_label is None else _("digit (label: {label})").format(label=true_label),
        yaxis_title=_("probability"),
        yaxis_type="log" if log_scale else "linear",
        **LAYOUT,
    )
    return figure


def compression_errors(summary: dict) -> go.Figure:
    """Test errors of the ensemble, its best member, the student alone and the student from each transfer set."""
    ours, sets = summary["ours"], summary["sets"]
    rows = [
        (_("Ensemble"), ours["ensemble_errors"], ROLE_COLORS["teacher"]),
        (_("Best member"), ours["best_member_errors"], OKABE_ITO["yellow"]),
        (
            _("Student alone ({size} labelled)").format(size=number(sets["labelled"]["size"])),
            ours["student_alone_errors"],
            ROLE_COLORS["baseline"],
        ),
    ]
    for kind in summary["config"]["transfer_kinds"]:
        size = sets.get(kind, {}).get("size")
        label = _(STUDENT_FROM[kind]).format(size=number(size) if size else "-")
        rows.append((label, ours.get(f"{kind}_errors"), TRANSFER_COLORS[kind]))
    total = ours["test_size"]
    figure = go.Figure(
        go.Bar(
            x=[label for label, _errors, _color in rows],
            y=[None if errors is None else 100 * errors / total for _label, errors, _color in rows],
            marker_color=[color for _label, _errors, color in rows],
            text=[
                "-"
                if errors is None
                else ngettext("{count} error", "{count} errors", errors).format(count=number(errors))
                for _label, errors, _color in rows
            ],
            textposition="outside",
        )
    )
    figure.update_layout(
        title=_("Test error on {count} images").format(count=number(total)), yaxis_title=_("test error (%)"), **LAYOUT
    )
    return figure
