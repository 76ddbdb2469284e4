"""The KD loss against a hand-written formula and the properties Hinton et al. rely on."""

import math

import pytest
import torch
import torch.nn.functional as F

from kdlab.ml.losses import kd_loss, mutual_learning_loss, soft_target_kl


def _by_hand(student, teacher, targets, temperature, alpha):
    """alpha * T^2 * sum p_t (log p_t - log p_s) / B + (1 - alpha) * CE, written out."""
    p_teacher = torch.softmax(teacher / temperature, dim=1)
    log_p_student = torch.log(torch.softmax(student / temperature, dim=1))
    kl = (p_teacher * (torch.log(p_teacher) - log_p_student)).sum() / len(student)
    ce = -torch.log(torch.softmax(student, dim=1))[torch.arange(len(targets)), targets].mean()
    return alpha * temperature**2 * kl, (1 - alpha) * ce


@pytest.mark.parametrize("temperature,alpha", [(1.0, 0.5), (4.0, 0.9), (20.0, 0.3), (0.5, 1.0)])
def test_kd_loss_matches_hand_written_formula(temperature, alpha):
    generator = torch.Generator().manual_seed(0)
    student, teacher = torch.randn(8, 10, generator=generator), torch.randn(8, 10, generator=generator) * 3
    targets = torch.randint(0, 10, (8,), generator=generator)
    loss = kd_loss(student, teacher, targets, temperature, alpha)
    soft, hard = _by_hand(student.double(), teacher.double(), targets, temperature, alpha)
    assert loss.soft.item() == pytest.approx(soft.item(), rel=1e-5, abs=1e-6)
    assert loss.hard.item() == pytest.approx(hard.item(), rel=1e-5, abs=1e-6)
    assert loss.total.item() == pytest.approx(loss.soft.item() + loss.hard.item(), rel=1e-6)


def test_kl_part_is_non_negative_and_zero_when_student_equals_teacher():
    generator = torch.Generator().manual_seed(1)
    for _ in range(20):
        student, teacher = torch.randn(16, 10, generator=generator) * 5, torch.randn(16, 10, generator=generator) * 5
        assert soft_target_kl(student, teacher, 3.0).item() >= 0.0
    same = torch.randn(4, 10, generator=generator)
    assert soft_target_kl(same, same.clone(), 2.0).item() == pytest.approx(0.0, abs=1e-6)


def test_alpha_zero_is_cross_entropy_and_alpha_one_ignores_labels():
    generator = torch.Generator().manual_seed(2)
    student, teacher = torch.randn(8, 10, generator=generator), torch.randn(8, 10, generator=generator)
    targets = torch.randint(0, 10, (8,), generator=generator)
    plain = kd_loss(student, teacher, targets, 4.0, 0.0)
    assert plain.total.item() == pytest.approx(F.cross_entropy(student, targets).item(), rel=1e-6)
    assert plain.soft.item() == 0.0
    other_targets = (targets + 1) % 10
    assert kd_loss(student, teacher, targets, 4.0, 1.0).total.item() == pytest.approx(
        kd_loss(student, teacher, other_targets, 4.0, 1.0).total.item()
    )


def test_no_gradient_reaches_the_teacher():
    student = torch.randn(4, 10, requires_grad=True)
    teacher = torch.randn(4, 10, requires_grad=True)
    kd_loss(student, teacher, torch.tensor([0, 1, 2, 3]), 4.0, 0.7).total.backward()
    assert teacher.grad is None
    assert student.grad is not None and student.grad.abs().sum() > 0


def test_t_squared_keeps_soft_gradients_comparable_across_temperatures():
    # Hinton et al.: the soft-target gradients scale as 1/T^2, so T^2 restores their size.
    generator = torch.Generator().manual_seed(3)
    base_student = torch.randn(64, 10, generator=generator)
    teacher = torch.randn(64, 10, generator=generator)
    targets = torch.zeros(64, dtype=torch.long)
    norms = {}
    for temperature in (2.0, 5.0, 20.0):
        student = base_student.clone().requires_grad_(True)
        kd_loss(student, teacher, targets, temperature, 1.0).total.backward()
        norms[temperature] = student.grad.norm().item()
        # Without the T^2 factor the same gradient would be T^2 times smaller.
        student_unscaled = base_student.clone().requires_grad_(True)
        (soft_target_kl(student_unscaled, teacher, temperature) / temperature**2).backward()
        assert student_unscaled.grad.norm().item() == pytest.approx(norms[temperature] / temperature**2, rel=1e-4)
    # At high T the scaled gradient tends to (z_s - z_t) / (N B) up to mean terms: same order of size.
    assert max(norms.values()) / min(norms.values()) < 3.0
    assert norms[20.0] / norms[5.0] == pytest.approx(1.0, abs=0.25)


def test_mutual_learning_loss_detaches_the_peer():
    logits = torch.randn(4, 10, requires_grad=True)
    peer = torch.randn(4, 10, requires_grad=True)
    loss = mutual_learning_loss(logits, peer, torch.tensor([1, 2, 3, 4]))
    loss.total.backward()
    assert peer.grad is None and logits.grad is not None
    assert math.isfinite(loss.total.item())
