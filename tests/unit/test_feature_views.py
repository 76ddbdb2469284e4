"""The feature methods' live views (``kdlab.ml.methods.views``): the fixed digits, each side's shapes, each distance
by hand on tiny tensors, a run's numbers untouched by its view, the events and the record that keep them, and the
lab's figures and sentences."""

import json
import math
import pickle

import pytest
import torch
from torch import nn

from kdlab.experiments.distill import DistillConfig, run_distillation
from kdlab.ml.data import ImageSet
from kdlab.ml.events import EvalEvent, FeatureViewEvent, Grid
from kdlab.ml.methods import at, hints, rkd, sp
from kdlab.ml.methods.registry import METHODS, teacher_objective
from kdlab.ml.methods.views import LiveView, fixed_digits
from kdlab.ml.models import build_model
from kdlab.ml.train import train_models
from kdlab.plots.lab import loss_anatomy
from kdlab.runs.record import RunRecord, curve_point, latest_view, record_from_result, view_point
from kdlab.ui.feature_views import attention_text, distance_text, projection_text, relations_text
from kdlab.ui.live_figures import build_live_figures
from tests.conftest import same_numbers


def test_the_fixed_digits_are_the_first_of_each_class_sorted_by_class():
    labels = torch.tensor([3, 1, 1, 0, 3, 1, 0, 2])
    assert fixed_digits(labels, (0, 1, 2, 3), 2).tolist() == [3, 6, 1, 2, 7, 0, 4]  # one 2 only
    assert fixed_digits(labels, (3, 1), 1).tolist() == [0, 1]


@pytest.mark.parametrize(
    "method,student,shapes",
    [
        ("at", "cnn-small", {"block1": (4, 144), "block2": (4, 16)}),  # lenet5's 14 x 14 pooled to 12 x 12
        ("rkd", "mlp-20x1", {"matrix": (40, 40)}),
        ("sp", "mlp-20x1", {"matrix": (40, 40)}),
        ("hints", "mlp-20x1", {"points": (40, 2)}),
    ],
)
def test_each_view_has_both_sides_at_the_shapes_the_lab_draws(method, student, shapes):
    test_set = ImageSet(torch.randint(0, 256, (200, 28, 28), dtype=torch.uint8), torch.arange(200) % 10)
    teacher = build_model("lenet5", seed=0)
    transfer = METHODS[method].transfer
    live = transfer.live_view(teacher, test_set, student)
    assert list(live.labels) == sorted(live.labels) and len(live.labels) == shapes[next(iter(shapes))][0]
    objective = teacher_objective(
        torch.zeros(10, 10),
        4.0,
        0.9,
        method,
        signal={},
        student=student,
        teacher="lenet5",
        live=live,
    )
    model = build_model(student, seed=0)
    objective.attach(model, total_steps=1)
    _, side, distance = objective.view_of(model)
    _, again, _ = objective.view_of(model)
    assert {name: grid.shape for name, grid in side.items()} == shapes
    assert {name: grid.shape for name, grid in live.teacher_side.items() if name in shapes} == shapes
    assert again == side and math.isfinite(distance) and distance >= 0  # deterministic, a distance
    assert model.training  # back in the mode it trained in


def test_the_attention_distance_is_the_at_term_unweighted():
    student = {"block1": torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]]), "block2": torch.ones(1, 1, 1, 1)}
    teacher = {"block1": torch.tensor([[0.0, 1.0, 0.0, 0.0]]), "block2": torch.ones(1, 1)}
    maps, distance = at.VIEW.student(student, teacher, None)
    assert maps["block1"].tolist() == [[1.0, 0.0, 0.0, 0.0]]  # the student's own map, at the teacher's size
    assert distance.item() == pytest.approx(0.5)  # (1 + 1) / 4 at block 1, 0 at block 2


def test_the_rkd_distance_is_the_huber_loss_between_the_normalised_distances():
    teacher = rkd.VIEW.teacher({"embedding": torch.tensor([[0.0], [1.0], [3.0]])}, {})  # distances 1, 3, 2: mean 2
    assert torch.allclose(teacher["matrix"], torch.tensor([[0, 0.5, 1.5], [0.5, 0, 1.0], [1.5, 1.0, 0]]))
    side, distance = rkd.VIEW.student({"embedding": torch.tensor([[0.0], [1.0], [2.0]])}, teacher, None)
    # the student's distances 1, 2, 1 over their mean 4/3: 0.75, 1.5, 0.75 against 0.5, 1.5, 1.0, each twice
    assert torch.allclose(side["matrix"][0], torch.tensor([0.0, 0.75, 1.5]))
    assert distance.item() == pytest.approx((2 * 0.5 * 0.25**2 + 2 * 0.5 * 0.25**2) / 6)


