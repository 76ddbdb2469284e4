"""Class board: everything run under one class code, live, for the projector.

Thin page: the class code (``?class=``, or the one the student's lab link set) ->
``kdlab.ui.board.render_board`` (one database query every few seconds, in a fragment). With
``KDLAB_INSTRUCTOR_KEY`` on the server and ``?key=`` in the URL, the instructor's panel comes
first (``kdlab.ui.instructor``).
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.board_page import render_board_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Class board"))
st.markdown(
    _(
        "Every run of the class, as it comes in: how many ran, what distilling did for each setting the class "
        "varies, and how the predictions compare with the outcomes. Students appear under their random nicknames."
    )
)
render_board_page()
