"""Class board: everything run under one class code, live, for the projector.

Thin page: the class code (``?class=``, or the one the student's lab link set) ->
``kdlab.ui.board.render_board`` (one database query every few seconds, in a fragment). With
``KDLAB_INSTRUCTOR_KEY`` on the server and ``?key=`` in the URL, the instructor's panel comes
first (``kdlab.ui.instructor``).
"""

import streamlit as st

from kdlab import ui
from kdlab.ui.board import CLASS_KEY, board_class_code, render_board
from kdlab.ui.instructor import is_instructor, render_instructor

ui.ensure_entrypoint()
st.title("Class board")
st.markdown(
    "Every run of the class, as it comes in: how many ran, what distilling did at each temperature and alpha, "
    "and how the predictions compare with the outcomes. Students appear under their random nicknames."
)
instructor = is_instructor()
code = board_class_code()
if instructor:
    render_instructor(code)
if code is None:
    typed = st.text_input(
        "Class code",
        max_chars=16,
        key="board.code",
        placeholder="PHYS-7",
        help="The code on your teacher's slide, or in your lab link (class=...).",
    )
    if typed:
        st.query_params["class"] = typed
        st.session_state.pop(CLASS_KEY, None)
        st.rerun()
    st.info("Type your class's code to see its board.")
    st.stop()
large = st.toggle("Large text (for a projector)", key="board.large", help="Bigger text and charts.")
render_board(code, large=large)
