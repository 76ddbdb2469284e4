"""How a lab setting's value is read from a URL string and written in a message: plain Python.

Every value of a link is a string from a stranger: these turn it into a number the lab's
controls offer, or say in a few words why not.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from kdlab.i18n import _


def number_text(value: float) -> str:
    """``4.0`` -> "4", ``0.001`` -> "0.001": how the pages show numbers."""
    return f"{value:g}"


def value_text(name: str, value: object) -> str:
    """``T = 4``, ``train_size = 4,000``: a value the way a message shows it."""
    if isinstance(value, float):
        return f"{name} = {number_text(value)}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{name} = {value:,}"
    return f"{name} = {value}"


def parse_float(raw: str) -> float | None:
    """A finite number from a URL string, or None."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


SWITCH_WORDS = {"1": True, "on": True, "true": True, "yes": True, "0": False, "off": False, "false": False, "no": False}


def parse_switch(raw: str) -> bool | None:
    """An on/off value as a link or the command line writes it (1/0, on/off, true/false, yes/no); None otherwise."""
    return SWITCH_WORDS.get(raw.strip().lower())


def parse_int(raw: str) -> int | None:
    """A whole number from a URL string (``3.0`` counts), or None."""
    value = parse_float(raw)
    return int(value) if value is not None and value == int(value) else None


def one_of(raw: str, options: Sequence[float], what: str) -> tuple[float | None, str]:
    """The option ``raw`` names (compared as numbers), or (None, why not, in the current language: ``what`` is an
    English message marked with ``N_``, translated here). The options are written as a link writes them."""
    value = parse_float(raw)
    if value is None:
        return None, _("is not a number")
    for option in options:
        if math.isclose(value, option, rel_tol=1e-9):
            return option, ""
    return None, _("is not one of the {what} ({options})").format(
        what=_(what), options=", ".join(number_text(option) for option in options)
    )


def in_range(raw: str, low: int, high: int) -> tuple[int | None, str]:
    """A whole number from ``low`` to ``high``, or (None, why not, in the current language)."""
    value = parse_int(raw)
    if value is None:
        return None, _("is not a whole number")
    if not low <= value <= high:
        return None, _("is outside {low} to {high}").format(low=low, high=high)
    return value, ""
