"""The lab's and the explorer's figures: pure functions from numbers to ``go.Figure``, no Streamlit, in the
shared style (``kdlab.plots.style``).

Curves are sequences of *curve points*: mappings with at least ``epoch`` and
``test_accuracy`` (and ``soft_loss`` / ``hard_loss`` / ``loss`` for the loss anatomy),
as made by ``kdlab.runs.record.curve_point``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import plotly.graph_objects as go

from kdlab.i18n import N_, _, number, percent
from kdlab.ml.methods.registry import METHODS
from kdlab.plots.style import (
    DIGITS,
    HEATMAP_SCALE,
    OKABE_ITO,
    ROLE_COLORS,
    ROLE_DASH,
    RUN_DASHES,
    number_separators,
    role_name,
)

UNIFORM_ENTROPY_BITS = math.log2(10)


def _style(figure: go.Figure, title: str, x_title: str, y_title: str, height: int = 360) -> go.Figure:
    figure.update_layout(
        title=dict(text=title, x=0, xanchor="left"),
        xaxis_title=x_title,
        yaxis_title=y_title,
        height=height,
        margin=dict(l=10, r=10, t=50, b=10),
        legend=dict(orientation="h", yanchor="top", y=-0.22, xanchor="left", x=0),  # below: clear of the title
        separators=number_separators(),
    )
    return figure


def probability_bars(
    plain: Sequence[float],
    softened: Sequence[float],
    temperature: float,
    true_label: int | None = None,
    log_scale: bool = False,
    height: int = 360,
) -> go.Figure:
    """The teacher's probabilities for one image at T = 1 and at ``temperature``, side by side.

    Args:
        plain: 10 probabilities, softmax(z).
        softened: 10 probabilities, softmax(z / T).
        temperature: T, for the legend and title.
        true_label: the image's digit, marked on the x axis.
        log_scale: a log y axis, where the tiny runner-up probabilities at T = 1 show up.
        height: the figure's height in pixels.
    """
    labels = [_("{digit} (true)").format(digit=d) if true_label == int(d) else d for d in DIGITS]
    hover = _("digit {digit}: {probability}").format(digit="%{x}", probability="%{y:.3%}")
    color = ROLE_COLORS["teacher"]
    figure = go.Figure(
        [
            go.Bar(
                name="T = 1",
                x=labels,
                y=list(plain),
                marker=dict(color=color, opacity=0.45, pattern=dict(shape="/")),
                hovertemplate=hover + "<extra>T = 1</extra>",
            ),
            go.Bar(
                name=f"T = {number(temperature)}",
                x=labels,
                y=list(softened),
                marker=dict(color=color),
                hovertemplate=hover + f"<extra>T = {number(temperature)}</extra>",
            ),
        ]
    )
    figure.update_layout(barmode="group")
    if log_scale:
        figure.update_yaxes(type="log", range=[-6, 0.05])
    else:
        figure.update_yaxes(range=[0, 1.02], tickformat=".0%")
    figure.update_xaxes(type="category")
    return _style(
        figure,
        _("Teacher's probabilities at T = 1 and T = {temperature}").format(temperature=number(temperature)),
        _("digit"),
        _("probability (log scale)") if log_scale else _("probability"),
        height,
    )


def entropy_curve(
    temperatures: Sequence[float], entropies: Sequence[float], temperature: float, entropy: float
) -> go.Figure:
    """Entropy (bits) of softmax(z / T) as a curve over T (log axis), with the current T marked."""
    color = ROLE_COLORS["teacher"]
    figure = go.Figure(
        [
            go.Scatter(
                x=list(temperatures),
                y=list(entropies),
                mode="lines",
                name=_("entropy"),
                line=dict(color=color, width=3),
                hovertemplate=_("T = {temperature}: {entropy} bits").format(temperature="%{x:.2g}", entropy="%{y:.2f}")
                + "<extra></extra>",
            ),
            go.Scatter(
                x=[temperature],
                y=[entropy],
                mode="markers",
                name=f"T = {number(temperature)}",
                marker=dict(color=color, size=14, symbol="diamond", line=dict(width=2, color="white")),
                hovertemplate=_("T = {temperature}: {entropy} bits").format(temperature="%{x:.2g}", entropy="%{y:.2f}")
                + "<extra>"
                + _("chosen")
                + "</extra>",
            ),
        ]
    )
    figure.add_hline(
        y=UNIFORM_ENTROPY_BITS,
        line_dash="dot",
        line_color=OKABE_ITO["grey"],
        annotation_text=_("all ten digits equally likely ({bits} bits)").format(bits=number(UNIFORM_ENTROPY_BITS, 2)),
        annotation_position="bottom right",
    )
    figure.update_xaxes(type="log", tickvals=[0.5, 1, 2, 5, 10, 20, 50])
    figure.update_yaxes(range=[0, UNIFORM_ENTROPY_BITS + 0.3])
    figure.update_layout(showlegend=False)
    return _style(
        figure,
        _("Entropy of the softened distribution: {entropy} bits at T = {temperature}").format(
            entropy=number(entropy, 2), temperature=number(temperature)
        ),
        _("temperature T (log scale)"),
        _("entropy (bits)"),
    )


def similarity_heatmap(matrix: Sequence[Sequence[float]], temperature: float, hide_diagonal: bool = True) -> go.Figure:
    """Mean teacher soft targets per true digit (rows) at T: which digits look alike to the teacher.

    With ``hide_diagonal`` the correct-class cells are left blank so the colour scale shows the
    small off-diagonal mass (the dark knowledge) instead of being used up by values near 1.
    """
    z = [
        [
            None if (hide_diagonal and row == column) or value != value else float(value)
            for column, value in enumerate(values)
        ]
        for row, values in enumerate(matrix)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=DIGITS,
            y=DIGITS,
            colorscale=HEATMAP_SCALE,
            colorbar=dict(title=_("mean p"), tickformat=".1%"),
            hovertemplate=_("true {true}, teacher's probability for {digit}: {probability}").format(
                true="%{y}", digit="%{x}", probability="%{z:.2%}"
            )
            + "<extra></extra>",
            xgap=1,
            ygap=1,
        )
    )
    figure.update_xaxes(type="category", side="bottom")
    figure.update_yaxes(type="category", autorange="reversed")
    title = (
        _("Which digits look alike to the teacher (mean soft targets at T = {temperature}) (diagonal hidden)")
        if hide_diagonal
        else _("Which digits look alike to the teacher (mean soft targets at T = {temperature})")
    )
    return _style(
        figure,
        title.format(temperature=number(temperature)),
        _("teacher's probability for digit"),
        _("true digit"),
        height=460,
    )


def accuracy_curves(
    curves: Mapping[str, Sequence[Mapping[str, float]]],
    teacher_accuracy: float | None = None,
    total_epochs: float | None = None,
    title: str | None = None,
) -> go.Figure:
    """Test accuracy over epochs for each run in ``curves`` ("distilled", "baseline"), with the
    teacher's accuracy as a dotted line; ``title`` (in the current language) defaults to "Test accuracy while
    training"."""
    figure = go.Figure()
    hover = _("epoch {epoch}: {accuracy}").format(epoch="%{x:.2f}", accuracy="%{y:.2%}")
    for role, points in curves.items():
        if not points:
            continue
        figure.add_trace(
            go.Scatter(
                x=[p["epoch"] for p in points],
                y=[p["test_accuracy"] for p in points],
                mode="lines+markers",
                name=role_name(role),
                marker=dict(size=5),
                line=dict(color=ROLE_COLORS.get(role), dash=ROLE_DASH.get(role, "solid"), width=3),
                hovertemplate=hover + "<extra>" + role_name(role) + "</extra>",
            )
        )
    if teacher_accuracy is not None:
        figure.add_hline(
            y=teacher_accuracy,
            line_dash=ROLE_DASH["teacher"],
            line_color=ROLE_COLORS["teacher"],
            annotation_text=_("teacher {accuracy}").format(accuracy=percent(teacher_accuracy, 2)),
            annotation_position="bottom right",
        )
    values = [p["test_accuracy"] for points in curves.values() for p in points]
    _zoom_accuracy_axis(figure, values + ([teacher_accuracy] if teacher_accuracy is not None else []))
    if total_epochs:
        figure.update_xaxes(range=[0, total_epochs * 1.02])
    _style(figure, title or _("Test accuracy while training"), _("epoch"), _("test accuracy"))
    return add_temperature(figure, curves.get("distilled") or [])


