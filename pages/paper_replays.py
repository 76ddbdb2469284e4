"""Paper replays: the MNIST experiments of Hinton, Vinyals & Dean (2015), and Bucila et al.'s (2006)
model compression, run for real.

Thin page: a budget and a button per replay -> ``kdlab.serve.tasks.replay_task`` (``kdlab.experiments.replays``
in a background job) -> ``kdlab.ui.replays.render_result``: the paper's numbers beside ours.
The bias sliders only re-read the stored test logits.
"""

import streamlit as st

from kdlab import ui
from kdlab.classroom.links import REPLAY_PARAMETERS, parse_replay_link
from kdlab.experiments.replays import (
    BUDGET_NOTES,
    BUDGETS,
    COMPRESSION_NOTES,
    REPLAY_TITLES,
    load_cached_temperature_width,
    replay_config,
)
from kdlab.serve import tasks
from kdlab.serve.jobs import default_runner
from kdlab.serve.runner import JobStatus
from kdlab.ui.assignment import apply_page_link
from kdlab.ui.instructor import may_start_long_jobs
from kdlab.ui.replays import INTRO, PAPER_LINES, render_result

BUDGET_LABELS = {"quick": "Quick (classroom)", "full": "Full (long)"}

ui.ensure_entrypoint()
st.title("Paper replays: Hinton, Vinyals & Dean (2015) and Bucila et al. (2006) on MNIST")
st.markdown(
    "Each replay trains for real on the data in use and shows the paper's numbers (or, for Bucila et al.'s model "
    "compression, its claim) beside ours, with the compute that ran. The same replays run from the command line: "
    "`python -m kdlab replay NAME --json`."
)
data = ui.get_data()
budget = st.radio(
    "Budget",
    list(BUDGETS),
    horizontal=True,
    key="replay.budget",
    format_func=BUDGET_LABELS.get,
    help="Quick runs in minutes on a laptop CPU; full is closer to the paper and takes much longer.",
)
st.caption(BUDGET_NOTES[budget] + " The teacher is trained once per budget and cached for everyone.")
allowed = budget != "full" or may_start_long_jobs()  # a classroom's trainers are for everyone's lab runs
if not allowed:
    st.info(
        "On this classroom server only the instructor starts full-budget replays: each keeps a trainer busy "
        "for many minutes. The quick budget shows the same effects in minutes.",
        icon=":material/lock:",
    )


# A lesson's ?replay=omit-3 opens that replay's tab; ?bias=2 starts its bias sliders at +2 (kdlab.classroom.links checks both).
def open_tab(name: str, value) -> None:
    if name == "replay":  # the bias goes to the renderer below
        st.session_state["replay.tab"] = REPLAY_TITLES[value]


link = apply_page_link("replays", parse_replay_link, REPLAY_PARAMETERS, open_tab)
# Bound to the URL, so a link (Home's) can open a replay's tab: ?replay.tab=<its title>.
tabs = st.tabs(list(REPLAY_TITLES.values()), key="replay.tab", bind="query-params")
for tab, name in zip(tabs, REPLAY_TITLES):
    with tab:
        st.markdown(INTRO[name])
        st.caption(PAPER_LINES[name] + (f" {COMPRESSION_NOTES[budget]}" if name == "compression" else ""))
        slot = f"replay.{name}"
        job = ui.recall_job(slot)
        if name == "temperature-width" and job is None:
            cached = load_cached_temperature_width(replay_config(name, budget), data)
            if cached is not None:
                render_result(cached, f"{slot}.cached", bias=link.values.get("bias"))
                continue
        running = job is not None and not job.is_finished
        if st.button(
            f"Run the {name} replay ({budget} budget)",
            key=f"{slot}.run",
            type="primary",
            disabled=running or not allowed,
            icon=":material/play_arrow:",
        ):
            try:
                job = default_runner().submit(
                    f"Replay {name} ({budget})", tasks.replay_task(name, budget, data), owner=ui.session_owner()
                )
            except ValueError as error:  # the queue is full, or this student already has a run going
                st.error(str(error))
            else:
                ui.remember_job(slot, job)
        if job is None:
            continue
        if not job.is_finished:
            ui.follow_job(job, key=slot)  # refreshes only the progress view, then the page once at the end
        elif job.status == JobStatus.FAILED:
            st.error(f"The replay failed: {job.error}")
        elif job.result is not None:
            render_result(job.result, f"{slot}.{job.id}", bias=link.values.get("bias"))
