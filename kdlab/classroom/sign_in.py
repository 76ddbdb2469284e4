"""The instructor's one-time sign-in links: ``python -m kdlab instructor-link`` makes one, the app takes it once.

Wrong instructor keys are limited per client address (``kdlab.serve.rate.KEY_GUESSES``), and a school's
students often share their instructor's address: five wrong guesses in the room lock the password field
for everyone there, the instructor included. A sign-in link is the way in that no guess can block. It
carries an expiry, a random link id and an HMAC-SHA256 of both under the instructor key, so only someone
who holds the key (on the server) can make one, guessing one is as hopeless as guessing a 128-bit key, and
changing the key voids every link. Each link signs in once: its id is written to ``sign_in_links``
insert-or-nothing, so two replicas taking the same link at once let one in.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time

from sqlalchemy import delete

from kdlab.classroom.pages import LINK_PAGES
from kdlab.db.database import Database, insert_or_not, sign_in_links
from kdlab.i18n import N_, _

SIGN_IN_PARAM = "signin"  # the URL parameter: /class_board?signin=...
MAX_MINUTES = 24 * 60  # a link older than a day is a key left lying around
_TOKEN = re.compile(r"(\d{1,12})\.([0-9a-f]{16})\.([0-9a-f]{32})")
MAKE_ONE = N_("Make a new one on the server with: `python -m kdlab instructor-link`")


def _mac(key: str, expires: int, link_id: str) -> str:
    message = f"kdlab instructor sign-in|{expires}|{link_id}".encode()
    return hmac.new(key.encode("utf-8"), message, hashlib.sha256).hexdigest()[:32]


def make_sign_in_token(key: str, minutes: float, *, now: float | None = None) -> str:
    """A new sign-in token for the instructor ``key``, valid ``minutes`` (at most ``MAX_MINUTES``).

    Raises:
        ValueError: ``minutes`` is not between 1 and ``MAX_MINUTES``.
    """
    if not 1 <= minutes <= MAX_MINUTES:
        raise ValueError(f"A sign-in link is valid for 1 to {MAX_MINUTES} minutes (got {minutes:g}).")
    expires = int((time.time() if now is None else now) + minutes * 60)
    link_id = secrets.token_hex(8)
    return f"{expires}.{link_id}.{_mac(key, expires, link_id)}"


def check_sign_in_token(token: object, key: str, *, now: float | None = None) -> str:
    """The link id of ``token`` when it was made with ``key`` and has not expired (used or not).

    Raises:
        ValueError: the token is malformed, was made with another key, or has expired; the message says what to do.
    """
    found = _TOKEN.fullmatch(token) if isinstance(token, str) and len(token) <= 80 else None
    if found is None or not hmac.compare_digest(_mac(key, int(found[1]), found[2]), found[3]):
        raise ValueError(
            _("That sign-in link is not one of this server's (or its instructor key changed).") + " " + _(MAKE_ONE)
        )
    if int(found[1]) < (time.time() if now is None else now):
        raise ValueError(_("That sign-in link has expired.") + " " + _(MAKE_ONE))
    return found[2]


def use_sign_in_link(database: Database, token: object, key: str) -> None:
    """Sign in once with ``token``: check it, then mark its link used (one insert that does nothing when the
    row is there: of two replicas taking it at once, one is first).

    Raises:
        ValueError: the token is not valid (``check_sign_in_token``) or was used already.
        StorageError: the database cannot be written.
    """
    link_id, now = check_sign_in_token(token, key), time.time()
    with database.write() as connection:
        connection.execute(delete(sign_in_links).where(sign_in_links.c.used_at < now - MAX_MINUTES * 60))
        inserted = connection.execute(
            insert_or_not(database, sign_in_links).values(link_id=link_id, used_at=now).on_conflict_do_nothing()
        )
    if inserted.rowcount != 1:
        raise ValueError(_("That sign-in link was used already: each link signs in once.") + " " + _(MAKE_ONE))


def sign_in_url(base_url: str, token: str) -> str:
    """The class board's address at ``base_url`` with the sign-in ``token``."""
    return f"{base_url.rstrip('/')}/{LINK_PAGES['board'].url_path}?{SIGN_IN_PARAM}={token}"
