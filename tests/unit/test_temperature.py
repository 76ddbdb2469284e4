"""Standardised logits (Sun et al. 2024) and the temperature schedules (annealed; CTKD's learned T), by hand."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.ml.losses import TeacherLoss, kd_loss
from kdlab.ml.methods.registry import teacher_objective
from kdlab.ml.temperature import (
    CURRICULUM_SHARE,
    GradientReversal,
    ScheduledObjective,
    TemperatureSchedule,
    curriculum_weight,
    effective_temperatures,
    standardised,
)


def test_standardised_logits_are_z_scores_unchanged_by_shifting_or_scaling_a_sample():
    logits = torch.tensor([[1.0, 2.0, 3.0, 6.0], [0.0, -4.0, 4.0, 0.0]])
    by_hand = [
        [(v - 3.0) / math.sqrt(14 / 3) for v in (1.0, 2.0, 3.0, 6.0)],
        [0.0, -4 / math.sqrt(32 / 3), 4 / math.sqrt(32 / 3), 0.0],
    ]
    assert torch.allclose(standardised(logits), torch.tensor(by_hand), atol=1e-5)
    moved = logits * torch.tensor([[3.0], [0.5]]) + torch.tensor([[-7.0], [2.0]])  # each sample its own shift and scale
    assert torch.allclose(standardised(moved), standardised(logits), atol=1e-5)
    # with the raw logits, the same change alters KD's soft term; standardised, it does not
    labels = torch.tensor([3, 2])
    teacher = torch.tensor([[0.5, 1.0, 2.0, 5.0], [1.0, -2.0, 3.0, 0.0]])
    raw = [kd_loss(student, teacher, labels, 2.0, 1.0).soft for student in (logits, moved)]
    same = [kd_loss(student, teacher, labels, 2.0, 1.0, standardise=True).soft for student in (logits, moved)]
    assert not torch.isclose(raw[0], raw[1]) and torch.isclose(same[0], same[1], atol=1e-5)


def test_the_effective_temperature_is_the_base_times_each_samples_spread():
    logits = torch.tensor([[1.0, 2.0, 3.0, 6.0], [0.0, -4.0, 4.0, 0.0]])
    effective = effective_temperatures(logits, 2.0)
    assert effective.tolist() == pytest.approx([2 * math.sqrt(14 / 3), 2 * math.sqrt(32 / 3)], rel=1e-5)
    plain = F.softmax(logits / effective[:, None], dim=1)
    assert torch.allclose(F.softmax(standardised(logits) / 2.0, dim=1), plain, atol=1e-5)


def test_the_gradient_reversal_passes_the_value_and_turns_its_gradient_round():
    value = torch.tensor(1.5, requires_grad=True)
    out = GradientReversal.apply(value, 0.25)
    assert out.item() == 1.5
    (out * 4.0).backward()
    assert value.grad.item() == pytest.approx(-0.25 * 4.0)  # d(4 x)/dx = 4, reversed and weighted


def test_the_curriculum_rises_from_zero_to_one_then_stays():
    assert curriculum_weight(0.0) == 0.0
    assert curriculum_weight(CURRICULUM_SHARE / 2) == pytest.approx(0.5)
    assert curriculum_weight(CURRICULUM_SHARE) == pytest.approx(1.0) == curriculum_weight(1.0)


def test_schedules_start_at_the_runs_temperature_and_an_annealed_one_ends_at_one():
    for kind in ("constant", "annealed", "learned"):
        assert TemperatureSchedule(kind, 6.0).current(0.0) == pytest.approx(6.0, rel=1e-5)
    annealed = TemperatureSchedule("annealed", 6.0)
    values = [annealed.current(step / 10) for step in range(11)]
    assert values[-1] == pytest.approx(1.0) and all(a > b for a, b in zip(values, values[1:]))
    with pytest.raises(ValueError, match="schedule"):
        TemperatureSchedule("cyclic", 4.0)


def test_a_learned_temperature_climbs_the_soft_term_the_student_descends():
    """CTKD's adversary: once the curriculum weighs in, theta's gradient is minus the soft term's, and its own
    gradient step (not the student's optimiser) raises the soft term."""
    torch.manual_seed(0)
    teacher, student = torch.randn(8, 10) * 3, torch.randn(8, 10, requires_grad=True)
    labels = torch.randint(0, 10, (8,))
    objective = ScheduledObjective(TeacherLoss(teacher, 4.0, 1.0), TemperatureSchedule("learned", 4.0))
    objective.attach(None, total_steps=2)
    objective.steps = 2  # the end of the run: lambda = 1
    theta = objective.schedule.theta
    before = objective([student], 0, labels, torch.arange(8)).total
    before.backward()
    # the same soft term as a function of T, by autograd without the reversal
    temperature = torch.tensor(objective.temperature_now, requires_grad=True)
    kd_loss(student.detach(), teacher, labels, temperature, 1.0).total.backward()
    dt_dtheta = (temperature.item() - 1.0) * (1 - (temperature.item() - 1.0) / 20.0)  # 20 sigmoid'(theta)
    assert theta.grad.item() == pytest.approx(-temperature.grad.item() * dt_dtheta, rel=1e-3)
    assert student.grad is not None and student.grad.abs().sum() > 0  # the student still descends
    after = objective([student.detach()], 0, labels, torch.arange(8)).total  # theta stepped first
    assert theta.grad is None and after.item() > before.item()


def test_the_curriculum_holds_a_learned_temperature_still_at_the_start():
    teacher, student = torch.randn(8, 10) * 3, torch.randn(8, 10, requires_grad=True)
    objective = ScheduledObjective(TeacherLoss(teacher, 4.0, 1.0), TemperatureSchedule("learned", 4.0))
    objective.attach(None, total_steps=1000)
    objective([student], 0, torch.zeros(8, dtype=torch.long), torch.arange(8)).total.backward()  # lambda = 0
    objective([student], 0, torch.zeros(8, dtype=torch.long), torch.arange(8))
    assert objective.temperature_now == pytest.approx(4.0, abs=1e-6)


def test_logit_matching_takes_neither_standardising_nor_a_schedule():
    teacher = torch.randn(4, 10)
    for change in ({"standardise": True}, {"schedule": "annealed"}):
        with pytest.raises(ValueError, match="no temperature"):
            teacher_objective(teacher, 4.0, 0.9, "logits", **change)
        with pytest.raises(ValueError, match="no temperature"):
            DistillConfig.build(soft="logits", **change)
    with pytest.raises(ValueError, match="schedule"):
        DistillConfig.build(schedule="sometimes")


def test_a_learned_temperature_run_draws_t_and_records_where_it_ended(sample_data):
    settings = dict(teacher="linear", student="mlp-20x1", epochs=2, train_size=2000, teacher_epochs=2)
    learned = run_distillation(DistillConfig.build(schedule="learned", **settings), sample_data)
    points = [point.temperature for point in learned.student.history]
    assert learned.status == "completed" and all(value is not None for value in points)
    assert points[0] == pytest.approx(4.0, abs=0.3) and abs(points[-1] - points[0]) > 0.05  # it moved
    summary = learned.summary()
    assert summary["student"]["final_temperature"] == pytest.approx(points[-1], abs=1e-3)
    assert summary["config"]["schedule"] == "learned" and summary["config"]["standardise"] is False
    assert all(point.temperature is None for point in learned.baseline.history)  # the student alone has no T
    constant = run_distillation(DistillConfig.build(**settings), sample_data)
    assert "final_temperature" not in constant.summary()["student"]
