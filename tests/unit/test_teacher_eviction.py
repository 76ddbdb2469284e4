"""The teacher cache on disk stays within KDLAB_TEACHER_CACHE_MB (least recently used teachers go first, the
pinned ones never), and a file that cannot be used is removed instead of being trained over in a page."""

import os

import pytest

from kdlab.ml.context import RunContext
from kdlab.teachers.cache import forget_cached_teachers, load_cached_teacher, resolve_teacher, teacher_cache_path
from kdlab.teachers.eviction import mark_used, pin_teachers, pinned_teachers, prune_teachers


@pytest.fixture
def cache(tmp_path):
    forget_cached_teachers()
    yield tmp_path
    forget_cached_teachers()


def test_students_naming_many_teachers_never_fill_the_disk(sample_data, cache, monkeypatch):
    """Each MLP shape a student names is a teacher file of its own; the folder used to grow with every one."""
    monkeypatch.setenv("KDLAB_TEACHER_CACHE_MB", "1")
    first = resolve_teacher("mlp-10x1", sample_data, epochs=1, context=RunContext(cache_dir=cache))
    pinned = teacher_cache_path(cache, "mlp-10x1", sample_data, 1, 0)
    pin_teachers(pinned.parent, [pinned.name])  # as kdlab prepare does for the pages' teachers
    for width in range(11, 21):
        resolve_teacher(f"mlp-{width}x1", sample_data, epochs=1, context=RunContext(cache_dir=cache))
        sizes = [path.stat().st_size for path in pinned.parent.glob("*.pt")]
        assert sum(sizes) <= 1_000_000 + max(sizes)  # within the bound, but for the file just written
    assert pinned.exists() and first.status == "completed"
    assert teacher_cache_path(cache, "mlp-20x1", sample_data, 1, 0).exists()  # the newest stays
    assert len(list(pinned.parent.glob("*.pt"))) < 11


def test_the_least_recently_used_go_first_never_the_pinned_or_the_one_just_written(tmp_path):
    names = ["a.pt", "b.pt", "c.pt", "d.pt", "e.pt"]
    for age, name in enumerate(names):
        (tmp_path / name).write_bytes(b"x" * 1000)
        os.utime(tmp_path / name, (1000 + age, 1000 + age))  # a.pt is the least recently used
    pin_teachers(tmp_path, ["a.pt"])
    mark_used(tmp_path / "b.pt", now=5000)  # loaded again: now the most recent
    removed = prune_teachers(tmp_path, keep=tmp_path / "c.pt", limit_bytes=3000)
    assert removed == ["d.pt", "e.pt"]
    assert sorted(path.name for path in tmp_path.glob("*.pt")) == ["a.pt", "b.pt", "c.pt"]
    assert pinned_teachers(tmp_path) == {"a.pt"}
    (tmp_path / "pinned.json").write_text("{not json")
    assert pinned_teachers(tmp_path) == frozenset()  # an unreadable list pins nothing and breaks nothing


@pytest.mark.parametrize("damage", [b"not a checkpoint", b""])
def test_an_unusable_file_is_removed_and_never_trained_over_when_loading_only(sample_data, cache, damage):
    resolve_teacher("linear", sample_data, epochs=1, context=RunContext(cache_dir=cache))
    path = teacher_cache_path(cache, "linear", sample_data, 1, 0)
    path.write_bytes(damage)
    forget_cached_teachers()
    assert load_cached_teacher("linear", sample_data, epochs=1, cache_dir=cache) is None
    assert not path.exists()  # so the teacher counts as untrained: its training is queued
    assert load_cached_teacher("ensemble:linear*2", sample_data, epochs=1, cache_dir=cache) is None
    resolve_teacher("linear", sample_data, epochs=1, context=RunContext(cache_dir=cache))
    forget_cached_teachers()
    assert load_cached_teacher("linear", sample_data, epochs=1, cache_dir=cache).from_cache
