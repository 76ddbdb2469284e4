"""The lab's sentence on where the dark knowledge sits: the weight classical KD gives the wrong
digits' ranking (NCKD, Zhao et al. 2022), the teacher's mean 1 - p_target at T on the run's
transfer set. The loss anatomy draws the two parts live (``kdlab.plots.lab.soft_split_lines``)."""

from __future__ import annotations

import streamlit as st

from kdlab.experiments.replays.decoupled import non_target_weight
from kdlab.ml.data import MnistData
from kdlab.ml.methods.registry import METHODS
from kdlab.serve.request import TrainRequest
from kdlab.teachers.teacher import Teacher

SURE = 0.05  # below this mean weight, the wrong digits' ranking is all but silenced


def non_target_text(
    weight: float, temperature: float, images: int, soft: str, method_settings: dict[str, float | None]
) -> str:
    """The sentence, e.g. "... weighted by 0.004 on average: the teacher is sure.", and what the run's method
    ``soft`` does with that weight (its ``dark_knowledge``, with its ``method_settings``, None the default)."""
    verdict = (
        "The teacher is sure, so classical KD all but silences how it ranks the wrong digits."
        if weight < SURE
        else "The softened teacher leaves the wrong digits a real share."
    )
    text = (
        f"**{weight:.3g}: the weight classical KD gives the wrong digits' ranking (NCKD)** at T = {temperature:g}. "
        f"It is the probability the teacher leaves for the wrong digits, 1 - p(right digit), on average over the "
        f"{images:,} transfer images. {verdict}"
    )
    method = METHODS[soft]
    if method.dark_knowledge:
        text += " " + method.dark_knowledge.format(**method.setting_values(method_settings))
    return text


def non_target_caption(teacher: Teacher | None, request: TrainRequest | None, data: MnistData) -> None:
    """The sentence for the run the controls ask for (nothing without a cached teacher or valid settings)."""
    if teacher is None or request is None:
        return
    config = request.config
    indices = request.transfer_indices
    weight = non_target_weight(teacher, indices, data.train.labels[indices], config.training.temperature)
    st.caption(non_target_text(weight, config.training.temperature, len(indices), config.soft, config.method_settings))
