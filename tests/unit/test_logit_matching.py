"""Logit matching (``kdlab.ml.methods.logits``): the loss by hand, and KD's gradient tending to its gradient as
T grows (Hinton et al. 2015, section 2.1), computed with autograd."""

import pytest
import torch

from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.ml.losses import soft_target_kl
from kdlab.ml.methods.logits import centred, kd_gradient_cosine, logit_matching_loss
from kdlab.ml.methods.registry import METHODS, teacher_objective


def test_logit_matching_is_the_squared_gap_of_the_centred_logits_and_ignores_a_shift():
    student, teacher = torch.tensor([[1.0, 2.0, 3.0]]), torch.tensor([[0.0, 0.0, 3.0]])
    # centred: [-1, 0, 1] and [-1, -1, 2]: gaps 0, 1, -1, so (0 + 1 + 1) / (2 * 3)
    assert logit_matching_loss(student, teacher).item() == pytest.approx(1 / 3)
    assert logit_matching_loss(student + 5.0, teacher - 2.0).item() == pytest.approx(1 / 3)  # softmax's own freedom
    assert torch.allclose(centred(student).sum(dim=1), torch.zeros(1))


def test_kds_gradient_turns_toward_logit_matchings_as_the_temperature_grows():
    torch.manual_seed(0)
    student, teacher = 3 * torch.randn(16, 10), 3 * torch.randn(16, 10)
    cosines = [kd_gradient_cosine(student, teacher, temperature) for temperature in (1.0, 4.0, 20.0, 100.0)]
    assert cosines == sorted(cosines) and cosines[0] < 0.9 and cosines[-1] > 0.999
    student_grad = student.clone().requires_grad_(True)
    soft_target_kl(student_grad, teacher, 200.0).backward()
    matching = student.clone().requires_grad_(True)
    logit_matching_loss(matching, teacher).backward()
    gap = (student_grad.grad - matching.grad).abs().max()
    assert gap < 0.02 * matching.grad.abs().max()  # the limit: the same gradient, not only its direction


def test_logit_matching_is_a_method_every_pair_fits_and_its_temperature_changes_nothing(sample_data):
    assert METHODS["logits"].unfit("ensemble:cnn*3", "linear") == ""
    teacher, student, labels = torch.randn(6, 10), torch.randn(6, 10), torch.randint(0, 10, (6,))
    at_two = teacher_objective(teacher, 2.0, 0.7, "logits")([student], 0, labels, torch.arange(6))
    at_nine = teacher_objective(teacher, 9.0, 0.7, "logits")([student], 0, labels, torch.arange(6))
    assert torch.equal(at_two.total, at_nine.total)
    assert at_two.soft.item() == pytest.approx(0.7 * logit_matching_loss(student, teacher).item())
    settings = dict(teacher="linear", student="mlp-20x1", epochs=1, train_size=500, teacher_epochs=2, soft="logits")
    result = run_distillation(DistillConfig.build(**settings), sample_data)
    assert result.status == "completed" and all(point.tckd is None for point in result.student.history)