def test_the_sp_distance_is_the_squared_gap_between_the_similarity_matrices():
    teacher = sp.VIEW.teacher({"embedding": torch.tensor([[1.0, 0.0], [0.0, 1.0]])}, {})  # G = identity
    side, distance = sp.VIEW.student({"embedding": torch.tensor([[1.0, 0.0], [1.0, 1.0]])}, teacher, None)
    expected = torch.tensor([[1.0, 1.0], [1.0, 2.0]]) / torch.tensor([[math.sqrt(2)], [math.sqrt(5)]])
    assert torch.allclose(side["matrix"], expected)
    assert distance.item() == pytest.approx(((expected - torch.eye(2)) ** 2).sum().item() / 4)


def test_hints_projects_both_sides_on_the_teachers_top_two_axes_and_measures_the_regressor():
    hint = torch.tensor([[2.0, 0.0, 0.0], [-2.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, -1.0, 0.0]])  # variances 8, 2, 0
    teacher = hints.VIEW.teacher({"embedding": hint}, {})
    assert torch.allclose(teacher["axes"].abs(), torch.eye(3)[:2]) and (teacher["axes"].max(dim=1).values > 0).all()
    assert torch.allclose(teacher["points"].abs(), hint[:, :2].abs())
    assert torch.allclose(teacher["explained"], torch.tensor([0.8, 0.2]))
    term = hints.HintTerm(100.0, 3, 3, seed=0)
    with torch.no_grad():
        term.regressor.weight.copy_(torch.eye(3))
        term.regressor.bias.zero_()
    student = hint + torch.tensor([1.0, 0.0, 2.0])  # r(u_s) = u_s: off by 1 and 2 in two units
    side, distance = hints.VIEW.student({"embedding": student}, teacher, term)
    assert torch.allclose(side["points"], teacher["points"] + teacher["axes"][:, 0])  # shifted by 1 along x
    assert distance.item() == pytest.approx((1 + 4) / 3)  # the hint term unweighted: mean over the 3 units


def test_a_runs_numbers_are_those_of_the_same_run_without_its_view(sample_data, small_teacher):
    config = DistillConfig.build(teacher="lenet5", student="cnn-small", soft="at", epochs=1, train_size=300)
    indices = config.transfer_indices(sample_data)
    transfer = sample_data.train.subset(indices)
    signal = METHODS["at"].transfer.signal_for(small_teacher.model, transfer.images, "cnn-small")
    live = METHODS["at"].transfer.live_view(small_teacher.model, sample_data.test, "cnn-small")
    results = []
    for view in (None, live):
        objective = teacher_objective(
            small_teacher.logits_at(4.0)[indices],
            4.0,
            0.9,
            "at",
            signal=signal,
            student="cnn-small",
            teacher="lenet5",
            live=view,
        )
        model = build_model("cnn-small", seed=config.training.seed)
        [result] = train_models([model], transfer, sample_data.test, config.training, [objective], runs=["distilled"])
        results.append(result)
    without, with_view = results
    assert torch.equal(without.test_logits, with_view.test_logits)
    assert [point.test_accuracy for point in without.history] == [point.test_accuracy for point in with_view.history]
    assert all(point.feature_distance is None for point in without.history) and without.view is None
    assert all(point.feature_distance is not None for point in with_view.history)
    assert with_view.view.step == with_view.history[-1].step


def test_the_record_keeps_the_last_view_and_the_distance_per_curve_point_as_json(sample_data, small_teacher):
    config = DistillConfig.build(teacher="lenet5", student="mlp-20x1", soft="rkd", epochs=1, train_size=300)
    events = []
    from kdlab.ml.context import RunContext

    result = run_distillation(config, sample_data, teacher=small_teacher, context=RunContext(on_event=events.append))
    record = record_from_result(result, sample_data.test.labels, number=1)
    views = [event for event in events if isinstance(event, FeatureViewEvent)]
    evals = [event for event in events if isinstance(event, EvalEvent) and event.run == "distilled"]
    assert len(views) == len(evals) and all(view.teacher is views[0].teacher for view in views)  # read once
    assert record.feature_view == view_point(views[-1]) == latest_view(events)
    assert [point["feature_distance"] for point in record.curves["distilled"]] == [e.feature_distance for e in evals]
    assert "feature_distance" not in record.curves["baseline"][0] and "feature_loss" not in record.curves["baseline"][0]
    json.dumps(record.as_dict())  # JSON-ready, as the database and the export keep it
    assert same_numbers(pickle.loads(pickle.dumps(views[-1])), views[-1], exact=True)  # as worker processes send it
    grid = views[-1].student["matrix"]
    assert len(pickle.dumps(grid)) < 2 * 4 * 40 * 40  # float32 bytes, not a list of Python floats
    assert torch.equal(Grid.of(grid.tensor()).tensor(), grid.tensor())
    old = RunRecord("old", 1, 0.0, "completed", {"config": {"soft": "kd"}})  # filed before the views
    assert old.feature_view is None


