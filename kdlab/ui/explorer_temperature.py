"""The explorer's temperature beyond one number: the high-temperature limit (how close KD's gradient comes to
logit matching's as T grows, computed with autograd on the teacher's real logits) and standardised logits (the
chosen digit's soft targets at Z(z) / T beside z / T, and the per-sample effective temperature that is).

The explorer has no trained student, so the student here is the lab's default student as the lab's Train starts
it: untrained, seed 0. Its logits are small (a spread of about 0.2 against the teacher's 6.7), so the gradients
are those of a student that has learned nothing yet.
"""

from __future__ import annotations

import streamlit as st
import torch
from torch import nn

from kdlab.classroom.glossary import FirstUses
from kdlab.experiments.distill import DEFAULT_STUDENT
from kdlab.i18n import _, number
from kdlab.ml.methods.logits import kd_gradient_cosine
from kdlab.ml.models import build_model
from kdlab.ml.temperature import effective_temperatures, standardised
from kdlab.ml.train import predict_logits
from kdlab.plots import temperature as plots
from kdlab.plots.style import with_source
from kdlab.plots.temperature import significant
from kdlab.teachers.teacher import Teacher
from kdlab.ui.resources import get_data

LIMIT_BATCH = 1000  # test digits in the batch line: 14 temperatures x 1,000 digits take about 10 ms
STUDENT_SEED = 0  # the lab's default seed: the student its Train starts from
LIMIT_LEVEL = 0.99  # "close to the limit": the caption names the first T where the batch reaches this


@st.cache_resource(show_spinner=False)
def untrained_student(architecture: str) -> nn.Module:
    """The lab's ``architecture`` as its Train starts it (seed 0), shared read-only: only ever evaluated."""
    return build_model(architecture, seed=STUDENT_SEED).eval()


def gradient_cosines(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperatures) -> list[float]:
    """``kd_gradient_cosine`` at each temperature, for student and teacher logits (B, 10)."""
    return [kd_gradient_cosine(student_logits, teacher_logits, temperature) for temperature in temperatures]


def at(temperatures, cosines: list[float], temperature: float) -> float:
    return cosines[list(temperatures).index(temperature)]


