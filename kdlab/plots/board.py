"""The class board's figures: pure functions from ``kdlab.classroom.board`` numbers to Plotly figures.

Colour is never the only cue (a projector washes colours out; some students do not see
them): alpha is a colour *and* a marker shape, the class's curve is dashed, the heat map
writes each cell's mean and count in the cell, a wrong-way prediction is a cross. Colours
are the Okabe-Ito palette (``kdlab.plots.lab.OKABE_ITO``). ``font_size`` enlarges everything
for the projector.
"""

from __future__ import annotations

import plotly.graph_objects as go

from kdlab.classroom.board import (
    ClassRun,
    HeatCells,
    SeedPool,
    check_prediction,
    finished,
    mean_by_temperature,
    signed,
)
from kdlab.classroom.board_groups import Group, group_setting, value_text
from kdlab.classroom.lab_settings import LabSetting
from kdlab.i18n import N_, _, ngettext, number
from kdlab.plots.style import LAYOUT, OKABE_ITO

ALPHA_BANDS = [  # (upper bound, legend, colour, marker): alpha is read from shape as well as colour
    (0.25, N_("alpha < 0.25"), OKABE_ITO["orange"], "circle"),
    (0.5, N_("alpha 0.25 to 0.5"), OKABE_ITO["sky_blue"], "square"),
    (0.75, N_("alpha 0.5 to 0.75"), OKABE_ITO["bluish_green"], "diamond"),
    (1.01, N_("alpha 0.75 to 1"), OKABE_ITO["blue"], "triangle-up"),
]
GROUP_STYLES = [  # (colour, marker) of each series of the groups' figure: shape as well as colour
    (OKABE_ITO["blue"], "circle"),
    (OKABE_ITO["orange"], "square"),
    (OKABE_ITO["bluish_green"], "diamond"),
    (OKABE_ITO["vermillion"], "triangle-up"),
    (OKABE_ITO["reddish_purple"], "x"),
    (OKABE_ITO["sky_blue"], "star"),
]
HEAT_SCALE = "PuOr"  # diverging and colour-blind safe: purple = distilling helped, orange = it hurt


def _layout(figure: go.Figure, title: str, x_title: str, y_title: str, font_size: int) -> go.Figure:
    figure.update_layout(**LAYOUT)
    figure.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        xaxis_title=x_title,
        yaxis_title=y_title,
        font=dict(size=font_size),
        height=380 + 12 * (font_size - 14),
    )
    return figure


def _band(alpha: float) -> tuple[float, str, str, str]:
    return next(band for band in ALPHA_BANDS if alpha < band[0])


