"""The Glossary page: every term of ``kdlab.classroom.glossary``, each under a heading with its anchor, so that a
link such as ``glossary#temperature`` (``term_link``) opens the page at that word; in the session's language."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.glossary import TERMS
from kdlab.i18n import _


def render_glossary_page() -> None:
    """The terms in their order, then the advanced ones under their own heading."""
    for advanced in (False, True):
        if advanced:
            st.header(_("Advanced"), anchor="advanced")
            st.caption(_("Words from the lab's and the explorer's Advanced sections, and from lesson 6."))
        for term in (term for term in TERMS if term.advanced == advanced):
            st.subheader(term.title, anchor=term.anchor)
            st.markdown(term.definition)
