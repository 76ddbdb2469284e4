"""The teacher cache: train once, load with weights_only, survive corrupt and mismatched files."""

import threading

import pytest
import torch

from kdlab.ml.context import RunContext
from kdlab.teachers.cache import (
    forget_cached_teachers,
    keep_teacher,
    load_cached_teacher,
    resolve_teacher,
    teacher_cache_path,
)
from kdlab.teachers.teacher import default_teacher_epochs


@pytest.fixture
def cache(tmp_path):
    forget_cached_teachers()
    yield tmp_path
    forget_cached_teachers()


def test_train_once_then_load_from_disk(sample_data, cache):
    first = resolve_teacher("linear", sample_data, epochs=2, context=RunContext(cache_dir=cache))
    assert not first.from_cache and first.status == "completed"
    path = teacher_cache_path(cache, "linear", sample_data, 2, 0)
    assert path.exists() and not list(path.parent.glob("*.tmp"))
    payload = torch.load(path, weights_only=True, map_location="cpu")
    assert payload["meta"]["architecture"] == "linear" and payload["meta"]["data_source"] == "mnist-sample"
    assert payload["meta"]["torch_version"] == str(torch.__version__)
    assert resolve_teacher("linear", sample_data, epochs=2, context=RunContext(cache_dir=cache)) is first  # memory
    forget_cached_teachers()
    loaded = resolve_teacher("linear", sample_data, epochs=2, context=RunContext(cache_dir=cache))
    assert loaded.from_cache and loaded.record == first.record
    assert torch.equal(loaded.test_logits, first.test_logits)
    assert torch.allclose(loaded.model(torch.zeros(1, 1, 28, 28)), first.model(torch.zeros(1, 1, 28, 28)))
    assert first.record.test_accuracy > 0.8 and first.record.test_errors == round(
        (1 - first.record.test_accuracy) * 1000
    )


@pytest.mark.parametrize("damage", ["truncate", "garbage", "empty"])
def test_damaged_cache_file_is_reported_and_retrained(sample_data, cache, damage):
    resolve_teacher("linear", sample_data, epochs=1, context=RunContext(cache_dir=cache))
    path = teacher_cache_path(cache, "linear", sample_data, 1, 0)
    content = path.read_bytes()
    path.write_bytes(
        {"truncate": content[: len(content) // 2], "garbage": b"not a checkpoint" * 10, "empty": b""}[damage]
    )
    forget_cached_teachers()
    teacher = resolve_teacher("linear", sample_data, epochs=1, context=RunContext(cache_dir=cache))
    assert not teacher.from_cache and "unreadable" in teacher.note
    forget_cached_teachers()
    assert resolve_teacher(
        "linear", sample_data, epochs=1, context=RunContext(cache_dir=cache)
    ).from_cache  # rewritten whole


def test_mismatched_cache_file_is_retrained(sample_data, cache):
    resolve_teacher("linear", sample_data, epochs=1, context=RunContext(cache_dir=cache))
    path = teacher_cache_path(cache, "linear", sample_data, 1, 0)
    payload = torch.load(path, weights_only=True)
    payload["meta"]["data_source"] = "mnist"
    torch.save(payload, path)
    forget_cached_teachers()
    teacher = resolve_teacher("linear", sample_data, epochs=1, context=RunContext(cache_dir=cache))
    assert not teacher.from_cache and "did not match" in teacher.note


def test_concurrent_requests_train_once(sample_data, cache):
    teachers, events = [], []
    threads = [
        threading.Thread(
            target=lambda: teachers.append(
                resolve_teacher(
                    "linear", sample_data, epochs=1, context=RunContext(on_event=events.append, cache_dir=cache)
                )
            )
        )
        for _ in range(3)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(teachers) == 3 and teachers[0] is teachers[1] is teachers[2]
    assert sum(type(event).__name__ == "EpochEvent" for event in events) == 1


def test_stopped_teacher_is_not_cached(sample_data, cache):
    stop = threading.Event()
    stop.set()
    teacher = resolve_teacher("linear", sample_data, epochs=3, context=RunContext(stop=stop, cache_dir=cache))
    assert teacher.status == "stopped"
    assert not teacher_cache_path(cache, "linear", sample_data, 3, 0).exists()


def test_unwritable_cache_is_a_note_not_a_crash(sample_data, tmp_path):
    forget_cached_teachers()
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder should be")
    teacher = resolve_teacher("linear", sample_data, epochs=1, context=RunContext(cache_dir=blocker))
    assert teacher.status == "completed" and "Could not cache" in teacher.note
    forget_cached_teachers()


def test_default_epochs_scale_with_data_size():
    assert default_teacher_epochs(60_000) == 4
    assert default_teacher_epochs(4_000) == 20
    assert default_teacher_epochs(30_000) == 8


def test_a_teacher_trained_elsewhere_is_kept_on_disk_and_in_memory(sample_data, cache, monkeypatch):
    from kdlab.teachers import cache as teacher_cache

    worker_cache, server_cache = cache / "worker", cache / "server"  # a Ray worker's disk and the server's
    members = resolve_teacher("ensemble:linear*2", sample_data, epochs=2, context=RunContext(cache_dir=worker_cache))
    forget_cached_teachers()
    keep_teacher(members, sample_data, cache_dir=server_cache)
    for seed in (0, 1):
        assert teacher_cache_path(server_cache, "linear", sample_data, 2, seed).exists()
    monkeypatch.setattr(teacher_cache, "_train", lambda *args, **kwargs: pytest.fail("trained again"))
    assert (
        resolve_teacher("ensemble:linear*2", sample_data, epochs=2, context=RunContext(cache_dir=server_cache))
        is members
    )
    forget_cached_teachers()
    from_disk = resolve_teacher("ensemble:linear*2", sample_data, epochs=2, context=RunContext(cache_dir=server_cache))
    assert from_disk.from_cache and torch.equal(from_disk.test_logits, members.test_logits)


def test_asking_whether_a_teacher_is_ready_never_waits_for_its_training(sample_data, cache):
    # A page asks load_cached_teacher on every rerun; a thread training the same teacher holds its lock for
    # minutes (threads runner: a GPU server, KDLAB_PROCESSES=off). The page must hear "not yet" at once.
    started, release = threading.Event(), threading.Event()

    def slow_events(event) -> None:
        started.set()
        release.wait(60)

    trainer = threading.Thread(
        target=resolve_teacher,
        args=("linear", sample_data),
        kwargs=dict(epochs=1, context=RunContext(on_event=slow_events, cache_dir=cache)),
    )
    trainer.start()
    try:
        assert started.wait(60)
        answers = []
        asker = threading.Thread(
            target=lambda: answers.append(load_cached_teacher("linear", sample_data, epochs=1, cache_dir=cache))
        )
        asker.start()
        asker.join(10)
        assert not asker.is_alive() and answers == [None]
    finally:
        release.set()
        trainer.join(60)
    assert load_cached_teacher("linear", sample_data, epochs=1, cache_dir=cache) is not None
