"""Rate limits for what a curious student (or a script) can repeat: instructor-key guesses, new students,
runs filed per client address, classes created.

``RateLimit`` counts events per key (a session id, a client address) in a sliding window. Its
memory is bounded: it remembers at most ``max_keys`` keys, dropping the one least recently seen,
so a flood of made-up addresses costs the server a fixed few megabytes at most; and it forgets a key
once its window has passed with nothing new (a closed session's key lives at most one window).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable

from kdlab.settings import current_settings


def address_key(address: str) -> str:
    """The key a limit counts the client address ``address`` under (``kdlab.serve.clients``)."""
    return f"address:{address}"


class RateLimit:
    """At most ``limit`` events per ``window`` seconds for each key; ``limit`` may be a function read on each
    check (a ``KDLAB_*`` setting)."""

    def __init__(
        self,
        limit: int | Callable[[], int],
        window: float,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._limit = limit if callable(limit) else lambda: limit
        if self.limit < 1 or window <= 0 or max_keys < 1:
            raise ValueError(
                f"A rate limit needs limit >= 1, window > 0 and max_keys >= 1 (got {self.limit}, {window})."
            )
        self.window, self.max_keys, self._clock = window, max_keys, clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def limit(self) -> int:
        """Events per window for each key."""
        return self._limit()

    def clear(self) -> None:
        """Forget every key (a test starts afresh)."""
        with self._lock:
            self._events.clear()

    def _recent(self, key: str, now: float) -> deque[float]:
        events = self._events.setdefault(key, deque())
        self._events.move_to_end(key)
        while events and events[0] <= now - self.window:
            events.popleft()
        while len(self._events) > self.max_keys:
            self._events.popitem(last=False)
        self._forget_quiet(now)
        return events

    def _forget_quiet(self, now: float) -> None:
        # Caller holds the lock. Keys are in the order last seen: the oldest first. A key whose newest
        # event is out of the window counts nothing; drop such keys from the old end (a session's key
        # would otherwise stay until ``max_keys`` newer ones push it out).
        while self._events:
            key, events = next(iter(self._events.items()))
            if events and events[-1] > now - self.window:
                return
            if len(self._events) == 1:  # the key being asked about: kept for the caller
                return
            del self._events[key]

    def allows(self, *keys: str | None) -> bool:
        """True when none of ``keys`` (None: no such key, e.g. no client address) is at its limit."""
        with self._lock:
            now = self._clock()
            limit = self.limit
            return all(len(self._recent(key, now)) < limit for key in keys if key is not None)

    def record(self, *keys: str | None) -> None:
        """Count one event for each of ``keys``."""
        with self._lock:
            now = self._clock()
            for key in keys:
                if key is not None:
                    self._recent(key, now).append(now)

    def seconds_left(self, *keys: str | None) -> float:
        """How long until every one of ``keys`` is below its limit again (0 when it is now)."""
        with self._lock:
            now, limit = self._clock(), self.limit
            waits = [
                events[-limit] + self.window - now
                for key in keys
                if key is not None and len(events := self._recent(key, now)) >= limit
            ]
            return max(waits, default=0.0)


# Each table below is bounded by its max_keys: 10,000 keys full to their limit measured 10 MB (limit 5)
# and 48 MB (limit 120) with tracemalloc.
# Five wrong instructor keys per ten minutes, per session and per client address: a guesser tries 720
# keys a day from one address, against a 16-character key (settings refuse shorter ones).
KEY_GUESSES = RateLimit(5, 600.0)

# New students (a first Train) per client address: a classroom behind one school router shares one
# address, so the limit must fit a whole class (60) with room for reloaded private tabs; it stops a
# script, not a class. Per session: a session makes one student; three per hour allows for lost links.
NEW_STUDENTS_PER_ADDRESS = RateLimit(120, 3600.0)
NEW_STUDENTS_PER_SESSION = RateLimit(3, 3600.0)

# Runs filed per client address a minute (KDLAB_MAX_RUNS_PER_CLIENT_PER_MINUTE), counted by each server process:
# a cached result files a run at once, so without it one machine's students fill a class board in minutes.
RUNS_PER_ADDRESS = RateLimit(lambda: current_settings().max_runs_per_client_per_minute, 60.0)
# Classes created per client address an hour (KDLAB_MAX_CLASSES_PER_CLIENT), without an instructor key.
CLASSES_PER_ADDRESS = RateLimit(lambda: current_settings().max_classes_per_client, 3600.0)
LIMITS = (KEY_GUESSES, NEW_STUDENTS_PER_ADDRESS, NEW_STUDENTS_PER_SESSION, RUNS_PER_ADDRESS, CLASSES_PER_ADDRESS)


def admit_new_student(session_key: str, address: str) -> float:
    """Count a new student for ``session_key`` and ``address`` (``address_key``) when both are under their
    limits (``NEW_STUDENTS_PER_SESSION``, ``NEW_STUDENTS_PER_ADDRESS``) and return 0; else count nothing and
    return the seconds until one may be made."""
    wait = max(NEW_STUDENTS_PER_SESSION.seconds_left(session_key), NEW_STUDENTS_PER_ADDRESS.seconds_left(address))
    if not wait:
        NEW_STUDENTS_PER_SESSION.record(session_key)
        NEW_STUDENTS_PER_ADDRESS.record(address)
    return wait
