"""The feature- and relation-based methods (hints, AT, RKD, SP): each formula by hand on tiny tensors, the taps
they read, the pairs they fit, and a run that trains with each."""

import math

import pytest
import torch
from torch import nn

from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.ml.features import FeatureHooks, attention_map, feature_shapes, predict_features
from kdlab.ml.losses import KDLoss, kd_loss
from kdlab.ml.methods import at, hints, rkd, sp
from kdlab.ml.methods.registry import METHODS, teacher_objective
from kdlab.ml.methods.transfer import FeatureObjective
from kdlab.ml.models import build_model


def test_the_attention_map_sums_squared_activations_over_channels_and_has_unit_norm():
    # Two channels on a 2 x 2 map: sum_c A_c^2 = [[1 + 0, 4 + 1], [0 + 4, 1 + 1]] = [[1, 5], [4, 2]]
    maps = torch.tensor([[[[1.0, 2.0], [0.0, -1.0]], [[0.0, 1.0], [2.0, 1.0]]]])
    expected = torch.tensor([[1.0, 5.0, 4.0, 2.0]]) / math.sqrt(1 + 25 + 16 + 4)
    assert torch.allclose(attention_map(maps), expected)
    assert torch.allclose(attention_map(3 * maps), expected)  # a map's scale is not where it looks
    pooled = attention_map(torch.ones(1, 3, 4, 4), size=2)  # average-pooled to 2 x 2 first
    assert pooled.shape == (1, 4) and torch.allclose(pooled, torch.full((1, 4), 0.5))


def test_the_attention_term_is_the_mean_squared_gap_between_the_maps_summed_over_blocks():
    student = {"block1": torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]]), "block2": torch.ones(1, 1, 1, 1)}
    teacher = {"block1": torch.tensor([[0.0, 1.0, 0.0, 0.0]]), "block2": torch.ones(1, 1)}
    # block1: student map [1, 0, 0, 0] against [0, 1, 0, 0]: (1 + 1) / 4; block2: equal, 0
    assert at.at_loss(student, teacher).item() == pytest.approx(0.5)
    assert at.AttentionTerm(1000.0)(student, teacher).item() == pytest.approx(500.0)


def test_the_hint_term_is_the_mean_squared_gap_through_the_regressor():
    regressor = nn.Linear(2, 3, bias=False)
    with torch.no_grad():
        regressor.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]))
    student, teacher = torch.tensor([[1.0, 2.0]]), torch.tensor([[1.0, 0.0, 3.0]])
    # r(u_s) = [1, 2, 3]: gaps 0, 2, 0 over 3 units
    assert hints.hint_loss(student, teacher, regressor).item() == pytest.approx(4 / 3)
    first, second = hints.HintTerm(100.0, 2, 3, seed=5), hints.HintTerm(100.0, 2, 3, seed=5)
    assert torch.equal(first.regressor.weight, second.regressor.weight)  # seeded, not the global RNG


def test_rkd_normalises_distances_by_their_mean_and_ignores_scale_and_shift():
    line = torch.tensor([[0.0], [1.0], [3.0]])  # distances 1, 3, 2: mean 2
    assert torch.allclose(rkd.normalised_distances(line), torch.tensor([[0, 0.5, 1.5], [0.5, 0, 1.0], [1.5, 1.0, 0]]))
    right = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    angles = rkd.angles(right)  # at point 0, between points 1 and 2: a right angle
    assert angles[0, 1, 2].item() == pytest.approx(0.0, abs=1e-6) and angles[0, 1, 1].item() == pytest.approx(1.0)
    assert angles[1, 0, 2].item() == pytest.approx(1 / math.sqrt(2))  # at point 1: 45 degrees
    torch.manual_seed(0)
    points = torch.randn(6, 3)
    differences = torch.nn.functional.normalize(points[None, :, :] - points[:, None, :], p=2, dim=2)  # the paper's way
    assert torch.allclose(rkd.angles(points), differences @ differences.transpose(1, 2), atol=1e-5)
    teacher = torch.randn(5, 4)
    assert rkd.rkd_loss(3 * teacher + 1, teacher, 25.0, 50.0).item() == pytest.approx(0.0, abs=1e-5)
    other = torch.randn(5, 2)
    assert rkd.rkd_loss(other, teacher, 25.0, 50.0).item() > 0.1
    alone = rkd.rkd_loss(other, teacher, 25.0, 0.0) + rkd.rkd_loss(other, teacher, 0.0, 50.0)
    assert torch.allclose(rkd.rkd_loss(other, teacher, 25.0, 50.0), alone)  # the two parts add
    assert torch.allclose(rkd.rkd_loss(other, teacher, 0.0, 1.0, 3), rkd.rkd_loss(other[:3], teacher[:3], 0.0, 1.0))


