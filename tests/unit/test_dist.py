"""DIST (``kdlab.ml.methods.dist``, Huang et al. 2022): the loss by hand with numpy's Pearson, zero for a student
that copies the teacher, blind to an affine map of the probabilities, no gradient to the teacher, a learned
temperature's gradient, and a run."""

import argparse

import numpy as np
import pytest
import torch

from kdlab.classroom.lab_settings import lab_setting
from kdlab.classroom.links import parse_lab_link
from kdlab.cli.core import add_distill_arguments
from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.ml.curve_points import soft_split
from kdlab.ml.methods.dist import DistLoss, dist_loss, inter_class_relation, pearson
from kdlab.ml.methods.registry import METHODS, teacher_objective

STUDENT = [[1.0, 2.0, 0.0, -1.0], [0.5, 0.0, 0.0, 3.0], [2.0, 2.0, 1.0, 0.0]]
TEACHER = [[3.0, 0.0, 1.0, 0.0], [0.0, 1.0, 0.0, 2.0], [1.0, 0.0, 0.0, 0.5]]


def numpy_dist(student, teacher, temperature, inter_weight, intra_weight) -> float:
    """DIST from its definition, with numpy's correlation coefficient."""

    def softmax(logits):
        exp = np.exp(np.asarray(logits) / temperature)
        return exp / exp.sum(axis=1, keepdims=True)

    y_s, y_t = softmax(student), softmax(teacher)
    inter = 1 - np.mean([np.corrcoef(y_s[i], y_t[i])[0, 1] for i in range(y_s.shape[0])])
    intra = 1 - np.mean([np.corrcoef(y_s[:, c], y_t[:, c])[0, 1] for c in range(y_s.shape[1])])
    return temperature**2 * (inter_weight * inter + intra_weight * intra)


@pytest.mark.parametrize("temperature,inter_weight,intra_weight", [(1.0, 1.0, 1.0), (4.0, 2.0, 2.0), (2.0, 0.5, 4.0)])
def test_dist_is_the_papers_inter_and_intra_class_pearson_terms_by_hand(temperature, inter_weight, intra_weight):
    student, teacher = torch.tensor(STUDENT, dtype=torch.float64), torch.tensor(TEACHER, dtype=torch.float64)
    expected = numpy_dist(STUDENT, TEACHER, temperature, inter_weight, intra_weight)
    # rel 1e-5: the eps 1e-8 beside the centred norms' product (about 1e-3 at T = 4) moves DIST by 2e-6 of itself
    dist = dist_loss(student, teacher, temperature, inter_weight, intra_weight).item()
    assert dist == pytest.approx(expected, rel=1e-5)
    labels = torch.tensor([1, 3, 0])
    objective = DistLoss(teacher, temperature, 0.7, inter_weight, intra_weight)
    loss = objective([student], 0, labels, torch.arange(3))
    cross_entropy = torch.nn.functional.cross_entropy(student, labels).item()
    assert loss.soft.item() == pytest.approx(0.7 * dist) and loss.hard.item() == pytest.approx(0.3 * cross_entropy)
    assert loss.total.item() == pytest.approx(loss.soft.item() + loss.hard.item())


def test_dist_is_zero_when_the_students_softened_outputs_are_the_teachers():
    teacher = torch.tensor(TEACHER, dtype=torch.float64)
    for temperature in (1.0, 4.0):
        copied = dist_loss(teacher + 1.5, teacher, temperature, 2.0, 2.0).item()  # a shift leaves softmax as it is
        mismatched = dist_loss(torch.tensor(STUDENT, dtype=torch.float64), teacher, temperature, 2.0, 2.0).item()
        # not exactly 0: each Pearson is n^2 / (n^2 + 1e-8), and the centred columns' n^2 falls to 6e-4 at T = 4
        assert 0 <= copied < 1e-5 * mismatched


def test_pearson_and_so_the_inter_class_term_ignore_an_affine_map_of_the_students_probabilities():
    torch.manual_seed(0)
    student_probs = torch.randn(5, 10).softmax(dim=1)
    teacher_probs = torch.randn(5, 10).softmax(dim=1)
    mapped = 3.0 * student_probs + 0.2  # a student as sure as it likes, ranking alike
    assert torch.allclose(pearson(mapped, teacher_probs), pearson(student_probs, teacher_probs), atol=1e-6)
    inter = inter_class_relation(student_probs, teacher_probs).item()
    assert inter_class_relation(mapped, teacher_probs).item() == pytest.approx(inter, abs=1e-6)
    assert inter_class_relation(-student_probs, teacher_probs).item() == pytest.approx(2 - inter, abs=1e-6)


def test_dists_gradient_reaches_the_student_and_a_learned_temperature_but_never_the_teacher():
    student = torch.tensor(STUDENT, requires_grad=True)
    teacher = torch.tensor(TEACHER, requires_grad=True)
    temperature = torch.tensor(2.0, requires_grad=True)  # a learned T: a 0-d tensor that needs its gradient
    loss = DistLoss(teacher, temperature, 0.9, 1.0, 1.0)([student], 0, torch.tensor([1, 3, 0]), torch.arange(3))
    loss.total.backward()
    assert student.grad is not None and student.grad.abs().sum() > 0
    assert teacher.grad is None
    assert temperature.grad is not None and temperature.grad.abs() > 0


def test_dist_is_registered_with_its_two_weights_and_has_no_tckd_nckd_parts(sample_data):
    method = METHODS["dist"]
    assert method.label == "DIST" and method.unfit("ensemble:cnn*3", "linear") == ""
    assert [setting.name for setting in method.settings] == ["dist_inter", "dist_intra"]
    teacher = torch.tensor(TEACHER)
    objective = teacher_objective(teacher, 4.0, 0.5, "dist", dist_inter=2.0)
    assert (objective.inter, objective.intra, objective.temperature) == (2.0, 1.0, 4.0)
    assert method.anatomy == () and soft_split(objective, torch.nn.Identity(), teacher, torch.zeros(3), None) == (
        None,
        None,
    )
    settings = dict(teacher="linear", student="mlp-20x1", epochs=1, train_size=500, teacher_epochs=2, soft="dist")
    result = run_distillation(DistillConfig.build(**settings, dist_intra=2.0), sample_data)
    assert result.status == "completed" and all(point.tckd is None for point in result.student.history)
    with pytest.raises(ValueError, match="dist_inter must be a number from 0 to 10"):
        DistillConfig.build(soft="dist", dist_inter=11.0)


def test_the_lab_a_link_and_the_command_line_offer_dist_and_its_two_weights():
    method = lab_setting("soft")
    assert "dist" in method.options and method.option_labels["dist"] == "DIST" and "Huang et al. 2022" in method.help
    link = parse_lab_link({"soft": "dist", "dist_inter": "2", "dist_intra": "0.5"}, 4000)
    assert (link.values["soft"], link.values["dist_inter"], link.values["dist_intra"], link.problems) == (
        "dist",
        2.0,
        0.5,
        (),
    )
    parser = argparse.ArgumentParser()
    add_distill_arguments(parser)
    shown = " ".join(parser.format_help().split())
    assert "--dist-inter" in shown and "--dist-intra" in shown
    parsed = parser.parse_args(["--method", "dist", "--dist-intra", "4"])
    assert (parsed.soft, parsed.dist_inter, parsed.dist_intra) == ("dist", None, 4.0)
