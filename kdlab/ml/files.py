"""Atomic file writes: every cache file kdlab writes (teachers, replay grids) goes through here."""

from __future__ import annotations

import functools
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create ``path`` by calling ``write(file)`` on a temporary file beside it, then renaming it.

    Readers in other threads or processes see either the old file or the whole new one, never
    half a file; a failed write leaves no temporary file behind. The data reaches the disk (``fsync``) before
    the rename, and the rename before this returns (the folder's ``fsync``): without the first, a power cut
    after the rename can leave the new name on an empty or partial file (ext4 and XFS commit the rename
    before the data); without the second, the old file can come back.

    Raises:
        OSError: the folder cannot be created or written (full disk, read-only cache).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        _sync_folder(path.parent)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def _sync_folder(folder: Path) -> None:
    """Make a rename in ``folder`` durable; a system that cannot open a folder (Windows) skips it."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:  # some file systems refuse to sync a folder; the file itself is already on disk
        pass
    finally:
        os.close(descriptor)


NETWORK_FILE_SYSTEMS = frozenset({"nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "fuse.sshfs", "ceph"})


# Cached: 270 us a call on the 2-core machine (resolve, read /proc/mounts), and every page opens the database.
@functools.lru_cache(maxsize=16)
def network_file_system(path: Path, mounts: Path = Path("/proc/mounts")) -> str | None:
    """The type of the network file system ``path`` lies on (``nfs4``, ``cifs``, ...), or None: a local one, or
    a system without ``/proc/mounts``. The longest mount point above ``path`` decides."""
    try:
        lines = mounts.read_text().splitlines()
    except OSError:
        return None
    resolved, best, fs_type = path.expanduser().resolve(), "", None
    for line in lines:
        fields = line.split()
        if len(fields) < 3:
            continue
        point = fields[1].replace("\\040", " ")  # /proc/mounts escapes a space in a path as \040
        if resolved.is_relative_to(point) and len(point) > len(best):
            best, fs_type = point, fields[2]
    return fs_type if fs_type in NETWORK_FILE_SYSTEMS else None