def render_limit(
    shown_label: str,
    teacher: Teacher,
    digit: torch.Tensor,
    teacher_row: torch.Tensor,
    temperature: float,
    temperatures: list[float],
    words: FirstUses,
) -> None:
    """The high-temperature limit for the digit on the page (``digit`` (28, 28) uint8, ``teacher_row`` (10,) its
    teacher logits) and for the first ``LIMIT_BATCH`` test digits: a curve over T, a sentence with its numbers
    and the numbers as a table."""
    student = untrained_student(DEFAULT_STUDENT)
    test_images = get_data().test.images[:LIMIT_BATCH]  # (B, 28, 28) uint8
    student_row = predict_logits(student, digit[None], torch.device("cpu"))  # (1, 10)
    student_batch = predict_logits(student, test_images, torch.device("cpu"))  # (B, 10)
    teacher_batch = teacher.test_logits[: len(test_images)]  # (B, 10)
    digit_line = gradient_cosines(student_row, teacher_row[None], temperatures)
    batch_line = gradient_cosines(student_batch, teacher_batch, temperatures)
    batch_name = _("{count} test digits").format(count=number(len(test_images)))
    this_digit = _("this digit")
    st.subheader(_("The high-temperature limit"))
    st.markdown(
        words.link(
            _(
                "At high T, distilling becomes matching the teacher's scores (logits) directly (Hinton et al. 2015, "
                "section 2.1). Here is how close it comes: the cosine between the way KD at T pushes a student's "
                "scores and the way logit matching (the squared gap between the centred scores) pushes them. 1 means "
                "the same direction."
            )
        )
    )
    figure = plots.limit_curve(temperatures, {this_digit: digit_line, batch_name: batch_line}, temperature)
    st.plotly_chart(with_source(figure, shown_label), key="explorer.limit")
    highest = max(temperatures)
    reached = next((t for t, cosine in zip(temperatures, batch_line) if cosine >= LIMIT_LEVEL), None)
    spread = float(teacher_batch.std(dim=1).median())
    values = dict(
        temperature=number(temperature),
        digit=number(at(temperatures, digit_line, temperature), 3),
        batch=number(at(temperatures, batch_line, temperature), 3),
        batch_name=batch_name,
        highest=number(highest),
        digit_highest=number(digit_line[-1], 3),
        batch_highest=number(batch_line[-1], 3),
        level=number(LIMIT_LEVEL),
        spread=number(spread, 1),
    )
    if reached is not None:
        sentence = _(
            "At T = {temperature} KD pushes this digit's scores **{digit}** of the way logit matching would ({batch} "
            "over the {batch_name}); at T = {highest}, **{digit_highest}** ({batch_highest}). The {batch_name} first "
            "reach {level} at T = {reached}: the limit needs T well above the spread of the teacher's scores (a "
            "standard deviation of {spread} for the median digit). Only the scores' differences count: adding a "
            "number to all ten changes neither loss, which is why logit matching compares centred scores."
        ).format(**values, reached=number(reached))
    else:
        sentence = _(
            "At T = {temperature} KD pushes this digit's scores **{digit}** of the way logit matching would ({batch} "
            "over the {batch_name}); at T = {highest}, **{digit_highest}** ({batch_highest}). The {batch_name} stay "
            "under {level} up to T = {highest}: the limit needs T well above the spread of the teacher's scores (a "
            "standard deviation of {spread} for the median digit). Only the scores' differences count: adding a "
            "number to all ten changes neither loss, which is why logit matching compares centred scores."
        ).format(**values)
    st.markdown(sentence)
    st.caption(
        _(
            "Computed now with autograd on the teacher's scores and those of the lab's default student, {student}, "
            "untrained (seed {seed}, as the lab's Train starts it): the explorer has no trained student."
        ).format(student=DEFAULT_STUDENT, seed=STUDENT_SEED)
    )
    with st.expander(_("The numbers as a table")):
        st.table(
            {
                "T": [number(t) for t in temperatures],
                this_digit: [number(cosine, 4) for cosine in digit_line],
                batch_name: [number(cosine, 4) for cosine in batch_line],
            }
        )


def render_standardised(
    teacher: Teacher, teacher_row: torch.Tensor, label: int | None, temperature: float, words: FirstUses
) -> None:
    """With standardised logits: the digit's soft targets at Z(z) / T beside z / T, its effective temperature, and
    the range of effective temperatures over the test digits."""
    row = teacher_row[None]  # (1, 10)
    raw = torch.softmax(row / temperature, dim=1)[0]
    shaped = torch.softmax(standardised(row) / temperature, dim=1)[0]
    effective = float(effective_temperatures(row, temperature)[0])
    everyone = effective_temperatures(teacher.test_logits, temperature)  # (N_test,)
    low, median, high = (float(value) for value in everyone.quantile(torch.tensor([0.0, 0.5, 1.0])))
    figure = plots.standardised_bars(raw.tolist(), shaped.tolist(), temperature, effective, label)
    st.plotly_chart(figure, key="explorer.standardised")
    st.markdown(
        words.link(
            _(
                "**Standardised logits**: each digit's scores are z-scored (minus their mean, over their spread) "
                "before T. For this digit that is the same as an **effective temperature of {effective}**: T = "
                "{temperature} × its scores' spread of {spread}. Over the {count} test digits the effective "
                "temperature runs from **{low}** (median {median}) to **{high}**: standardising gives each sample "
                "its own temperature, higher where the teacher's scores spread wider (Sun et al. 2024)."
            ).format(
                effective=significant(effective),
                temperature=number(temperature),
                spread=number(effective / temperature, 2),
                count=number(len(everyone)),
                low=significant(low),
                median=significant(median),
                high=significant(high),
            )
        )
    )
