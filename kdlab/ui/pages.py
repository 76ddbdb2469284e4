"""The app's navigation and Home's list, from the one table of pages (``kdlab.classroom.pages``), and the
line a server's first visitor reads while PyTorch loads.

This module imports Streamlit, that table and ``kdlab.i18n`` only, so that app.py draws the navigation before anything slow.
Streamlit's own sidebar navigation is off (``client.showSidebarNavigation = false`` in .streamlit/config.toml):
on a server's first script run it lists the ``pages/`` folder's raw file names ("app", "class board", ...)
until app.py's ``st.navigation`` arrives, which waited for PyTorch's import (4.5 s on a fresh 2-core server).
kdlab draws its navigation itself, from the same table, as the first thing of every run.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from kdlab.classroom.pages import PAGES, PageEntry
from kdlab.i18n import _

NAVIGATION_KEY = "navigation"  # the sidebar container's key: its CSS class is st-key-navigation
HEAVY_MODULE = "kdlab.ui.sidebar"  # imports PyTorch; loaded once per server process


def navigation():
    """``st.navigation`` over every page, Home the default; drawn by ``render_navigation``, not by Streamlit."""
    pages = [st.Page(entry.path, title=_(entry.title), icon=entry.icon, default=entry is PAGES[0]) for entry in PAGES]
    return st.navigation(pages, position="hidden")


def render_navigation() -> None:
    """The sidebar's page links, grouped by section; the current page is shown in bold."""
    with st.sidebar, st.container(key=NAVIGATION_KEY):
        for section in dict.fromkeys(entry.section for entry in PAGES):
            st.caption(_(section))
            for entry in pages_in(section):
                st.page_link(entry.path, label=_(entry.title), icon=entry.icon)
        st.divider()


@contextmanager
def starting_notice() -> Iterator[None]:
    """While the first visit to a new server imports PyTorch and the pages' modules (about 4 s on the 2-core
    server), one line in the page says so; it goes when the run inside ends. Later runs show nothing."""
    if HEAVY_MODULE in sys.modules:
        yield
        return
    notice = st.empty()
    notice.info(
        _("**Starting**: loading PyTorch, a few seconds on the server's first visit."), icon=":material/hourglass_top:"
    )
    try:
        yield
    finally:
        notice.empty()


def pages_in(section: str) -> list[PageEntry]:
    """The pages of one navigation group, in order."""
    return [entry for entry in PAGES if entry.section == section]
