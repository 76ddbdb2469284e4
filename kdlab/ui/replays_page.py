"""The Paper replays page: a budget, and per replay a tab with a Run button, the job's progress and the result
beside the paper's numbers."""

from __future__ import annotations

from contextlib import nullcontext

import streamlit as st

from kdlab.classroom.links import REPLAY_PARAMETERS, parse_replay_link
from kdlab.experiments.replays import BUDGET_NOTES, BUDGETS, REPLAYS
from kdlab.ml.data import MnistData
from kdlab.serve.gate import admit_replay
from kdlab.serve.jobs import default_runner
from kdlab.serve.replays import ReplayTicket, leave_replay
from kdlab.serve.runner import JobStatus
from kdlab.ui.assignment import apply_page_link
from kdlab.ui.client import client_address
from kdlab.ui.instructor import may_start_long_jobs
from kdlab.ui.lesson_question import render_lesson_question
from kdlab.ui.progress import follow_job
from kdlab.ui.replays import render_result
from kdlab.ui.resources import get_data
from kdlab.ui.session import recall_job, remember_job, session_owner

BUDGET_LABELS = {"quick": "Quick (classroom)", "full": "Full (long)"}
REPLAY_SEEDS = 3  # on the shared server: three times the replay's minutes at most
JOINED_NOTE = (
    "Another student started exactly this replay (same budget, seeds and data) a moment ago, so you are following "
    "it instead of queueing a copy: the same progress, the same result."
)


def open_tab(name: str, value) -> None:
    """A lesson's ``?replay=omit-3`` opens that replay's tab (``kdlab.classroom.links`` checks it); the bias
    (``?bias=2``) goes to the renderer."""
    if name == "replay":
        st.session_state["replay.tab"] = REPLAYS[value].title


def choose_budget() -> tuple[str, bool]:
    """The budget radio; returns the budget and whether this session may start it."""
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
    return budget, allowed


def seeds_control(name: str, slot: str) -> int:
    """The Seeds slider of a replay that compares settings (1 elsewhere): each seed is the whole replay again."""
    if REPLAYS[name].over_seeds is None:
        return 1
    seeds = st.slider(
        "Seeds: repeat the replay",
        1,
        REPLAY_SEEDS,
        min(REPLAYS[name].seeds, REPLAY_SEEDS),
        key=f"{slot}.seeds",
        help="Runs the whole replay at seeds 0, 1, ...: each number with its spread, and which differences are "
        "bigger than what changing the seed does. Each seed takes as long as the replay.",
    )
    # Bounds are checked in the browser only: a forged value comes back within them.
    return min(max(int(seeds), 1), REPLAY_SEEDS)


def render_replay_tab(
    name: str, budget: str, allowed: bool, data: MnistData, bias: float | None, pending: bool = False
) -> None:
    """One replay's tab: what it shows, its Run button, its job's progress, then its result and where it came
    from (trained for this student, joined, or from the cache)."""
    replay = REPLAYS[name]
    # A lesson's question still unanswered: what the replay shows (its answer, for lesson 4) waits, folded.
    with st.expander("What this replay shows: read it after you save your prediction") if pending else nullcontext():
        st.markdown(replay.intro)
        st.caption(replay.paper_line + (f" {replay.budget_notes[budget]}" if budget in replay.budget_notes else ""))
    slot = f"replay.{name}"
    ticket: ReplayTicket | None = st.session_state.get(f"{slot}.ticket")
    job = ticket.job if ticket is not None else recall_job(slot)
    seeds = seeds_control(name, slot)
    running = job is not None and not job.is_finished
    if st.button(
        f"Run the {name} replay ({budget} budget)" + (f" at {seeds} seeds" if seeds > 1 else ""),
        key=f"{slot}.run",
        type="primary",
        disabled=running or not allowed,
        icon=":material/play_arrow:",
    ):
        try:
            ticket = admit_replay(
                default_runner(),
                name,
                budget,
                data,
                owner=session_owner(),
                client=client_address(),
                seeds=seeds,
                capped=not may_start_long_jobs(),
            )
        except ValueError as error:  # over the cap, the queue is full, or this student already has a run going
            st.error(str(error))
        else:
            st.session_state[f"{slot}.ticket"], job = ticket, ticket.job
            if job is not None:
                remember_job(slot, job)
    if ticket is not None and ticket.how == "cache":
        st.caption(f"This result: {ticket.source_words()}.")
        render_result(ticket.result, f"{slot}.{ticket.request.key[:12]}", bias=bias)
    elif job is None:
        return
    elif not job.is_finished:
        if ticket is not None and ticket.how == "joined":
            st.info(JOINED_NOTE)
        stop = None if ticket is None else lambda job: leave_replay(ticket)  # a follower's Stop leaves
        follow_job(job, key=slot, on_stop=stop)  # refreshes only the progress view, then the page once at the end
    elif job.status == JobStatus.FAILED:
        st.error(f"The replay failed on the server ({job.error_kind}); the details are in its log.")
    elif job.result is not None:
        if ticket is not None:
            st.caption(f"This result: {ticket.source_words()}.")
        render_result(job.result, f"{slot}.{job.id}", bias=bias)


def render_replays_page() -> None:
    """The page below its introduction: the budget, then one tab per replay."""
    pending = render_lesson_question("replays")  # a lesson's link: its question, above the page
    data = get_data()
    budget, allowed = choose_budget()
    link = apply_page_link("replays", parse_replay_link, REPLAY_PARAMETERS, open_tab)
    # Bound to the URL, so a link (Home's) can open a replay's tab: ?replay.tab=<its title>.
    tabs = st.tabs([replay.title for replay in REPLAYS.values()], key="replay.tab", bind="query-params")
    for tab, name in zip(tabs, REPLAYS):
        with tab:
            render_replay_tab(name, budget, allowed, data, link.values.get("bias"), pending)
