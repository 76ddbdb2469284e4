"""The compression card of a lab run, from its record: each model measured the same way.

The teacher is measured when the server's teacher is the run's (the same test errors); the distilled
student and the student alone from the weights the record keeps (``student_weights``,
``baseline_weights``), with their test answers recomputed on the test set, so accuracy and
calibration are measured, not copied. A record that kept no weights for the student alone (an older
run, a stopped student alone, or weights dropped to save memory) still gets its size and speed, from
its architecture freshly built (the same architecture: the same parameters, bytes and speed), with
the run's accuracy and no calibration, and a note that says so.
"""

from __future__ import annotations

import dataclasses

from kdlab.experiments.card import ModelCard, measure_card
from kdlab.ml.data import ImageSet
from kdlab.ml.models import build_model
from kdlab.ml.train import predict_logits
from kdlab.runs.record import RunRecord, model_from_bytes
from kdlab.teachers.teacher import Teacher

NO_TEACHER = "The teacher of this run is not in the server's teacher cache, so it was not measured."
NO_STUDENT = "This run's student weights were not kept, so the distilled student was not measured."
NO_BASELINE_WEIGHTS = (
    "This run did not keep the student alone's weights (an older run, a student alone stopped before the end, "
    "or weights dropped to save memory): the student alone was measured on its architecture (the distilled "
    "student's, so the same size and speed), its accuracy is the run's and its calibration is unknown."
)


def record_cards(
    record: RunRecord, test: ImageSet, teacher: Teacher | None, *, repeats: int = 30
) -> tuple[dict[str, ModelCard], list[str]]:
    """The cards of ``record``'s models by the lab's role names ("teacher", "distilled", "baseline"), and
    notes on what could not be measured. ``teacher`` is the server's teacher of that name, if any."""
    config, notes = record.config, []
    cards: dict[str, ModelCard] = {}
    if teacher is not None and teacher.record.test_errors == record.errors("teacher"):
        cards["teacher"] = measure_card(
            teacher.model, config["teacher"], test_logits=teacher.test_logits, labels=test.labels, repeats=repeats
        )
    else:
        notes.append(NO_TEACHER)
    for role, weights in (("distilled", record.student_weights), ("baseline", record.baseline_weights)):
        if weights is not None:
            model = model_from_bytes(weights, config["student"])
            logits = predict_logits(model, test.images)  # (N_test, 10)
            cards[role] = measure_card(
                model, config["student"], test_logits=logits, labels=test.labels, repeats=repeats
            )
        elif role == "distilled":
            notes.append(NO_STUDENT)
        elif record.errors("baseline") is not None:
            alone = measure_card(
                build_model(config["student"], seed=config["seed"]), config["student"], repeats=repeats
            )
            cards["baseline"] = dataclasses.replace(alone, accuracy=record.accuracy("baseline"))
            notes.append(NO_BASELINE_WEIGHTS)
    return cards, notes
