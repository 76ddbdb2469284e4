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
from kdlab.classroom.links import LINK_EXTRAS, ParsedLink, parse_class_code, parse_lab_link, url_value
from kdlab.classroom.urls import lab_link_params, link_url
from kdlab.classroom.values import value_text
from kdlab.db.database import StorageError, open_database
from kdlab.i18n import N_, _, number
from kdlab.serve.rate import CLASSES_PER_ADDRESS
from kdlab.ui.client import client_keys
from kdlab.ui.instructor_key import instructor_key_set
from kdlab.ui.lab_controls import set_control
from kdlab.ui.session import CLASS_KEY
from kdlab.ui.sharing import base_url, shared_link

LINK_KEY = "lab.link"  # the session's ParsedLink
QUERY_KEY = "lab.link.query"  # the URL parameters it came from
PREDICTION_ROUND = "lab.predict.round"  # a new round (fresh, empty widgets) after each Train
LINK_NAMES = (*LAB_NAMES, *LINK_EXTRAS)
JOINS_LATER = N_(
    "Keep going: once your teacher opens it, your next run counts for it, with nothing to reload "
    "(if it never does, check the code with your teacher)."
)
FEWER, NOT_FEWER = N_("Yes, fewer errors"), N_("No, as many or more")


def page_query(names: Sequence[str]) -> dict[str, str]:
    """The URL's values of ``names``, each cut short (``kdlab.classroom.links.url_value``): what a session keeps
    of a link, and what its parser reads; a cut value is still too long, and refused with a message."""
    params = st.query_params.to_dict()
    return {name: url_value(params, name) for name in names if name in params}


def apply_lab_link(train_count: int) -> ParsedLink:
    """The lab's assignment link: read from the URL (a new one is applied to the controls once, with a
    warning per value it ignores) or remembered from earlier in the session (put back in the URL);
    locked settings are set again on every run; a class it names that is not open yet is joined on the first
    run after it opens. Returns an empty link when there is none."""
    query = page_query(LINK_NAMES)
    link = st.session_state.get(LINK_KEY)
    fresh = bool(query) and query != st.session_state.get(QUERY_KEY)
    if fresh:
        link = parse_lab_link(query, train_count)
        st.session_state[LINK_KEY], st.session_state[QUERY_KEY] = link, query
        for problem in link.problems:
            st.warning(_("**This link's setting was not used.** {problem}.").format(problem=problem))
        for name, value in link.values.items():
            set_control(name, value)
        if link.class_code:
            join_class(link.class_code)
    elif link is not None and not query:
        st.query_params.update(st.session_state[QUERY_KEY])  # a navigation link dropped them
    if link is None:
        return ParsedLink()
    if not fresh and link.class_code and st.session_state.get(CLASS_KEY) != link.class_code:
        wait_for_class(link.class_code)
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
    query = page_query((*names, "lock"))
    if query and query != st.session_state.get(f"{page}.link.query"):
        link = parse(query)
        st.session_state[f"{page}.link"], st.session_state[f"{page}.link.query"] = link, query
        for problem in link.problems:
            st.warning(_("**This link's setting was not used.** {problem}.").format(problem=problem))
        for name, value in link.values.items():
            set_value(name, value)
    link = st.session_state.get(f"{page}.link") or ParsedLink()
    for name in link.locked:
        set_value(name, link.values[name])
    return link


def join_class(code: str) -> str | None:
    """Count the session's runs for class ``code`` if it is open (created on first use when the server
    has no instructor key, at most ``KDLAB_MAX_CLASSES_PER_CLIENT`` an hour from one client address);
    otherwise say why not, and that the lab joins it once it opens (``wait_for_class``). Returns the code in
    use, or None."""
    try:
        info = _class_for_link(code)
    except StorageError:
        try:  # once more: a replica that just started, a database busy for a moment
            info = _class_for_link(code)
        except StorageError as error:
            st.warning(
                _(
                    "**Class {code} cannot be joined right now.** {error} The lab tries again at your next click."
                ).format(code=code, error=error)
            )
            return None
    except ClassNotCreated as error:
        st.warning(_("**Class {code} was not created.** {error}").format(code=code, error=error))
        st.session_state.pop(CLASS_KEY, None)
        return None
    if info is None or not info.is_open:
        st.session_state.pop(CLASS_KEY, None)
        if info is None:
            warning = _(
                "**Class {code} is not open on this server yet**, so your runs do not reach its class board for now."
            )
        else:
            warning = _("**Class {code} is closed**, so your runs do not reach its class board for now.")
        st.warning(warning.format(code=code) + " " + _(JOINS_LATER))
        return None
    st.session_state[CLASS_KEY] = info.code
    return info.code


