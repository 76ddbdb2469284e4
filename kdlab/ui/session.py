"""Per-session state: this session's runs and the ids of its background jobs.

Everything lives in ``st.session_state`` under "kdlab." keys, so it survives reruns and page
switches and is never shared between sessions. Jobs themselves live in the process-wide
``kdlab.jobs.default_runner()``; the session keeps only their ids.
"""

from __future__ import annotations

import uuid

import streamlit as st

from kdlab.jobs import Job, default_runner
from kdlab.runs import RunStore


def session_runs() -> RunStore:
    """This session's ``RunStore`` (created on first use)."""
    if "kdlab.runs" not in st.session_state:
        st.session_state["kdlab.runs"] = RunStore()
    return st.session_state["kdlab.runs"]


def session_owner() -> str:
    """A random id for this session, used as the owner of its jobs."""
    if "kdlab.owner" not in st.session_state:
        st.session_state["kdlab.owner"] = uuid.uuid4().hex[:12]
    return st.session_state["kdlab.owner"]


def remember_job(slot: str, job: Job) -> None:
    """Keep ``job``'s id under ``slot`` (e.g. "lab") for later reruns and pages."""
    st.session_state[f"kdlab.job.{slot}"] = job.id


def recall_job(slot: str) -> Job | None:
    """The job remembered under ``slot``, or None."""
    job_id = st.session_state.get(f"kdlab.job.{slot}")
    return default_runner().get(job_id) if job_id else None


def ensure_entrypoint() -> None:
    """Make sure the page runs inside app.py's navigation; call it first on every page.

    Streamlit keeps a legacy mode for apps with a ``pages/`` folder: when the very first request
    after the server starts is a deep link (say ``/dark_knowledge``), it runs that page file
    alone, without app.py's navigation, sidebar and wide layout. Once any session has run
    ``st.navigation`` the mode is off for good; this turns it off and reruns through app.py.
    (A server restart with every open tab on a deep link would otherwise leave them all there.)

    Testing note: AppTest of app.py turns the legacy mode back on before every run, so each
    page run goes through this rerun, which drops button clicks; click buttons in an AppTest
    of the page file alone, where the mode is off.
    """
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