TEMPERATURE_NAME = N_("temperature T (lower panel)")  # English: the trace's name is _(TEMPERATURE_NAME)


def add_temperature(figure: go.Figure, points: Sequence[Mapping[str, float]]) -> go.Figure:
    """``figure`` (``accuracy_curves``) with the distilled student's temperature T over the epochs (``temperature``
    of its curve ``points``: a scheduled run's, ``kdlab.ml.temperature``) in a panel of its own under the accuracy,
    on the same epochs, its axis from 0 so that a doubling looks like one; dash-dotted with diamond markers and
    named, so it stays apart from the accuracy lines without its colour. A panel, not a second axis over the
    accuracy: on a projector, T's line crossed the accuracy curves and the teacher's line. Nothing is added where no
    point carries a temperature (a constant T)."""
    shown = [point for point in points if point.get("temperature") is not None]
    if not shown:
        return figure
    figure.add_trace(
        go.Scatter(
            x=[point["epoch"] for point in shown],
            y=[point["temperature"] for point in shown],
            mode="lines+markers",
            name=_(TEMPERATURE_NAME),
            yaxis="y2",
            line=dict(color=OKABE_ITO["reddish_purple"], width=3, dash="dashdot"),
            marker=dict(size=6, symbol="diamond"),
            hovertemplate=_("epoch {epoch}: T = {temperature}").format(epoch="%{x:.2f}", temperature="%{y:.3g}")
            + "<extra>"
            + _("temperature")
            + "</extra>",
        )
    )
    top = max(point["temperature"] for point in shown)
    figure.update_layout(
        height=figure.layout.height + 140,
        yaxis=dict(domain=[0.38, 1.0]),
        yaxis2=dict(title_text=_("temperature T"), domain=[0.0, 0.28], anchor="x", range=[0, top * 1.15]),
        xaxis=dict(anchor="y2"),  # the epochs under the lower panel, shared by both
    )
    return figure


