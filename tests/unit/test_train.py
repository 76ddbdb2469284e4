"""The training loop: events, stop, divergence, reproducibility, jitter, validation."""

import threading

import pytest
import torch

from kdlab.ml.context import RunContext
from kdlab.ml.data import TransferSetSpec, select_transfer_indices
from kdlab.ml.models import build_model
from kdlab.ml.train import EpochEvent, EvalEvent, StepEvent, TrainConfig, jitter, train_model


@pytest.fixture(scope="module")
def small_set(sample_data):
    indices = select_transfer_indices(sample_data.train.labels, TransferSetSpec(size=1000, seed=0))
    return sample_data.train.subset(indices), indices


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(temperature=0), "Temperature"),
        (dict(temperature=-1.0), "Temperature"),
        (dict(alpha=1.5), "alpha"),
        (dict(alpha=-0.1), "alpha"),
        (dict(epochs=0), "Epochs"),
        (dict(learning_rate=0), "Learning rate"),
        (dict(batch_size=0), "Batch size"),
        (dict(seed=-1), "Seed"),
        (dict(jitter_pixels=9), "Jitter"),
        (dict(learning_rate=float("nan")), "Learning rate"),
    ],
)
def test_config_rejects_bad_values_with_actionable_messages(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**kwargs)


def test_training_learns_and_reports_events(sample_data, small_set):
    transfer, _ = small_set
    events = []
    config = TrainConfig(epochs=2, batch_size=50, evals_per_epoch=3, learning_rate=3e-3)
    result = train_model(
        build_model("mlp-64x1", seed=0),
        transfer,
        sample_data.test,
        config,
        run="alone",
        context=RunContext(on_event=events.append),
    )
    assert result.status == "completed" and result.steps == 40
    assert result.test_accuracy > 0.80  # 10 classes: chance is 0.10
    evals = [e for e in events if isinstance(e, EvalEvent)]
    assert len(evals) == 6 and [e.step for e in evals] == [7, 13, 20, 27, 33, 40]
    assert all(e.run == "alone" for e in events)
    assert [e.epoch for e in events if isinstance(e, EpochEvent)] == [1, 2]
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert steps and steps[-1].step == 40 and all(e.soft_loss == 0 for e in steps)
    assert evals[-1].test_accuracy == pytest.approx(result.test_accuracy)
    assert result.history == evals and result.test_logits.shape == (1000, 10)
    assert next(result.model.parameters()).device.type == "cpu" and not result.model.training


def test_same_seed_same_numbers_and_alpha_zero_equals_the_baseline(sample_data, small_set, small_teacher):
    transfer, indices = small_set
    teacher_logits = small_teacher.train_logits[indices]
    config = TrainConfig(epochs=1, batch_size=64, alpha=0.0, temperature=4.0, seed=3)
    alone = train_model(build_model("mlp-32x1", seed=3), transfer, sample_data.test, config)
    again = train_model(build_model("mlp-32x1", seed=3), transfer, sample_data.test, config)
    assert torch.equal(alone.test_logits, again.test_logits)
    # alpha = 0 ignores the teacher: identical only if init and batch order are identical too.
    distilled_alpha0 = train_model(
        build_model("mlp-32x1", seed=3), transfer, sample_data.test, config, teacher_logits=teacher_logits
    )
    assert torch.equal(alone.test_logits, distilled_alpha0.test_logits)
    other_seed = train_model(
        build_model("mlp-32x1", seed=4), transfer, sample_data.test, TrainConfig(epochs=1, batch_size=64, seed=4)
    )
    assert not torch.equal(alone.test_logits, other_seed.test_logits)


def test_distillation_uses_the_teacher(sample_data, small_set, small_teacher):
    transfer, indices = small_set
    config = TrainConfig(epochs=1, batch_size=64, alpha=0.9, temperature=4.0)
    alone = train_model(build_model("mlp-32x1", seed=0), transfer, sample_data.test, config)
    distilled = train_model(
        build_model("mlp-32x1", seed=0),
        transfer,
        sample_data.test,
        config,
        teacher_logits=small_teacher.train_logits[indices],
        run="distilled",
    )
    assert not torch.equal(alone.test_logits, distilled.test_logits)
    assert all(event.soft_loss > 0 for event in distilled.losses)


def test_concurrent_runs_with_dropout_are_reproducible(sample_data, small_set):
    transfer, _ = small_set
    config = TrainConfig(epochs=1, batch_size=100, seed=11)
    reference = train_model(build_model("mlp-1200x2", seed=11), transfer, sample_data.test, config)
    results = [None, None]

    def run(slot):
        results[slot] = train_model(build_model("mlp-1200x2", seed=11), transfer, sample_data.test, config)

    threads = [threading.Thread(target=run, args=(slot,)) for slot in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for result in results:
        assert torch.allclose(result.test_logits, reference.test_logits, atol=1e-5)


def test_stop_flag_returns_partial_result_marked_stopped(sample_data, small_set):
    transfer, _ = small_set
    stop = threading.Event()

    def stop_after_first_report(event):
        if isinstance(event, StepEvent):
            stop.set()

    result = train_model(
        build_model("mlp-32x1", seed=0),
        transfer,
        sample_data.test,
        TrainConfig(epochs=5, batch_size=10),
        context=RunContext(on_event=stop_after_first_report, stop=stop),
    )
    assert result.status == "stopped"
    assert 0 < result.steps < 500
    assert result.history and result.history[-1].step == result.steps  # a last point at the stop
    assert result.evaluation.total == len(sample_data.test)


def test_non_finite_loss_ends_the_run_as_diverged(sample_data, small_set):
    transfer, _ = small_set
    poisoned = torch.full((len(transfer), 10), float("nan"))
    result = train_model(
        build_model("mlp-32x1", seed=0),
        transfer,
        sample_data.test,
        TrainConfig(epochs=3, batch_size=100),
        teacher_logits=poisoned,
    )
    assert result.status == "diverged" and result.steps < 30


def test_empty_or_mismatched_inputs_are_errors(sample_data, small_set):
    transfer, _ = small_set
    empty = sample_data.train.subset(torch.tensor([], dtype=torch.long))
    with pytest.raises(ValueError, match="empty"):
        train_model(build_model("linear"), empty, sample_data.test, TrainConfig())
    with pytest.raises(ValueError, match="one row per"):
        train_model(build_model("linear"), transfer, sample_data.test, TrainConfig(), teacher_logits=torch.zeros(3, 10))


def test_jitter_shifts_images_by_at_most_the_limit():
    image = torch.zeros(1, 1, 28, 28)
    image[0, 0, 14, 14] = 1.0
    batch = image.repeat(200, 1, 1, 1)
    shifted = jitter(batch, 2, torch.Generator().manual_seed(0))
    assert shifted.shape == batch.shape
    positions = shifted.flatten(1).argmax(1)
    rows, cols = positions // 28, positions % 28
    assert rows.min() >= 12 and rows.max() <= 16 and cols.min() >= 12 and cols.max() <= 16
    assert len(set(zip(rows.tolist(), cols.tolist()))) == 25  # every shift in [-2, 2]^2 occurs
    assert torch.allclose(shifted.sum(dim=(1, 2, 3)), torch.ones(200))
