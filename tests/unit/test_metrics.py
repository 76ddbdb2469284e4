"""Accuracy, confusion, softened probabilities, entropy and class similarity."""

import math

import pytest
import torch

from kdlab.ml.metrics import (
    apply_class_bias,
    class_similarity,
    confusion_matrix,
    entropy_bits,
    evaluate_logits,
    order_changes,
    softened_probabilities,
)


def test_evaluation_counts_errors_per_class_and_confusion():
    labels = torch.tensor([0, 0, 1, 1, 2])
    logits = torch.nn.functional.one_hot(torch.tensor([0, 1, 1, 1, 0]), 10).float()
    evaluation = evaluate_logits(logits, labels)
    assert evaluation.errors == 2 and evaluation.total == 5 and evaluation.accuracy == pytest.approx(0.6)
    assert evaluation.per_class_accuracy[:3] == (0.5, 1.0, 0.0)
    assert math.isnan(evaluation.per_class_accuracy[5])  # digit absent from the labels
    assert evaluation.confusion[0][1] == 1 and evaluation.confusion[2][0] == 1
    assert evaluation.as_dict()["per_class_accuracy"][5] is None  # JSON-safe
    assert confusion_matrix(torch.tensor([1]), torch.tensor([1])).sum() == 1


def test_temperature_softens_and_entropy_grows():
    logits = torch.tensor([[8.0, 2.0, 1.0, 0, 0, 0, 0, 0, 0, 0]])
    sharp, soft = softened_probabilities(logits, 1.0), softened_probabilities(logits, 10.0)
    assert torch.allclose(sharp.sum(), torch.tensor(1.0)) and torch.allclose(soft.sum(), torch.tensor(1.0))
    assert soft[0, 1] > sharp[0, 1] and soft[0, 0] < sharp[0, 0]
    assert entropy_bits(soft) > entropy_bits(sharp)
    assert entropy_bits(torch.full((10,), 0.1)).item() == pytest.approx(math.log2(10))
    # Ranking never changes with temperature.
    assert torch.equal(sharp.argsort(), soft.argsort())
    with pytest.raises(ValueError):
        softened_probabilities(logits, 0.0)


def test_one_networks_temperature_never_reorders_an_ensembles_average_can():
    generator = torch.Generator().manual_seed(0)
    for _ in range(200):
        logits = torch.randn(10, generator=generator) * 6
        for temperature in (0.5, 2.0, 4.0, 20.0, 50.0):
            softened = softened_probabilities(logits, temperature)
            assert order_changes(softened_probabilities(logits, 1.0), softened) == []
    # Two members: at T = 1 the first's runner-up (digit 1) leads the mean, at T = 20 the members' mean logit
    # puts digit 2 ahead (the second member scores digit 1 very low).
    members = torch.tensor([[10.0, 8.0, 5.0], [10.0, -20.0, 5.0]])
    plain = softened_probabilities(members, 1.0).mean(0)
    hot = softened_probabilities(members, 20.0).mean(0)
    assert plain[1] > plain[2] and hot[2] > hot[1]
    assert order_changes(plain, hot) == [(1, 2)]
    assert order_changes(torch.tensor([0.5, 0.0, 0.0]), torch.tensor([0.4, 0.2, 0.1])) == []  # a tie is no change


def test_class_similarity_rows_are_mean_soft_targets():
    logits = torch.tensor([[5.0, 1.0] + [0.0] * 8, [3.0, 3.0] + [0.0] * 8, [0.0, 4.0] + [0.0] * 8])
    labels = torch.tensor([0, 0, 1])
    similarity = class_similarity(logits, labels, 2.0)
    expected_row0 = softened_probabilities(logits[:2], 2.0).mean(0)
    assert torch.allclose(similarity[0], expected_row0)
    assert torch.allclose(similarity[1].sum(), torch.tensor(1.0))
    assert torch.isnan(similarity[2]).all()


def test_class_bias_changes_only_that_class():
    logits = torch.zeros(2, 10)
    biased = apply_class_bias(logits, {3: 3.5})
    assert biased[:, 3].tolist() == [3.5, 3.5] and biased.sum().item() == 7.0
    assert logits.sum().item() == 0.0  # the stored logits are not modified