def _zoom_accuracy_axis(figure: go.Figure, values: Sequence[float]) -> None:
    # Zoom on the interesting top of the scale, but never hide a point.
    low = min(values, default=0.8)
    figure.update_yaxes(range=[max(0.0, min(0.8, low - 0.02)), 1.005], tickformat=".0%")


def loss_anatomy(curves: Mapping[str, Sequence[Mapping[str, float]]], soft: str = "kd") -> go.Figure:
    """The distilled student's loss split into its soft term (alpha T^2 KL, learning from the
    teacher) and hard term ((1 - alpha) CE, learning from the labels), beside the baseline's
    plain cross-entropy; the soft term's parts as the run's distillation method ``soft`` declares them, and a
    feature- or relation-based method's own term (its ``FeatureTransfer.part``)."""
    figure = go.Figure()
    distilled = curves.get("distilled") or []
    baseline = curves.get("baseline") or []
    color = ROLE_COLORS["distilled"]
    lines = [
        (distilled, "soft_loss", _("distilled: soft term (teacher)"), dict(color=color, width=3)),
        (distilled, "hard_loss", _("distilled: hard term (labels)"), dict(color=color, width=2, dash="dot")),
        (
            baseline,
            "loss",
            _("baseline: cross-entropy"),
            dict(color=ROLE_COLORS["baseline"], width=3, dash=ROLE_DASH["baseline"]),
        ),
        *soft_split_lines(distilled, soft),
        *feature_term_lines(distilled, soft),
    ]
    for points, field, name, line in lines:
        if points:
            figure.add_trace(
                go.Scatter(
                    x=[p["epoch"] for p in points],
                    y=[p[field] for p in points],
                    mode="lines+markers",
                    name=name,
                    line=line,
                    marker=dict(size=4),
                    hovertemplate=_("epoch {epoch}: {loss}").format(epoch="%{x:.2f}", loss="%{y:.4f}")
                    + "<extra>"
                    + name
                    + "</extra>",
                )
            )
    figure.update_yaxes(type="log", dtick=1)  # the soft term starts large and both terms end small
    return _style(figure, _("Loss anatomy: what the student learns from"), _("epoch"), _("training loss (log scale)"))


def soft_split_lines(distilled: Sequence[Mapping[str, float]], soft: str) -> list[tuple]:
    """The loss anatomy's lines of the soft term's parts that the method ``soft`` declares
    (``kdlab.ml.methods``: Zhao et al.'s TCKD and NCKD, as the method weights them), where the curve
    points carry them (``kdlab.ml.curve_points``): thin lines in the distilled student's colour."""
    points = [point for point in distilled if point.get("tckd") is not None]
    color = ROLE_COLORS["distilled"]
    dashes = iter(("dash", "dashdot", "longdash", "longdashdot"))
    return [
        (points, part, _(name), dict(color=color, width=1.5, dash=next(dashes))) for part, name in METHODS[soft].anatomy
    ]


