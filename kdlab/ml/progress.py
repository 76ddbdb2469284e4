"""One progress bar over an experiment made of several training runs.

Every experiment (a lab run, a replay, a scheme comparison, a teacher) plans its stages with
their cost, then reports each stage's step events; ``ProgressTracker`` turns them into one
overall ``ProgressEvent`` (a fraction 0..1 and a message) that the command line prints and
the app's background jobs show as a bar with an ETA.
"""

from __future__ import annotations

from dataclasses import dataclass

from kdlab.ml.events import EventCallback, StepEvent, TrainEvent


@dataclass(frozen=True)
class ProgressEvent:
    """Overall progress of a multi-run experiment, 0..1: which stage runs and how far it is."""

    fraction: float
    stage: str  # "Student alone", "Teacher mlp-1200x2", ...
    detail: str = ""  # "step 120/2,350"

    @property
    def message(self) -> str:
        return f"{self.stage}: {self.detail}" if self.detail else self.stage


class ProgressTracker:
    """Turns the step events of several planned training runs into one overall fraction.

    ``weights`` gives each planned stage its share of the work (``training_cost``);
    ``start(stage, message)`` returns an ``on_event`` for that stage that forwards every
    event and adds a ``ProgressEvent``; ``finish(stage)`` ends it.
    """

    def __init__(self, on_event: EventCallback | None, weights: dict[str, float]):
        self._emit = on_event or (lambda event: None)
        self._weights = dict(weights)
        self._done: set[str] = set()
        self._stepped: set[str] = set()
        self._parts: dict[str, float] = {}  # stage -> its fraction done, for stages started and not finished

    def _fraction(self) -> float:
        done = sum(self._weights.get(name, 0.0) for name in self._done)
        current = sum(
            self._weights.get(name, 0.0) * part for name, part in self._parts.items() if name not in self._done
        )
        return min(1.0, (done + current) / (sum(self._weights.values()) or 1.0))

    def start(self, stage: str, message: str) -> EventCallback:
        """Announce ``stage`` and return the callback its training run should report to."""
        self._emit(ProgressEvent(self._fraction(), message))

        def forward(event: TrainEvent) -> None:
            self._emit(event)
            if isinstance(event, StepEvent):
                self._stepped.add(stage)
                self._parts[stage] = event.step / event.total_steps
                detail = f"step {event.step:,}/{event.total_steps:,}"
                self._emit(ProgressEvent(self._fraction(), message, detail))

        return forward

    def finish(self, stage: str) -> None:
        """Mark ``stage`` done. A stage that took no step (a teacher from the cache) leaves the
        plan, so the bar and its time estimate count only the work that really runs."""
        if stage not in self._stepped:
            self._weights.pop(stage, None)
        self._done.add(stage)

    def follow_runs(self, messages: dict[str, str]) -> EventCallback:
        """One ``on_event`` for an experiment whose planned runs report, told apart by ``event.run`` (a
        key of ``messages``, in plan order). When a run reports for the first time, the runs before it
        that never took a step are finished (a cached teacher leaves the plan); runs that train at
        once (a stack, ``kdlab.ml.stacked``) each count their own steps."""
        order = list(messages)
        callbacks: dict[str, EventCallback] = {}

        def forward(event) -> None:
            run = getattr(event, "run", None)
            if run not in messages:
                self._emit(event)
                return
            if run not in callbacks:
                for earlier in order[: order.index(run)]:
                    if earlier not in self._stepped:
                        self.finish(earlier)
                callbacks[run] = self.start(run, messages[run])
            callbacks[run](event)

        return forward

    def done(self, message: str) -> None:
        self._emit(ProgressEvent(1.0, message))
