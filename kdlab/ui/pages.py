"""The app's navigation and Home's list, from the one table of pages (``kdlab.classroom.pages``)."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.pages import PAGES, PageEntry


def navigation():
    """``st.navigation`` over every page, grouped by section; Home is the default page."""
    sections: dict[str, list] = {}
    for entry in PAGES:
        page = st.Page(entry.path, title=entry.title, icon=entry.icon, default=entry.path == PAGES[0].path)
        sections.setdefault(entry.section, []).append(page)
    return st.navigation(sections)


def pages_in(section: str) -> list[PageEntry]:
    """The pages of one navigation group, in order."""
    return [entry for entry in PAGES if entry.section == section]
