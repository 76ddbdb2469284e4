"""The teacher cache on disk kept within ``KDLAB_TEACHER_CACHE_MB``: least recently used teachers go first,
the ones ``kdlab prepare`` trained for the pages never.

Any student may name a teacher (``?explorer.teacher=mlp-37x1``): thousands of MLP shapes fit under the cost
cap, about 24 GB of files if each were kept. After every teacher file written, the folder's ``*.pt`` files
are summed and the least recently used ones removed until it fits; a file's modification time is its last
use (touched when it is loaded, at most once a minute per file while it is served from memory). A removed
teacher is trained again, through the queue, when it is next asked for. ``pinned.json`` lists the files
``prepare`` made (``pin_teachers``), which a class needs at once and which are never removed.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from kdlab.ml.files import write_atomically
from kdlab.settings import current_settings

log = logging.getLogger(__name__)
PINNED_FILE = "pinned.json"
TOUCH_SECONDS = 60.0  # a teacher served from memory refreshes its file's last use at most this often
_touched: dict[Path, float] = {}  # bounded by the teacher files of this process's memory cache and disk folder
_touch_lock = threading.Lock()


def mark_used(path: Path, *, now: float | None = None) -> None:
    """Record that the teacher file ``path`` was used (its modification time), at most once a ``TOUCH_SECONDS``."""
    now = time.time() if now is None else now
    with _touch_lock:
        if now - _touched.get(path, -TOUCH_SECONDS) < TOUCH_SECONDS:
            return
        _touched[path] = now
    try:
        os.utime(path, (now, now))
    except OSError:  # removed meanwhile, or a read-only cache: nothing to keep fresh
        pass


def pin_teachers(folder: Path, names: Iterable[str]) -> None:
    """Keep these teacher files (names in ``folder``) however full the cache gets: the list replaces the last."""
    listed = json.dumps(sorted(set(names)), indent=0).encode()
    write_atomically(folder / PINNED_FILE, lambda file: file.write(listed))


def pinned_teachers(folder: Path) -> frozenset[str]:
    """The teacher files ``prepare`` pinned in ``folder`` (none when the list is missing or unreadable)."""
    try:
        names = json.loads((folder / PINNED_FILE).read_text())
    except (OSError, ValueError):
        return frozenset()
    return frozenset(name for name in names if isinstance(name, str)) if isinstance(names, list) else frozenset()


def cache_limit_bytes() -> int:
    """``KDLAB_TEACHER_CACHE_MB`` in bytes."""
    return current_settings().teacher_cache_mb * 1_000_000


def prune_teachers(folder: Path, *, keep: Path | None = None, limit_bytes: int | None = None) -> list[str]:
    """Remove the least recently used teacher files of ``folder`` until its ``*.pt`` files fit in ``limit_bytes``
    (``KDLAB_TEACHER_CACHE_MB``); never a pinned one, nor ``keep`` (the file just written). Returns the names
    removed. Another process pruning at once removes the same files: a file already gone counts as removed."""
    limit = cache_limit_bytes() if limit_bytes is None else limit_bytes
    pinned = pinned_teachers(folder)
    files = []
    for path in folder.glob("*.pt"):
        try:
            stat = path.stat()
        except OSError:
            continue
        files.append((stat.st_mtime, stat.st_size, path))
    total = sum(size for _, size, _ in files)
    removed = []
    for _, size, path in sorted(files, key=lambda entry: entry[0]):  # least recently used first
        if total <= limit:
            break
        if path.name in pinned or path == keep:
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as error:  # a read-only cache: nothing can be removed, and nothing more is written either
            log.warning("Could not remove teacher %s from a full cache (%s)", path.name, error.strerror)
            break
        total -= size
        removed.append(path.name)
        with _touch_lock:
            _touched.pop(path, None)
    if removed:
        log.info("Teacher cache over %d MB: removed the least recently used %s", limit // 1_000_000, removed)
    return removed
