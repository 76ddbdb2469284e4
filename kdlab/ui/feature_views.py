"""The lab's live view of a feature- or relation-based method, live and in a run's result: the teacher's and the
student's side on the run's fixed test digits (``kdlab.plots.feature_views``) and their distance over the run, each
chart with a sentence of its numbers as its text alternative."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st
import torch

from kdlab.ml.methods.registry import METHODS
from kdlab.plots import feature_views as plots

VIEW_NOTE = (
    "The same test digits at every curve point, never trained on: the teacher's side is read once, the student's "
    "at each point, in eval mode (it changes nothing in the run)."
)


def digit_images(view: Mapping, test_images: torch.Tensor | None, test_labels: torch.Tensor | None) -> list | None:
    """The fixed digits' images (28 x 28 lists) from the server's test set, or None where the view's digits are not
    this test set's (a run of another data source)."""
    if test_images is None or test_labels is None:
        return None
    digits = view.get("digits") or []
    if not digits or max(digits) >= len(test_labels) or test_labels[digits].tolist() != list(view["labels"]):
        return None
    return test_images[digits].tolist()


def view_text(soft: str, view: Mapping) -> str:
    """The view's figure in one or two sentences with its numbers."""
    figure = METHODS[soft].transfer.view.figure
    if figure == "attention":
        return attention_text(view)
    if figure == "relations":
        return relations_text(view, plots.RELATION_WORDS.get(soft, "relations"))
    return projection_text(view)


def _peak(values: Sequence[float]) -> int:
    return max(range(len(values)), key=values.__getitem__)


def attention_text(view: Mapping) -> str:
    """Where the teacher's and the student's attention maps peak, digit by digit, at each block."""
    labels, teacher, student = view["labels"], view["teacher"], view["student"]
    parts = []
    for tap in (tap for tap in plots.BLOCK_NAMES if tap in teacher):
        side = round(len(teacher[tap][0]) ** 0.5)
        same = sum(_peak(t) == _peak(s) for t, s in zip(teacher[tap], student[tap]))
        parts.append(
            f"at {plots.BLOCK_NAMES[tap]} ({side} × {side}) the student's brightest cell is the teacher's for {same} of "
            f"{len(labels)} digits"
        )
    digits = ", ".join(str(label) for label in labels)
    return (
        f"The teacher's and the student's attention maps for the test digits {digits} at epoch {view['epoch']:g}: "
        + "; ".join(parts)
        + "."
    )


def _block_means(matrix: Sequence[Sequence[float]], labels: Sequence[int]) -> tuple[float, float]:
    """The mean entry between two different digits of the same class, and between digits of different classes."""
    within, between = [], []
    for row, first in enumerate(labels):
        for column, second in enumerate(labels):
            if row != column:
                (within if first == second else between).append(matrix[row][column])
    mean = lambda values: sum(values) / len(values) if values else float("nan")  # noqa: E731
    return mean(within), mean(between)


def relations_text(view: Mapping, words: str) -> str:
    """The relation matrices' block structure in numbers: their mean within a digit and between digits."""
    labels = view["labels"]
    teacher = _block_means(view["teacher"]["matrix"], labels)
    student = _block_means(view["student"]["matrix"], labels)
    per_class = max(labels.count(label) for label in set(labels))
    return (
        f"The teacher's and the student's {words} between {len(labels)} test digits ({per_class} of each digit, "
        f"sorted by digit) at epoch {view['epoch']:g}. Within a digit: teacher {teacher[0]:.3f}, student "
        f"{student[0]:.3f} on average; between different digits: teacher {teacher[1]:.3f}, student {student[1]:.3f}."
    )


def projection_text(view: Mapping) -> str:
    """How far the student's regressed features sit from the teacher's on the teacher's top two axes."""
    teacher, student = view["teacher"]["points"], view["student"]["points"]
    gaps = [((tx - sx) ** 2 + (ty - sy) ** 2) ** 0.5 for (tx, ty), (sx, sy) in zip(teacher, student)]
    spread = [(tx**2 + ty**2) ** 0.5 for tx, ty in teacher]  # the teacher's points around their mean, the origin
    explained = " and ".join(f"{share:.0%}" for share in view["teacher"].get("explained", []))
    return (
        f"{len(teacher)} test digits' hint features on the teacher's top two principal axes (they explain {explained} "
        f"of its variance) at epoch {view['epoch']:g}: a digit's student point sits {sum(gaps) / len(gaps):.2f} from "
        f"its teacher point on average, where the teacher's points lie {sum(spread) / len(spread):.2f} from their mean."
    )


def distance_text(points: Sequence[Mapping[str, float]], name: str) -> str:
    """The distance's first, lowest and latest values over the run, with their epochs."""
    shown = [point for point in points if point.get("feature_distance") is not None]
    if not shown:
        return f"No {name.split(':')[0]} measured yet."
    first, last = shown[0], shown[-1]
    lowest = min(shown, key=lambda point: point["feature_distance"])
    return (
        f"{name[:1].upper()}{name[1:]}. It was {first['feature_distance']:.4g} at epoch {first['epoch']:g}, is "
        f"{last['feature_distance']:.4g} at epoch {last['epoch']:g}, and was lowest at {lowest['feature_distance']:.4g} "
        f"(epoch {lowest['epoch']:g})."
    )


@dataclass(frozen=True)
class ViewFigures:
    """A view's two charts and their sentences, built once (shared by every session watching a live run)."""

    view: go.Figure
    view_text: str
    distance: go.Figure
    distance_text: str


def view_figures(
    soft: str, view: Mapping, points: Sequence[Mapping[str, float]], images: list | None = None
) -> ViewFigures:
    """The method ``soft``'s ``view`` (``kdlab.runs.record.view_point``) with the fixed digits' ``images`` when
    given, and its distance over the distilled student's curve ``points``, each with its sentence."""
    name = METHODS[soft].transfer.view.distance
    figure = plots.view_figure(soft, view, images)
    return ViewFigures(figure, view_text(soft, view), plots.distance_curve(points, name), distance_text(points, name))


def render_view_figures(figures: ViewFigures, *, key: str) -> None:
    """The view and its distance side by side, each sentence shown under its chart and given as its text
    alternative."""
    left, right = st.columns([3, 2])  # the view wider: five columns of maps, or two matrices of 40 x 40
    with left:
        st.plotly_chart(figures.view, key=f"{key}.view", alt=figures.view_text)
        st.caption(figures.view_text)
    with right:
        st.plotly_chart(figures.distance, key=f"{key}.distance", alt=figures.distance_text)
        st.caption(figures.distance_text)
    st.caption(VIEW_NOTE)
