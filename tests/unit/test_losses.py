"""The KD loss against a hand-written formula and the properties Hinton et al. rely on."""

import math

import pytest
import torch
import torch.nn.functional as F

from kdlab.ml.losses import (
    DecoupledTeacherLoss,
    TeacherLoss,
    decoupled_kd_loss,
    decoupled_kl,
    kd_loss,
    mutual_learning_loss,
    soft_target_kl,
)
from kdlab.ml.methods.registry import teacher_objective


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


def _random_logits(seed, batch=32, classes=10, teacher_scale=6.0):
    generator = torch.Generator().manual_seed(seed)
    student = torch.randn(batch, classes, generator=generator) * 3
    teacher = torch.randn(batch, classes, generator=generator) * teacher_scale
    targets = torch.randint(0, classes, (batch,), generator=generator)
    teacher[torch.arange(batch), targets] += teacher_scale  # a teacher that mostly agrees with the label
    return student, teacher, targets


def _per_sample_kl(student, teacher, temperature):
    log_p_student = F.log_softmax(student / temperature, dim=1)
    log_p_teacher = F.log_softmax(teacher / temperature, dim=1)
    return (log_p_teacher.exp() * (log_p_teacher - log_p_student)).sum(dim=1) * temperature**2


@pytest.mark.parametrize("temperature", [1.0, 4.0, 20.0, 0.5])
def test_kd_is_tckd_plus_teacher_weighted_nckd_per_sample_and_batch_averaged(temperature):
    student, teacher, targets = _random_logits(10)
    # float32, as in training: at T = 20 the plain KL itself is only good to 1.3e-5 relative (against
    # float64), and the split to 1.4e-5, so float precision here is rtol 1e-4.
    single = decoupled_kl(student, teacher, targets, temperature)
    torch.testing.assert_close(
        single.tckd + single.non_target_weight * single.nckd,
        _per_sample_kl(student, teacher, temperature),
        rtol=1e-4,
        atol=1e-6,
    )
    kl = decoupled_kl(student.double(), teacher.double(), targets, temperature)
    recombined = kl.tckd + kl.non_target_weight * kl.nckd
    torch.testing.assert_close(recombined, _per_sample_kl(student.double(), teacher.double(), temperature))
    assert recombined.mean().item() == pytest.approx(soft_target_kl(student, teacher, temperature).item(), rel=1e-5)
    assert (kl.tckd >= -1e-12).all() and (kl.nckd >= -1e-12).all()


def test_decoupled_parts_by_hand_on_two_samples_of_three_classes():
    # Logits are log-probabilities, so softmax at T = 1 gives these probabilities back.
    teacher_probs = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])
    student_probs = torch.tensor([[0.25, 0.5, 0.25], [0.2, 0.2, 0.6]])
    targets = torch.tensor([0, 2])
    kl = decoupled_kl(student_probs.log(), teacher_probs.log(), targets, 1.0)
    # Sample 1: b_teacher = [0.5, 0.5], b_student = [0.25, 0.75]; the rest renormalised:
    # teacher [0.5, 0.5], student [0.5 / 0.75, 0.25 / 0.75] = [2/3, 1/3].
    tckd_1 = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)  # 0.143841
    nckd_1 = 0.5 * math.log(0.5 / (2 / 3)) + 0.5 * math.log(0.5 / (1 / 3))  # 0.058892
    # Sample 2: b_teacher = [0.8, 0.2], b_student = [0.6, 0.4]; the rest is [0.5, 0.5] on both sides.
    tckd_2 = 0.8 * math.log(0.8 / 0.6) + 0.2 * math.log(0.2 / 0.4)  # 0.091516
    torch.testing.assert_close(kl.tckd, torch.tensor([tckd_1, tckd_2]))
    torch.testing.assert_close(kl.nckd, torch.tensor([nckd_1, 0.0]))
    torch.testing.assert_close(kl.non_target_weight, torch.tensor([0.5, 0.2]))
    # Classical KL of sample 1, written out: 0.5 ln 2 + 0.25 ln(1/2) + 0.25 ln 1 = 0.25 ln 2.
    assert tckd_1 + 0.5 * nckd_1 == pytest.approx(0.25 * math.log(2))
    # The same probabilities at T = 2 (logits doubled): every part times T^2 = 4.
    doubled = decoupled_kl(2 * student_probs.log(), 2 * teacher_probs.log(), targets, 2.0)
    torch.testing.assert_close(doubled.tckd, 4 * kl.tckd)
    torch.testing.assert_close(doubled.nckd, 4 * kl.nckd)
    # DKD with alpha = 0.5: half of (TCKD + 8 NCKD) batch-averaged, plus half the cross-entropy.
    loss = decoupled_kd_loss(student_probs.log(), teacher_probs.log(), targets, 1.0, 0.5, 1.0, 8.0)
    soft = 0.5 * ((tckd_1 + tckd_2) / 2 + 8.0 * nckd_1 / 2)
    hard = 0.5 * -(math.log(0.25) + math.log(0.6)) / 2
    assert loss.soft.item() == pytest.approx(soft, rel=1e-5)
    assert loss.hard.item() == pytest.approx(hard, rel=1e-5)


