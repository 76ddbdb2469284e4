"""kdlab.ml.context: RunContext's parts and helpers."""

import threading
from dataclasses import FrozenInstanceError

import pytest
import torch

from kdlab.ml.context import RunContext


def test_an_empty_context_drops_events_and_never_stops():
    context = RunContext()
    context.emit("anything")  # no listener: nothing happens
    assert not context.stopped
    assert context.device is None and context.cache_dir is None


def test_events_go_to_on_event_and_the_stop_flag_is_read_live():
    events, stop = [], threading.Event()
    context = RunContext(on_event=events.append, stop=stop)
    context.emit(1)
    assert events == [1] and not context.stopped
    stop.set()
    assert context.stopped


def test_with_events_replaces_only_the_events():
    stop, first, second = threading.Event(), [], []
    context = RunContext(on_event=first.append, stop=stop, device=torch.device("cpu"), cache_dir="cache")
    relabelled = context.with_events(second.append)
    relabelled.emit("event")
    assert second == ["event"] and first == []
    assert (relabelled.stop, relabelled.device, relabelled.cache_dir) == (stop, torch.device("cpu"), "cache")
    with pytest.raises(FrozenInstanceError):
        relabelled.stop = None
