"""The compression card's figures: the reliability diagram and accuracy against latency.

Inputs are the card's JSON-ready dicts (``kdlab.experiments.compression_card.ModelCard.as_dict``)
keyed by the lab's role names ("teacher", "distilled", "baseline"), coloured as in ``kdlab.plots.lab``.
"""

from __future__ import annotations

from collections.abc import Mapping

import plotly.graph_objects as go

from kdlab.plots.lab import LAYOUT, ROLE_COLORS, ROLE_DASH, ROLE_NAMES

LEGEND_BELOW = dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0)


def reliability_diagram(cards: Mapping[str, Mapping]) -> go.Figure:
    """Accuracy against mean confidence in each confidence bin, one line per model whose answers are known.

    The diagonal is perfect calibration; below it a model is overconfident. Empty bins are left out.
    """
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="perfectly calibrated", line=dict(color="black", width=1))
    )
    for role, card in cards.items():
        bins = [item for item in card.get("reliability") or () if item["count"]]
        if not bins:
            continue
        figure.add_trace(
            go.Scatter(
                x=[item["confidence"] for item in bins],
                y=[item["accuracy"] for item in bins],
                mode="lines+markers",
                name=f"{ROLE_NAMES[role]} (ECE {card['ece']:.3f})",
                line=dict(color=ROLE_COLORS[role], dash=ROLE_DASH[role]),
                customdata=[[item["count"], item["low"], item["high"]] for item in bins],
                hovertemplate="confidence %{customdata[1]:.2f}-%{customdata[2]:.2f}: %{customdata[0]:,} images, "
                "mean confidence %{x:.3f}, accuracy %{y:.3f}<extra></extra>",
            )
        )
    figure.update_layout(
        title="Reliability: is a 90% answer right 90% of the time?",
        xaxis=dict(title="Mean confidence in the bin", range=[0, 1.02]),
        yaxis=dict(title="Accuracy in the bin", range=[0, 1.02]),
        **{**LAYOUT, "height": 420, "legend": LEGEND_BELOW},  # three long names: below, clear of the title
    )
    return figure


def accuracy_against_latency(cards: Mapping[str, Mapping]) -> go.Figure:
    """Test accuracy against one-image CPU latency (log scale), one marker per model with a known accuracy."""
    figure = go.Figure()
    for role, card in cards.items():
        if card.get("accuracy") is None:
            continue
        figure.add_trace(
            go.Scatter(
                x=[card["latency_ms_one"]],
                y=[100 * card["accuracy"]],
                mode="markers+text",
                text=[card["architecture"]],
                textposition="top center",
                name=ROLE_NAMES[role],
                marker=dict(color=ROLE_COLORS[role], size=14),
                hovertemplate="%{text}: %{x:.3f} ms per image, %{y:.2f}% accurate<extra></extra>",
            )
        )
    threads = next(iter(cards.values()))["threads"] if cards else 1
    figure.update_layout(
        title="Accuracy against speed",
        xaxis=dict(title=f"Milliseconds per image (CPU, {threads} thread, log scale)", type="log"),
        yaxis=dict(title="Test accuracy (%)"),
        **LAYOUT,
    )
    return figure
