"""Lessons: guided 10 to 15 minute lessons for a class, each from a data file in ``lessons/``.

Thin page: ``kdlab.classroom.lessons.load_lessons`` -> a lesson (``?lesson=<file name>``) -> its goal,
steps with links that preset (and lock) the pages, the prediction, the question to discuss, what
to notice; every link also as a full address for a slide, and the lesson as a notebook.
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.lessons_page import render_lessons_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Lessons"))
st.markdown(
    _(
        "Short lessons for a class. Each step opens a page with the lesson's settings (and locks what the class "
        "should not change); lab links ask for a prediction first and send the runs to your class board."
    )
)
render_lessons_page()