def wait_for_class(code: str) -> None:
    """Try again to join the class a link named (on every run of the lab while it is not joined, so before
    each Train): once the teacher opens it, the next run counts for it, with no reload."""
    try:
        info = _class_for_link(code)
    except (StorageError, ClassNotCreated):
        return  # said when the link arrived; the next run tries again
    if info is not None and info.is_open:
        st.session_state[CLASS_KEY] = info.code
        st.success(
            _("**Class {code} is open now**: your runs from here on appear on its class board.").format(code=info.code)
        )


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
            _(
                "Your network created {count} classes in the last hour, the most one network may: check the code "
                "with your teacher, or try again in about {minutes} min."
            ).format(count=number(CLASSES_PER_ADDRESS.limit), minutes=number(max(1, round(wait / 60))))
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
            _(
                "Locked by your teacher, so that the class compares runs that differ only where the lesson wants: "
                "{settings}."
            ).format(settings=names)
        )
    elif link.sets_controls:
        parts.append(_("It set the controls below; change any of them."))
    code = st.session_state.get(CLASS_KEY)
    if code:
        parts.append(
            _("Your runs count for class **{code}** and appear on its class board under your nickname.").format(
                code=code
            )
        )
    elif link.class_code:
        parts.append(
            _("Your runs will count for class **{code}** once your teacher opens it.").format(code=link.class_code)
        )
    if link.predict:
        parts.append(_("Make a prediction before you press Train."))
    with st.container(border=True, key="lab.assignment"):
        st.markdown(":material/assignment: " + _("**Assignment link.**") + " " + " ".join(parts))
        if st.button(
            _("Leave the assignment"),
            key="lab.leave",
            icon=":material/logout:",
            help=_("Unlocks every control and stops counting your runs for the class."),
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
        st.markdown(
            _("**Predict first** (this assignment asks for it)") if required else _("**Predict first** (optional)")
        )
        left, right = st.columns([3, 2])
        fewer = left.radio(
            _("Will the distilled student make fewer test errors than the same student trained alone?"),
            [FEWER, NOT_FEWER],
            index=None,
            key=f"lab.predict.fewer.{round_}",
            horizontal=True,
            format_func=_,
        )
        by = right.number_input(
            _("How many fewer? (negative: more)"),
            -10_000,
            10_000,
            value=None,
            step=1,
            key=f"lab.predict.by.{round_}",
            placeholder=_("your guess, e.g. 20"),
        )
    if fewer is None:
        return None
    return {"fewer": fewer == FEWER, "by": None if by is None else int(by), "made_at": round(time.time(), 1)}


def forget_prediction() -> None:
    """Empty the prediction for the next run (it is filed with the run just started)."""
    st.session_state[PREDICTION_ROUND] = st.session_state.get(PREDICTION_ROUND, 0) + 1


def share_control(settings: dict[str, object]) -> None:
    """ "Share these settings": a link with the lab's current settings, chosen locks, a class code and
    a prediction first, to paste into a slide. It never carries the student code."""
    with st.popover(_("Share these settings"), icon=":material/share:", key="lab.share"):
        lock = st.multiselect(
            _("Lock these settings"),
            list(LAB_NAMES),
            default=[],
            key="lab.share.lock",
            format_func=lambda name: _(lab_setting(name).name),
            help=_("Students see them but cannot change them."),
        )
        predict = st.checkbox(_("Ask for a prediction before Train"), key="lab.share.predict")
        code = st.text_input(
            _("Class code (optional)"),
            value=st.session_state.get(CLASS_KEY, ""),
            key="lab.share.class",
            max_chars=16,
            help=_("Runs made through the link appear on this class's board."),
        )
        code, problem = parse_class_code(code)
        if problem:
            st.error(problem.replace("class=", "The class code ") + ".")
        params = lab_link_params(settings, lock=lock, class_code=code, predict=predict)
        shared_link(link_url(base_url(), "lab", params))
        st.caption(
            _(
                "Copy the link with the button at its corner, or show its QR code: it opens the lab with these "
                "settings for anyone who reaches this server."
            )
        )
