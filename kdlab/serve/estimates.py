"""When a job should start and end: learned from the durations of recently finished jobs of its kind.

The runner (``kdlab.serve.runner``) keeps the durations and the queue; these functions turn them
into seconds for one job.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

RECENT_DURATIONS = 10  # finished jobs of a kind that the estimates learn from
MIN_PROGRESS_FOR_ETA = 0.03


def expected_seconds(recent: Iterable[tuple[float | None, float]], cost: float | None) -> float | None:
    """The seconds a job of ``cost`` should take, from ``recent`` (cost, seconds) pairs of its kind: per unit
    of cost when both sides know their cost, else their mean; None without history."""
    recent = list(recent)
    if not recent:
        return None
    costed = [(known, seconds) for known, seconds in recent if known]
    if cost and costed:
        return cost * sum(seconds for _, seconds in costed) / sum(known for known, _ in costed)
    return sum(seconds for _, seconds in recent) / len(recent)


def remaining_seconds(job: Any, recent: Iterable[tuple[float | None, float]], now: float) -> float | None:
    """The seconds until ``job`` (a ``kdlab.serve.runner.Job``) finishes: from its own progress once it says
    enough, else from the history of its kind."""
    elapsed = now - (job.started_at or now)
    if job.progress >= MIN_PROGRESS_FOR_ETA and elapsed >= 1:
        return elapsed * (1 - job.progress) / job.progress
    expected = expected_seconds(recent, job.cost)
    return None if expected is None else max(1.0, expected - elapsed)
