"""What a network's features hold for one digit (``kdlab.ml.feature_view``): each conv block's attention map over
the digit, and its most active feature maps. Pure functions from numbers to ``go.Figure``, no Streamlit."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kdlab.plots.style import HEATMAP_SCALE

IMAGE_SIZE = 28
ATTENTION_OPACITY = 0.6  # the digit shows through the attention drawn over it


def _square_panels(figure: go.Figure, rows: int, columns: int) -> None:
    """Each panel an image: square cells, row 0 at the top, no ticks."""
    for row in range(1, rows + 1):
        for column in range(1, columns + 1):
            figure.update_xaxes(visible=False, constrain="domain", row=row, col=column)
            figure.update_yaxes(
                visible=False,
                autorange="reversed",
                scaleanchor=figure.get_subplot(row, column).xaxis.plotly_name.replace("axis", ""),
                row=row,
                col=column,
            )


def _digit(image: Sequence[Sequence[float]]) -> go.Heatmap:
    return go.Heatmap(
        z=[list(row) for row in image],
        colorscale="Greys",
        reversescale=True,  # white ink on black, as the network sees it
        showscale=False,
        hovertemplate="pixel (%{y}, %{x}): %{z}<extra>digit</extra>",
    )


def attention_overlays(
    image: Sequence[Sequence[float]], attentions: Sequence[Sequence[Sequence[float]]], names: Sequence[str]
) -> go.Figure:
    """The digit (28 x 28 pixel values), then each block's attention map (H x W, any size) stretched over it.

    Args:
        image: the digit's pixels, rows of 28 values (0 to 255).
        attentions: one map per block, rows of H values, each cell covering 28 / H pixels of the digit.
        names: each map's panel title (``block 1: 12 x 12``).
    """
    if len(attentions) != len(names):
        raise ValueError(f"{len(attentions)} attention maps need as many names, not {len(names)}.")
    figure = make_subplots(rows=1, cols=1 + len(attentions), subplot_titles=["the digit", *names])
    figure.add_trace(_digit(image), row=1, col=1)
    for column, attention in enumerate(attentions, start=2):
        cell = IMAGE_SIZE / len(attention)
        figure.add_trace(_digit(image), row=1, col=column)
        figure.add_trace(
            go.Heatmap(
                z=[list(row) for row in attention],
                x0=cell / 2 - 0.5,
                dx=cell,
                y0=cell / 2 - 0.5,
                dy=cell,
                colorscale=HEATMAP_SCALE,
                opacity=ATTENTION_OPACITY,
                showscale=False,
                hovertemplate="attention %{z:.3f}<extra>" + names[column - 2] + "</extra>",
            ),
            row=1,
            col=column,
        )
    _square_panels(figure, 1, 1 + len(attentions))
    figure.update_layout(
        title=dict(text="Where the teacher's conv blocks attend (brighter: more attention)", x=0, xanchor="left"),
        height=300,
        margin=dict(l=10, r=10, t=70, b=10),
    )
    return figure


def channel_maps(
    blocks: Sequence[tuple[str, Sequence[int], Sequence[Sequence[Sequence[float]]]]],
) -> go.Figure:
    """A row per conv block of its most active feature maps, each in its own colour range (dark: 0).

    Args:
        blocks: per block, its row title, its channels' indices and their maps (k x H x W).
    """
    if not blocks:
        raise ValueError("channel_maps needs at least one block.")
    columns = max(len(channels) for _, channels, _ in blocks)
    titles = []
    for name, channels, _ in blocks:
        titles += [f"{name}, ch {channel}" for channel in channels] + [""] * (columns - len(channels))
    figure = make_subplots(
        rows=len(blocks), cols=columns, subplot_titles=titles, horizontal_spacing=0.01, vertical_spacing=0.12
    )
    for row, (name, channels, maps) in enumerate(blocks, start=1):
        for column, (channel, values) in enumerate(zip(channels, maps), start=1):
            figure.add_trace(
                go.Heatmap(
                    z=[list(line) for line in values],
                    zmin=0,
                    colorscale=HEATMAP_SCALE,
                    showscale=False,
                    hovertemplate=f"{name}, channel {channel}: " + "%{z:.2f}<extra></extra>",
                ),
                row=row,
                col=column,
            )
    _square_panels(figure, len(blocks), columns)
    figure.update_annotations(font_size=10)
    figure.update_layout(
        title=dict(text="The teacher's most active feature maps (brighter: stronger)", x=0, xanchor="left"),
        height=120 + 110 * len(blocks),
        margin=dict(l=10, r=10, t=70, b=10),
    )
    return figure
