"""Paper replays: the MNIST experiments of Hinton, Vinyals & Dean (2015), and Bucila et al.'s (2006)
model compression, run for real.

Thin page: a budget and a button per replay -> ``kdlab.serve.tasks.replay_task`` (``kdlab.experiments.replays``
in a background job) -> ``kdlab.ui.replays.render_result``: the paper's numbers beside ours.
The bias sliders only re-read the stored test logits.
"""

import streamlit as st

from kdlab.i18n import _
from kdlab.ui.replays_page import render_replays_page
from kdlab.ui.session import ensure_entrypoint

ensure_entrypoint()
st.title(_("Paper replays: Hinton, Vinyals & Dean (2015) and Bucila et al. (2006) on MNIST"))
st.markdown(
    _(
        "Each replay trains for real on the data in use and shows the paper's numbers (or, for Bucila et al.'s model "
        "compression, its claim) beside ours, with the compute that ran. The same replays run from the command line: "
        "`python -m kdlab replay NAME --json`."
    )
)
render_replays_page()
