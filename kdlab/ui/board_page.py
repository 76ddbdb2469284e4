"""The Class board page: the class code (from the link, the session or typed in), the instructor's panel
with the key, and the board."""

from __future__ import annotations

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.board import BOARD_CLASS_KEY, board_class_code, render_board, render_reveal_answers
from kdlab.ui.instructor import render_instructor, render_sign_in
from kdlab.ui.instructor_key import instructor_key_set, is_instructor
from kdlab.ui.lesson_question import page_lesson


def render_board_page() -> None:
    """The board below its introduction: the instructor's panel first (with the key), then the class's board,
    or a box to type the class code in."""
    instructor = is_instructor()
    code = board_class_code()
    if instructor:
        render_instructor(code)
    elif instructor_key_set():
        render_sign_in()
    if code is None:
        typed = st.text_input(
            _("Class code"),
            max_chars=16,
            key="board.code",
            placeholder=_("PHYS-7"),  # Translators: an example class code (letters, digits, dashes)
            help=_("The code on your teacher's slide, or in your lab link (`class=...`)."),
        )
        if typed:
            st.query_params["class"] = typed
            st.session_state.pop(BOARD_CLASS_KEY, None)
            st.rerun()
        st.info(_("Type your class's code to see its board."))
        st.stop()
    lesson = page_lesson("board")  # a lesson's board link: that lesson's predictions
    large = st.toggle(_("Large text (for a projector)"), key="board.large", help=_("Bigger text and charts."))
    if not instructor_key_set():
        render_reveal_answers(code)
    render_board(code, large=large, lesson=lesson)