def test_sp_row_normalises_the_batch_similarity_matrix():
    features = torch.tensor([[1.0, 0.0], [1.0, 1.0]])  # F F^T = [[1, 1], [1, 2]]
    expected = torch.tensor([[1.0, 1.0], [1.0, 2.0]]) / torch.tensor([[math.sqrt(2)], [math.sqrt(5)]])
    assert torch.allclose(sp.similarity_matrix(features), expected)
    other = torch.tensor([[1.0, 0.0], [0.0, 1.0]])  # G = identity
    assert sp.sp_loss(features, other).item() == pytest.approx(((expected - torch.eye(2)) ** 2).sum().item() / 4)
    assert sp.sp_loss(5 * features, features).item() == pytest.approx(0.0, abs=1e-6)


def test_taps_are_found_by_structure_and_hooks_keep_the_training_graph():
    assert feature_shapes("cnn-wide") == {"block1": (32, 12, 12), "block2": (64, 4, 4), "embedding": (1024,)}
    assert feature_shapes("cnn-small") == {"block1": (8, 12, 12), "block2": (16, 4, 4), "embedding": (64,)}
    assert feature_shapes("mlp-200x1") == {"embedding": (200,)} and feature_shapes("linear") == {}
    model = build_model("mlp-20x1", seed=0)
    with FeatureHooks(model, ("embedding",)) as hooks:
        model(torch.rand(3, 1, 28, 28))
        hooks.outputs["embedding"].sum().backward()
    assert model[1].weight.grad is not None and (hooks.outputs["embedding"] >= 0).all()  # after the ReLU
    images = torch.randint(0, 256, (7, 28, 28), dtype=torch.uint8)
    assert predict_features(model, images, ("embedding",), batch_size=3)["embedding"].shape == (7, 20)
    with pytest.raises(ValueError, match="no the first conv block"):
        FeatureHooks(model, ("block1",))


def test_a_method_is_offered_only_for_the_pairs_it_fits_with_a_sentence_why():
    assert METHODS["at"].unfit("cnn-wide", "cnn-small") == "" and METHODS["at"].unfit("cnn-wide", "lenet5") == ""
    assert "the student mlp-200x1 has none" in METHODS["at"].unfit("cnn-wide", "mlp-200x1")
    assert "conv blocks" in METHODS["at"].unfit("mlp-1200x2", "cnn-small")
    for name in ("hints", "rkd", "sp"):
        assert METHODS[name].unfit("cnn-wide", "mlp-200x1") == ""
        assert "the student linear has none" in METHODS[name].unfit("cnn-wide", "linear")
        assert "ensemble" in METHODS[name].unfit("ensemble:cnn*3", "mlp-200x1")
    assert all(METHODS[name].unfit("ensemble:cnn*3", "linear") == "" for name in ("kd", "tckd", "nckd", "dkd"))
    with pytest.raises(ValueError, match="AT matches the conv blocks' feature maps"):
        DistillConfig.build(soft="at", student="mlp-200x1")
    with pytest.raises(ValueError, match="at_weight is a setting of the at method only"):
        DistillConfig.build(soft="kd", at_weight=10.0)


