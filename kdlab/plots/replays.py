"""Plotly figures for the paper-replay page.

Pure functions: each takes the JSON-ready summaries of ``kdlab.experiments.replays`` (or a few plain
values) and returns a ``go.Figure``; nothing here trains, reads files or touches Streamlit.
Colours follow ``kdlab.plots.lab`` (Okabe-Ito, one per role: teacher orange, distilled blue,
student alone grey); missing digits are vermillion. The paper's numbers are hatched outlines,
so they read as "for reference" in colour and in print. Like ``kdlab.plots.lab``, figures set no
template, so the app's theme styles them. The training-scheme figures are in ``scheme_plots``.
"""

from __future__ import annotations

import plotly.graph_objects as go

from kdlab.i18n import _, ngettext, number
from kdlab.plots.style import LAYOUT, OKABE_ITO, ROLE_COLORS

MISSING_COLOR = OKABE_ITO["vermillion"]  # digits the student never saw, and errors on the biased digits
HELD_OUT_COLOR = OKABE_ITO["bluish_green"]  # our bias, chosen on held-out training images
PAPER_MARKER = dict(
    color="rgba(0,0,0,0)", line=dict(color="#777777", width=1.5), pattern=dict(shape="/", fgcolor="#777777")
)


def _percent(errors: int | None, total: int | None) -> float | None:
    return None if errors is None or not total else 100 * errors / total


def _errors(count: int | None) -> str:
    return "-" if count is None else ngettext("{count} error", "{count} errors", count).format(count=number(count))


def table_figure(summary: dict) -> go.Figure:
    """Test error (%) of teacher, student alone and distilled student: the paper beside ours."""
    rows = summary["comparison"]
    labels = [_("Teacher"), _("Student alone"), _("Distilled")]
    roles = ["teacher", "baseline", "distilled"]
    paper = [_percent(row["paper"], row["paper_total"]) for row in rows]
    ours = [_percent(row["ours"], row["ours_total"]) for row in rows]
    figure = go.Figure(
        [
            go.Bar(
                name=_("Paper (Hinton et al. 2015)"),
                x=labels,
                y=paper,
                marker=PAPER_MARKER,
                text=[_errors(row["paper"]) for row in rows],
                textposition="outside",
            ),
            go.Bar(
                name=_("Ours ({budget} budget)").format(budget=summary["budget"]["name"]),
                x=labels,
                y=ours,
                marker_color=[ROLE_COLORS[role] for role in roles],
                text=[_errors(row["ours"]) for row in rows],
                textposition="outside",
            ),
        ]
    )
    figure.update_layout(
        title=_("Test error: the paper's numbers and ours"),
        barmode="group",
        yaxis_title=_("test error (%)"),
        **LAYOUT,
    )
    return figure


def transfer_counts_figure(class_counts: list[int], missing: tuple[int, ...] | list[int] = ()) -> go.Figure:
    """How many images of each digit the student learns from; absent digits are marked."""
    digits = [str(digit) for digit in range(10)]
    colors = [MISSING_COLOR if count == 0 else ROLE_COLORS["distilled"] for count in class_counts]
    figure = go.Figure(
        go.Bar(
            x=digits,
            y=class_counts,
            marker_color=colors,
            text=[number(count) if count else _("none") for count in class_counts],
            textposition="outside",
        )
    )
    title = _("The transfer set: images per digit")
    if missing:
        title = _("The transfer set: images per digit (the student never sees a {digits})").format(
            digits=", ".join(str(digit) for digit in missing)
        )
    figure.update_layout(title=title, xaxis_title=_("digit"), yaxis_title=_("images"), showlegend=False, **LAYOUT)
    figure.update_xaxes(type="category")
    return figure