def improvement_scatter(runs: list[ClassRun], *, font_size: int = 14) -> go.Figure:
    """Errors removed by distilling against T, one marker per run (colour and shape: alpha), and the
    class's mean per T as a dashed line."""
    figure = go.Figure()
    done = finished(runs)
    for upper, label, colour, symbol in ALPHA_BANDS:
        band = [run for run in done if _band(run.alpha)[0] == upper]
        if not band:
            continue
        figure.add_scatter(
            x=[run.temperature for run in band],
            y=[run.errors_removed for run in band],
            mode="markers",
            name=_(label),
            marker=dict(color=colour, symbol=symbol, size=8 + font_size // 2, line=dict(width=1, color="black")),
            text=[
                _("{nickname}: T = {temperature}, alpha = {alpha}").format(
                    nickname=run.nickname, temperature=number(run.temperature), alpha=number(run.alpha)
                )
                for run in band
            ],
            hovertemplate="%{text}<br>" + _("%{y} errors removed") + "<extra></extra>",
        )
    curve = mean_by_temperature(done)
    if curve:
        figure.add_scatter(
            x=[temperature for temperature, _, _ in curve],
            y=[mean for _, mean, _ in curve],
            mode="lines",
            name=_("class mean"),
            line=dict(color=OKABE_ITO["vermillion"], dash="dash", width=3),
        )
    figure.add_hline(y=0, line_dash="dot", line_color=OKABE_ITO["grey"])
    ticks = sorted({1.0, 2.0, 4.0, 8.0, 20.0} | {run.temperature for run in done})
    figure.update_xaxes(type="log", tickvals=ticks, ticktext=[f"{tick:g}" for tick in ticks])
    return _layout(
        figure,
        _("Errors removed by distilling, by temperature"),
        _("Temperature T (log scale)"),
        _("errors removed (alone - distilled)"),
        font_size,
    )


def improvement_heatmap(cells: HeatCells, *, font_size: int = 14) -> go.Figure:
    """The class's mean errors removed in each (T, alpha) cell, with the mean and the count written in it,
    and, where runs of the same settings span several seeds, their 95% interval and how many seeds."""
    pools = cells.pools or [[None] * len(cells.temperatures) for _ in cells.alphas]
    text = [
        [
            "" if mean is None else f"{signed(mean, 0)}<br>n={count}" + _seeds_line(pool)
            for mean, count, pool in zip(*row)
        ]
        for row in zip(cells.means, cells.counts, pools)
    ]
    peak = max([abs(mean) for row in cells.means for mean in row if mean is not None] or [1.0])
    figure = go.Figure(
        go.Heatmap(
            x=[f"{temperature:g}" for temperature in cells.temperatures],
            y=[f"{alpha:g}" for alpha in cells.alphas],
            z=cells.means,
            text=text,
            texttemplate="%{text}",
            textfont=dict(size=font_size),
            colorscale=HEAT_SCALE,
            zmid=0,
            zmin=-peak,
            zmax=peak,
            colorbar=dict(title=_("mean errors removed")),
            hovertemplate=_("T = %{x}, alpha = %{y}<br>mean %{z:.1f} errors removed") + "<extra></extra>",
        )
    )
    figure.update_xaxes(type="category")
    figure.update_yaxes(type="category")
    return _layout(
        figure,
        _("The class's mean improvement over T and alpha (n = runs)"),
        _("Temperature T"),
        _("alpha"),
        font_size,
    )


def prediction_figure(runs: list[ClassRun], *, font_size: int = 14) -> go.Figure:
    """Each numeric prediction against the errors distilling removed; on the dotted diagonal the guess
    was exact. Circles: right about the direction; crosses: the other way round."""
    figure = go.Figure()
    checks = [(run, check) for run in runs if (check := check_prediction(run.prediction, run.errors_removed))]
    numbered = [(run, check) for run, check in checks if check.predicted_by is not None]
    for right, name, colour, symbol in (
        (True, _("right direction"), OKABE_ITO["blue"], "circle"),
        (False, _("wrong direction"), OKABE_ITO["vermillion"], "x"),
    ):
        group = [(run, check) for run, check in numbered if check.right_direction == right]
        if group:
            figure.add_scatter(
                x=[check.predicted_by for _, check in group],
                y=[check.removed for _, check in group],
                mode="markers",
                name=name,
                marker=dict(color=colour, symbol=symbol, size=9 + font_size // 2),
                text=[run.nickname for run, _ in group],
                hovertemplate=_("%{text}: guessed %{x}, got %{y}") + "<extra></extra>",
            )
    values = [value for _, check in numbered for value in (check.predicted_by, check.removed)] or [0, 1]
    low, high = min(values + [0]), max(values + [0])
    figure.add_scatter(
        x=[low, high],
        y=[low, high],
        mode="lines",
        name=_("exact guess"),
        line=dict(color=OKABE_ITO["grey"], dash="dot"),
    )
    return _layout(
        figure, _("Predictions against outcomes"), _("predicted errors removed"), _("errors removed"), font_size
    )


def _seeds_line(pool: SeedPool | None) -> str:
    if pool is None or pool.interval is None:
        return ""
    seeds = ngettext("{count} seed", "{count} seeds", pool.seeds).format(count=number(pool.seeds))
    return f"<br>{seeds}: [{signed(pool.interval[0], 0)}, {signed(pool.interval[1], 0)}]"


def lesson_predictions_figure(
    rows: list[tuple[str, int, int]], *, title: str, unit: str = "", outcomes: bool = False, font_size: int = 14
) -> go.Figure:
    """The class's answers to a lesson's question as bars, one per choice in its order or per number bin
    (``kdlab.classroom.predictions.answer_counts``); with ``outcomes``, the class's trainings in the same bins
    beside them, hatched (the pattern, not only the colour, tells the two apart)."""
    labels = [label for label, _, _ in rows]
    figure = go.Figure(
        go.Bar(x=labels, y=[count for _label, count, _ in rows], name=_("predicted"), marker_color=OKABE_ITO["blue"])
    )
    if outcomes:
        figure.add_bar(
            x=labels,
            y=[count for _label, _predicted, count in rows],
            name=_("outcome (trainings)"),
            marker=dict(color=OKABE_ITO["orange"], pattern=dict(shape="/")),
        )
    figure.update_layout(barmode="group")
    figure.update_xaxes(type="category")
    return _layout(figure, title, unit or _("answer"), _("students") if not outcomes else _("count"), font_size)


def group_series(groups: list[Group], grouping: tuple[str, ...]) -> list[tuple[str, list[Group]]]:
    """The groups' figure's series: one per combination of the grouping's later settings ("T = 4, alpha = 0.9"),
    in the groups' order; one series named "class" when the grouping has a single setting (or none)."""
    series: dict[str, list[Group]] = {}
    for group in groups:
        name = ", ".join(
            f"{_(group_setting(name).name)} = {value_text(group_setting(name), value)}"
            for name, value in zip(grouping[1:], group.values[1:])
        ) or _("class")
        series.setdefault(name, []).append(group)
    return list(series.items())


def groups_figure(groups: list[Group], grouping: tuple[str, ...], *, font_size: int = 14) -> go.Figure:
    """The class's mean errors removed per group (each training once), a point per group with its seed interval
    (``seed_pool``) where it has two seeds or more; the x-axis is the grouping's first setting, in the groups'
    order, and each combination of its other settings is a series with its own colour and marker."""
    figure = go.Figure()
    first = group_setting(grouping[0]) if grouping else None
    categories = list(dict.fromkeys(_category(first, group) for group in groups))
    for index, (name, members) in enumerate(group_series(groups, grouping)):
        colour, symbol = GROUP_STYLES[index % len(GROUP_STYLES)]
        figure.add_scatter(
            x=[_category(first, group) for group in members],
            y=[group.mean for group in members],
            error_y=dict(
                type="data",
                symmetric=False,
                array=[_reach(group, 1) for group in members],
                arrayminus=[_reach(group, 0) for group in members],
                color=colour,
            ),
            mode="markers",
            name=name,
            showlegend=len(grouping) > 1,
            marker=dict(color=colour, symbol=symbol, size=10 + font_size // 2, line=dict(width=1, color="black")),
            text=[
                f"n={group.trainings}" + ("" if group.pool is None else f"; {group.pool.text()}") for group in members
            ],
            hovertemplate=_("%{x}: %{y:+.1f} errors removed") + "<br>%{text}<extra>" + name + "</extra>",
        )
    figure.add_hline(y=0, line_dash="dot", line_color=OKABE_ITO["grey"])
    figure.update_xaxes(type="category", categoryorder="array", categoryarray=categories)
    label = _(first.label) if first is not None else _("the class")
    return _layout(
        figure,
        _("Errors removed by distilling, by {setting}").format(setting=label),
        label,
        _("mean errors removed"),
        font_size,
    )


def _category(setting: LabSetting | None, group: Group) -> str:
    return _("all runs") if setting is None else value_text(setting, group.values[0])


def _reach(group: Group, end: int) -> float:
    """How far the seed interval reaches from the group's mean, up (``end`` 1) or down (0): 0 without one.
    The interval is of the runs of the settings run at the most seeds; the mean of every training, which
    may lie outside it when the group mixes other settings."""
    if group.pool is None or group.pool.interval is None:
        return 0.0
    return max(0.0, (group.pool.interval[end] - group.mean) * (1 if end else -1))
