"""The lab's live view of a feature- or relation-based method, live and in a run's result: the teacher's and the
student's side on the run's fixed test digits (``kdlab.plots.feature_views``) and their distance over the run, each
chart with a sentence of its numbers as its text alternative."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
import streamlit as st
import torch

from kdlab.i18n import N_, _, number, percent
from kdlab.ml.methods.registry import METHODS
from kdlab.plots import feature_views as plots

VIEW_NOTE = N_(
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
        return relations_text(view, _(plots.RELATION_WORDS.get(soft, plots.RELATIONS)))
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
            _(
                "at {block} ({side} × {side}) the student's brightest cell is the teacher's for {same} of {count} digits"
            ).format(block=_(plots.BLOCK_NAMES[tap]), side=side, same=same, count=len(labels))
        )
    digits = ", ".join(str(label) for label in labels)
    return _(
        "The teacher's and the student's attention maps for the test digits {digits} at epoch {epoch}: {blocks}."
    ).format(digits=digits, epoch=number(view["epoch"]), blocks="; ".join(parts))


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
    return _(
        "The teacher's and the student's {relations} between {count} test digits ({per_class} of each digit, "
        "sorted by digit) at epoch {epoch}. Within a digit: teacher {teacher_within}, student {student_within} on "
        "average; between different digits: teacher {teacher_between}, student {student_between}."
    ).format(
        relations=words,
        count=len(labels),
        per_class=per_class,
        epoch=number(view["epoch"]),
        teacher_within=number(teacher[0], 3),
        student_within=number(student[0], 3),
        teacher_between=number(teacher[1], 3),
        student_between=number(student[1], 3),
    )


def projection_text(view: Mapping) -> str:
    """How far the student's regressed features sit from the teacher's on the teacher's top two axes."""
    teacher, student = view["teacher"]["points"], view["student"]["points"]
    gaps = [((tx - sx) ** 2 + (ty - sy) ** 2) ** 0.5 for (tx, ty), (sx, sy) in zip(teacher, student)]
    spread = [(tx**2 + ty**2) ** 0.5 for tx, ty in teacher]  # the teacher's points around their mean, the origin
    shares = [percent(share) for share in view["teacher"].get("explained", [])]
    explained = (
        _("{first} and {second}").format(first=shares[0], second=shares[1]) if len(shares) == 2 else "".join(shares)
    )
    return _(
        "{count} test digits' hint features on the teacher's top two principal axes (they explain {explained} of its "
        "variance) at epoch {epoch}: a digit's student point sits {gap} from its teacher point on average, where the "
        "teacher's points lie {spread} from their mean."
    ).format(
        count=len(teacher),
        explained=explained,
        epoch=number(view["epoch"]),
        gap=number(sum(gaps) / len(gaps), 2),
        spread=number(sum(spread) / len(spread), 2),
    )


def distance_text(points: Sequence[Mapping[str, float]], name: str) -> str:
    """The distance's first, lowest and latest values over the run, with their epochs."""
    shown = [point for point in points if point.get("feature_distance") is not None]
    if not shown:
        return _("No {distance} measured yet.").format(distance=name.split(":")[0])
    first, last = shown[0], shown[-1]
    lowest = min(shown, key=lambda point: point["feature_distance"])
    return _(
        "{distance}. It was {first} at epoch {first_epoch}, is {last} at epoch {last_epoch}, and was lowest at "
        "{lowest} (epoch {lowest_epoch})."
    ).format(
        distance=plots.capitalised(name),
        first=_g4(first["feature_distance"]),
        first_epoch=number(first["epoch"]),
        last=_g4(last["feature_distance"]),
        last_epoch=number(last["epoch"]),
        lowest=_g4(lowest["feature_distance"]),
        lowest_epoch=number(lowest["epoch"]),
    )


def _g4(value: float) -> str:
    """``value`` to 4 significant digits (a distance may be 1e-5 or 300), in the language's decimal mark."""
    text = f"{value:.4g}"
    return text if "e" in text else number(float(text), max(0, len(text.split(".")[1]) if "." in text else 0))


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
    given, and its distance over the distilled student's curve ``points``, each with its sentence (in the current
    language)."""
    name = _(METHODS[soft].transfer.view.distance)
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
    st.caption(_(VIEW_NOTE))
