"""Who the student is, where their runs live, and the ids of this session's background jobs.

A student is a random token carried in the URL (``?s=...``) and kept in ``st.session_state``:
``student_token()`` finds the student it names in the database and writes the token back into
the URL on every run of every page (a navigation link drops it). So a reload, a second tab with
the same URL and a server restart all show the same runs, and nobody without the token sees
them. An address naming another student than the session's own (a classmate's posted link) is not followed
silently: the page asks first (``offer_switch``), so nobody's runs are filed under a classmate's code by a
click. A session without a student yet takes the address's (a bookmark, a reload). A student is made on their first action that needs one (``student_runs_for_action``: Train,
which also files the prediction and the class), not on a visit: a visit that does nothing writes
nothing, and new students are rate-limited per client. ``session_runs()`` is the student's runs
in the database; while the database is out of order it is this session's memory, with a message.

Jobs live in the process-wide ``kdlab.serve.jobs.default_runner()``; the session keeps their ids, and holds
the jobs themselves so that a finished one stays while the session does (``JobRunner.hold_finished``).
"""

from __future__ import annotations

import streamlit as st

from kdlab.db.database import StorageError, open_database
from kdlab.db.runs import DatabaseRunStore
from kdlab.db.students import create_student, find_student, is_valid_token, new_token
from kdlab.i18n import N_, _
from kdlab.runs.store import MemoryRunStore, RunStore
from kdlab.serve.clients import visitor_owner
from kdlab.serve.jobs import default_runner
from kdlab.serve.rate import admit_new_student
from kdlab.serve.runner import Job
from kdlab.settings import SettingsError, current_settings
from kdlab.ui.client import client_keys
from kdlab.ui.instructor_key import take_key_from_url
from kdlab.ui.language import choose_language

TOKEN_KEY = "kdlab.token"
OFFERED_KEY = "kdlab.token.offered"  # another student's code from the URL, until the student answers
STUDENT_KEY = "kdlab.student"  # a kdlab.db.students.Student, or None while the database is out of order
PENDING_KEY = "kdlab.token.pending"  # a token made while the database was out of order, stored later
MEMORY_KEY = "kdlab.runs"  # this session's runs that are not in the database
CLASS_KEY = "kdlab.class"  # the class code the session's runs count for (set by a lab link; the board reads it)
# English, marked for translation: shown with _().
NOT_RECOGNISED = N_(
    "That link's student code was not recognised. You get a new one when you first press Train: bookmark the page "
    "then to come back to your runs."
)
TOO_MANY_STUDENTS = N_("Too many new students from this address just now: try again in about {minutes} min.")
OTHER_STUDENT = N_(
    "**This link carries another student code than yours** (one ending in {ending}; yours ends in {own}). Your "
    "runs stay under your own code. Switch only if that code is yours: a classmate's link would file your runs "
    "under their name."
)


def student_token() -> str | None:
    """This student's token: the session's, or the URL's ``?s=`` if it names a student; None for a visitor
    who has not done anything that needs a student yet (``student_runs_for_action`` makes one). Call it on
    every run of every page: it puts the token back into the URL (a navigation link drops it) and takes an
    unrecognised one out. It never writes to the database."""
    from_url = st.query_params.get("s")
    own = st.session_state.get(TOKEN_KEY)
    if from_url is not None and from_url != own:
        if own is None:
            _sign_in(from_url, create=False, report=False)
        elif is_valid_token(from_url):
            st.session_state[OFFERED_KEY] = from_url  # offer_switch asks; until then the session keeps its own
        else:
            st.warning(_(NOT_RECOGNISED))
    token = st.session_state.get(TOKEN_KEY)
    if token is None:
        st.query_params.pop("s", None)
    elif st.query_params.get("s") != token:
        st.query_params["s"] = token
    return token


def offer_switch() -> None:
    """When the URL carried another student's code than the session's own: say so, and switch only when the
    student presses the button (call once per page run, before the page: ``ensure_entrypoint``)."""
    student_token()
    offered, own = st.session_state.get(OFFERED_KEY), st.session_state.get(TOKEN_KEY)
    if offered is None or own is None or offered == own:
        st.session_state.pop(OFFERED_KEY, None)
        return
    with st.container(border=True, key="kdlab.switch"):
        st.warning(_(OTHER_STUDENT).format(ending=offered[-4:], own=own[-4:]))
        keep, switch = st.columns(2)
        if keep.button(_("Keep my code"), key="kdlab.switch.keep", icon=":material/person:"):
            st.session_state.pop(OFFERED_KEY, None)
            st.rerun()
        if switch.button(_("Switch to that code"), key="kdlab.switch.take", icon=":material/swap_horiz:"):
            st.session_state.pop(OFFERED_KEY, None)
            _sign_in(offered, create=False, report=True)
            st.query_params["s"] = st.session_state[TOKEN_KEY]  # the address follows, or it would be offered back
            st.rerun()


