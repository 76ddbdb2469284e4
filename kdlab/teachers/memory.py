"""The process's one memory cache of trained teachers (``MEMORY``), newest kept, and one lock per teacher while
a thread resolves it: ``kdlab.teachers.cache`` fills it."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from kdlab.teachers.teacher import Teacher


class TeacherMemory:
    """The process's one memory cache of trained networks, newest kept, and one lock per teacher while
    anyone is resolving it, so only one thread trains a given teacher and the others wait and share it.

    Bounded: a teacher is its weights plus its logits on every image (about 7 MB for ``cnn-wide`` on
    full MNIST, 13 MB for ``mlp-1200x2``), so ``MAX_TEACHERS_IN_MEMORY`` networks stay well under 200 MB; an
    older one is loaded from disk again (about 0.1 s) when it is asked for. The locks are bounded by the
    threads resolving a teacher right now: a teacher's lock goes when its last user leaves.
    """

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self._guard = threading.Lock()
        self._teachers: OrderedDict[Path, Teacher] = OrderedDict()
        self._locks: dict[Path, tuple[threading.Lock, int]] = {}  # path -> (lock, threads using it)

    @contextmanager
    def resolving(self, path: Path) -> Iterator[None]:
        """Hold the lock of the teacher at ``path``; the lock is dropped when its last user leaves."""
        with self._guard:
            lock, users = self._locks.get(path, (threading.Lock(), 0))
            self._locks[path] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[path]
                if users == 1:
                    del self._locks[path]
                else:
                    self._locks[path] = (lock, users - 1)

    def get(self, path: Path) -> Teacher | None:
        with self._guard:
            teacher = self._teachers.get(path)
            if teacher is not None:
                self._teachers.move_to_end(path)
            return teacher

    def put(self, path: Path, teacher: Teacher) -> None:
        with self._guard:
            self._teachers[path] = teacher
            self._teachers.move_to_end(path)
            while len(self._teachers) > self.capacity:
                self._teachers.popitem(last=False)

    def clear(self) -> None:
        with self._guard:
            self._teachers.clear()


MAX_TEACHERS_IN_MEMORY = 12
MEMORY = TeacherMemory(MAX_TEACHERS_IN_MEMORY)
