"""A finished lab run's line "How close is KD at this T to logit matching?" (``kdlab.runs.limit``), under its
curves; the teacher is the server's cached one of the run's name, when it is the run's (the same test errors)."""

from __future__ import annotations

import streamlit as st

from kdlab.runs.limit import LIMIT_DIGITS, run_limit_cosines
from kdlab.runs.record import RunRecord
from kdlab.ui.resources import cached_teacher, get_data

QUESTION = "How close is KD at this T to logit matching?"


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
    values = [f"**{cosine:.3f}** at T = {temperature:.3g}" for temperature, cosine in cosines.items()]
    if config.get("soft") == "logits":
        said = (
            f"This student learned by logit matching itself. On the first {count:,} test digits, the cosine between "
            f"KD's push on its scores and logit matching's is {', '.join(values)} (1: the same direction)."
        )
    else:
        ((temperature, cosine),) = cosines.items()
        said = (
            f"On the first {count:,} test digits, KD at T = {temperature:.3g} pushes this distilled student's scores "
            f"**{cosine:.3f}** of the way logit matching would (1: the same direction; a logit-matching run shows "
            "T = 4, 20 and 50)."
        )
    if config.get("standardise"):
        said += " This run standardised the scores, so the cosine is on each image's z-scored scores, as its soft term saw them."
    st.markdown(f"**{QUESTION}** {said}")
