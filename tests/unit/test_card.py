"""The compression card: measured sizes and timings, and calibration checked by hand."""

import io
import json

import pytest
import torch

from kdlab.experiments.card import (
    ECE_BINS,
    ModelCard,
    calibration,
    headline,
    latency_ms,
    measure_card,
    result_cards,
)
from kdlab.experiments.distill import run_distillation
from kdlab.ml.models import build_model
from tests.conftest import tiny_config
from tests.unit.test_cli import run_cli


def rows(*confidences_of_class_0):
    return torch.tensor([[confidence, 1 - confidence] for confidence in confidences_of_class_0])


def test_ece_by_hand():
    # confidences 0.9 (right) and 0.91 (wrong) share bin (13/15, 14/15]: accuracy 0.5 against 0.905;
    # 0.7 (right) is alone in (10/15, 11/15]: accuracy 1 against 0.7.
    probabilities = rows(0.9, 0.09, 0.7)
    labels = torch.tensor([0, 0, 0])
    ece, bins = calibration(probabilities, labels)
    assert ece == pytest.approx((2 * abs(0.5 - 0.905) + abs(1 - 0.7)) / 3)
    assert len(bins) == ECE_BINS and sum(b.count for b in bins) == 3
    assert bins[13].count == 2 and bins[13].accuracy == 0.5 and bins[13].confidence == pytest.approx(0.905)
    assert bins[0].count == 0 and bins[0].accuracy is None


def test_ece_is_zero_for_perfectly_calibrated_answers():
    # Ten answers at confidence 0.6 of which six are right, and four certain right answers.
    probabilities = torch.cat([rows(*[0.6] * 10), rows(*[1.0] * 4)])
    labels = torch.tensor([0] * 6 + [1] * 4 + [0] * 4)
    ece, _ = calibration(probabilities, labels)
    assert ece == pytest.approx(0.0, abs=1e-6)  # float32 probabilities


def test_latency_is_positive_repeatable_and_restores_the_thread_count():
    model = build_model("mlp-20x1", seed=0)
    before = torch.get_num_threads()
    first, second = latency_ms(model, 1, repeats=20), latency_ms(model, 1, repeats=20)
    assert first > 0 and second > 0
    assert 1 / 5 < first / second < 5
    assert torch.get_num_threads() == before


def test_sizes_are_those_of_the_saved_files(tmp_path):
    model = build_model("lenet5", seed=0)
    card = measure_card(model, "lenet5", repeats=3)
    buffer = io.BytesIO()
    torch.save(dict(model.state_dict()), buffer)  # the tensors alone, as the lab's weights download saves them
    assert card.bytes == len(buffer.getvalue())
    assert card.parameters == 61_706 and card.onnx_bytes > 4 * card.parameters  # float32 weights inside
    assert card.accuracy is None and card.ece is None  # no answers given: nothing claimed


def test_cards_of_a_run_carry_its_accuracies(sample_data, linear_teacher):
    result = run_distillation(tiny_config(), sample_data, teacher=linear_teacher)
    cards = result_cards(result, sample_data.test)
    summary = result.summary()
    for role in ("teacher", "student", "baseline"):
        assert cards[role].accuracy == pytest.approx(summary[role]["test_accuracy"])
        assert 0 <= cards[role].ece <= 1
        assert cards[role].latency_ms_batch256 > cards[role].latency_ms_one > 0
    assert cards["student"].parameters == cards["baseline"].parameters == 784 * 20 + 20 + 20 * 10 + 10


def card(parameters, flops, latency, accuracy):
    return ModelCard(
        "x", parameters, flops, 4 * parameters, 4 * parameters, latency, 256 * latency, 1, accuracy, 0.0, ()
    )


def test_headline_is_computed_from_the_numbers():
    teacher, student = card(1_112_042, 9_600_000, 1.2, 0.9935), card(159_010, 320_000, 0.1, 0.9745)
    assert headline(teacher, student) == (
        "Distilled: 7.0x smaller, 30x less compute, 12x faster per image, 1.9 points less accurate than its teacher"
    )


def test_distill_card_flag_adds_compression_objects_and_only_then(linear_teacher):
    common = ["distill", "--teacher", "linear", "--teacher-epochs", "2", "--student", "mlp-20x1", "--epochs", "1"]
    plain = run_cli(*common, "--train-size", "500", "--baseline", "--json")
    carded = run_cli(*common, "--train-size", "500", "--baseline", "--card", "--json")
    assert plain.returncode == 0 and carded.returncode == 0, carded.stderr
    plain_report, report = json.loads(plain.stdout), json.loads(carded.stdout)
    fields = {"parameters", "bytes", "onnx_bytes", "latency_ms_one", "latency_ms_batch256", "threads", "ece"}
    for role in ("teacher", "student", "baseline"):
        assert "compression" not in plain_report[role]
        assert fields <= set(report[role]["compression"])
        assert report[role]["compression"]["accuracy"] == pytest.approx(report[role]["test_accuracy"])
        assert report[role]["test_errors"] == plain_report[role]["test_errors"]  # the card changes no number
    assert "Distilled: " in carded.stderr
