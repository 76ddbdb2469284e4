"""``kdlab.serve.rate.RateLimit``: a sliding window per key, with bounded memory."""

import pytest

from kdlab.serve.rate import RateLimit


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_key_at_its_limit_waits_for_the_window_to_pass():
    clock = Clock()
    limit = RateLimit(3, 60.0, clock=clock)
    for _ in range(3):
        assert limit.allows("session:a", None)
        limit.record("session:a", None)
    assert not limit.allows("session:a") and limit.allows("session:b")
    assert limit.seconds_left("session:a") == pytest.approx(60.0)
    clock.now += 30
    assert not limit.allows("session:a") and limit.seconds_left("session:a") == pytest.approx(30.0)
    clock.now += 30.5
    assert limit.allows("session:a") and limit.seconds_left("session:a") == 0.0


def test_any_key_at_its_limit_refuses():
    limit = RateLimit(1, 60.0)
    limit.record("address:203.0.113.1")
    assert not limit.allows("session:new", "address:203.0.113.1")  # a new tab from the same address


def test_a_flood_of_keys_keeps_memory_bounded():
    limit = RateLimit(1, 60.0, max_keys=100)
    for number in range(10_000):
        limit.record(f"address:{number}")
    assert len(limit._events) == 100
    assert not limit.allows("address:9999")  # the most recent are the ones kept


def test_a_limit_needs_sensible_numbers():
    with pytest.raises(ValueError, match="limit >= 1"):
        RateLimit(0, 60.0)


def test_a_key_is_forgotten_once_its_window_passes_quietly():
    clock = Clock()
    limit = RateLimit(3, 60.0, clock=clock)
    limit.record("session:closed")
    limit.allows("session:checked-only")  # asked about, never recorded
    clock.now += 61
    limit.record("session:new")
    assert list(limit._events) == ["session:new"]  # a closed session's key does not stay
    clock.now += 30
    limit.record("session:other")
    assert list(limit._events) == ["session:new", "session:other"]  # inside the window: kept
