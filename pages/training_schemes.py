"""Training schemes: offline KD, deep mutual learning, born-again networks, teacher assistant.

Thin page: widgets -> ``SchemeConfig`` -> ``kdlab.serve.tasks.schemes_task`` (``compare_schemes`` in
a background job) -> ``kdlab.ui.schemes.render_comparison``: one chart per scheme against the
student alone and offline KD (same seed and budget).
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.schemes_page import render_schemes_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Training schemes"))
st.markdown(
    _(
        "Offline distillation is one way to pass knowledge on. Since 2015 others have been proposed: students "
        "that teach each other, networks distilled into copies of themselves, and teachers helped by an "
        "assistant. Here each one runs on the same data, seed and epochs as the student alone and the "
        "offline-KD student, so the comparison is fair."
    )
)
render_schemes_page()