def feature_term_lines(distilled: Sequence[Mapping[str, float]], soft: str) -> list[tuple]:
    """The loss anatomy's line of the method ``soft``'s feature or relation term (``feature_loss`` of the curve
    points), named by its ``FeatureTransfer.part``: thick and dash-dotted, in vermillion; none for the others."""
    transfer = METHODS[soft].transfer
    points = [point for point in distilled if point.get("feature_loss") is not None]
    if transfer is None or not points:
        return []
    return [(points, "feature_loss", _(transfer.part), dict(color=OKABE_ITO["vermillion"], width=3, dash="dashdot"))]


def per_class_accuracy(per_class: Mapping[str, Sequence[float | None]]) -> go.Figure:
    """Grouped bars of accuracy on each digit for each role (teacher, baseline, distilled)."""
    figure = go.Figure()
    values: list[float] = []
    for role, accuracies in per_class.items():
        ys = [None if a is None or a != a else a for a in accuracies]
        values += [y for y in ys if y is not None]
        figure.add_trace(
            go.Bar(
                x=DIGITS,
                y=ys,
                name=role_name(role),
                marker=dict(color=ROLE_COLORS.get(role), pattern=dict(shape="/" if role == "baseline" else "")),
                hovertemplate=_("digit {digit}: {accuracy}").format(digit="%{x}", accuracy="%{y:.2%}")
                + "<extra>"
                + role_name(role)
                + "</extra>",
            )
        )
    low = min(values, default=0.8)
    figure.update_layout(barmode="group")
    figure.update_xaxes(type="category")
    figure.update_yaxes(range=[max(0.0, min(0.9, low - 0.03)), 1.0], tickformat=".0%")
    return _style(figure, _("Accuracy on each digit"), _("true digit"), _("test accuracy"))


def confusion_heatmap(
    confusion: Sequence[Sequence[int]], title: str, hide_diagonal: bool = True, zmax: int | None = None
) -> go.Figure:
    """Counts of (true digit, predicted digit); the diagonal (correct answers) hidden by default
    so the mistakes stand out. Each cell shows its count. Give two matrices the same ``zmax``
    to compare them colour for colour."""
    z = [
        [None if hide_diagonal and row == column else count for column, count in enumerate(counts)]
        for row, counts in enumerate(confusion)
    ]
    figure = go.Figure(
        go.Heatmap(
            z=z,
            x=DIGITS,
            y=DIGITS,
            colorscale=HEATMAP_SCALE,
            texttemplate="%{z}",
            xgap=1,
            ygap=1,
            zmin=0,
            zmax=zmax,
            colorbar=dict(title=_("images")),
            hovertemplate=_("true {true}, predicted {predicted}: {count}").format(
                true="%{y}", predicted="%{x}", count="%{z}"
            )
            + "<extra></extra>",
        )
    )
    figure.update_xaxes(type="category")
    figure.update_yaxes(type="category", autorange="reversed")
    return _style(figure, title, _("predicted digit"), _("true digit"), height=420)


def runs_overlay(
    runs: Sequence[tuple[str, Mapping[str, Sequence[Mapping[str, float]]]]],
    roles: Sequence[str] = ("distilled", "baseline"),
) -> go.Figure:
    """Test-accuracy curves of several runs: colour says the role, the line style says the run."""
    figure = go.Figure()
    for index, (label, curves) in enumerate(runs):
        dash = RUN_DASHES[index % len(RUN_DASHES)]
        for role in roles:
            points = curves.get(role) or []
            if not points:
                continue
            name = _("{run}: {role}").format(run=label, role=role_name(role))
            figure.add_trace(
                go.Scatter(
                    x=[p["epoch"] for p in points],
                    y=[p["test_accuracy"] for p in points],
                    mode="lines",
                    name=name,
                    line=dict(color=ROLE_COLORS.get(role), dash=dash, width=2.5),
                    hovertemplate=_("epoch {epoch}: {accuracy}").format(epoch="%{x:.2f}", accuracy="%{y:.2%}")
                    + "<extra>"
                    + name
                    + "</extra>",
                )
            )
    _zoom_accuracy_axis(figure, [y for trace in figure.data for y in trace.y])
    _style(figure, _("Test accuracy of the chosen runs"), _("epoch"), _("test accuracy"), height=460)
    figure.update_layout(legend=dict(orientation="v", yanchor="top", y=-0.15, xanchor="left", x=0))
    return figure
