"""The compression card's figures: the reliability diagram and accuracy against latency.

Inputs are the card's JSON-ready dicts (``kdlab.experiments.card.ModelCard.as_dict``)
keyed by the lab's role names ("teacher", "distilled", "baseline"), coloured as in ``kdlab.plots.lab``;
a replay's cards are keyed by its run names, named by ``names`` and coloured from the rest of the palette.
The class's runs (``kdlab.classroom.class_card.ClassPoint``) are small open markers behind the card's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from kdlab.i18n import N_, _, ngettext
from kdlab.plots.style import LAYOUT, OKABE_ITO, ROLE_COLORS, ROLE_DASH, ROLE_NAMES

LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0)
OTHER_COLORS = [OKABE_ITO[name] for name in ("vermillion", "bluish_green", "reddish_purple", "sky_blue", "yellow")]
CLASS_NAMES = {"distilled": N_("Class: distilled students"), "baseline": N_("Class: students alone")}


def latency_hover() -> str:
    """The accuracy-against-latency markers' hover text."""
    hover = _("{model}: {latency} ms per image, {accuracy}% accurate").format(
        model="%{text}", latency="%{x:.3f}", accuracy="%{y:.2f}"
    )
    return hover + "<extra></extra>"


def _styles(cards: Mapping[str, Mapping], names: Mapping[str, str] | None) -> dict[str, tuple[str, str, str]]:
    """(name, colour, dash) of each card: the lab's roles as everywhere, any other run a colour of its own; a name
    from ``names`` is shown as it is (translated by the caller)."""
    names = names or {}
    others = iter(OTHER_COLORS * (1 + len(cards) // len(OTHER_COLORS)))
    return {
        role: (
            names[role] if role in names else _(ROLE_NAMES.get(role, role)),
            ROLE_COLORS[role] if role in ROLE_COLORS else next(others),
            ROLE_DASH.get(role, "solid"),
        )
        for role in cards
    }


def reliability_diagram(cards: Mapping[str, Mapping], names: Mapping[str, str] | None = None) -> go.Figure:
    """Accuracy against mean confidence in each confidence bin, one line per model whose answers are known.

    The diagonal is perfect calibration; below it a model is overconfident. Empty bins are left out.
    """
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name=_("perfectly calibrated"), line=dict(color="black", width=1))
    )
    for role, (name, color, dash) in _styles(cards, names).items():
        card = cards[role]
        bins = [item for item in card.get("reliability") or () if item["count"]]
        if not bins:
            continue
        figure.add_trace(
            go.Scatter(
                x=[item["confidence"] for item in bins],
                y=[item["accuracy"] for item in bins],
                mode="lines+markers",
                name=_("{model} (ECE {ece})").format(model=name, ece=f"{card['ece']:.3f}"),
                line=dict(color=color, dash=dash),
                customdata=[[item["count"], item["low"], item["high"]] for item in bins],
                hovertemplate=_(
                    "confidence {low}-{high}: {count} images, mean confidence {confidence}, accuracy {accuracy}"
                ).format(
                    low="%{customdata[1]:.2f}",
                    high="%{customdata[2]:.2f}",
                    count="%{customdata[0]:,}",
                    confidence="%{x:.3f}",
                    accuracy="%{y:.3f}",
                )
                + "<extra></extra>",
            )
        )
    figure.update_layout(
        title=_("Reliability: is a 90% answer right 90% of the time?"),
        xaxis=dict(title=_("Mean confidence in the bin"), range=[0, 1.02]),
        yaxis=dict(title=_("Accuracy in the bin"), range=[0, 1.02]),
        **{**LAYOUT, "height": 420, "legend": LEGEND_BELOW},  # three long names: below, clear of the title
    )
    return figure


def accuracy_against_latency(
    cards: Mapping[str, Mapping], names: Mapping[str, str] | None = None, class_points: Sequence = ()
) -> go.Figure:
    """Test accuracy against one-image CPU latency (log scale), one marker per model with a known accuracy,
    and the class's runs (``class_points``) as small open markers, one trace per role."""
    figure = go.Figure()
    for role in CLASS_NAMES:
        points = [point for point in class_points if point.role == role]
        if points:
            figure.add_trace(
                go.Scatter(
                    x=[point.latency_ms for point in points],
                    y=[100 * point.accuracy for point in points],
                    mode="markers",
                    name=_(CLASS_NAMES[role]),
                    text=[point.label for point in points],
                    marker=dict(color=ROLE_COLORS[role], size=8, symbol="circle-open"),
                    hovertemplate=latency_hover(),
                )
            )
    for role, (name, color, _dash) in _styles(cards, names).items():
        card = cards[role]
        if card.get("accuracy") is None:
            continue
        figure.add_trace(
            go.Scatter(
                x=[card["latency_ms_one"]],
                y=[100 * card["accuracy"]],
                mode="markers+text",
                text=[card["architecture"]],
                textposition="top center",
                name=name,
                marker=dict(color=color, size=14),
                hovertemplate=latency_hover(),
            )
        )
    threads = next(iter(cards.values()))["threads"] if cards else 1
    figure.update_layout(
        title=_("Accuracy against speed"),
        xaxis=dict(
            title=ngettext(
                "Milliseconds per image (CPU, {threads} thread, log scale)",
                "Milliseconds per image (CPU, {threads} threads, log scale)",
                threads,
            ).format(threads=threads),
            type="log",
        ),
        yaxis=dict(title=_("Test accuracy (%)")),
        **{**LAYOUT, "legend": LEGEND_BELOW},  # up to five names in half a page's width: below, clear of the title
    )
    return figure
