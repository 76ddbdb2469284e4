"""Assignment links in the lab: settings and locks from the URL, the class code, a prediction
before Train, and the "Share these settings" control that writes such a link.

``kdlab.classroom.links`` checks every URL value; this module puts the checked values into the lab's
controls (once per link, so a student can still move what is not locked), remembers the link
for the session (a navigation link drops the URL's parameters; the lab puts them back), and
says what was set, what is locked and why.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import streamlit as st

from kdlab.classroom.classes import ClassInfo, class_for_link, find_class
from kdlab.classroom.lab_settings import LAB_NAMES, lab_setting
from kdlab.classroom.links import LINK_EXTRAS, ParsedLink, parse_class_code, parse_lab_link
from kdlab.classroom.pages import LINK_PAGES
from kdlab.classroom.urls import lab_link_params, link_url
from kdlab.classroom.values import value_text
from kdlab.db.database import StorageError, open_database
from kdlab.serve.rate import CLASSES_PER_ADDRESS
from kdlab.ui.client import client_keys
from kdlab.ui.instructor_key import instructor_key_set
from kdlab.ui.lab_controls import set_control
from kdlab.ui.session import CLASS_KEY

LINK_KEY = "lab.link"  # the session's ParsedLink
QUERY_KEY = "lab.link.query"  # the URL parameters it came from
PREDICTION_ROUND = "lab.predict.round"  # a new round (fresh, empty widgets) after each Train
LINK_NAMES = (*LAB_NAMES, *LINK_EXTRAS)
FEWER, NOT_FEWER = "Yes, fewer errors", "No, as many or more"


def apply_lab_link(train_count: int) -> ParsedLink:
    """The lab's assignment link: read from the URL (a new one is applied to the controls once, with a
    warning per value it ignores) or remembered from earlier in the session (put back in the URL);
    locked settings are set again on every run. Returns an empty link when there is none."""
    params = st.query_params.to_dict()
    query = {name: params[name] for name in LINK_NAMES if name in params}
    link = st.session_state.get(LINK_KEY)
    if query and query != st.session_state.get(QUERY_KEY):
        link = parse_lab_link(query, train_count)
        st.session_state[LINK_KEY], st.session_state[QUERY_KEY] = link, query
        for problem in link.problems:
            st.warning(f"**This link's setting was not used.** {problem}.")
        for name, value in link.values.items():
            set_control(name, value)
        if link.class_code:
            join_class(link.class_code)
    elif link is not None and not query:
        st.query_params.update(st.session_state[QUERY_KEY])  # a navigation link dropped them
    if link is None:
        return ParsedLink()
    for name in link.locked:
        set_control(name, link.values[name])
    return link


def apply_page_link(
    page: str,
    parse: Callable[[Mapping[str, object]], ParsedLink],
    names: Sequence[str],
    set_value: Callable[[str, object], None],
) -> ParsedLink:
    """The explorer's or a replay page's link: a new one (URL ``names``) is checked with ``parse``, its
    problems shown as warnings and its values handed to ``set_value`` once; locked values on every run."""
    params = st.query_params.to_dict()
    query = {name: params[name] for name in (*names, "lock") if name in params}
    if query and query != st.session_state.get(f"{page}.link.query"):
        link = parse(query)
        st.session_state[f"{page}.link"], st.session_state[f"{page}.link.query"] = link, query
        for problem in link.problems:
            st.warning(f"**This link's setting was not used.** {problem}.")
        for name, value in link.values.items():
            set_value(name, value)
    link = st.session_state.get(f"{page}.link") or ParsedLink()
    for name in link.locked:
        set_value(name, link.values[name])
    return link


def join_class(code: str) -> str | None:
    """Count the session's runs for class ``code`` if it is open (created on first use when the server
    has no instructor key, at most ``KDLAB_MAX_CLASSES_PER_CLIENT`` an hour from one client address);
    otherwise say why not. Returns the code in use, or None."""
    try:
        info = _class_for_link(code)
    except StorageError:
        try:  # once more: a replica that just started, a database busy for a moment
            info = _class_for_link(code)
        except StorageError as error:
            st.warning(f"**Class {code} cannot be joined right now.** {error}")
            return None
    except ClassNotCreated as error:
        st.warning(f"**Class {code} was not created.** {error}")
        st.session_state.pop(CLASS_KEY, None)
        return None
    if info is None:
        st.warning(
            f"**Class {code} is not open on this server**, so your runs are not shared with a class board. "
            "Check the code with your teacher."
        )
        st.session_state.pop(CLASS_KEY, None)
        return None
    if not info.is_open:
        st.warning(f"**Class {code} is closed**: your runs are not added to its board any more.")
        st.session_state.pop(CLASS_KEY, None)
        return None
    st.session_state[CLASS_KEY] = info.code
    return info.code


class ClassNotCreated(ValueError):
    """This client address created ``KDLAB_MAX_CLASSES_PER_CLIENT`` classes in the last hour."""


def _class_for_link(code: str) -> ClassInfo | None:
    database = open_database()
    info = class_for_link(database, code, create=False)
    if info is not None or instructor_key_set():
        return info
    address = client_keys()[1]
    wait = CLASSES_PER_ADDRESS.seconds_left(address)
    if wait:
        raise ClassNotCreated(
            f"Your network created {CLASSES_PER_ADDRESS.limit} classes in the last hour, the most one network may: "
            f"check the code with your teacher, or try again in about {max(1, round(wait / 60))} min."
        )
    info = class_for_link(database, code, create=True)
    CLASSES_PER_ADDRESS.record(address)
    return info


def active_class() -> str | None:
    """The class the next run counts for, if it is still open."""
    code = st.session_state.get(CLASS_KEY)
    if code is None:
        return None
    try:
        info = find_class(open_database(), code)
    except StorageError:
        return None
    return info.code if info is not None and info.is_open else None


def render_assignment(link: ParsedLink) -> None:
    """What the link set, what it locks and why, the class; and a way out of the assignment."""
    if not link.sets_controls and not link.class_code:
        return
    parts = []
    if link.locked:
        names = ", ".join(
            value_text(lab_setting(name).name, link.values[name]) for name in LAB_NAMES if name in link.locked
        )
        parts.append(
            f"Locked by your teacher, so that the class compares runs that differ only where the lesson wants: {names}."
        )
    elif link.sets_controls:
        parts.append("It set the controls below; change any of them.")
    code = st.session_state.get(CLASS_KEY)
    if code:
        parts.append(f"Your runs count for class **{code}** and appear on its class board under your nickname.")
    if link.predict:
        parts.append("Make a prediction before you press Train.")
    with st.container(border=True, key="lab.assignment"):
        st.markdown(":material/assignment: **Assignment link.** " + " ".join(parts))
        if st.button(
            "Leave the assignment",
            key="lab.leave",
            icon=":material/logout:",
            help="Unlocks every control and stops counting your runs for the class.",
        ):
            for name in (LINK_KEY, QUERY_KEY, CLASS_KEY):
                st.session_state.pop(name, None)
            for name in LINK_NAMES:
                st.query_params.pop(name, None)
            st.rerun()


def prediction_box(required: bool) -> dict | None:
    """The prediction before Train: fewer errors or not, and by how many. Returns it, or None."""
    round_ = st.session_state.get(PREDICTION_ROUND, 0)
    with st.container(border=True, key="lab.prediction"):
        st.markdown("**Predict first**" + (" (this assignment asks for it)" if required else " (optional)"))
        left, right = st.columns([3, 2])
        fewer = left.radio(
            "Will the distilled student make fewer test errors than the same student trained alone?",
            [FEWER, NOT_FEWER],
            index=None,
            key=f"lab.predict.fewer.{round_}",
            horizontal=True,
        )
        by = right.number_input(
            "How many fewer? (negative: more)",
            -10_000,
            10_000,
            value=None,
            step=1,
            key=f"lab.predict.by.{round_}",
            placeholder="your guess, e.g. 20",
        )
    if fewer is None:
        return None
    return {"fewer": fewer == FEWER, "by": None if by is None else int(by), "made_at": round(time.time(), 1)}


def forget_prediction() -> None:
    """Empty the prediction for the next run (it is filed with the run just started)."""
    st.session_state[PREDICTION_ROUND] = st.session_state.get(PREDICTION_ROUND, 0) + 1


def base_url() -> str:
    """The app's address as the browser sees it, without the page's path (localhost under AppTest)."""
    url = st.context.url or "http://localhost:8501"
    for entry in LINK_PAGES.values():
        if url.rstrip("/").endswith("/" + entry.url_path):
            return url.rstrip("/")[: -len(entry.url_path) - 1]
    return url.rstrip("/")


def share_control(settings: dict[str, object]) -> None:
    """ "Share these settings": a link with the lab's current settings, chosen locks, a class code and
    a prediction first, to paste into a slide. It never carries the student code."""
    with st.popover("Share these settings", icon=":material/share:", key="lab.share"):
        lock = st.multiselect(
            "Lock these settings",
            list(LAB_NAMES),
            default=[],
            key="lab.share.lock",
            format_func=lambda name: lab_setting(name).name,
            help="Students see them but cannot change them.",
        )
        predict = st.checkbox("Ask for a prediction before Train", key="lab.share.predict")
        code = st.text_input(
            "Class code (optional)",
            value=st.session_state.get(CLASS_KEY, ""),
            key="lab.share.class",
            max_chars=16,
            help="Runs made through the link appear on this class's board.",
        )
        code, problem = parse_class_code(code)
        if problem:
            st.error(problem.replace("class=", "The class code ") + ".")
        params = lab_link_params(settings, lock=lock, class_code=code, predict=predict)
        st.code(link_url(base_url(), "lab", params), language=None, wrap_lines=True)
        st.caption("Copy the link with the button at its corner. It opens the lab with these settings for anyone.")
