"""Ensemble teachers: names, the averaging (checked by hand on tiny logits), the teacher they make,
and that they teach wherever one network can (distillation, schemes, the command line)."""

import json
import math

import pytest
import torch
import torch.nn.functional as F

import kdlab.experiments.distill as distill
from kdlab.cli import main
from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.experiments.schemes import SchemeConfig
from kdlab.ml.context import RunContext
from kdlab.ml.losses import soft_target_kl
from kdlab.ml.metrics import evaluate_logits
from kdlab.ml.models import build_model, describe_model
from kdlab.ml.train import StepEvent
from kdlab.teachers.cache import is_teacher_cached, resolve_teacher
from kdlab.teachers.ensembles import (
    EnsembleModel,
    average_probabilities,
    describe_teacher,
    disagreement,
    parse_teacher_name,
    soft_target_logits,
)

LOG3 = math.log(3.0)
# Two members over two classes: p1 = (0.25, 0.75) and p2 = (0.5, 0.5) at T = 1.
MEMBERS = torch.tensor([[[0.0, LOG3]], [[0.0, 0.0]]])  # (M=2, N=1, C=2)


# ---------------------------------------------------------------- averaging, by hand


def test_the_ensemble_averages_probabilities_not_logits():
    averaged = average_probabilities(MEMBERS, 1.0)[0]
    assert torch.allclose(averaged, torch.tensor([0.375, 0.625]))
    # The geometric mean (averaging logits) would give softmax([0, log(3) / 2]) = (0.366, 0.634) instead.
    assert not torch.allclose(averaged, torch.softmax(MEMBERS.mean(0)[0], -1), atol=1e-3)
    assert torch.allclose(soft_target_logits(MEMBERS, 1.0)[0], torch.log(torch.tensor([0.375, 0.625])))


def test_soft_targets_at_t_average_the_members_softened_probabilities():
    # At T = 2 the members' logits (0, log 9) and (0, 0) soften to (0.25, 0.75) and (0.5, 0.5).
    members = torch.tensor([[[0.0, 2 * LOG3]], [[0.0, 0.0]]])
    expected = torch.tensor([0.375, 0.625])
    assert torch.allclose(average_probabilities(members, 2.0)[0], expected)
    logits = soft_target_logits(members, 2.0)
    assert torch.allclose(torch.softmax(logits / 2.0, -1)[0], expected)  # what the KD loss computes from them
    # Softening the T = 1 average is a different distribution: the ensemble's targets at T need the members.
    assert not torch.allclose(torch.softmax(soft_target_logits(members, 1.0) / 2.0, -1)[0], expected, atol=1e-3)


def test_the_kd_loss_against_an_ensemble_is_kl_to_the_averaged_softened_targets():
    torch.manual_seed(0)
    members, student = torch.randn(3, 5, 10) * 4, torch.randn(5, 10)
    temperature = 4.0
    targets = torch.softmax(members / temperature, -1).mean(0)  # (5, 10), by hand
    by_hand = (targets * (targets.log() - F.log_softmax(student / temperature, -1))).sum(1).mean() * temperature**2
    loss = soft_target_kl(student, soft_target_logits(members, temperature), temperature)
    assert torch.allclose(loss, by_hand, atol=1e-5)


def test_one_member_is_just_that_network():
    logits = torch.randn(4, 10)
    assert torch.allclose(torch.softmax(soft_target_logits(logits[None], 3.0) / 3.0, -1), torch.softmax(logits / 3, -1))


def test_disagreement_counted_by_hand():
    predictions = torch.tensor([[0, 1, 2], [0, 1, 1], [0, 2, 2]])  # members x images
    logits = F.one_hot(predictions, 10).float()  # (3, 3, 10)
    result = disagreement(logits)
    assert result.images == 3
    assert result.any_fraction == pytest.approx(2 / 3)  # images 1 and 2
    assert result.pairwise_fraction == pytest.approx((1 / 3 + 1 / 3 + 2 / 3) / 3)


def test_the_ensemble_module_returns_the_log_of_the_averaged_probabilities():
    members = [build_model("mlp-10x1", seed=seed).eval() for seed in (0, 1)]
    inputs = torch.randn(6, 1, 28, 28)
    expected = soft_target_logits(torch.stack([member(inputs) for member in members]), 1.0)
    assert torch.allclose(EnsembleModel(members)(inputs), expected, atol=1e-6)


def test_an_ensembles_size_is_its_members_sum():
    info = describe_teacher("ensemble:cnn,lenet5")
    assert info.parameters == describe_model("cnn").parameters + describe_model("lenet5").parameters
    assert describe_teacher("ensemble:linear*3").flops_per_image == 3 * describe_model("linear").flops_per_image
    assert describe_teacher("cnn") == describe_model("cnn")