def _sign_in(candidate: str | None, *, create: bool, report: bool) -> None:
    """Set the session's token and student: the one ``candidate`` names (a lookup), else, with ``create``, a
    new student (or the token made while the database was out of order). A candidate that names nobody
    leaves the session as it was, with a warning."""
    pending = st.session_state.get(PENDING_KEY)
    if candidate is not None and not is_valid_token(candidate):  # every URL value is checked first
        st.warning(_(NOT_RECOGNISED))
        candidate = None
    try:
        database = open_database()
        student = find_student(database, candidate) if candidate else None
        if student is None:
            adopt = candidate if candidate is not None and candidate == pending else None
            if candidate is not None and adopt is None:
                st.warning(_(NOT_RECOGNISED))
            if adopt is None and not create:
                return
            student, candidate = create_student(database, adopt)
        st.session_state.pop(PENDING_KEY, None)
    except StorageError as error:
        student = None
        if candidate is None:
            if not create:
                return
            candidate = st.session_state[PENDING_KEY] = new_token()
        if report:
            st.error(
                _(
                    "**Your runs cannot be saved right now.** {error} The runs you make now still show in this tab, "
                    "marked as not saved."
                ).format(error=error)
            )
    st.session_state[TOKEN_KEY] = candidate
    st.session_state[STUDENT_KEY] = student


def unsaved_runs() -> MemoryRunStore:
    """This session's runs that are not in the database (made while it was out of order)."""
    if MEMORY_KEY not in st.session_state:
        st.session_state[MEMORY_KEY] = MemoryRunStore(student_key=session_owner())
    return st.session_state[MEMORY_KEY]


def session_runs() -> RunStore:
    """This student's runs in the database; ``unsaved_runs()`` for a visitor without a student yet, and (with
    a message) while the database is out of order. Reading them creates nobody."""
    token = student_token()
    if token is not None and st.session_state.get(STUDENT_KEY) is None:
        _sign_in(token, create=False, report=True)  # the database was out of order: try it again
    return _store()


def student_runs_for_action() -> RunStore | None:
    """The runs of this session's student, made now if there is none yet: call it for an action that needs a
    student (Train). New students are limited per session and per client address; over the limit this shows
    why and returns None."""
    if student_token() is None:
        wait = admit_new_student(*client_keys())
        if wait:
            st.error(_(TOO_MANY_STUDENTS).format(minutes=max(1, round(wait / 60))))
            return None
        _sign_in(None, create=True, report=True)
        student_token()  # the new token goes into the URL
    return session_runs()


def _store() -> RunStore:
    student = st.session_state.get(STUDENT_KEY)
    if student is None:
        return unsaved_runs()
    return DatabaseRunStore(open_database(), student.id)


def session_owner() -> str:
    """Who owns this session's jobs: the student (the same across tabs and reloads), else a visitor id of this
    session (``kdlab.serve.clients.visitor_owner``: every tab is a new one, so the runner limits them per
    client address)."""
    student_token()  # the URL's student, also on a page that shows no runs (the explorer's teacher jobs)
    student = st.session_state.get(STUDENT_KEY)
    if student is not None:
        return student.key
    if "kdlab.owner" not in st.session_state:
        st.session_state["kdlab.owner"] = visitor_owner()
    return st.session_state["kdlab.owner"]


def remember_job(slot: str, job: Job) -> None:
    """Keep ``job``'s id under ``slot`` (e.g. "lab") for later reruns and pages, and the job itself: the
    runner holds a finished job only a short while, then it lives as long as a session that shows it."""
    st.session_state[f"kdlab.job.{slot}"] = job.id
    st.session_state[f"kdlab.job.{slot}.held"] = job


def recall_job(slot: str) -> Job | None:
    """The job remembered under ``slot``, or None."""
    job_id = st.session_state.get(f"kdlab.job.{slot}")
    return default_runner().get(job_id) if job_id else None


def require_valid_settings() -> None:
    """Show a bad ``KDLAB_*`` variable with ``st.error`` and stop the page: no page works until it is fixed."""
    try:
        current_settings()
    except SettingsError as error:
        st.error(_("**This server's settings need fixing.** {error}").format(error=error))
        st.stop()


def ensure_entrypoint() -> None:
    """Set the run's language (``kdlab.ui.language.choose_language``), check the settings (``require_valid_settings``), take the instructor's ``?key=`` out of the URL, ask before
    following another student's ``?s=`` (``offer_switch``), and make sure the page runs inside app.py's
    navigation; call it first on every page.

    Streamlit keeps a legacy mode for apps with a ``pages/`` folder: when the very first request
    after the server starts is a deep link (say ``/dark_knowledge``), it runs that page file
    alone, without app.py's navigation, sidebar and wide layout. Once any session has run
    ``st.navigation`` the mode is off for good; this turns it off and reruns through app.py.
    (A server restart with every open tab on a deep link would otherwise leave them all there.)

    Testing note: AppTest of app.py turns the legacy mode back on before every run, so each
    page run goes through this rerun, which drops button clicks; click buttons in an AppTest
    of the page file alone, where the mode is off.
    """
    choose_language()  # every run of every page sets its language, also a page run alone
    require_valid_settings()
    take_key_from_url()  # on every page: a projector shows the address bar
    offer_switch()
    try:
        from streamlit.runtime.pages_manager import PagesManager
    except ImportError:  # a Streamlit without the legacy mode
        return
    if getattr(PagesManager, "uses_pages_directory", False):
        PagesManager.uses_pages_directory = False
        st.rerun()
