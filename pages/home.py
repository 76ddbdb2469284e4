"""Home: knowledge distillation in one screen, and a path through the pages."""

import streamlit as st

from kdlab.ui.home import render_home_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title("Knowledge distillation, live on MNIST")
st.markdown(
    "A big network that already knows MNIST well, the **teacher**, can teach a smaller or cheaper "
    "network, the **student**, more than the labels alone can: the student learns from the teacher's answers, "
    "its whole probability distribution, and not only from the right answer."
)

render_home_page()
