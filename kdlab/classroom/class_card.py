"""The class's runs on a compression card's accuracy-against-latency chart.

Every finished run of a class gives two points: its distilled student and its student alone, at the
test accuracy its summary records and at the measured one-image latency of its student's
architecture (``latency_ms(architecture)``: the same architecture has the same speed, so it is
measured once per architecture, not once per run; None for an architecture this server cannot build,
whose runs are left out).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from kdlab.classroom.board import ClassRun
from kdlab.i18n import _, number

POINT_ROLES = ("distilled", "baseline")  # the lab's role names, as the card's plots colour them


@dataclass(frozen=True)
class ClassPoint:
    """One of the class's students on the chart."""

    nickname: str
    architecture: str
    role: str  # "distilled" or "baseline"
    latency_ms: float
    accuracy: float  # of 1
    label: str  # "Calm Owl 17: mlp-100x1 from linear, T=4, α=0.5"


def class_points(
    runs: Iterable[ClassRun],
    latency_ms: Callable[[str], float | None],
    *,
    skip: Callable[[ClassRun], bool] | None = None,
) -> list[ClassPoint]:
    """The distilled student and the student alone of every run in ``runs`` with a known test size
    and errors (``skip`` leaves out runs, such as the card's own), oldest first."""
    latencies: dict[str, float | None] = {}
    points = []
    for run in runs:
        if not run.test_size or (skip is not None and skip(run)):
            continue
        # Translators: a point's hover text on the compression card: "Calm Owl 17: mlp-100x1 from linear, T=4, α=0.5".
        label = _("{nickname}: {student} from {teacher}, T={temperature}, α={alpha}").format(
            nickname=run.nickname,
            student=run.student,
            teacher=run.teacher,
            temperature=number(run.temperature),
            alpha=number(run.alpha),
        )
        for role, errors in zip(POINT_ROLES, (run.distilled_errors, run.baseline_errors)):
            if errors is None:
                continue
            if run.student not in latencies:
                latencies[run.student] = latency_ms(run.student)
            if latencies[run.student] is None:
                continue
            points.append(
                ClassPoint(run.nickname, run.student, role, latencies[run.student], 1 - errors / run.test_size, label)
            )
    return points
