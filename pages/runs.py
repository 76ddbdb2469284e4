"""Runs: every lab run of this student (from the database) in a table; overlay curves; download CSV,
JSON and weights of the student's own runs only.

Thin page: the introduction, then ``kdlab.ui.runs_page.render_runs_page``.
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.runs_page import render_runs_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Runs"))
st.markdown(
    _(
        "Every lab run of yours, newest last. They are kept on the server under this page's address (the "
        "`s=` part of it is your personal code): bookmark it to come back to your runs later or from another "
        "tab, and do not share it. Nobody else sees your runs."
    )
)
render_runs_page()
