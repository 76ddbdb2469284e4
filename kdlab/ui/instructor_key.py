"""The instructor's key (``KDLAB_INSTRUCTOR_KEY``): checked, rate-limited, and never left in a URL.

The instructor signs in on the class board with a password field, or once with ``?key=`` in a
link: on whatever page the link arrives, the key leaves the URL at once (a projector shows the
address bar) and the session remembers whether it was right. Keys are compared in constant time;
wrong guesses are limited per session and per client address (``kdlab.serve.rate.KEY_GUESSES``), and at
the limit no key is compared (else the limit would not stop a guesser). Students who share the
instructor's address can so lock the field: a one-time link from ``python -m kdlab instructor-link``
(``?signin=``, ``kdlab.classroom.sign_in``) signs in whatever the guesses, and leaves the URL the same way.
"""

from __future__ import annotations

import hmac

import streamlit as st

from kdlab.classroom.sign_in import SIGN_IN_PARAM, use_sign_in_link
from kdlab.db.database import StorageError, open_database
from kdlab.i18n import N_, _, number
from kdlab.serve.rate import KEY_GUESSES
from kdlab.settings import current_settings
from kdlab.ui.client import client_keys

SESSION_KEY = "kdlab.instructor"
MAX_KEY_LENGTH = 200
WRONG_KEY = N_("That instructor key is not the one set on this server; the board is shown as students see it.")


def instructor_key_set() -> bool:
    """True when the server has an instructor key (then only the instructor opens class codes)."""
    return current_settings().instructor_key is not None


def key_matches(candidate: object) -> bool:
    """``candidate`` equals the server's instructor key (compared in constant time); False without one."""
    secret = current_settings().instructor_key
    if not secret or not isinstance(candidate, str) or len(candidate) > MAX_KEY_LENGTH:
        return False
    return hmac.compare_digest(candidate.encode("utf-8"), secret.encode("utf-8"))


def sign_in(candidate: object) -> bool:
    """Check ``candidate`` against the key and remember the answer for the session; a wrong one counts
    against this session and this client address, and once they are at their limit no key is checked.
    Shows why when it is refused."""
    keys = client_keys()
    if not KEY_GUESSES.allows(*keys):
        minutes = max(1, round(KEY_GUESSES.seconds_left(*keys) / 60))
        st.warning(
            _(
                "Too many wrong instructor keys from here: try again in about {minutes} min, or sign in with a "
                "one-time link made on the server with `python -m kdlab instructor-link`."
            ).format(minutes=number(minutes))
        )
        return False
    right = key_matches(candidate)
    st.session_state[SESSION_KEY] = right
    if not right:
        KEY_GUESSES.record(*keys)
        st.warning(_(WRONG_KEY))
    return right


def sign_in_with_link(token: object) -> bool:
    """Sign in with a one-time link's ``token`` (``kdlab.classroom.sign_in``), whatever the wrong guesses; shows
    why when it is refused (expired, used, not this server's, the database out of order)."""
    try:
        use_sign_in_link(open_database(), token, current_settings().instructor_key)
    except (ValueError, StorageError) as error:
        st.warning(_("**That sign-in link did not sign you in.** {error}").format(error=error))
        return False
    st.session_state[SESSION_KEY] = True
    return True


def take_key_from_url() -> None:
    """Take ``?key=`` and ``?signin=`` out of the URL (call it on every page) and sign in with them when the
    server has a key."""
    found = {name: st.query_params.get(name) for name in ("key", SIGN_IN_PARAM) if name in st.query_params}
    for name in found:
        del st.query_params[name]
    if not instructor_key_set():
        return
    if "key" in found:
        sign_in(found["key"])
    if SIGN_IN_PARAM in found:
        sign_in_with_link(found[SIGN_IN_PARAM])


def is_instructor() -> bool:
    """True when this session signed in with the right key. Always False while the server has no key,
    even for a session that had one."""
    take_key_from_url()
    return instructor_key_set() and bool(st.session_state.get(SESSION_KEY))
