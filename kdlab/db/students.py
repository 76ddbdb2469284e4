"""Students: an unguessable random token each, of which the database keeps only a hash.

A student is whoever holds the token (it travels in the page's URL as ``?s=...``): no
account, no password, no name typed in. The database stores the token's sha256, so a copy
of the database does not let anyone act as a student, and lookups compare hashes in
constant time. Each student gets a random friendly nickname ("Curious Otter 42") for a later
class board; it is never typed by the student, so it never carries a real name.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select

from kdlab.db.database import Database, insert_or_not, students

TOKEN_BYTES = 24  # secrets.token_urlsafe(24): 32 characters, 192 random bits
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,64}")
ADJECTIVES = (
    "Curious",
    "Brave",
    "Calm",
    "Clever",
    "Eager",
    "Gentle",
    "Happy",
    "Jolly",
    "Kind",
    "Lively",
    "Lucky",
    "Merry",
    "Nimble",
    "Patient",
    "Quick",
    "Quiet",
    "Sunny",
    "Swift",
    "Witty",
    "Zesty",
    "Bold",
    "Bright",
    "Cheerful",
    "Daring",
    "Friendly",
    "Keen",
    "Mellow",
    "Plucky",
    "Polite",
    "Proud",
    "Steady",
    "Wise",
)
ANIMALS = (
    "Otter",
    "Badger",
    "Heron",
    "Lynx",
    "Panda",
    "Falcon",
    "Koala",
    "Marmot",
    "Narwhal",
    "Owl",
    "Puffin",
    "Quokka",
    "Raven",
    "Seal",
    "Tapir",
    "Turtle",
    "Walrus",
    "Wombat",
    "Yak",
    "Zebra",
    "Beaver",
    "Bison",
    "Crane",
    "Dolphin",
    "Ferret",
    "Gecko",
    "Ibis",
    "Lemur",
    "Moose",
    "Newt",
    "Robin",
    "Stork",
)
NICKNAME_NUMBERS = range(10, 100)
# 32 adjectives x 32 animals x 90 numbers = 92,160 nicknames. Two of n students share one with
# probability about 1 - exp(-n (n - 1) / (2 * 92,160)): 0.5% for a class of 30, 1.9% for 60 (with
# 400 names it was 66% for 30). The class board tells any two that still share one apart.


@dataclass(frozen=True)
class Student:
    id: int
    nickname: str
    created_at: float

    @property
    def key(self) -> str:
        """A server-side name for this student's jobs and live runs (not secret, never shown)."""
        return f"student:{self.id}"


def new_token() -> str:
    """A fresh unguessable token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_valid_token(value: object) -> bool:
    """True for a string that looks like a token (URL values are checked before any lookup)."""
    return isinstance(value, str) and TOKEN_PATTERN.fullmatch(value) is not None


def token_hash(token: str) -> str:
    """The sha256 (hex) the database keeps instead of the token."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def random_nickname() -> str:
    """A random nickname such as "Curious Otter 42": an adjective, an animal and a number, chosen at random."""
    return f"{secrets.choice(ADJECTIVES)} {secrets.choice(ANIMALS)} {secrets.choice(NICKNAME_NUMBERS)}"


def find_student(database: Database, token: object) -> Student | None:
    """The student holding ``token``, or None for an unknown or malformed token."""
    if not is_valid_token(token):
        return None
    digest = token_hash(token)
    with database.read() as connection:
        row = connection.execute(select(students).where(students.c.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        return None
    return Student(row.id, row.nickname, row.created_at)


def create_student(database: Database, token: str | None = None) -> tuple[Student, str]:
    """A new student; returns it and its token (given, or new). Only the token's hash is stored.

    Two tabs (or replicas) creating the student of one given token at once get the same student.
    """
    token = token or new_token()
    if not is_valid_token(token):
        raise ValueError("A student token must be 22 to 64 letters, digits, '-' or '_'.")
    digest = token_hash(token)
    row = dict(token_hash=digest, nickname=random_nickname(), runs_started=0, created_at=time.time())
    with database.write() as connection:
        connection.execute(insert_or_not(database, students).values(**row).on_conflict_do_nothing())
        stored = connection.execute(select(students).where(students.c.token_hash == digest)).one()
    return Student(stored.id, stored.nickname, stored.created_at), token
