"""The session's language: ``?lang=`` (checked), else the one chosen earlier in the session, else the
browser's, else English; the sidebar's control that switches it; and the page's ``lang`` attribute.

Streamlit has no translation mechanism of its own (its issue #1353) and cannot set the page's ``lang``
attribute (#8399): ``render_language_control`` sets it from an empty ``st.iframe`` whose script writes
``document.documentElement.lang`` of the app's page (its iframe is same-origin). docs/translating.md says more.

This module imports Streamlit and ``kdlab.i18n`` only: app.py chooses the language before it draws the
navigation, before PyTorch loads.
"""

from __future__ import annotations

import json

import streamlit as st
from babel.core import negotiate_locale

from kdlab.i18n import DEFAULT_LANGUAGE, LANGUAGES, N_, PSEUDO, _, current_language, is_language, use_language

QUERY = "lang"
LANGUAGE_KEY = "kdlab.language"  # the language a link or the control chose for this session
CONTROL_KEY = "kdlab.language.control"
MAX_HEADER = 200  # characters of Accept-Language read: a stranger's header is parsed within a bound
MAX_PREFERENCES = 10
BAD_LANGUAGE = N_("**This link's language is not one kdlab speaks**, so it was not used: use lang={languages}.")


def browser_language() -> str | None:
    """The first language the browser prefers that kdlab speaks (``navigator.language``, then the
    Accept-Language header in its order of preference), or None."""
    preferred = [st.context.locale or ""] + accepted_languages(st.context.headers.get("Accept-Language") or "")
    return negotiate_locale([tag for tag in preferred if tag], list(LANGUAGES), sep="-")


def accepted_languages(header: str) -> list[str]:
    """The language tags of an Accept-Language header, most preferred first: ``"vi-VN,vi;q=0.9,en;q=0.8"``
    -> ``["vi-VN", "vi", "en"]``; malformed entries are skipped."""
    weighted = []
    for position, entry in enumerate(header[:MAX_HEADER].split(",")[:MAX_PREFERENCES]):
        tag, _separator, weight = entry.strip().partition(";q=")
        try:
            quality = float(weight) if weight else 1.0
        except ValueError:
            continue
        if tag and tag != "*" and 0 < quality <= 1:
            weighted.append((-quality, position, tag))
    return [tag for _quality, _position, tag in sorted(weighted)]


def choose_language() -> str:
    """Set this run's language (``kdlab.i18n.use_language``) and return it; call it first on every run of
    every page (app.py, then ``ensure_entrypoint``). A language from ``?lang=`` or the control lasts for the
    session and is written back into the URL (a navigation link drops it); a bad ``?lang=`` is a message."""
    raw = st.query_params.get(QUERY)
    if raw is not None and is_language(raw):
        st.session_state[LANGUAGE_KEY] = raw
    chosen = st.session_state.get(LANGUAGE_KEY)
    code = chosen or browser_language() or DEFAULT_LANGUAGE
    use_language(code)
    if raw is not None and not is_language(raw):
        st.warning(_(BAD_LANGUAGE).format(languages=", ".join(LANGUAGES)))  # the value is never echoed
        st.query_params.pop(QUERY, None)
    if chosen is not None and st.query_params.get(QUERY) != chosen:
        st.query_params[QUERY] = chosen
    return code


def _switch() -> None:
    code = st.session_state.get(CONTROL_KEY)
    if code in LANGUAGES:
        st.session_state[LANGUAGE_KEY] = code
        st.query_params[QUERY] = code  # the other parameters (?s=, a link's settings) stay


def render_language_control() -> None:
    """The sidebar's language control (each language named in its own words; the pseudo-language is never
    offered) and the page's ``lang`` attribute."""
    code = current_language()
    st.session_state[CONTROL_KEY] = code if code in LANGUAGES else None
    with st.sidebar:
        st.selectbox(
            _("Language"),
            list(LANGUAGES),
            format_func=LANGUAGES.__getitem__,
            key=CONTROL_KEY,
            on_change=_switch,
            placeholder=_("Choose a language"),
        )
        set_page_language(code)


def set_page_language(code: str) -> None:
    """Set the page's ``lang`` attribute to ``code`` (English for the pseudo-language), which Streamlit cannot
    (#8399): screen readers pick their voice, and browsers their hyphenation and translation offer, from it."""
    tag = DEFAULT_LANGUAGE if code == PSEUDO else code
    script = f"<script>window.parent.document.documentElement.lang = {json.dumps(tag)};</script>"
    # st.iframe runs an HTML string's script same-origin (its docs); 1 px is the least height it takes ("content"
    # left a gap of about 150 px in the sidebar).
    st.iframe(script, height=1, tab_index=-1, alt=_("Sets the page's language"))
