"""What a network's features hold for one digit (``kdlab.ml.feature_view``): each conv block's attention map over
the digit, and its most active feature maps. Pure functions from numbers to ``go.Figure``, no Streamlit.

Both are grids of small image panels, laid out here by hand (an axis pair per panel) rather than with
``make_subplots``: for the 16 panels of ``cnn-wide``'s feature maps ``make_subplots`` and its per-panel updates
took 200 ms, the hand-built figure 30 ms.
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from kdlab.i18n import _
from kdlab.plots.style import HEATMAP_SCALE

IMAGE_SIZE = 28
ATTENTION_OPACITY = 0.6  # the digit shows through the attention drawn over it
PANEL_GAP = 0.015  # between panels, as a fraction of the figure's width
TITLE_ROOM = 0.14  # above each row of panels, for the panels' titles, as a fraction of a row's height


def _panel_grid(
    panels: Sequence[Sequence[dict]],
    titles: Sequence[str],
    columns: int,
    extent: int | None = None,
    title_size: int = 12,
) -> go.Figure:
    """Image panels in rows of ``columns``: ``panels[i]``'s traces (plain dicts) on axes of their own, square
    cells with row 0 at the top and no ticks, each panel's title above it; ``extent`` pixels wide and high when
    given (else the data's). An empty panel (no traces) leaves its place blank."""
    rows = -(-len(panels) // columns)
    data, layout, annotations = [], {}, []
    for index, (traces, title) in enumerate(zip(panels, titles)):
        row, column = divmod(index, columns)
        suffix = "" if index == 0 else str(index + 1)
        left, right = column / columns + PANEL_GAP / 2, (column + 1) / columns - PANEL_GAP / 2
        top = 1 - row / rows - TITLE_ROOM / rows
        bottom = 1 - (row + 1) / rows + 0.02
        x = dict(domain=[left, right], anchor=f"y{suffix}", visible=False, constrain="domain")
        y = dict(domain=[bottom, top], anchor=f"x{suffix}", visible=False, scaleanchor=f"x{suffix}")
        if extent is None:
            y["autorange"] = "reversed"
        else:
            x["range"], y["range"] = [-0.5, extent - 0.5], [extent - 0.5, -0.5]
        layout[f"xaxis{suffix}"], layout[f"yaxis{suffix}"] = x, y
        data += [dict(trace, xaxis=f"x{suffix}", yaxis=f"y{suffix}") for trace in traces]
        if title:
            annotations.append(
                dict(
                    text=title,
                    x=(left + right) / 2,
                    y=top,
                    xref="paper",
                    yref="paper",
                    xanchor="center",
                    yanchor="bottom",
                    showarrow=False,
                    font=dict(size=title_size),
                )
            )
    return go.Figure(dict(data=data, layout=dict(layout, annotations=annotations)))


def _digit(image: Sequence[Sequence[float]]) -> dict:
    return dict(
        type="heatmap",
        z=[list(row) for row in image],
        colorscale="Greys",
        reversescale=True,  # white ink on black, as the network sees it
        showscale=False,
        hovertemplate=_("pixel (%{y}, %{x}): %{z}") + "<extra>" + _("digit") + "</extra>",
    )


def attention_overlays(
    image: Sequence[Sequence[float]],
    attentions: Sequence[Sequence[Sequence[float]]],
    grids: Sequence[tuple[float, float]],
    names: Sequence[str],
) -> go.Figure:
    """The digit (28 x 28 pixel values), then each block's attention map (H x W, any size) drawn over it where
    its cells sit on the digit.

    Args:
        image: the digit's pixels, rows of 28 values (0 to 255).
        attentions: one map per block, rows of H values.
        grids: per map, the pixel at the centre of its cell 0 and the step between cells
            (``kdlab.ml.feature_view.pixel_grid``); the same for rows and columns.
        names: each map's panel title (``block 1: 12 x 12``).
    """
    if not len(attentions) == len(grids) == len(names):
        raise ValueError(
            f"{len(attentions)} attention maps need as many grids and names, not {len(grids)} and {len(names)}."
        )
    panels = [[_digit(image)]]
    for attention, (origin, step), name in zip(attentions, grids, names):
        overlay = dict(
            type="heatmap",
            z=[list(row) for row in attention],
            x0=origin,
            dx=step,
            y0=origin,
            dy=step,
            colorscale=HEATMAP_SCALE,
            opacity=ATTENTION_OPACITY,
            showscale=False,
            hovertemplate=_("attention %{z:.3f}") + "<extra>" + name + "</extra>",
        )
        panels.append([_digit(image), overlay])
    # the whole digit in every panel, also where a block's cells cover less of it
    figure = _panel_grid(panels, [_("the digit"), *names], len(panels), extent=IMAGE_SIZE)
    figure.update_layout(
        title=dict(text=_("Where the teacher's conv blocks attend (brighter: more attention)"), x=0, xanchor="left"),
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
        raise ValueError("channel_maps needs at least one block.")  # a programming error: not shown to a student
    columns = max(len(channels) for _, channels, _ in blocks)
    panels, titles = [], []
    for name, channels, maps in blocks:
        for channel, values in zip(channels, maps):
            panels.append(
                [
                    dict(
                        type="heatmap",
                        z=[list(line) for line in values],
                        zmin=0,
                        colorscale=HEATMAP_SCALE,
                        showscale=False,
                        hovertemplate=_("{block}, channel {channel}").format(block=name, channel=channel)
                        + ": %{z:.2f}<extra></extra>",
                    )
                ]
            )
            titles.append(_("{block}, ch {channel}").format(block=name, channel=channel))
        panels += [[]] * (columns - len(channels))
        titles += [""] * (columns - len(channels))
    figure = _panel_grid(panels, titles, columns, title_size=10)
    figure.update_layout(
        title=dict(text=_("The teacher's most active feature maps (brighter: stronger)"), x=0, xanchor="left"),
        height=120 + 110 * len(blocks),
        margin=dict(l=10, r=10, t=70, b=10),
    )
    return figure
