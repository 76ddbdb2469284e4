"""The lab's sentence on where the dark knowledge sits: the weight classical KD gives the wrong
digits' ranking (NCKD, Zhao et al. 2022), the teacher's mean 1 - p_target at T on the run's
transfer set. The loss anatomy draws the two parts live (``kdlab.plots.lab.soft_split_lines``)."""

from __future__ import annotations

import streamlit as st
from babel.numbers import format_decimal

from kdlab.experiments.replays.decoupled import non_target_weight
from kdlab.i18n import _, number, number_locale
from kdlab.ml.data import MnistData
from kdlab.ml.methods.registry import METHODS
from kdlab.serve.request import TrainRequest
from kdlab.teachers.teacher import Teacher

SURE = 0.05  # below this mean weight, the wrong digits' ranking is all but silenced


def short_number(value: float) -> str:
    """``value`` to three significant digits in the current language's decimal mark ("0.00412", "0,00412")."""
    return format_decimal(float(f"{value:.3g}"), format="0.##########", locale=number_locale())


def non_target_text(
    weight: float, temperature: float, images: int, soft: str, method_settings: dict[str, float | None]
) -> str:
    """The sentence, e.g. "... weighted by 0.004 on average: the teacher is sure.", and what the run's method
    ``soft`` does with that weight (its ``dark_knowledge``, with its ``method_settings``, None the default)."""
    verdict = (
        _("The teacher is sure, so classical KD all but silences how it ranks the wrong digits.")
        if weight < SURE
        else _("The softened teacher leaves the wrong digits a real share.")
    )
    text = _(
        "**{weight}: the weight classical KD gives the wrong digits' ranking (NCKD)** at T = {temperature}. It is the "
        "probability the teacher leaves for the wrong digits, 1 - p(right digit), on average over the {images} "
        "transfer images."
    ).format(weight=short_number(weight), temperature=short_number(temperature), images=number(images))
    text += " " + verdict
    method = METHODS[soft]
    if method.dark_knowledge:
        settings = {name: short_number(value) for name, value in method.setting_values(method_settings).items()}
        text += " " + _(method.dark_knowledge).format(**settings)
    return text


def non_target_caption(teacher: Teacher | None, request: TrainRequest | None, data: MnistData) -> None:
    """The sentence for the run the controls ask for (nothing without a cached teacher or valid settings)."""
    if teacher is None or request is None:
        return
    config = request.config
    indices = request.transfer_indices
    weight = non_target_weight(teacher, indices, data.train.labels[indices], config.training.temperature)
    st.caption(non_target_text(weight, config.training.temperature, len(indices), config.soft, config.method_settings))
