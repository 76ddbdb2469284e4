"""Atomic file writes: every cache file kdlab writes (teachers, replay grids) goes through here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Create ``path`` by calling ``write(file)`` on a temporary file beside it, then renaming it.

    Readers in other threads or processes see either the old file or the whole new one, never
    half a file; a failed write leaves no temporary file behind.

    Raises:
        OSError: the folder cannot be created or written (full disk, read-only cache).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
