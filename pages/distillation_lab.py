"""Distillation lab: distill a student from a teacher, live, beside the same student trained alone.

Thin page: the title, then ``kdlab.ui.lab_page.render_lab_page`` (controls -> ``DistillConfig`` -> a run).
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.lab_page import render_lab_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Distillation lab"))
render_lab_page()