def bias_sweep_figure(
    sweep: dict,
    classes_label: str,
    current_bias: float | None = None,
    chosen_bias: float | None = None,
    paper_bias: float | None = None,
) -> go.Figure:
    """Test errors (all digits, and the biased digits) as the output bias changes.

    The x axis shows -10..10 (widened to include every marked bias); the y axis is
    logarithmic, so the minimum of a few hundred errors stays visible next to thousands.

    Args:
        sweep: ``metrics.bias_sweep`` output: bias, errors, class_errors lists.
        classes_label: the biased digits in words, e.g. "3s" or "7s and 8s".
        current_bias: the slider's value; chosen_bias: ours (held-out images); paper_bias.
    """
    figure = go.Figure(
        [
            go.Scatter(
                name=_("all test errors"),
                x=sweep["bias"],
                y=sweep["errors"],
                mode="lines",
                line=dict(color=ROLE_COLORS["distilled"], width=3),
            ),
            go.Scatter(
                name=_("errors on the {digits}").format(digits=classes_label),
                x=sweep["bias"],
                y=sweep["class_errors"],
                mode="lines",
                line=dict(color=MISSING_COLOR, width=2, dash="dot"),
            ),
        ]
    )
    markers = [
        (paper_bias, _("paper"), "#777777", "dash"),
        (chosen_bias, _("ours (held-out)"), HELD_OUT_COLOR, "dash"),
        (current_bias, _("slider"), ROLE_COLORS["distilled"], "solid"),
    ]
    marked = [bias for bias, *_ in markers if bias is not None]
    low, high = min([-10.0] + [b - 2 for b in marked]), max([10.0] + [b + 2 for b in marked])
    for position, (bias, label, color, dash) in enumerate(markers):
        if bias is not None:
            figure.add_vline(x=bias, line=dict(color=color, dash=dash, width=1.5))
            figure.add_annotation(
                x=bias,
                y=1 - 0.09 * position,
                yref="paper",
                text=f"{label}: {'+' if bias >= 0 else ''}{number(bias, 1)}",
                showarrow=False,
                xanchor="left",
                xshift=4,
                font=dict(color=color),
            )
    figure.update_layout(
        title=_("Errors as the bias of the {digits} changes (no retraining)").format(digits=classes_label),
        xaxis_title=_("bias added to the output"),
        yaxis_title=_("test errors (log scale)"),
        **LAYOUT,
    )
    figure.update_xaxes(range=[low, high])
    figure.update_yaxes(type="log")
    return figure


def per_class_figure(before: list[float | None], after: list[float | None], bias_label: str) -> go.Figure:
    """Accuracy on each test digit before and after the bias change."""
    digits = [str(digit) for digit in range(10)]

    def percent(values):
        return [None if value is None else 100 * value for value in values]

    figure = go.Figure(
        [
            go.Bar(name=_("as trained"), x=digits, y=percent(before), marker_color=ROLE_COLORS["baseline"]),
            go.Bar(
                name=_("with {bias}").format(bias=bias_label),
                x=digits,
                y=percent(after),
                marker_color=ROLE_COLORS["distilled"],
            ),
        ]
    )
    figure.update_layout(
        title=_("Accuracy on each test digit"),
        barmode="group",
        xaxis_title=_("digit"),
        yaxis_title=_("accuracy (%)"),
        yaxis_range=[0, 105],
        **LAYOUT,
    )
    figure.update_xaxes(type="category")
    return figure


def temperature_width_figure(grid: list[dict]) -> go.Figure:
    """Heatmap over student width (rows) and temperature (columns) of the test accuracy.

    Each cell shows the accuracy; its colour is the gain over the same width trained alone
    (the "alone" column, when the grid has it; else over the row's mean), so the effect of the
    temperature stands out within each width even when widths differ by several points.
    """
    widths = sorted({cell["width"] for cell in grid})
    temperatures = sorted({cell["temperature"] for cell in grid if cell["temperature"] is not None})
    has_alone = any(cell["temperature"] is None for cell in grid)
    columns = ([_("alone")] if has_alone else []) + [f"T = {number(t)}" for t in temperatures]
    keys = ([None] if has_alone else []) + temperatures
    lookup = {(cell["width"], cell["temperature"]): 100 * cell["test_accuracy"] for cell in grid}
    accuracy = [[lookup.get((w, t)) for t in keys] for w in widths]
    gains, text = [], []
    for row in accuracy:
        present = [value for value in row if value is not None]
        reference = row[0] if has_alone and row[0] is not None else (sum(present) / len(present) if present else 0)
        gains.append([None if value is None else value - reference for value in row])
        text.append(
            [
                ""
                if value is None
                else f"{number(value, 2)}<br>({'+' if value >= reference else ''}{number(value - reference, 2)})"
                for value in row
            ]
        )
    largest = max([abs(g) for row in gains for g in row if g is not None] + [0.1])
    names = {cell["width"]: cell["arch"] for cell in grid}
    figure = go.Figure(
        go.Heatmap(
            z=gains,
            x=columns,
            y=[names[w] for w in widths],
            text=text,
            texttemplate="%{text}",
            colorscale="PuOr",
            reversescale=True,
            zmid=0,
            zmin=-largest,
            zmax=largest,
            hoverongaps=False,
            colorbar=dict(title=_("points vs<br>alone") if has_alone else _("points vs<br>row mean")),
        )
    )
    figure.update_layout(
        title=_("Test accuracy (%) by temperature and student width; colour: gain over the student alone")
        if has_alone
        else _("Test accuracy (%) by temperature and student width; colour: gain over the row mean"),
        xaxis_title=_("temperature (or no teacher)"),
        yaxis_title=_("student"),
        **LAYOUT,
    )
    figure.update_xaxes(type="category")
    figure.update_yaxes(type="category")
    return figure


