"""Atomic writes: the whole file or the old one, and on disk before the new name is."""

import os

import pytest

from kdlab.ml import files
from kdlab.ml.files import write_atomically


def test_the_data_is_synced_before_the_rename_and_the_rename_after(tmp_path, monkeypatch):
    calls = []
    fsync, replace = os.fsync, os.replace
    monkeypatch.setattr(files.os, "fsync", lambda descriptor: calls.append(("fsync", descriptor)) or fsync(descriptor))
    monkeypatch.setattr(files.os, "replace", lambda *paths: calls.append(("replace",)) or replace(*paths))
    path = tmp_path / "teacher.pt"
    write_atomically(path, lambda file: file.write(b"weights"))
    assert path.read_bytes() == b"weights"
    assert [call[0] for call in calls] == ["fsync", "replace", "fsync"]  # the file, the rename, the folder


def test_a_failed_write_leaves_the_old_file_and_no_temporary_one(tmp_path):
    path = tmp_path / "teacher.pt"
    path.write_bytes(b"old")

    def fail(file):
        file.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_atomically(path, fail)
    assert path.read_bytes() == b"old" and sorted(tmp_path.iterdir()) == [path]
