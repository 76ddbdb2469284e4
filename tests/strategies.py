"""Hypothesis strategies for what a stranger can type into a link, a lesson file or a forged message: random
and hostile strings, huge numbers, NaN, other scripts' digits, long lists. The property tests of the parsers
(tests/unit/test_fuzz.py) and of the pages (tests/app/test_fuzz_pages.py) draw from them."""

from __future__ import annotations

from hypothesis import strategies as st

from kdlab.classroom.lab_settings import LAB_NAMES

TRICKS = [
    "nan",
    "NaN",
    "-nan",
    "inf",
    "-Infinity",
    "1e309",
    "-1e309",
    "1e-400",
    "-0",
    "0x10",
    "1_000",
    " 4 ",
    "4\n",
    "\uff14",  # a fullwidth 4
    "\u0663",  # an Arabic-Indic 3
    "\u0969",  # a Devanagari 3
    "\U0001d7d5",  # a mathematical bold 7
    "",
    " ",
    "\x00",
    "\u202e",  # right-to-left override
    "<script>alert(1)</script>",
    "[link](javascript:alert(1))",
    "**bold** `code` $x$",
    "all",
    "ALL",
    ",,,,",
    "T,T,T,alpha,alpha",
    "ensemble:cnn*99999",
    "ensemble:" + ",".join(["cnn"] * 50),
    "mlp-1200x99",
    "mlp-\u0661\u0660\u0660x1",  # mlp-100x1 in Arabic-Indic digits
    "../../etc/passwd",
    "PHYS-7",
    "A" * 32,  # shaped like a student code
    '1"); __import__("os").system("echo pwned"); print("',
]

hostile_text = st.one_of(
    st.sampled_from(TRICKS),
    st.text(max_size=40),
    st.integers().map(str),
    st.integers(min_value=-(10**4000), max_value=10**4000).map(str),  # huge, under Python's 4,300-digit limit
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.tuples(st.sampled_from(["9", "a", ",", "x,", "\u00e9", "%", "\u0663"]), st.integers(0, 3000)).map(
        lambda pair: pair[0] * pair[1]
    ),  # long values
    st.lists(st.sampled_from([*LAB_NAMES, "all", "x", "", " T "]), max_size=400).map(",".join),  # long lists
)
"""One URL value (or lesson value) as a stranger could write it."""

url_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=0, max_size=4))
"""A URL parameter's value: one string, or a repeated parameter's list."""


def url_params(names: tuple[str, ...], max_size: int = 12):
    """A page's URL parameters: some of ``names`` (and some unknown names) with hostile values."""
    return st.dictionaries(st.one_of(st.sampled_from(names), st.text(max_size=12)), url_value, max_size=max_size)