DECOUPLED_COLORS = {
    "baseline": ROLE_COLORS["baseline"],
    "kd": ROLE_COLORS["distilled"],
    "tckd": OKABE_ITO["sky_blue"],
    "nckd": OKABE_ITO["bluish_green"],
    "dkd": OKABE_ITO["reddish_purple"],
}


def decoupled_figure(summary: dict, labels: dict[str, str]) -> go.Figure:
    """Test error (%) of the student alone and distilled four ways (``labels``: run -> bar label), from a
    ``decoupled`` replay summary; a run that did not finish has no bar."""
    ours, total = summary["ours"], summary["ours"]["test_size"]
    runs = list(labels)
    errors = [ours[f"{run}_errors"] for run in runs]
    figure = go.Figure(
        go.Bar(
            x=[labels[run] for run in runs],
            y=[_percent(value, total) for value in errors],
            marker_color=[DECOUPLED_COLORS[run] for run in runs],
            text=[_errors(value) for value in errors],
            textposition="outside",
            showlegend=False,
        )
    )
    figure.update_layout(
        title=_("Test error: the student alone, and learning from each part of the teacher's knowledge"),
        yaxis_title=_("test error (%)"),
        **LAYOUT,
    )
    return figure


KNOWLEDGE_SET_COLORS = (ROLE_COLORS["distilled"], OKABE_ITO["sky_blue"])  # the lab's transfer set, the small one


def _seed_bars(runs: list[str], errors: dict, spreads: dict | None, total: int) -> tuple[list, dict | None, list]:
    """Bars of ``runs``: over seeds (``spreads``: run -> ``over_seeds.spread``) the means with their 95% t-intervals
    as error bars, else one seed's ``errors``; (means, error_y, each bar's text)."""
    if spreads is None:
        means = [errors[run] for run in runs]
        return means, None, ["-" if value is None else number(value) for value in means]
    means = [spreads[run]["mean"] for run in runs]
    intervals = [spreads[run]["interval_95"] or [spreads[run]["mean"]] * 2 for run in runs]
    error_y = dict(
        type="data",
        array=[_percent(high - mean, total) for mean, (_, high) in zip(means, intervals)],
        arrayminus=[_percent(mean - low, total) for mean, (low, _) in zip(means, intervals)],
    )
    return means, error_y, [number(mean, 0) for mean in means]


def _seeds_words(summary: dict) -> str:
    over = summary.get("seeds")
    if not over:
        return _("one seed")
    return _("mean over seeds {seeds} with the 95% interval").format(seeds=", ".join(map(str, over["seeds"])))


def knowledge_figure(summary: dict, labels: dict[str, str]) -> go.Figure:
    """Test error (%) of each student (``labels``: run -> bar label), one group of bars per transfer set, from a
    ``knowledge`` replay summary: over seeds the mean with its 95% t-interval, else the one seed's errors."""
    total = summary["data"]["test_size"]
    over = summary.get("seeds", {}).get("rows")
    figure = go.Figure()
    for index, row in enumerate(summary["rows"]):
        runs = list(labels)
        means, error_y, text = _seed_bars(runs, row["errors"], over[index]["errors"] if over else None, total)
        figure.add_trace(
            go.Bar(
                name=_("{count} transfer images").format(count=number(row["train_size"])),
                x=[labels[run] for run in runs],
                y=[_percent(value, total) for value in means],
                error_y=error_y,
                marker_color=KNOWLEDGE_SET_COLORS[index % len(KNOWLEDGE_SET_COLORS)],
                text=text,
                textposition="inside",
            )
        )
    figure.update_layout(
        barmode="group",
        title=_("Test error of the same student taught each way ({seeds})").format(seeds=_seeds_words(summary)),
        yaxis_title=_("test error (%)"),
        **LAYOUT,
    )
    return figure


