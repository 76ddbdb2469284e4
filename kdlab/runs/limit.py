"""How close a finished run's distilled student is to the high-temperature limit: the cosine between KD's gradient
and logit matching's on its test logits against the teacher's (``kdlab.ml.methods.logits.kd_gradient_cosine``), at
the run's T (where a schedule moved it: where the run ended), or for a logit-matching run (which has no T) at a few
temperatures to compare. A standardised run's soft term sees each image's z-scored logits, so its cosine is on those."""

from __future__ import annotations

import torch

from kdlab.ml.methods.logits import kd_gradient_cosine
from kdlab.ml.temperature import softened_inputs
from kdlab.ml.train import predict_logits
from kdlab.runs.record import RunRecord, model_from_bytes

LIMIT_DIGITS = 1000  # the first test digits: mlp-200x1 predicts them and the cosine takes about 10 ms
COMPARED_TEMPERATURES = (4.0, 20.0, 50.0)  # a logit-matching run's: the lab's default T, and two towards the limit


def limit_temperatures(record: RunRecord) -> tuple[float, ...]:
    """The temperatures a run's line reports: its own T (its last curve point's, where a schedule moved it), or
    ``COMPARED_TEMPERATURES`` for logit matching."""
    if record.config.get("soft") == "logits":
        return COMPARED_TEMPERATURES
    last = (record.curves.get("distilled") or [{}])[-1]
    return (float(last.get("temperature", record.config["temperature"])),)


def run_limit_cosines(record: RunRecord, test_images: torch.Tensor, teacher_logits: torch.Tensor) -> dict[float, float]:
    """T -> the cosine between KD's gradient at T and logit matching's on ``record``'s distilled student's logits
    for the first ``LIMIT_DIGITS`` of ``test_images`` (uint8 (N, 28, 28)) against ``teacher_logits`` (N, 10) for
    the same images; empty when the run kept no student weights."""
    if record.student_weights is None:
        return {}
    student = model_from_bytes(record.student_weights, record.config["student"])
    count = min(LIMIT_DIGITS, len(test_images))
    standardise = bool(record.config.get("standardise"))
    student_logits = softened_inputs(predict_logits(student, test_images[:count], torch.device("cpu")), standardise)
    teacher_logits = softened_inputs(teacher_logits[:count], standardise)  # (count, 10) each
    return {
        temperature: kd_gradient_cosine(student_logits, teacher_logits, temperature)
        for temperature in limit_temperatures(record)
    }