def test_the_feature_objective_adds_its_term_to_kd_and_trains_on_it_alone_in_a_first_stage():
    torch.manual_seed(0)
    student = build_model("mlp-10x1", seed=0)
    teacher_logits, signal = torch.randn(4, 10), {"embedding": torch.randn(4, 12).half()}
    objective = teacher_objective(
        teacher_logits, 4.0, 0.5, "hints", signal=signal, student="mlp-10x1", teacher="mlp-12x1", hint_stage=0.5
    )
    assert isinstance(objective, FeatureObjective) and len(objective.parameters()) == 2  # the regressor
    objective.attach(student, total_steps=4)
    images, labels, index = torch.rand(4, 1, 28, 28), torch.tensor([1, 2, 3, 4]), torch.arange(4)
    losses = [objective([student(images)], 0, labels, index) for _ in range(4)]
    objective.detach()
    assert all(isinstance(loss, KDLoss) for loss in losses)
    first, later = losses[0], losses[3]
    assert first.total == first.feature and first.soft == 0 and first.hard == 0  # the hint stage: 2 of 4 steps
    kd = kd_loss(student(images), teacher_logits, labels, 4.0, 0.5)
    assert torch.allclose(later.soft, kd.soft) and torch.allclose(later.hard, kd.hard)
    assert torch.allclose(later.total, kd.total + later.feature)


@pytest.mark.parametrize(
    "method,student", [("hints", "mlp-20x1"), ("at", "cnn-small"), ("rkd", "mlp-20x1"), ("sp", "mlp-20x1")]
)
def test_a_run_with_each_method_reports_its_term_and_is_reproducible(sample_data, method, student):
    config = DistillConfig.build(
        teacher="lenet5", student=student, soft=method, epochs=1, train_size=600, teacher_epochs=1, with_baseline=True
    )
    first, second = run_distillation(config, sample_data), run_distillation(config, sample_data)
    assert first.status == "completed"
    assert all(point.feature_loss is not None and point.feature_loss >= 0 for point in first.student.history)
    assert all(point.feature_loss is None for point in first.baseline.history)  # the student alone has no term
    assert torch.equal(first.student.test_logits, second.student.test_logits)
    kd = run_distillation(DistillConfig.build(**{**config.as_dict(), "soft": "kd"}), sample_data)
    assert not torch.equal(first.student.test_logits, kd.student.test_logits)  # the term changed the student


def test_a_feature_run_is_never_stacked_and_its_teacher_signal_is_read_once_and_kept(sample_data, small_teacher):
    from kdlab.serve.request import TrainRequest
    from kdlab.teachers.features import forget_teacher_signals, teacher_signal

    settings = dict(teacher="lenet5", student="mlp-20x1", epochs=1, train_size=600, teacher_epochs=8)
    assert TrainRequest.build(DistillConfig.build(**settings), sample_data).alike is not None
    assert TrainRequest.build(DistillConfig.build(soft="rkd", **settings), sample_data).alike is None
    forget_teacher_signals()
    first = teacher_signal(small_teacher, METHODS["sp"], "mlp-20x1", sample_data)
    assert first["embedding"].shape == (len(sample_data.train), 84) and first["embedding"].dtype == torch.float16
    assert teacher_signal(small_teacher, METHODS["hints"], "mlp-20x1", sample_data) is first  # one signal, shared
    forget_teacher_signals()
    from_disk = teacher_signal(small_teacher, METHODS["rkd"], "mlp-20x1", sample_data)
    assert from_disk is not first and torch.equal(from_disk["embedding"], first["embedding"])
    maps = teacher_signal(small_teacher, METHODS["at"], "cnn-small", sample_data)  # lenet5's 14 x 14 pooled to 12
    assert maps["block1"].shape == (len(sample_data.train), 144) and maps["block2"].shape[1] == 16


def test_a_teachers_signal_is_read_on_a_private_copy_so_other_threads_passes_stay_their_own(monkeypatch):
    from kdlab.ml.methods import transfer

    teacher = build_model("lenet5", seed=0).eval()
    images = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8)
    hooked = []
    monkeypatch.setattr(
        transfer, "predict_features", lambda model, *args: hooked.append(model) or predict_features(model, *args)
    )
    signal = METHODS["at"].transfer.signal_for(teacher, images, "cnn-small")
    assert signal["block1"].shape == (5, 144) and hooked and all(model is not teacher for model in hooked)
    expected = attention_map(predict_features(teacher, images, ("block1",))["block1"], size=12)
    assert torch.allclose(signal["block1"], expected)  # the copy's features are the teacher's
