"""A finished run's distance from the high-temperature limit: the gradient cosine on its distilled student's test
logits, at its T, or at 4, 20 and 50 for a logit-matching run."""

import dataclasses

import pytest

from kdlab.experiments.distill import run_distillation
from kdlab.ml.methods.logits import kd_gradient_cosine
from kdlab.ml.temperature import standardised
from kdlab.ml.train import predict_logits
from kdlab.runs.limit import COMPARED_TEMPERATURES, LIMIT_DIGITS, run_limit_cosines
from kdlab.runs.record import model_from_bytes, record_from_result
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def record(sample_data, linear_teacher):
    result = run_distillation(tiny_config(temperature=8.0), sample_data, teacher=linear_teacher)
    return record_from_result(result, sample_data.test.labels, number=1)


def test_a_kd_run_reports_the_cosine_at_its_own_temperature(record, sample_data, linear_teacher):
    test = sample_data.test
    cosines = run_limit_cosines(record, test.images, linear_teacher.test_logits)
    assert list(cosines) == [8.0]
    count = min(LIMIT_DIGITS, len(test))
    student = predict_logits(model_from_bytes(record.student_weights, "mlp-20x1"), test.images[:count])
    assert cosines[8.0] == pytest.approx(kd_gradient_cosine(student, linear_teacher.test_logits[:count], 8.0))
    assert 0 < cosines[8.0] < 1


def test_a_logit_matching_run_compares_three_temperatures_that_rise_to_the_limit(record, sample_data, linear_teacher):
    config = {**record.config, "soft": "logits"}
    matching = dataclasses.replace(record, summary={**record.summary, "config": config})
    cosines = run_limit_cosines(matching, sample_data.test.images, linear_teacher.test_logits)
    assert tuple(cosines) == COMPARED_TEMPERATURES
    assert cosines[4.0] < cosines[20.0] < cosines[50.0] <= 1.0


def test_a_run_without_its_students_weights_reports_nothing(record, sample_data, linear_teacher):
    kept_none = dataclasses.replace(record, student_weights=None)
    assert run_limit_cosines(kept_none, sample_data.test.images, linear_teacher.test_logits) == {}


def test_a_standardised_annealed_run_reports_the_cosine_where_t_ended_on_z_scored_logits(sample_data, linear_teacher):
    config = tiny_config(temperature=4.0, schedule="annealed", standardise=True)
    result = run_distillation(config, sample_data, teacher=linear_teacher)
    learned = record_from_result(result, sample_data.test.labels, number=2)
    ended = learned.curves["distilled"][-1]["temperature"]
    cosines = run_limit_cosines(learned, sample_data.test.images, linear_teacher.test_logits)
    assert list(cosines) == [ended] and ended != 4.0
    count = min(LIMIT_DIGITS, len(sample_data.test))
    student = predict_logits(model_from_bytes(learned.student_weights, "mlp-20x1"), sample_data.test.images[:count])
    teacher = linear_teacher.test_logits[:count]
    assert cosines[ended] == pytest.approx(kd_gradient_cosine(standardised(student), standardised(teacher), ended))
    assert cosines[ended] != pytest.approx(kd_gradient_cosine(student, teacher, ended))