def temperature_figure(summary: dict, labels: dict[str, str]) -> go.Figure:
    """Test error (%) of each student of a ``temperature-schedules`` replay summary (``labels``: run -> bar label):
    over seeds the mean with its 95% t-interval, else the one seed's errors. The student alone in its role's colour,
    KD at a fixed T in the distilled one's, logit matching and the changed temperatures each in their own."""
    runs = list(labels)
    total = summary["data"]["test_size"]
    over = summary.get("seeds")
    means, error_y, text = _seed_bars(runs, summary["errors"], over["errors"] if over else None, total)
    colors = {"baseline": ROLE_COLORS["baseline"], "logits": OKABE_ITO["vermillion"]}
    colors |= {"standardised": OKABE_ITO["sky_blue"], "annealed": OKABE_ITO["bluish_green"]}
    colors["learned"] = OKABE_ITO["reddish_purple"]
    figure = go.Figure(
        go.Bar(
            x=[labels[run] for run in runs],
            y=[_percent(value, total) for value in means],
            error_y=error_y,
            marker_color=[colors.get(run, ROLE_COLORS["distilled"]) for run in runs],
            text=text,
            textposition="inside",
        )
    )
    figure.update_layout(
        title=_("Test error of the same student at each temperature ({seeds})").format(seeds=_seeds_words(summary)),
        yaxis_title=_("test error (%)"),
        **LAYOUT,
    )
    return figure


STRONGER_COLORS = (ROLE_COLORS["distilled"], OKABE_ITO["bluish_green"], OKABE_ITO["reddish_purple"])  # per method


def stronger_teacher_figure(summary: dict, labels: dict[str, str]) -> go.Figure:
    """Each method's gain over the student alone (test errors removed, ``labels``: method -> line name) against the
    teacher's own test errors, one line per method, from a ``stronger-teacher`` replay summary: over seeds the mean
    gain with its paired 95% interval, else the one seed's. The x axis is logarithmic and reversed, so the teachers
    get stronger from left to right; 0 is the student alone."""
    over = summary.get("seeds")
    rows = over["rows"] if over else summary["teachers"]
    x = [row["teacher_errors"] for row in rows]
    names = [row["teacher"] for row in rows]
    figure = go.Figure()
    for index, (method, label) in enumerate(labels.items()):
        if over:
            gains = [row["gains"][method] for row in rows]
            y = [gain["fewer_errors"] for gain in gains]
            intervals = [gain["interval_95"] or [gain["fewer_errors"]] * 2 for gain in gains]
            error_y = dict(
                type="data",
                array=[high - mean for mean, (_, high) in zip(y, intervals)],
                arrayminus=[mean - low for mean, (low, _) in zip(y, intervals)],
            )
        else:
            y, error_y = [row["gains"][method] for row in rows], None
        figure.add_trace(
            go.Scatter(
                name=label,
                x=x,
                y=y,
                error_y=error_y,
                mode="lines+markers",
                text=names,
                hovertemplate=_("%{text}: %{x} teacher errors, %{y} errors removed") + "<extra>" + label + "</extra>",
                line=dict(color=STRONGER_COLORS[index % len(STRONGER_COLORS)], width=3),
            )
        )
    figure.add_hline(y=0, line=dict(color=ROLE_COLORS["baseline"], dash="dot"), annotation_text=_("student alone"))
    seeds = (
        _("mean over seeds {seeds} with the paired 95% interval").format(seeds=", ".join(map(str, over["seeds"])))
        if over
        else _("one seed")
    )
    figure.update_layout(
        title=_("What each teacher's student gained, by the teacher's own errors ({seeds})").format(seeds=seeds),
        xaxis=dict(
            title=_("teacher's test errors (log scale; stronger to the right)"), type="log", autorange="reversed"
        ),
        yaxis_title=_("test errors removed from the student alone"),
        **LAYOUT,
    )
    return figure