# ---------------------------------------------------------------- names


@pytest.mark.parametrize(
    ("name", "canonical", "members", "offsets"),
    [
        ("cnn", "cnn", ("cnn",), (0,)),
        ("ensemble:cnn*5", "ensemble:cnn*5", ("cnn",) * 5, (0, 1, 2, 3, 4)),
        (" ensemble: cnn , lenet5 ", "ensemble:cnn,lenet5", ("cnn", "lenet5"), (0, 0)),
        (
            "ensemble:cnn,lenet5,mlp-1200x2",
            "ensemble:cnn,lenet5,mlp-1200x2",
            ("cnn", "lenet5", "mlp-1200x2"),
            (0, 0, 0),
        ),
    ],
)
def test_teacher_names_parse(name, canonical, members, offsets):
    parsed = parse_teacher_name(name)
    assert (parsed.name, parsed.architectures, parsed.seed_offsets) == (canonical, members, offsets)
    assert parsed.is_ensemble == (len(members) > 1)
    assert parsed.member_seeds(7) == tuple(7 + offset for offset in offsets)


BAD_NAMES = [
    ("", "Choose a teacher"),
    ("ensemble:", "names no members"),
    ("ensemble:cnn", "2 to 5 members; 'ensemble:cnn' has 1 \\(for one network"),
    ("ensemble:cnn*1", "2 to 5 members"),
    ("ensemble:cnn*11", "2 to 5 members; 'ensemble:cnn\\*11' has 11"),
    ("ensemble:cnn*x", "'x' in 'ensemble:cnn\\*x' is not a number of seeds"),
    ("ensemble:cnn,resnet", "Ensemble member 'resnet'.*Unknown architecture 'resnet'"),
    ("ensemble:cnn,cnn", "lists cnn more than once.*ensemble:cnn\\*2"),
    ("ensemble:cnn,,lenet5", "empty member"),
    ("ensemble:cnn*2,lenet5", "mixes a member list and seeds"),
    ("ensemble:ensemble:cnn*2", "nests an ensemble"),
    ("ensemble:mlp-5x1*2", "out of range"),
    ("ensemble:" + ",".join(["cnn"] * 80), "at most 200"),
    ("ensemble:cnn-wide*10", "2 to 5 members"),
    ("ensemble:cnn*\u0663", "is not a number of seeds"),  # an Arabic-Indic 3
    ("ensemble:mlp-100x1,mlp-0100x1", "lists mlp-100x1 more than once"),  # one model under two spellings
]


@pytest.mark.parametrize(("name", "message"), BAD_NAMES)
def test_bad_teacher_names_are_rejected_with_a_message(name, message):
    with pytest.raises(ValueError, match=message):
        parse_teacher_name(name)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("mlp-0100x1", "mlp-100x1"),
        (" ensemble: mlp-010x01 * 03 ", "ensemble:mlp-10x1*3"),
        ("ensemble:mlp-0050x2,lenet5", "ensemble:mlp-50x2,lenet5"),
    ],
)
def test_spellings_of_one_teacher_parse_to_one_canonical_name(name, canonical):
    assert parse_teacher_name(name).name == canonical
    assert describe_teacher(name).name == canonical


def test_configs_take_ensemble_names_and_reject_bad_ones():
    assert DistillConfig(teacher="ensemble: lenet5*2").teacher == "ensemble:lenet5*2"
    assert SchemeConfig(teacher="ensemble:cnn,lenet5").teacher == "ensemble:cnn,lenet5"
    assert DistillConfig(teacher="mlp-0100x1", student="mlp-020x1").student == "mlp-20x1"
    assert SchemeConfig(student="mlp-010x1", assistant="mlp-0100x1").assistant == "mlp-100x1"
    with pytest.raises(ValueError, match="2 to 5 members"):
        DistillConfig(teacher="ensemble:cnn*12")
    with pytest.raises(ValueError, match="more than once"):
        SchemeConfig(teacher="ensemble:lenet5,lenet5")