def test_nckd_stays_finite_for_a_teacher_sure_of_the_digit():
    teacher = torch.tensor([[60.0, 0.0, -5.0]])  # p_target = 1 - 1e-26: 1 - p_t underflows, its log does not
    student = torch.tensor([[0.0, 1.0, 2.0]], requires_grad=True)
    kl = decoupled_kl(student, teacher, torch.tensor([0]), 1.0)
    assert torch.isfinite(kl.nckd).all() and kl.nckd.item() > 0.1
    kl.nckd.sum().backward()
    assert torch.isfinite(student.grad).all() and student.grad[0, 0].item() == 0.0  # NCKD ignores the target


@pytest.mark.parametrize("soft", ["tckd", "nckd", "dkd"])
def test_no_gradient_reaches_the_teacher_through_the_decoupled_losses(soft):
    student, teacher, targets = _random_logits(11, batch=6)
    student.requires_grad_(True)
    teacher.requires_grad_(True)
    objective = teacher_objective(teacher, 4.0, 0.7, soft, beta=8.0 if soft == "dkd" else None)
    assert isinstance(objective, DecoupledTeacherLoss)
    objective([student], 0, targets, torch.arange(6)).total.backward()
    assert teacher.grad is None
    assert student.grad is not None and student.grad.abs().sum() > 0


def test_the_objectives_weight_the_parts_as_named():
    student, teacher, targets = _random_logits(12)
    kl = decoupled_kl(student, teacher, targets, 4.0)
    index = torch.arange(len(student))
    expected = {"tckd": kl.tckd.mean(), "nckd": kl.nckd.mean(), "dkd": kl.tckd.mean() + 3.0 * kl.nckd.mean()}
    for soft, value in expected.items():
        loss = teacher_objective(teacher, 4.0, 1.0, soft, beta=3.0 if soft == "dkd" else None)(
            [student], 0, targets, index
        )
        assert loss.soft.item() == pytest.approx(value.item(), rel=1e-5)
        assert loss.hard.item() == 0.0


def test_kd_soft_mode_is_exactly_kd_loss():
    student, teacher, targets = _random_logits(13)
    objective = teacher_objective(teacher, 4.0, 0.9, "kd")
    assert isinstance(objective, TeacherLoss)
    index = torch.arange(len(student))
    loss = objective([student], 0, targets, index)
    assert loss.feature is None  # no feature term
    for got, expected in zip(loss[:3], kd_loss(student, teacher, targets, 4.0, 0.9)[:3]):
        assert torch.equal(got, expected)
    with pytest.raises(ValueError, match="choose one of kd, tckd, nckd, dkd"):
        teacher_objective(teacher, 4.0, 0.9, "tkd")
