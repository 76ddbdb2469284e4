"""Heartbeats: which server processes are alive, so that replicas sharing one database know each other.

A server process that notes a run start (``DatabaseRunStore.note_start``) writes its heartbeat row in
the same transaction and from then on keeps it fresh from a daemon thread, every sixth of
``KDLAB_HEARTBEAT_STALE_SECONDS``. A run noted by another process counts as cut off only when that
process's heartbeat is older than the threshold (or missing): a student sent to another replica sees
their run as running while it trains elsewhere.

A thread rather than a beat on each page run: a server training runs that no open page watches is
alive too, and only a process that trains runs needs to be known alive.
"""

from __future__ import annotations

import threading
import time

from sqlalchemy import Connection, Select, select

from kdlab.db import database as schema
from kdlab.db.database import Database, StorageError, insert_or_not, servers
from kdlab.settings import Settings, SettingsError, current_settings

_BEATING: set[int] = set()  # id() of each Database with a heartbeat thread
_LOCK = threading.Lock()


def heartbeat_seconds() -> float:
    """How often a server beats: six beats within the stale threshold, so a live server that misses one or
    two (a busy database) is never taken for a dead one."""
    try:
        return current_settings().heartbeat_stale_seconds / 6
    except SettingsError:  # every page shows the error; the heartbeat goes on at the default pace
        return Settings().heartbeat_stale_seconds / 6


def beat(database: Database, connection: Connection) -> None:
    """Write this server process's heartbeat (``SERVER_ID``, now) in ``connection``'s transaction."""
    now = time.time()
    row = dict(server_id=schema.SERVER_ID, started_at=schema.STARTED_AT, beat_at=now)
    statement = insert_or_not(database, servers).values(**row)
    connection.execute(statement.on_conflict_do_update(index_elements=[servers.c.server_id], set_={"beat_at": now}))


def keep_beating(database: Database) -> None:
    """Start this process's heartbeat thread for ``database`` (once; ``forget_databases`` ends it)."""
    with _LOCK:
        if id(database) in _BEATING:
            return
        _BEATING.add(id(database))
    threading.Thread(target=_beat_until_stopped, args=(database,), name="kdlab-heartbeat", daemon=True).start()


def _beat_until_stopped(database: Database) -> None:
    try:
        while not database.stopped.wait(heartbeat_seconds()):
            try:
                with database.write() as connection:
                    beat(database, connection)
            except StorageError:
                pass  # logged by storage_errors; the next beat tries again
    finally:
        with _LOCK:
            _BEATING.discard(id(database))


def alive_servers() -> Select:
    """The ids of the server processes whose heartbeat is younger than ``KDLAB_HEARTBEAT_STALE_SECONDS``."""
    return select(servers.c.server_id).where(
        servers.c.beat_at >= time.time() - current_settings().heartbeat_stale_seconds
    )
