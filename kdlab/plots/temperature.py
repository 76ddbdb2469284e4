"""The explorer's figures of the temperature beyond one number: how close KD's gradient comes to logit matching's
as T grows (the high-temperature limit), and a digit's soft targets with and without standardised logits. Pure
functions from numbers to ``go.Figure``, no Streamlit, in the shared style (``kdlab.plots.style``)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from kdlab.i18n import _, number
from kdlab.plots.style import DIGITS, LAYOUT, OKABE_ITO, ROLE_COLORS

LIMIT_TICKS = [0.5, 1, 2, 5, 10, 20, 50]


def significant(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits as ``format(value, ".3g")`` writes it ("4.27", "12", "0.0314"),
    with the current language's decimal mark; a number that needs an exponent keeps Python's form."""
    text = f"{value:.{digits}g}"
    if not text.replace(".", "").replace("-", "").isdigit():  # 1e-05, inf, nan
        return text
    return number(float(text), len(text.partition(".")[2]))


def limit_curve(
    temperatures: Sequence[float],
    lines: dict[str, Sequence[float]],
    temperature: float,
) -> go.Figure:
    """The cosine between KD's and logit matching's gradients on the student's logits against T (log axis).

    Args:
        temperatures: the T of each point.
        lines: a name ("this digit", "1,000 test digits") -> one cosine per temperature; the first is drawn solid
            in the teacher's colour, the rest dashed.
        temperature: the chosen T, marked with a vertical line and each line's value there.
    """
    figure = go.Figure()
    colours = [ROLE_COLORS["teacher"], OKABE_ITO["blue"], OKABE_ITO["bluish_green"]]
    for position, (name, cosines) in enumerate(lines.items()):
        colour = colours[position % len(colours)]
        figure.add_trace(
            go.Scatter(
                x=list(temperatures),
                y=list(cosines),
                mode="lines+markers",
                name=name,
                line=dict(color=colour, width=3, dash="solid" if position == 0 else "dash"),
                hovertemplate="T = %{x:g}: %{y:.4f}<extra>" + name + "</extra>",
            )
        )
        if temperature in temperatures:
            value = cosines[list(temperatures).index(temperature)]
            figure.add_trace(
                go.Scatter(
                    x=[temperature],
                    y=[value],
                    mode="markers",
                    showlegend=False,
                    marker=dict(color=colour, size=14, symbol="diamond", line=dict(width=2, color="white")),
                    hovertemplate="T = %{x:g}: %{y:.4f}<extra>" + _("{line}, chosen T").format(line=name) + "</extra>",
                )
            )
    figure.add_vline(x=temperature, line_dash="dot", line_color=OKABE_ITO["grey"])
    figure.add_hline(
        y=1.0,
        line_dash="dot",
        line_color=OKABE_ITO["grey"],
        annotation_text=_("logit matching (cosine 1)"),
        annotation_position="bottom right",
    )
    lowest = min((min(cosines) for cosines in lines.values()), default=0.0)
    figure.update_xaxes(type="log", tickvals=LIMIT_TICKS, title=_("temperature T (log scale)"))
    figure.update_yaxes(range=[max(min(lowest, 1.0) - 0.05, -1.0), 1.02], title=_("cosine of the two gradients"))
    figure.update_layout(
        **LAYOUT,
        title=dict(
            text=_("How close KD at T comes to logit matching (chosen T = {temperature})").format(
                temperature=number(temperature)
            ),
            x=0,
        ),
    )
    return figure


def standardised_bars(
    raw: Sequence[float],
    standardised: Sequence[float],
    temperature: float,
    effective_temperature: float,
    true_label: int | None = None,
) -> go.Figure:
    """A digit's soft targets at ``temperature``: softmax(z / T) beside softmax(Z(z) / T), where Z z-scores the
    logits (the same as softmax(z / T_eff) with ``effective_temperature`` = T x the logits' spread)."""
    labels = [_("{digit} (true)").format(digit=digit) if true_label == int(digit) else digit for digit in DIGITS]
    colour = ROLE_COLORS["teacher"]
    raw_name = _("z / T, T = {temperature}").format(temperature=number(temperature))
    standardised_name = _("Z(z) / T: standardised, like T = {effective} on z").format(
        effective=significant(effective_temperature)
    )
    figure = go.Figure(
        [
            go.Bar(
                name=raw_name,
                x=labels,
                y=list(raw),
                marker=dict(color=colour),
                hovertemplate=_("digit %{x}: %{y:.3%}") + "<extra>" + raw_name + "</extra>",
            ),
            go.Bar(
                name=standardised_name,
                x=labels,
                y=list(standardised),
                marker=dict(color=OKABE_ITO["reddish_purple"], pattern=dict(shape="x")),
                hovertemplate=_("digit %{x}: %{y:.3%}") + "<extra>" + _("standardised") + "</extra>",
            ),
        ]
    )
    figure.update_xaxes(type="category", title=_("digit"))
    figure.update_yaxes(range=[0, 1.02], tickformat=".0%", title=_("probability"))
    figure.update_layout(
        **LAYOUT,
        barmode="group",
        title=dict(
            text=_("Soft targets at T = {temperature}, as they are and standardised").format(
                temperature=number(temperature)
            ),
            x=0,
        ),
    )
    return figure
