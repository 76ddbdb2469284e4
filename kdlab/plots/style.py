"""The style every kdlab figure shares: one colour per role, from the Okabe-Ito palette (safe for the common
colour-vision deficiencies, readable on light and dark backgrounds): the teacher is orange, the distilled
student blue, the student trained alone (baseline) grey. The baseline is also dashed, so the roles stay
apart in a greyscale print. Figures set no template or background, so the app's light or dark theme styles
them. No Streamlit.
"""

from __future__ import annotations

import plotly.graph_objects as go
from babel.numbers import get_decimal_symbol, get_group_symbol

from kdlab.i18n import N_, _, number_locale

OKABE_ITO = {
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "grey": "#999999",
}
ROLE_COLORS = {
    "teacher": OKABE_ITO["orange"],
    "distilled": OKABE_ITO["blue"],
    "baseline": OKABE_ITO["grey"],
}
# English, marked for translation: show a role's name with ``role_name`` (or ``_()``).
ROLE_NAMES = {
    "teacher": N_("Teacher"),
    "distilled": N_("Distilled student"),
    "baseline": N_("Student alone (baseline)"),
}
ROLE_DASH = {"teacher": "dot", "distilled": "solid", "baseline": "dash"}
# The layout the replay and scheme figures share: compact margins, legend on top.
LAYOUT = dict(
    margin=dict(l=10, r=10, t=60, b=10),
    height=380,
    title_x=0,
    legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="right", x=1),
)
RUN_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
HEATMAP_SCALE = "Cividis"  # sequential and colour-blind safe
DIGITS = [str(digit) for digit in range(10)]


def role_name(role: str) -> str:
    """The role's name (``ROLE_NAMES``) in the current language; an unknown role as it is."""
    return _(ROLE_NAMES[role]) if role in ROLE_NAMES else role


def number_separators() -> str:
    """Plotly's ``separators`` (the decimal mark, then the thousands separator) of the current language, so a
    figure's ticks and hover numbers read "97,5 %" in Spanish as the page's sentences do."""
    locale = number_locale()
    return get_decimal_symbol(locale) + get_group_symbol(locale)


def with_source(figure: go.Figure, source: str) -> go.Figure:
    """``figure`` with ``source``, which model produced its numbers, as the subtitle under its title."""
    top = figure.layout.margin.t if figure.layout.margin.t is not None else LAYOUT["margin"]["t"]
    figure.update_layout(title_subtitle_text=source, margin_t=top + 20)
    return figure
