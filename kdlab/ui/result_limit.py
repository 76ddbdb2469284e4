"""A finished lab run's line "How close is KD at this T to logit matching?" (``kdlab.runs.limit``), under its
curves; the teacher is the server's cached one of the run's name, when it is the run's (the same test errors)."""

from __future__ import annotations

import streamlit as st

from kdlab.i18n import N_, _, number
from kdlab.runs.limit import LIMIT_DIGITS, run_limit_cosines
from kdlab.runs.record import RunRecord
from kdlab.ui.resources import cached_teacher, get_data

QUESTION = N_("How close is KD at this T to logit matching?")


def _t(temperature: float) -> str:
    return number(float(f"{temperature:.3g}"))  # 3 significant digits, in the language's numbers


def render_run_limit(record: RunRecord) -> None:
    """One line: the cosines of ``run_limit_cosines`` in words; nothing when the run's student or teacher is gone."""
    config = record.config
    teacher = cached_teacher(config["teacher"])
    if teacher is None or teacher.record.test_errors != record.errors("teacher"):
        return
    test_images = get_data().test.images
    cosines = run_limit_cosines(record, test_images, teacher.test_logits)
    if not cosines:
        return
    count = min(len(test_images), LIMIT_DIGITS)
    values = [
        _("**{cosine}** at T = {temperature}").format(cosine=number(cosine, 3), temperature=_t(temperature))
        for temperature, cosine in cosines.items()
    ]
    if config.get("soft") == "logits":
        said = _(
            "This student learned by logit matching itself. On the first {count} test digits, the cosine between "
            "KD's push on its scores and logit matching's is {values} (1: the same direction)."
        ).format(count=number(count), values=", ".join(values))
    else:
        ((temperature, cosine),) = cosines.items()
        said = _(
            "On the first {count} test digits, KD at T = {temperature} pushes this distilled student's scores "
            "**{cosine}** of the way logit matching would (1: the same direction; a logit-matching run shows "
            "T = 4, 20 and 50)."
        ).format(count=number(count), temperature=_t(temperature), cosine=number(cosine, 3))
    if config.get("standardise"):
        said += " " + _(
            "This run standardised the scores, so the cosine is on each image's z-scored scores, as its soft term "
            "saw them."
        )
    st.markdown(f"**{_(QUESTION)}** {said}")
