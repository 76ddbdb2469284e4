"""Instructor controls on the class board, behind ``KDLAB_INSTRUCTOR_KEY``.

With the variable set on the server and the instructor signed in (``kdlab.ui.instructor_key``: the
board's password field, or ``?key=`` once), the board shows the instructor's panel: open and close
class codes, hide the results until the reveal, clear the board, export the class's runs as CSV,
and the server's state (queue, result cache, teachers, database). Without the variable, or
without the key, none of this is drawn: the panel's buttons exist only in a session that passed
the check, so no request can reach them otherwise.
"""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.board import board_csv
from kdlab.classroom.classes import (
    class_runs,
    clear_class,
    database_counts,
    find_class,
    list_classes,
    open_class,
    set_class,
)
from kdlab.db.database import StorageError, open_database
from kdlab.serve.jobs import default_runner
from kdlab.ui.instructor_key import instructor_key_set, is_instructor, sign_in


def may_start_long_jobs() -> bool:
    """Full-budget replays (an hour of a trainer each): anyone on a server without an instructor
    key (a laptop at home), only the instructor (``?key=``) on a server with one (a classroom)."""
    return not instructor_key_set() or is_instructor()


def may_see_answers() -> bool:
    """A lesson's answer key (what to notice, the teacher's notes): by the same rule as the long jobs, anyone on a
    server without an instructor key, only the signed-in instructor on a server with one."""
    return not instructor_key_set() or is_instructor()


def _server_state() -> None:
    runner = default_runner()
    jobs = [job for job in runner.jobs() if not job.is_finished]
    st.markdown(
        f"**Queue:** {runner.running_count()} running, {runner.queued_count()} waiting, at most "
        f"{runner.max_concurrent} at once."
    )
    if jobs:
        st.dataframe(
            [{"job": job.name, "status": str(job.status), "progress": f"{job.progress:.0%}"} for job in jobs],
            hide_index=True,
        )
    from kdlab.ui.resources import load_data
    from kdlab.ui.sidebar import cached_teacher_names

    source = load_data().source
    teachers = cached_teacher_names(source.name, source.train_size)
    st.markdown(f"**Teachers cached for {source.label}:** {', '.join(teachers) or 'none yet'}.")
    database = open_database()
    counts = database_counts(database)
    # The dialect only: the URL can hold a password, the file path a home folder.
    st.markdown(
        f"**Database:** {database.engine.dialect.name}, schema version {database.version()}; "
        + ", ".join(f"{count:,} {name}" for name, count in counts.items())
        + ". The result cache serves a run trained earlier at once; identical live runs are trained once."
    )


def _class_actions(code: str) -> None:
    database = open_database()
    info = find_class(database, code)
    if info is None:
        st.caption(f"Class {code} does not exist yet: open it above.")
        return
    state = ("open" if info.is_open else "closed") + (", results hidden" if info.results_hidden else ", results shown")
    st.markdown(f"**Class {info.code}** ({info.title}): {state}.")
    columns = st.columns(4)
    if columns[0].button(
        "Close the class" if info.is_open else "Reopen the class",
        key="board.instructor.open",
        icon=":material/lock:" if info.is_open else ":material/lock_open:",
        help="A closed class adds no new runs to its board.",
    ):
        set_class(database, code, is_open=not info.is_open)
        st.rerun()
    if columns[1].button(
        "Reveal the results" if info.results_hidden else "Hide the results",
        key="board.instructor.hide",
        icon=":material/visibility:",
        help="Hidden: the board shows how many ran and what they predicted, not the outcomes.",
    ):
        set_class(database, code, results_hidden=not info.results_hidden)
        st.rerun()
    columns[2].download_button(
        "Export the runs (CSV)",
        board_csv(class_runs(database, code)),
        file_name=f"class-{code}-runs.csv",
        mime="text/csv",
        key="board.instructor.csv",
        icon=":material/download:",
        on_click="ignore",
    )
    with columns[3].popover("Clear the board", icon=":material/delete_sweep:", key="board.instructor.clear_menu"):
        st.caption("Takes every run off this class's board; the students keep their runs. Export them first.")
        if st.button("Clear it now", key="board.instructor.clear", type="primary"):
            cleared = clear_class(database, code)
            st.session_state["board.cleared"] = cleared
            st.rerun()
    if "board.cleared" in st.session_state:
        st.success(f"Cleared: {st.session_state.pop('board.cleared'):,} runs taken off the board.")


def render_sign_in() -> None:
    """A collapsed password field for the instructor's key (on a server with one)."""
    with st.expander("Instructor sign-in", icon=":material/key:"):
        with st.form("board.sign_in", border=False):
            typed = st.text_input("Instructor key", type="password", max_chars=200, key="board.sign_in.key")
            if st.form_submit_button("Sign in", key="board.sign_in.submit") and sign_in(typed):
                st.rerun()


def render_instructor(code: str | None) -> None:
    """The instructor's panel (call it only when ``is_instructor()``)."""
    with st.expander("Instructor", expanded=True, icon=":material/admin_panel_settings:"):
        try:
            with st.form("board.instructor.new", border=False):
                left, middle, right = st.columns([1, 2, 1], vertical_alignment="bottom")
                new_code = left.text_input(
                    "Class code", max_chars=16, placeholder="PHYS-7", key="board.instructor.code"
                )
                title = middle.text_input(
                    "Title", max_chars=200, placeholder="Physics, Tuesday 2nd period", key="board.instructor.title"
                )
                if right.form_submit_button("Open this class", icon=":material/add:", key="board.instructor.submit"):
                    try:
                        info = open_class(open_database(), new_code, title)
                    except ValueError as error:
                        st.error(str(error) + ".")
                    else:
                        st.session_state["board.class"] = info.code
                        st.rerun()
            classes = list_classes(open_database())
            if classes:
                st.dataframe(
                    [
                        {
                            "code": info.code,
                            "title": info.title,
                            "open": info.is_open,
                            "results hidden": info.results_hidden,
                            "runs": runs,
                        }
                        for info, runs in classes
                    ],
                    hide_index=True,
                    key="board.instructor.classes",
                )
            if code:
                _class_actions(code)
            st.divider()
            _server_state()
        except StorageError as error:
            st.error(f"**The instructor controls need the database.** {error}")
