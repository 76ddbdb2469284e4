"""The lab's models on one drawn digit: their probabilities side by side (colours as in ``kdlab.plots.lab``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from kdlab.i18n import _
from kdlab.plots.style import DIGITS, LAYOUT, ROLE_COLORS, ROLE_NAMES


def answers_on_a_digit(probabilities: Mapping[str, Sequence[float]]) -> go.Figure:
    """Grouped bars: each model's probability (T = 1) for each digit, by the lab's role names."""
    figure = go.Figure()
    for role, values in probabilities.items():
        figure.add_trace(
            go.Bar(
                x=DIGITS,
                y=list(values),
                name=_(ROLE_NAMES[role]),
                marker_color=ROLE_COLORS[role],
                hovertemplate="%{x}: %{y:.1%}<extra></extra>",
            )
        )
    figure.update_layout(
        title=_("What each model says about your digit (T = 1)"),
        barmode="group",
        xaxis=dict(title=_("digit")),
        yaxis=dict(title=_("probability"), tickformat=".0%", range=[0, 1]),
        **LAYOUT,
    )
    return figure
