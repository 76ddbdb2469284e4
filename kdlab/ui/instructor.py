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
from kdlab.classroom.links import escape_markdown
from kdlab.classroom.predictions import class_predictions, predictions_csv
from kdlab.db.database import StorageError, open_database
from kdlab.i18n import _, ngettext, number, percent
from kdlab.serve.jobs import default_runner
from kdlab.ui.instructor_key import instructor_key_set, is_instructor, sign_in


def may_start_long_jobs() -> bool:
    """Full-budget replays (an hour of a trainer each): anyone on a server without an instructor
    key (a laptop at home), only the instructor (``?key=``) on a server with one (a classroom)."""
    return not instructor_key_set() or is_instructor()


def _server_state() -> None:
    runner = default_runner()
    jobs = [job for job in runner.jobs() if not job.is_finished]
    st.markdown(
        _("**Queue:** {running} running, {waiting} waiting, at most {most} at once.").format(
            running=number(runner.running_count()),
            waiting=number(runner.queued_count()),
            most=number(runner.max_concurrent),
        )
    )
    if jobs:
        st.dataframe(
            [{"job": job.name, "status": str(job.status), "progress": percent(job.progress)} for job in jobs],
            hide_index=True,
            column_config={"job": _("job"), "status": _("status"), "progress": _("progress")},
        )
    from kdlab.ui.resources import load_data
    from kdlab.ui.sidebar import cached_teacher_names

    source = load_data().source
    teachers = cached_teacher_names(source.name, source.train_size)
    st.markdown(
        _("**Teachers cached for {data}:** {teachers}.").format(
            data=source.label, teachers=", ".join(teachers) or _("none yet")
        )
    )
    database = open_database()
    counts = database_counts(database)
    # The dialect only: the URL can hold a password, the file path a home folder.
    st.markdown(
        _("**Database:** {dialect}, schema version {version}; {counts}.").format(
            dialect=database.engine.dialect.name,
            version=database.version(),
            counts=", ".join(f"{name}: {number(count)}" for name, count in counts.items()),
        )
        + " "
        + _("The result cache serves a run trained earlier at once; identical live runs are trained once.")
    )


def _class_actions(code: str) -> None:
    database = open_database()
    info = find_class(database, code)
    if info is None:
        st.caption(_("Class {code} does not exist yet: open it above.").format(code=code))
        return
    states = {
        (True, True): _("**Class {code}** ({title}): open, results hidden."),
        (True, False): _("**Class {code}** ({title}): open, results shown."),
        (False, True): _("**Class {code}** ({title}): closed, results hidden."),
        (False, False): _("**Class {code}** ({title}): closed, results shown."),
    }
    st.markdown(states[(info.is_open, info.results_hidden)].format(code=info.code, title=escape_markdown(info.title)))
    columns = st.columns(5)
    if columns[0].button(
        _("Close the class") if info.is_open else _("Reopen the class"),
        key="board.instructor.open",
        icon=":material/lock:" if info.is_open else ":material/lock_open:",
        help=_("A closed class adds no new runs to its board."),
    ):
        set_class(database, code, is_open=not info.is_open)
        st.rerun()
    if columns[1].button(
        _("Reveal the results") if info.results_hidden else _("Hide the results"),
        key="board.instructor.hide",
        icon=":material/visibility:",
        help=_("Hidden: the board shows how many ran and what they predicted, not the outcomes."),
    ):
        set_class(database, code, results_hidden=not info.results_hidden)
        st.rerun()
    columns[2].download_button(
        _("Export the runs (CSV)"),
        board_csv(class_runs(database, code)),
        file_name=f"class-{code}-runs.csv",
        mime="text/csv",
        key="board.instructor.csv",
        icon=":material/download:",
        on_click="ignore",
    )
    columns[3].download_button(
        _("Export the predictions (CSV)"),
        predictions_csv(class_predictions(database, code)),
        file_name=f"class-{code}-predictions.csv",
        mime="text/csv",
        key="board.instructor.predictions_csv",
        icon=":material/download:",
        on_click="ignore",
        help=_("Each student's answer to each lesson's question: lesson, nickname, answer, time."),
    )
    with columns[4].popover(_("Clear the board"), icon=":material/delete_sweep:", key="board.instructor.clear_menu"):
        st.caption(_("Takes every run off this class's board; the students keep their runs. Export them first."))
        if st.button(_("Clear it now"), key="board.instructor.clear", type="primary"):
            cleared = clear_class(database, code)
            st.session_state["board.cleared"] = cleared
            st.rerun()
    if "board.cleared" in st.session_state:
        cleared = st.session_state.pop("board.cleared")
        st.success(
            ngettext(
                "Cleared: {count} run taken off the board.", "Cleared: {count} runs taken off the board.", cleared
            ).format(count=number(cleared))
        )


def render_sign_in() -> None:
    """A collapsed password field for the instructor's key (on a server with one)."""
    with st.expander(_("Instructor sign-in"), icon=":material/key:"):
        with st.form("board.sign_in", border=False):
            typed = st.text_input(_("Instructor key"), type="password", max_chars=200, key="board.sign_in.key")
            if st.form_submit_button(_("Sign in"), key="board.sign_in.submit") and sign_in(typed):
                st.rerun()


def render_instructor(code: str | None) -> None:
    """The instructor's panel (call it only when ``is_instructor()``)."""
    with st.expander(_("Instructor"), expanded=True, icon=":material/admin_panel_settings:"):
        try:
            with st.form("board.instructor.new", border=False):
                left, middle, right = st.columns([1, 2, 1], vertical_alignment="bottom")
                new_code = left.text_input(
                    _("Class code"),
                    max_chars=16,
                    placeholder=_("PHYS-7"),  # Translators: an example class code (letters, digits, dashes)
                    key="board.instructor.code",
                )
                title = middle.text_input(
                    _("Title"),
                    max_chars=200,
                    placeholder=_("Physics, Tuesday 2nd period"),
                    key="board.instructor.title",
                )
                if right.form_submit_button(_("Open this class"), icon=":material/add:", key="board.instructor.submit"):
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
                    column_config={
                        "code": _("code"),
                        "title": _("title"),
                        "open": _("open"),
                        "results hidden": _("results hidden"),
                        "runs": _("runs"),
                    },
                )
            if code:
                _class_actions(code)
            st.divider()
            _server_state()
        except StorageError as error:
            st.error(_("**The instructor controls need the database.** {error}").format(error=error))
