"""The lab's run: pressing Train, following the live run (one's own, or an identical one another
student started), and the result, also after a reload.

Pressing Train asks ``kdlab.tasks.request_distillation``, which answers in one of three ways:
the same run trained earlier on this server (copied into the student's runs at once, said
so, with a button to train it again live), an identical run in progress (followed live; the
student gets their own copy of the record), or a new background job. The session keeps the
answer (a ``LabTicket``); after a reload the lab finds the student's live run again, or shows
their latest stored run.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from kdlab.distill import DistillConfig
from kdlab.jobs import Job, JobStatus, default_runner
from kdlab.runs import RunRecord
from kdlab.store import StorageError
from kdlab.store.result_cache import LIVE_RUNS
from kdlab.tasks import LabOutcome, LabTicket, request_distillation, stop_lab_run
from kdlab.teachers import Teacher
from kdlab.ui.progress import follow_job
from kdlab.ui.results import render_run_result
from kdlab.ui.session import remember_job, session_owner, unsaved_runs
from kdlab.ui.widgets import page_link

TICKET_KEY = "lab.ticket"
REQUEST_KEY = "lab.request"  # the DistillConfig of the ticket, for "Train it again live"
LEFT_KEY = "lab.left"  # run ids this session stopped following
CACHED_NOTE = (
    "This exact run was trained earlier on this server (same data, teacher, settings and seed), so here is "
    "its result at once."
)
JOINED_NOTE = (
    "Another student started exactly this run (same data, teacher, settings and seed) a moment ago, so you "
    "are following it live instead of waiting for a copy; the result goes into your runs too."
)


def start_run(config: DistillConfig, data, store, *, teacher: Teacher | None, fresh: bool = False) -> bool:
    """Press Train (``fresh``: "Train it again live", never from the cache). Shows an error and
    returns False when the run cannot start."""
    try:
        ticket = request_distillation(default_runner(), config, data, store, owner=session_owner(), teacher=teacher,
                                      use_cache=not fresh)  # fmt: skip
    except (ValueError, StorageError) as error:  # settings that do not fit, a full queue, a busy database
        st.error(f"**The run cannot start.** {error}")
        return False
    st.session_state[TICKET_KEY], st.session_state[REQUEST_KEY] = ticket, config
    st.session_state["lab.job_config"] = config.as_dict()  # what the page's live view draws against
    if ticket.job is not None:
        remember_job("lab", ticket.job)
    return True


def current_ticket(store) -> LabTicket | None:
    """This session's lab run; after a reload, the live run this student follows, if any."""
    ticket = st.session_state.get(TICKET_KEY)
    if ticket is None:
        found = LIVE_RUNS.find(getattr(store, "student_key", None) or session_owner())
        if found is not None:
            job, follower = found
            ticket = st.session_state[TICKET_KEY] = LabTicket(follower.source, follower.run_id, follower.number, job)
            remember_job("lab", job)
    return ticket


def is_busy(ticket: LabTicket | None) -> bool:
    """True while the session's lab run trains (one at a time per session)."""
    return ticket is not None and ticket.job is not None and not ticket.job.is_finished and not _left(ticket)


def _left(ticket: LabTicket) -> bool:
    return ticket.run_id in st.session_state.get(LEFT_KEY, ())


def _stop(run_id: str) -> Callable[[Job], object]:
    def stop(job: Job) -> None:
        if stop_lab_run(job, run_id) == "left":
            st.session_state[LEFT_KEY] = {*st.session_state.get(LEFT_KEY, ()), run_id}

    return stop


def render_lab_run(ticket: LabTicket | None, store, data, *, busy: bool, teacher: Teacher | None,
                   live_body: Callable[[Job], None], interval: float) -> None:  # fmt: skip
    """The run below the lab's controls: live, or its result (the latest stored one without a ticket).

    ``busy`` is ``is_busy(ticket)`` as the page saw it above (Train disabled): a run that ends
    while the page draws is then drawn live once more, and its end reruns the whole page.
    """
    if ticket is None:
        record = _latest(store)
        if record is not None:
            st.divider()
            _render_record(record)
        return
    st.divider()
    if ticket.how == "cache":
        st.info(CACHED_NOTE)
        if st.button("Train it again live", key="lab.again", icon=":material/replay:",
                     help="Trains the same run now, live, instead of showing the earlier result."):  # fmt: skip
            if start_run(st.session_state[REQUEST_KEY], data, store, teacher=teacher, fresh=True):
                st.rerun()
        _render_record(ticket.record)
        return
    job = ticket.job
    if _left(ticket):
        st.info(f"You left run {ticket.number}; it goes on for the other students following it. Press Train again.")
    elif busy or not job.is_finished:
        st.subheader(f"Run {ticket.number}: {job.name.partition(': ')[2]}")
        if ticket.how == "joined":
            st.info(JOINED_NOTE)
        follow_job(job, live_body, key="lab.progress", interval=interval, on_stop=_stop(ticket.run_id))
    elif job.status == JobStatus.FAILED:
        # The full error stays in the server's log: a message can name server paths.
        st.error(f"The run failed on the server ({(job.error or 'error').split(':')[0]}). Press Train to try again.")
    elif not isinstance(job.result, LabOutcome) or ticket.run_id not in job.result.records:
        st.info("The run was cancelled before it started.")
    else:
        record = job.result.records[ticket.run_id]
        if ticket.run_id in job.result.unsaved:
            st.error(f"**This run is not saved.** {job.result.unsaved[ticket.run_id]} It shows in this tab only.")
            memory = unsaved_runs()
            if memory.get(record.run_id) is None and memory is not store:
                memory.add(record)
        _render_record(record)


def _latest(store) -> RunRecord | None:
    try:
        return store.latest()
    except StorageError as error:
        st.error(f"**Your earlier runs cannot be shown right now.** {error}")
        return None


def _render_record(record: RunRecord) -> None:
    st.subheader(f"Result of run {record.number}: {record.config['student']} from {record.config['teacher']}")
    render_run_result(record, key="lab.result")
    page_link("pages/runs.py", "Compare all your runs and download them", ":material/table_chart:")
