"""The instructor's cap on one lab run's cost (``KDLAB_MAX_RUN_COST``), and its message."""

from __future__ import annotations

import math

import pytest

from kdlab.experiments.distill import DEMO_TRAIN_SIZE, DistillConfig
from kdlab.ml.models import describe_model
from kdlab.serve.limits import CostTooHigh, check_run_cost, default_run_cost, max_run_cost, run_cost, teacher_cost


@pytest.fixture
def no_cap_setting(monkeypatch):
    monkeypatch.delenv("KDLAB_MAX_RUN_COST", raising=False)
    return monkeypatch


def test_cost_is_images_times_epochs_times_flops_for_each_student(sample_data, small_teacher):
    config = DistillConfig.build(teacher="lenet5", teacher_epochs=8, student="mlp-300x2", epochs=3, train_size=2000)
    flops = describe_model("mlp-300x2").flops_per_image
    assert run_cost(config, sample_data) == 2000 * 3 * flops * 2  # distilled and alone; the teacher is cached
    alone_only = DistillConfig.build(
        teacher="lenet5", teacher_epochs=8, student="mlp-300x2", epochs=3, train_size=2000, with_baseline=False
    )
    assert run_cost(alone_only, sample_data) == 2000 * 3 * flops


def test_a_teacher_that_must_be_trained_first_adds_its_cost(sample_data, tmp_path, monkeypatch):
    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path))  # nothing cached here
    config = DistillConfig.build(teacher="lenet5", teacher_epochs=3, student="linear", epochs=1, train_size=1000)
    teacher = len(sample_data.train) * 3 * describe_model("lenet5").flops_per_image
    student = 1000 * 1 * describe_model("linear").flops_per_image * 2
    assert run_cost(config, sample_data) == teacher + student


def test_the_default_demo_is_one_default_run_and_under_the_default_cap(no_cap_setting, sample_data):
    images = min(DEMO_TRAIN_SIZE, len(sample_data.train))
    demo = DistillConfig.build(train_size=images)
    assert max_run_cost() == 20 * default_run_cost()
    students = run_cost(demo, sample_data) - teacher_cost(demo, sample_data)
    assert students == pytest.approx(default_run_cost() * images / DEMO_TRAIN_SIZE)
    assert check_run_cost(demo, sample_data) < max_run_cost()  # even with its teacher still to train


@pytest.mark.parametrize(("setting", "runs"), [("20x", 20.0), ("2.5X", 2.5), (" 1x ", 1.0)])
def test_the_cap_as_a_multiple_of_the_default_run(monkeypatch, setting, runs):
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", setting)
    assert max_run_cost() == pytest.approx(runs * default_run_cost())


def test_the_cap_in_flops_or_none(monkeypatch):
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "5e12")
    assert max_run_cost() == 5e12
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "inf")
    assert math.isinf(max_run_cost())


@pytest.mark.parametrize("setting", ["lots", "0", "-3x", "nan", "x"])
def test_a_malformed_cap_says_how_to_write_it(monkeypatch, setting):
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", setting)
    with pytest.raises(
        ValueError, match=r"KDLAB_MAX_RUN_COST setting .* use a multiple of the default run such as 20x"
    ):
        max_run_cost()


def test_a_run_over_the_cap_is_refused_with_the_numbers_and_the_ways_under_it(monkeypatch, sample_data, small_teacher):
    config = DistillConfig.build(teacher="lenet5", teacher_epochs=8, student="mlp-300x2", epochs=40, train_size=4000)
    cost = run_cost(config, sample_data)
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", str(cost * 0.625))  # room for 25 of the 40 epochs
    with pytest.raises(CostTooHigh) as refused:
        check_run_cost(config, sample_data)
    message = str(refused.value)
    assert isinstance(refused.value, ValueError)
    runs = f"{cost / default_run_cost():.1f}"
    assert (
        f"about {runs} times the work of the default run (40 epochs x 4,000 images x mlp-300x2, trained twice"
        in message
    )
    assert f"the limit your instructor set is {cost * 0.625 / default_run_cost():.1f} times" in message
    assert "at most 25 epochs" in message
    assert "at most 2,500 training images" in message
    assert "a smaller student" in message
    under = DistillConfig.build(teacher="lenet5", teacher_epochs=8, student="mlp-300x2", epochs=25, train_size=4000)
    assert check_run_cost(under, sample_data) == cost * 0.625


def test_an_untrained_teacher_is_part_of_the_message(monkeypatch, sample_data, tmp_path):
    monkeypatch.setenv("KDLAB_CACHE_DIR", str(tmp_path))
    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "1e9")  # less than the teacher alone
    config = DistillConfig.build(teacher="lenet5", teacher_epochs=3, student="linear", epochs=1, train_size=1000)
    with pytest.raises(CostTooHigh, match="plus training the teacher lenet5 first") as refused:
        check_run_cost(config, sample_data)
    assert "a teacher that is already trained" in str(refused.value)
    assert "epochs, or" not in str(refused.value)  # no number of epochs gets under a cap the teacher alone exceeds


def test_the_lab_job_refuses_a_run_over_the_cap_before_queueing(monkeypatch, sample_data, small_teacher):
    from kdlab.runs.store import MemoryRunStore
    from kdlab.serve.lab import submit_distillation
    from kdlab.serve.request import TrainRequest
    from kdlab.serve.runner import JobRunner

    monkeypatch.setenv("KDLAB_MAX_RUN_COST", "0.01x")
    runner, store = JobRunner(), MemoryRunStore()
    config = DistillConfig.build(teacher="lenet5", teacher_epochs=8, student="mlp-300x2", epochs=5, train_size=4000)
    with pytest.raises(CostTooHigh):
        submit_distillation(runner, TrainRequest.build(config, sample_data), sample_data, store, owner="student")
    assert runner.jobs() == [] and store.records() == []
