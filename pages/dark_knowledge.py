"""Dark knowledge explorer: what the temperature does to a trained teacher's outputs.

Thin page: the title, then ``kdlab.ui.explorer.render_explorer_page`` (nothing is retrained: moving T
only re-applies the softmax to the cached teacher's stored logits).
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.explorer import render_explorer_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Dark knowledge explorer"))
render_explorer_page()