def test_the_sentences_say_the_views_numbers():
    view = {
        "epoch": 3.0,
        "labels": [0, 0, 1, 1],
        "teacher": {"matrix": [[0, 1, 4, 4], [1, 0, 4, 4], [4, 4, 0, 2], [4, 4, 2, 0]]},
        "student": {"matrix": [[0, 3, 2, 2], [3, 0, 2, 2], [2, 2, 0, 3], [2, 2, 3, 0]]},
    }
    text = relations_text(view, "normalised distances")
    assert "40" not in text and "4 test digits (2 of each digit" in text
    assert "Within a digit: teacher 1.500, student 3.000" in text and "between different digits: teacher 4.000" in text
    maps = {
        "epoch": 1.0,
        "labels": [2, 7],
        "teacher": {"block1": [[0, 1, 0, 0], [1, 0, 0, 0]], "block2": [[1], [1]]},
        "student": {"block1": [[0, 1, 0, 0], [0, 0, 1, 0]], "block2": [[1], [1]]},
    }
    text = attention_text(maps)
    assert "block 1 (2 × 2) the student's brightest cell is the teacher's for 1 of 2 digits" in text
    assert "block 2 (1 × 1)" in text and "for 2 of 2 digits" in text
    points = {
        "epoch": 2.0,
        "teacher": {"points": [[3, 4], [0, 0]], "explained": [0.5, 0.25]},
        "student": {"points": [[0, 0], [0, 0]]},
    }
    assert "explain 50% and 25%" in projection_text(points) and "2.50 from its teacher point" in projection_text(points)
    curve = [
        {"epoch": 1, "feature_distance": 0.5},
        {"epoch": 2, "feature_distance": 0.1},
        {"epoch": 3, "feature_distance": 0.2},
    ]
    text = distance_text(curve, "AT distance: the gap")
    assert "0.5 at epoch 1" in text and "is 0.2 at epoch 3" in text and "lowest at 0.1 (epoch 2)" in text


def test_the_live_figures_and_the_loss_anatomy_draw_the_method(sample_data, small_teacher):
    config = DistillConfig.build(teacher="lenet5", student="cnn-small", soft="at", epochs=1, train_size=300)
    events = []
    from kdlab.ml.context import RunContext

    run_distillation(config, sample_data, teacher=small_teacher, context=RunContext(on_event=events.append))
    figures = build_live_figures(events, 1, "at", sample_data.test)
    assert figures.view is not None and "attention maps for the test digits 2, 3, 4, 7" in figures.view.view_text
    heatmaps = [trace for trace in figures.view.view.data if trace.type == "heatmap"]
    assert len(heatmaps) == 4 * 5  # per digit: the digit, then teacher and student at both blocks
    assert build_live_figures([e for e in events if not isinstance(e, FeatureViewEvent)], 1, "at").view is None
    curves = {"distilled": [curve_point(e) for e in events if isinstance(e, EvalEvent) and e.run == "distilled"]}
    names = [trace.name for trace in loss_anatomy(curves, "at").data]
    assert METHODS["at"].transfer.part in names
    assert METHODS["at"].transfer.part not in [trace.name for trace in loss_anatomy(curves, "kd").data]


def test_a_view_reads_no_random_numbers_and_leaves_the_models_mode():
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 10))
    test_set = ImageSet(torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8), torch.arange(40) % 10)
    live = LiveView.read(sp.VIEW, model, test_set, ("embedding",), "mlp-20x1")
    objective = teacher_objective(
        torch.zeros(4, 10), 4.0, 0.9, "sp", signal={}, student="mlp-20x1", teacher="mlp-20x1", live=live
    )
    objective.attach(model, total_steps=1)
    state = torch.random.get_rng_state()
    model.train()
    first = objective.view_of(model)[1]
    assert model.training and torch.equal(torch.random.get_rng_state(), state)
    assert first == objective.view_of(model)[1]  # eval mode: no dropout, the same side twice
