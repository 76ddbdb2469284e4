"""Home: knowledge distillation in one screen, and a path through the pages."""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.home import render_home_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Knowledge distillation, live on MNIST"))
render_home_page()
