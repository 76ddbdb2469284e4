"""The lab's figures of a feature- or relation-based method's live view (``kdlab.ml.methods.views``): the teacher's
and the student's side on the run's fixed test digits, and the distance between them over the run. Pure
functions from a view (``kdlab.runs.record.view_point``: each side's arrays as nested lists) to ``go.Figure``.

Each side pair shares one colour scale, so equal colours mean equal values in both networks.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from kdlab.i18n import N_, _, number, percent
from kdlab.ml.features import BLOCK_TAPS
from kdlab.ml.methods.registry import METHODS
from kdlab.plots.style import HEATMAP_SCALE, OKABE_ITO, ROLE_COLORS, number_separators

# Marked in English; shown through ``_()``.
BLOCK_NAMES = {"block1": N_("block 1"), "block2": N_("block 2")}
RELATION_WORDS = {  # what a relation method's matrix holds, by method
    "rkd": N_("normalised distances"),
    "sp": N_("similarities"),
}
RELATIONS = N_("relations")


def capitalised(text: str) -> str:
    """``text`` with its first letter in capitals (a name that opens a title)."""
    return text[:1].upper() + text[1:]


def _layout(figure: go.Figure, title: str, height: int) -> go.Figure:
    figure.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        height=height,
        margin=dict(l=10, r=10, t=70, b=10),
        separators=number_separators(),
    )
    return figure


def view_figure(soft: str, view: Mapping, images: Sequence | None = None) -> go.Figure:
    """The figure of the method ``soft``'s view (its ``FeatureView.figure``); ``images``: the fixed digits (28 x 28
    each, 0-255), drawn beside the attention maps when given."""
    figure = METHODS[soft].transfer.view.figure
    if figure == "attention":
        return attention_maps(view, images)
    if figure == "relations":
        return relation_matrices(view, _(RELATION_WORDS.get(soft, RELATIONS)))
    return projection(view)


def _square(values: Sequence[float]) -> list[list[float]]:
    side = round(len(values) ** 0.5)
    return [list(values[row * side : (row + 1) * side]) for row in range(side)]


def attention_maps(view: Mapping, images: Sequence | None = None) -> go.Figure:
    """A row per fixed digit: the digit (with ``images``), then the teacher's and the student's attention maps side
    by side at each block (brighter: where the block looks)."""
    labels, teacher, student = view["labels"], view["teacher"], view["student"]
    blocks = [tap for tap in BLOCK_TAPS if tap in teacher]
    columns = [(_("digit"), None, None)] if images is not None else []
    for tap in blocks:
        block = _(BLOCK_NAMES[tap])
        columns += [
            (_("teacher<br>{block}").format(block=block), teacher, tap),
            (_("student<br>{block}").format(block=block), student, tap),
        ]
    figure = make_subplots(
        rows=len(labels),
        cols=len(columns),
        column_titles=[title for title, _, _ in columns],
        horizontal_spacing=0.02,
        vertical_spacing=0.03,
    )
    top = {tap: max(max(max(row) for row in side[tap]) for side in (teacher, student)) for tap in blocks}
    for row, label in enumerate(labels, start=1):
        for column, (title, side, tap) in enumerate(columns, start=1):
            if side is None:
                z, scale, zmax = images[row - 1], "Greys", 255
                hover = _("digit {digit}").format(digit=label) + "<extra></extra>"
            else:
                z, scale, zmax = _square(side[tap][row - 1]), HEATMAP_SCALE, top[tap] or 1.0
                hover = _("digit {digit}, {map}: {value}").format(
                    digit=label, map=title.replace("<br>", ", "), value="%{z:.3f}"
                )
                hover += "<extra></extra>"
            figure.add_trace(
                go.Heatmap(z=z, colorscale=scale, zmin=0, zmax=zmax, showscale=False, hovertemplate=hover),
                row=row,
                col=column,
            )
    bare = dict(showticklabels=False, ticks="", showgrid=False, zeroline=False, constrain="domain")
    figure.update_xaxes(**bare)
    figure.update_yaxes(**bare, autorange="reversed")
    for index in range(1, len(labels) * len(columns) + 1):  # each map square, on its own axes
        suffix = "" if index == 1 else str(index)
        figure.layout[f"yaxis{suffix}"].scaleanchor = f"x{suffix}"
    title = _("Where the blocks look, at epoch {epoch}").format(epoch=number(view["epoch"]))
    figure = _layout(figure, title, 150 + 130 * len(labels))
    return figure.update_layout(margin_t=100)  # room for the two-line column titles under the title


def relation_matrices(view: Mapping, words: str) -> go.Figure:
    """The teacher's and the student's relation matrix over the fixed digits (sorted by class, so each digit is a
    block), side by side on one colour scale."""
    labels = view["labels"]
    teacher, student = view["teacher"]["matrix"], view["student"]["matrix"]
    values = [value for matrix in (teacher, student) for row in matrix for value in row]
    figure = make_subplots(rows=1, cols=2, subplot_titles=(_("teacher"), _("student")), horizontal_spacing=0.08)
    classes = sorted(set(labels))
    centres = [sum(i for i, label in enumerate(labels) if label == digit) / labels.count(digit) for digit in classes]
    for column, matrix in enumerate((teacher, student), start=1):
        figure.add_trace(
            go.Heatmap(
                z=matrix,
                colorscale=HEATMAP_SCALE,
                zmin=min(values),
                zmax=max(values),
                showscale=column == 2,
                customdata=[[[row, column] for column in labels] for row in labels],
                hovertemplate=_("a {first} and a {second}: {value}").format(
                    first="%{customdata[0]}", second="%{customdata[1]}", value="%{z:.3f}"
                )
                + "<extra></extra>",
            ),
            row=1,
            col=column,
        )
    ticks = dict(tickvals=centres, ticktext=[str(digit) for digit in classes], showgrid=False)
    figure.update_xaxes(**ticks, title_text=_("test digit"), constrain="domain")
    figure.update_yaxes(**ticks, autorange="reversed", constrain="domain")
    figure.update_yaxes(scaleanchor="x", row=1, col=1)
    figure.update_yaxes(scaleanchor="x2", row=1, col=2)
    title = _("{relations} between {count} test digits, at epoch {epoch}").format(
        relations=capitalised(words), count=len(labels), epoch=number(view["epoch"])
    )
    return _layout(figure, title, 440)


def projection(view: Mapping) -> go.Figure:
    """The teacher's hint layer and the student's regressed features r(u_s) on the fixed digits, on the teacher's
    top two principal axes; a grey line joins each digit's two points."""
    labels = [str(label) for label in view["labels"]]
    teacher, student = view["teacher"]["points"], view["student"]["points"]
    explained = view["teacher"].get("explained", [])
    gaps_x, gaps_y = [], []
    for (tx, ty), (sx, sy) in zip(teacher, student):
        gaps_x += [tx, sx, None]
        gaps_y += [ty, sy, None]
    figure = go.Figure(
        [
            go.Scatter(
                x=gaps_x,
                y=gaps_y,
                mode="lines",
                line=dict(color=OKABE_ITO["grey"], width=1),
                name=_("gap"),
                hoverinfo="skip",
            ),
            *(
                go.Scatter(
                    x=[point[0] for point in points],
                    y=[point[1] for point in points],
                    mode="markers+text",
                    text=labels,
                    textposition="middle center",
                    textfont=dict(color="white", size=10),
                    marker=dict(size=16, color=ROLE_COLORS[role], symbol=symbol),
                    name=name,
                    hovertemplate=_("digit {digit}: ({x}, {y})").format(digit="%{text}", x="%{x:.2f}", y="%{y:.2f}")
                    + "<extra>"
                    + name
                    + "</extra>",
                )
                for points, role, symbol, name in (
                    (teacher, "teacher", "circle", _("teacher: u_t")),
                    (student, "distilled", "square", _("student: r(u_s)")),
                )
            ),
        ]
    )
    axes = [
        _("teacher's axis {number} ({share} of its variance)").format(number=index + 1, share=percent(share))
        if share is not None
        else _("teacher's axis {number}").format(number=index + 1)
        for index, share in enumerate([*explained, None, None][:2])
    ]
    figure.update_layout(xaxis_title=axes[0], yaxis_title=axes[1], legend=dict(orientation="h", y=-0.2))
    title = _("Hint layer on the teacher's top two axes, at epoch {epoch}").format(epoch=number(view["epoch"]))
    return _layout(figure, title, 440)


def distance_curve(points: Sequence[Mapping[str, float]], name: str) -> go.Figure:
    """The distance between the student's and the teacher's sides (``feature_distance`` of the distilled student's
    curve points) over the run; ``name`` (in the current language) says which, its short name before a colon."""
    shown = [point for point in points if point.get("feature_distance") is not None]
    figure = go.Figure(
        go.Scatter(
            x=[point["epoch"] for point in shown],
            y=[point["feature_distance"] for point in shown],
            mode="lines+markers",
            line=dict(color=ROLE_COLORS["distilled"], width=3),
            marker=dict(size=4),
            name=name,
            hovertemplate=_("epoch {epoch}: {distance}").format(epoch="%{x:.2f}", distance="%{y:.4g}")
            + "<extra></extra>",
        )
    )
    if shown and all(point["feature_distance"] > 0 for point in shown):
        figure.update_yaxes(type="log")
    figure.update_layout(
        xaxis_title=_("epoch"),
        yaxis_title=_("distance to the teacher (log scale)")
        if figure.layout.yaxis.type == "log"
        else _("distance to the teacher"),
    )
    title = _("{distance}, over the run").format(distance=capitalised(name.split(":")[0]))
    return _layout(figure, title, 360)