@pytest.mark.parametrize(
    "argv",
    [
        ["distill", "--teacher", "ensemble:cnn*11"],
        ["distill", "--teacher", "ensemble:cnn,cnn"],
        ["teacher", "--arch", "ensemble:cnn,resnet"],
        ["schemes", "--teacher", "ensemble:"],
    ],
)
def test_the_command_line_rejects_bad_ensembles_with_exit_2_and_one_line(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("kdlab: error:") and "\n" not in err and "Traceback" not in err


# ---------------------------------------------------------------- the teacher an ensemble makes


@pytest.fixture(scope="module")
def linear_pair(sample_data):
    """``ensemble:linear*2`` on the sample, trained once for this module (two seeds of a linear model)."""
    events = []
    teacher = resolve_teacher(
        "ensemble:linear*2", sample_data, epochs=2, seed=3, context=RunContext(on_event=events.append)
    )
    return teacher, events


def test_an_ensemble_is_a_teacher_made_of_cached_members(sample_data, linear_pair):
    teacher, _ = linear_pair
    assert teacher.is_ensemble and teacher.status == "completed"
    assert [member.record.seed for member in teacher.members] == [3, 4]
    # Each member is the ordinary cached teacher of its architecture and seed.
    assert teacher.members[1] is resolve_teacher("linear", sample_data, epochs=2, seed=4)
    assert is_teacher_cached("ensemble:linear*2", sample_data, epochs=2, seed=3)
    assert not is_teacher_cached("ensemble:linear*3", sample_data, epochs=2, seed=3)
    stacked = torch.stack([member.test_logits for member in teacher.members])
    assert torch.allclose(teacher.test_logits, torch.log(torch.softmax(stacked, -1).mean(0)), atol=1e-5)
    evaluation = evaluate_logits(teacher.test_logits, sample_data.test.labels)
    assert (teacher.record.test_errors, teacher.record.architecture) == (evaluation.errors, "ensemble:linear*2")
    assert teacher.record.parameters == 2 * describe_model("linear").parameters


def test_an_ensembles_soft_targets_at_t_come_from_its_members(sample_data, linear_pair):
    teacher, _ = linear_pair
    stacked = torch.stack([member.train_logits for member in teacher.members])  # (2, N, 10)
    for temperature in (1.0, 4.0):
        targets = torch.softmax(teacher.logits_at(temperature) / temperature, -1)
        assert torch.allclose(targets, torch.softmax(stacked / temperature, -1).mean(0), atol=1e-5)
    images = sample_data.train.images[:50]
    assert torch.allclose(teacher.predict(images, 4.0), teacher.logits_at(4.0)[:50], atol=1e-4)


def test_an_ensembles_summary_has_its_members_best_member_and_disagreement(linear_pair):
    teacher, _ = linear_pair
    summary = teacher.summary()
    json.dumps(summary, allow_nan=False)
    assert [member["seed"] for member in summary["members"]] == [3, 4]
    best = min(teacher.members, key=lambda member: member.record.test_errors)
    assert summary["best_member"]["test_errors"] == best.record.test_errors == teacher.best_member().record.test_errors
    stacked = torch.stack([member.test_logits for member in teacher.members])
    assert summary["test_disagreement"]["any"] == disagreement(stacked).any_fraction
    assert "arithmetic mean" in summary["averaging"]


def test_members_training_reports_as_one_run(linear_pair):
    _, events = linear_pair
    steps = [(event.step, event.total_steps) for event in events if isinstance(event, StepEvent)]
    assert steps, "the members trained in this test session and reported steps"
    totals = {total for _, total in steps}
    assert len(totals) == 1
    done = [step for step, _ in steps]
    assert done == sorted(done) and done[-1] == next(iter(totals))  # one bar from 0 to 1, not one per member


def test_a_student_distils_from_an_ensemble(sample_data, linear_pair, monkeypatch):
    teacher, _ = linear_pair
    given = []
    real_objective = distill.teacher_objective

    def capture(teacher_logits, *args, **kwargs):  # the soft targets the distilled student learns from
        given.append(teacher_logits)
        return real_objective(teacher_logits, *args, **kwargs)

    monkeypatch.setattr(distill, "teacher_objective", capture)
    config = DistillConfig.build(
        teacher="ensemble:linear*2",
        student="mlp-10x1",
        epochs=1,
        train_size=500,
        temperature=5.0,
        teacher_seed=3,
        teacher_epochs=2,
    )
    result = run_distillation(config, sample_data, teacher=teacher)
    assert result.status == "completed"
    indices = config.transfer_indices(sample_data)
    stacked = torch.stack([member.train_logits[indices] for member in teacher.members])
    assert torch.allclose(torch.softmax(given[0] / 5.0, -1), torch.softmax(stacked / 5.0, -1).mean(0), atol=1e-5)
    summary = result.summary()
    json.dumps(summary, allow_nan=False)
    assert summary["teacher"]["arch"] == "ensemble:linear*2" and len(summary["teacher"]["members"]) == 2
