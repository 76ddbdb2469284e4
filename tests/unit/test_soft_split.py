"""The live split of the soft term (``kdlab.ml.curve_points.soft_split``): at each curve point a
distilled student's TCKD part and NCKD part as its loss weights them; for classical KD they add up to
the soft term on the same images."""

import pytest
import torch

from kdlab.experiments.distill import run_distillation
from kdlab.ml.context import RunContext
from kdlab.ml.curve_points import SPLIT_IMAGES
from kdlab.ml.data import normalize
from kdlab.ml.losses import TeacherLoss, decoupled_kl, soft_target_kl
from kdlab.ml.methods.registry import teacher_objective
from kdlab.ml.train import EvalEvent
from kdlab.runs.record import curve_point
from tests.conftest import tiny_config


def test_the_parts_add_up_to_the_kd_soft_term_and_each_loss_weights_its_own():
    torch.manual_seed(0)
    student, teacher, labels = torch.randn(64, 10), torch.randn(64, 10) * 3, torch.randint(0, 10, (64,))
    index = torch.arange(64)
    tckd, nckd = TeacherLoss(teacher, 4.0, 0.9).soft_parts(student, labels, index)
    assert float(tckd + nckd) == pytest.approx(0.9 * float(soft_target_kl(student, teacher, 4.0)), rel=1e-5)
    kl = decoupled_kl(student, teacher, labels, 4.0)
    dkd = teacher_objective(teacher, 4.0, 0.5, "dkd", beta=2.0).soft_parts(student, labels, index)
    assert dkd.tolist() == pytest.approx([0.5 * float(kl.tckd.mean()), 0.5 * 2.0 * float(kl.nckd.mean())], rel=1e-5)
    assert teacher_objective(teacher, 4.0, 0.5, "nckd").soft_parts(student, labels, index)[0] == 0


def test_each_curve_point_of_the_distilled_student_carries_the_split(sample_data, linear_teacher):
    events = []
    config = tiny_config(epochs=2, seed=3)
    result = run_distillation(config, sample_data, teacher=linear_teacher, context=RunContext(on_event=events.append))
    points = [event for event in events if isinstance(event, EvalEvent)]
    distilled = [event for event in points if event.run == "distilled"]
    assert distilled and all(event.tckd is not None and event.nckd is not None for event in distilled)
    assert all(event.tckd is None for event in points if event.run == "baseline")
    baseline = next(event for event in points if event.run == "baseline")
    assert "tckd" in curve_point(distilled[-1]) and "tckd" not in curve_point(baseline)  # records as before
    # The last point is after the last step: the final student's split, recomputed by hand.
    indices = config.transfer_indices(sample_data)[:SPLIT_IMAGES]
    model = result.student.model.eval()
    with torch.no_grad():
        logits = model(normalize(sample_data.train.images[indices]))
    teacher_logits = linear_teacher.logits_at(config.training.temperature)[indices]
    soft = config.training.alpha * soft_target_kl(logits, teacher_logits, config.training.temperature)
    assert distilled[-1].tckd + distilled[-1].nckd == pytest.approx(float(soft), rel=1e-4)
