"""The Paper replays page: a budget, and per replay a tab with a Run button, the job's progress and the result
beside the paper's numbers."""

from __future__ import annotations

from contextlib import nullcontext

import streamlit as st

from kdlab.classroom.links import REPLAY_PARAMETERS, parse_replay_link
from kdlab.experiments.replays import BUDGET_NOTES, BUDGETS, REPLAYS
from kdlab.i18n import N_, _
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

BUDGET_LABELS = {"quick": N_("Quick (classroom)"), "full": N_("Full (long)")}
REPLAY_SEEDS = 3  # on the shared server: three times the replay's minutes at most
JOINED_NOTE = N_(
    "Another student started exactly this replay (same budget, seeds and data) a moment ago, so you are following "
    "it instead of queueing a copy: the same progress, the same result."
)


def open_tab(name: str, value) -> None:
    """A lesson's ``?replay=omit-3`` opens that replay's tab (``kdlab.classroom.links`` checks it); the bias
    (``?bias=2``) goes to the renderer."""
    if name == "replay":
        st.session_state["replay.tab"] = _(REPLAYS[value].title)


def choose_budget() -> tuple[str, bool]:
    """The budget radio; returns the budget and whether this session may start it."""
    labels = {name: _(BUDGET_LABELS[name]) for name in BUDGETS}  # translated now: format_func may run later
    budget = st.radio(
        _("Budget"),
        list(BUDGETS),
        horizontal=True,
        key="replay.budget",
        format_func=labels.get,
        help=_("Quick runs in minutes on a laptop CPU; full is closer to the paper and takes much longer."),
    )
    st.caption(
        _("{note} The teacher is trained once per budget and cached for everyone.").format(note=_(BUDGET_NOTES[budget]))
    )
    allowed = budget != "full" or may_start_long_jobs()  # a classroom's trainers are for everyone's lab runs
    if not allowed:
        st.info(
            _(
                "On this classroom server only the instructor starts full-budget replays: each keeps a trainer busy "
                "for many minutes. The quick budget shows the same effects in minutes."
            ),
            icon=":material/lock:",
        )
    return budget, allowed


def seeds_control(name: str, slot: str) -> int:
    """The Seeds slider of a replay that compares settings (1 elsewhere): each seed is the whole replay again."""
    if REPLAYS[name].over_seeds is None:
        return 1
    seeds = st.slider(
        _("Seeds: repeat the replay"),
        1,
        REPLAY_SEEDS,
        min(REPLAYS[name].seeds, REPLAY_SEEDS),
        key=f"{slot}.seeds",
        help=_(
            "Runs the whole replay at seeds 0, 1, ...: each number with its spread, and which differences are "
            "bigger than what changing the seed does. Each seed takes as long as the replay."
        ),
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
    folded = _("What this replay shows: read it after you save your prediction")
    with st.expander(folded) if pending else nullcontext():
        st.markdown(replay.shown_intro())
        note = replay.budget_notes.get(budget)
        st.caption(replay.shown_paper_line() + ("" if note is None else f" {_(note)}"))
    slot = f"replay.{name}"
    ticket: ReplayTicket | None = st.session_state.get(f"{slot}.ticket")
    job = ticket.job if ticket is not None else recall_job(slot)
    seeds = seeds_control(name, slot)
    running = job is not None and not job.is_finished
    if st.button(
        run_label(name, budget, seeds),
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
        st.caption(_("This result: {source}.").format(source=ticket.source_words()))
        render_result(ticket.result, f"{slot}.{ticket.request.key[:12]}", bias=bias)
    elif job is None:
        return
    elif not job.is_finished:
        if ticket is not None and ticket.how == "joined":
            st.info(_(JOINED_NOTE))
        stop = None if ticket is None else lambda job: leave_replay(ticket)  # a follower's Stop leaves
        follow_job(job, key=slot, on_stop=stop)  # refreshes only the progress view, then the page once at the end
    elif job.status == JobStatus.FAILED:
        st.error(_("The replay failed on the server ({kind}); the details are in its log.").format(kind=job.error_kind))
    elif job.result is not None:
        if ticket is not None:
            st.caption(_("This result: {source}.").format(source=ticket.source_words()))
        render_result(job.result, f"{slot}.{job.id}", bias=bias)


def run_label(name: str, budget: str, seeds: int) -> str:
    """The Run button's label: the replay's and the budget's names stay as the command line writes them."""
    if seeds > 1:
        return _("Run the {name} replay ({budget} budget) at {seeds} seeds").format(
            name=name, budget=budget, seeds=seeds
        )
    return _("Run the {name} replay ({budget} budget)").format(name=name, budget=budget)


def open_linked_tab() -> None:
    """A link names a tab by its English title (Home's ``?replay.tab=``, a lesson's session state): open the tab of
    that replay in the current language. The tabs are bound to the URL, so only the widget's value is set (Streamlit
    refuses a bound query parameter written directly); a title in a language left behind is dropped."""
    titles = {replay.title: _(replay.title) for replay in REPLAYS.values()}
    shown = set(titles.values())
    current = st.session_state.get("replay.tab")
    linked = st.query_params.get("replay.tab")
    wanted = next(
        (titles.get(value, value) for value in (current, linked) if value in titles or value in shown),
        None,
    )
    if wanted is not None and wanted != current:
        st.session_state["replay.tab"] = wanted
    elif wanted is None and current is not None:
        del st.session_state["replay.tab"]


def render_replays_page() -> None:
    """The page below its introduction: the budget, then one tab per replay."""
    pending = render_lesson_question("replays")  # a lesson's link: its question, above the page
    data = get_data()
    budget, allowed = choose_budget()
    link = apply_page_link("replays", parse_replay_link, REPLAY_PARAMETERS, open_tab)
    # Bound to the URL, so a link (Home's) can open a replay's tab: ?replay.tab=<its title>.
    open_linked_tab()
    tabs = st.tabs([_(replay.title) for replay in REPLAYS.values()], key="replay.tab", bind="query-params")
    for tab, name in zip(tabs, REPLAYS):
        with tab:
            render_replay_tab(name, budget, allowed, data, link.values.get("bias"), pending)
