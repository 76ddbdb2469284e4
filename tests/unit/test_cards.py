"""The compression cards as they are assembled: a lab record's three models, the class's runs on the
speed chart, and a replay's kept students."""

import dataclasses
import io

import pytest
import torch

from kdlab.classroom.board import ClassRun
from kdlab.classroom.class_card import class_points
from kdlab.experiments.card import grid_cards, replay_cards
from kdlab.experiments.distill import run_distillation
from kdlab.experiments.replays.common import KEEP_STUDENT_BYTES, ReplayResult, keep_students
from kdlab.ml.export import load_student_file
from kdlab.ml.models import build_model
from kdlab.ml.train import predict_logits
from kdlab.plots.card import accuracy_against_latency, reliability_diagram
from kdlab.runs.cards import NO_BASELINE_WEIGHTS, NO_TEACHER, record_cards
from kdlab.runs.record import record_from_result
from tests.conftest import tiny_config


@pytest.fixture(scope="module")
def record(sample_data, linear_teacher):
    result = run_distillation(tiny_config(seed=5), sample_data, teacher=linear_teacher)
    return record_from_result(result, sample_data.test.labels, number=1)


def test_a_records_three_models_are_measured_the_same_way(record, sample_data, linear_teacher):
    cards, notes = record_cards(record, sample_data.test, linear_teacher, repeats=3)
    assert list(cards) == ["teacher", "distilled", "baseline"] and notes == []
    for role in cards:
        assert cards[role].accuracy == pytest.approx(record.accuracy(role))  # recomputed from the weights
        assert 0 <= cards[role].ece <= 1 and cards[role].reliability
        assert cards[role].latency_ms_one > 0
    assert cards["distilled"].bytes == cards["baseline"].bytes == len(record.baseline_weights)
    assert cards["distilled"].ece != cards["baseline"].ece  # two different models' answers


def test_an_old_record_without_the_baseline_weights_says_so(record, sample_data):
    old = dataclasses.replace(record, baseline_weights=None)
    cards, notes = record_cards(old, sample_data.test, None, repeats=3)
    assert list(cards) == ["distilled", "baseline"] and notes == [NO_TEACHER, NO_BASELINE_WEIGHTS]
    assert cards["baseline"].ece is None and cards["baseline"].accuracy == record.accuracy("baseline")
    assert cards["baseline"].parameters == cards["distilled"].parameters


def class_run(nickname, student, distilled, alone, test_size=1000):
    return ClassRun(
        nickname, 1, 0.0, "completed", "trained", "linear", student, 4.0, 0.5, 2, 500, 0, alone, distilled, test_size
    )


def test_class_points_measure_each_architecture_once_and_skip_what_they_cannot_show():
    asked = []

    def latency(architecture):
        asked.append(architecture)
        return None if architecture == "?" else {"mlp-10x1": 0.1, "mlp-100x1": 0.3}[architecture]

    runs = [
        class_run("Owl", "mlp-10x1", 100, 150),
        class_run("Fox", "mlp-10x1", 90, None),  # stopped before the student alone trained
        class_run("Elk", "mlp-100x1", 50, 60),
        class_run("Yak", "?", 50, 60),  # an architecture this server cannot build
        class_run("Emu", "mlp-100x1", 40, 45, test_size=None),
        class_run("Me", "mlp-100x1", 1, 2),
    ]
    points = class_points(runs, latency, skip=lambda run: run.nickname == "Me")
    assert asked == ["mlp-10x1", "mlp-100x1", "?"]
    assert [(point.nickname, point.role) for point in points] == [
        ("Owl", "distilled"),
        ("Owl", "baseline"),
        ("Fox", "distilled"),
        ("Elk", "distilled"),
        ("Elk", "baseline"),
    ]
    assert points[0].accuracy == pytest.approx(0.9) and points[1].accuracy == pytest.approx(0.85)
    assert points[3].latency_ms == 0.3 and "T=4" in points[0].label

    card = {"architecture": "mlp-20x1", "latency_ms_one": 0.2, "accuracy": 0.9, "threads": 1, "ece": 0.01}
    figure = accuracy_against_latency({"distilled": card}, class_points=points)
    assert [trace.name for trace in figure.data] == [
        "Class: distilled students",
        "Class: students alone",
        "Distilled student",
    ]
    assert list(figure.data[0].x) == [0.1, 0.1, 0.3]


def test_a_replay_keeps_its_students_within_a_bound_and_cards_them(sample_data):
    small = {run: build_model("mlp-10x1", seed=seed) for seed, run in enumerate(("baseline", "distilled"))}
    kept = keep_students(small, "mlp-10x1")
    assert list(kept) == ["baseline", "distilled"]
    model, architecture = load_student_file(io.BytesIO(kept["distilled"]))
    assert architecture == "mlp-10x1"
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), small["distilled"].parameters()))
    big = build_model("mlp-1200x2")  # 2.4 M parameters, 9.6 MB: two fit in the bound, a third does not
    assert KEEP_STUDENT_BYTES < 3 * 9_580_000
    assert list(keep_students({"a": big, "b": big, "c": big}, "mlp-1200x2")) == ["a", "b"]

    test = sample_data.test
    logits = {run: predict_logits(model, test.images) for run, model in small.items()}
    stored = {**logits, "teacher": logits["distilled"]}
    result = ReplayResult("table", {"status": "completed"}, test.labels, stored, student_files=kept)
    cards = replay_cards(result, repeats=3)
    assert list(cards) == ["baseline", "distilled"]  # the teacher's weights are not kept
    for run, card in cards.items():
        assert card.accuracy == pytest.approx(float((logits[run].argmax(1) == test.labels).double().mean()))
        assert card.parameters == 784 * 10 + 10 + 10 * 10 + 10 and 0 <= card.ece <= 1
    with_teacher = dataclasses.replace(result, summary={**result.summary, "teacher": {"arch": "mlp-20x1"}})
    cards = replay_cards(with_teacher, repeats=3)
    assert list(cards) == ["teacher", "baseline", "distilled"]  # measured on its architecture, freshly built
    assert cards["teacher"].parameters == 784 * 20 + 20 + 20 * 10 + 10
    assert cards["teacher"].accuracy == cards["distilled"].accuracy  # the teacher's stored answers, here the same
    ensemble = dataclasses.replace(result, summary={**result.summary, "teacher": {"arch": "ensemble:linear*3"}})
    assert "teacher" not in replay_cards(ensemble, repeats=3)  # an ensemble has no one architecture to build
    names = {"baseline": "Student alone", "distilled": "Distilled"}
    traces = reliability_diagram({run: cards[run].as_dict() for run in names}, names).data
    assert [trace.name.split(" (")[0] for trace in traces][1:] == ["Student alone", "Distilled"]


def test_a_temperature_width_grid_gets_one_card_per_width_measured_on_its_architecture():
    summary = {
        "config": {"depth": 1},
        "findings": {"by_width": [{"width": 12, "best_accuracy": 0.91}, {"width": 40, "best_accuracy": 0.95}]},
    }
    cards = grid_cards(ReplayResult("temperature-width", summary), repeats=3)
    assert list(cards) == ["width 12", "width 40"]
    for run, width, accuracy in (("width 12", 12, 0.91), ("width 40", 40, 0.95)):
        model = build_model(f"mlp-{width}x1")
        assert cards[run].architecture == f"mlp-{width}x1"
        assert cards[run].parameters == sum(p.numel() for p in model.parameters())
        assert cards[run].accuracy == accuracy and cards[run].ece is None and cards[run].latency_ms_one > 0
    assert cards["width 40"].bytes > cards["width 12"].bytes
