"""Every Plotly chart of the app goes through ``chart``: ``st.plotly_chart`` with the app's Plotly config.

Plotly's ``responsive`` mode (Streamlit turns it on) watches each chart's box and lays the chart out again when
it moves, and every refresh of a live view moves the page's boxes: so each tick of the lab's progress bar redrew
every chart on the page, the finished ones and the soft-targets preview too. A tab with three static charts and
one progress bar ticking every 5 s spent 1.02 s of Chromium's CPU per 20 s, 0.53 s with ``responsive`` off and
0.42 s with no chart at all (/work/measure-style probe, headless Chromium, 2026-12-07). Streamlit still sizes a
chart to its column, and again when the window changes (checked at 1,400, 800 and 1,200 px wide).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

CONFIG = {"responsive": False}


def chart(figure: Any, *, key: str, **kwargs: Any) -> None:
    """Draw the Plotly ``figure`` under ``key`` (``kwargs``: ``alt`` and the rest of ``st.plotly_chart``'s)."""
    st.plotly_chart(figure, key=key, config=CONFIG, **kwargs)
