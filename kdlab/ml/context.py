"""What every job carries down to the training loop: ``RunContext`` (where progress goes, when to stop,
where to train, where trained teachers are kept).

One object instead of four keywords, so a function between a job and the loop passes it on whole
and only the functions that use a part of it read that part."""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, replace

import torch

from kdlab.ml.events import EventCallback, TrainEvent


@dataclass(frozen=True)
class RunContext:
    """A job's events, stop flag, device and teacher cache; every part optional.

    Attributes:
        on_event: called with each ``StepEvent``, ``EvalEvent`` and ``EpochEvent``; None drops them.
        stop: when set, runs end after their current step and return as "stopped"; None never stops.
        device: where to train; None picks one (``kdlab.ml.train.pick_device``) where training starts.
        cache_dir: where trained teachers are kept; None is the settings' cache directory.
    """

    on_event: EventCallback | None = None
    stop: threading.Event | None = None
    device: torch.device | None = None
    cache_dir: str | os.PathLike | None = None

    def emit(self, event: TrainEvent | object) -> None:
        """Hand ``event`` (a ``TrainEvent``, or an experiment's own, such as a stage) to ``on_event``, if there is one."""
        if self.on_event is not None:
            self.on_event(event)

    @property
    def stopped(self) -> bool:
        """Whether the stop flag is set."""
        return self.stop is not None and self.stop.is_set()

    def with_events(self, on_event: EventCallback | None) -> RunContext:
        """This context with its events going to ``on_event`` instead (a part of a job relabels them)."""
        return replace(self, on_event=on_event)
