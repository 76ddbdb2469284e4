"""Stacked training: a run trained in a stack gives exactly what it gives alone, and stops alone."""

from __future__ import annotations

import threading
from dataclasses import asdict, replace

import pytest
import torch

from kdlab.ml.config import TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import TransferSetSpec, select_transfer_indices
from kdlab.ml.events import EvalEvent
from kdlab.ml.losses import LabelsLoss
from kdlab.ml.methods.registry import teacher_objective
from kdlab.ml.models import build_model
from kdlab.ml.stacked import StackMember, batched_products_exact, train_stacked
from kdlab.ml.train import train_models
from tests.conftest import same_numbers

ARCHITECTURE = "mlp-24x2"
BASE = TrainConfig(epochs=2, batch_size=64, evals_per_epoch=3, curve_test_images=300)
# Eight runs as a class would send them: own seeds (own images, order and initial weights), own T,
# alpha, learning rate and soft loss; one is the student alone. 600 images in batches of 64: the last
# batch of each epoch holds 24.
RUNS = [
    dict(seed=0, temperature=1.0, alpha=0.9, soft="kd"),
    dict(seed=1, temperature=4.0, alpha=0.5, soft="kd"),
    dict(seed=2, temperature=20.0, alpha=1.0, soft="kd", learning_rate=3e-3),
    dict(seed=3, temperature=2.5, alpha=0.0, soft="kd"),
    dict(seed=4, temperature=8.0, alpha=0.7, soft="dkd"),
    dict(seed=5, temperature=4.0, alpha=0.9, soft="tckd", learning_rate=5e-4),
    dict(seed=6, temperature=4.0, alpha=0.9, soft=None),  # the student alone
    dict(seed=0, temperature=6.0, alpha=0.9, soft="kd"),  # a lesson's neighbour: same seed, another T
]


@pytest.fixture(autouse=True)
def one_thread():
    """The server trains with one torch thread per job; exactness is promised there (see kdlab.ml.stacked)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_member(run: dict, sample_data, teacher, **extra) -> StackMember:
    settings = dict(run)
    soft = settings.pop("soft")
    config = replace(BASE, **settings)
    indices = select_transfer_indices(sample_data.train.labels, TransferSetSpec(size=600, seed=config.seed))
    objective = (
        LabelsLoss()
        if soft is None
        else teacher_objective(teacher.logits_at(config.temperature)[indices], config.temperature, config.alpha, soft)
    )
    model = build_model(ARCHITECTURE, seed=config.seed)
    return StackMember(model, sample_data.train.subset(indices), config, objective, f"run-{config.seed}", **extra)


def solo(member: StackMember, sample_data):
    [result] = train_models(
        [member.model],
        member.transfer_set,
        sample_data.test,
        member.config,
        [member.objective],
        runs=[member.run],
        context=RunContext(on_event=member.on_event, stop=member.stop),
    )
    return result


def curve(events) -> list[dict]:
    """Events without their wall-clock seconds."""
    return [{k: v for k, v in asdict(event).items() if k != "seconds"} for event in events]


def assert_same_run(stacked, alone) -> None:
    """Bit for bit where this machine's batched products are exact (``batched_products_exact``), else within
    rounding: the same steps, status and error count, logits, curves and weights equal up to 1e-4."""
    exact = batched_products_exact()
    assert stacked.status == alone.status and stacked.steps == alone.steps
    assert same_numbers(stacked.test_logits, alone.test_logits, exact=exact)
    assert stacked.evaluation.errors == alone.evaluation.errors
    assert same_numbers(curve(stacked.history), curve(alone.history), exact=exact)
    assert same_numbers(curve(stacked.losses), curve(alone.losses), exact=exact)
    for (name, weight), (_, solo_weight) in zip(stacked.model.state_dict().items(), alone.model.state_dict().items()):
        assert same_numbers(weight, solo_weight, exact=exact), name


def test_a_run_in_a_stack_of_eight_equals_the_run_alone(sample_data, linear_teacher):
    events: dict[str, list] = {}
    members = [
        make_member(run, sample_data, linear_teacher, on_event=events.setdefault(f"run-{index}", []).append)
        for index, run in enumerate(RUNS)
    ]
    stacked = train_stacked(members, sample_data.test)
    alone = [solo(make_member(run, sample_data, linear_teacher), sample_data) for run in RUNS]
    for index, (mine, reference) in enumerate(zip(stacked, alone, strict=True)):
        assert_same_run(mine, reference)
        evals = [event for event in events[f"run-{index}"] if isinstance(event, EvalEvent)]
        assert curve(evals) == curve(mine.history) and len(evals) == 6  # its own live curve, every point
    assert len({result.evaluation.errors for result in stacked}) > 1  # the runs really differ
    assert len({tuple(result.test_logits[0].tolist()) for result in stacked}) == len(RUNS)


def test_stopping_one_member_leaves_the_others_as_they_are_alone(sample_data, linear_teacher):
    stop = threading.Event()

    def stop_after_second_point(event) -> None:
        if isinstance(event, EvalEvent) and event.step >= 11:
            stop.set()

    members = [make_member(run, sample_data, linear_teacher) for run in RUNS[:4]]
    members[1] = replace(members[1], on_event=stop_after_second_point, stop=stop)
    stacked = train_stacked(members, sample_data.test)
    assert stacked[1].status == "stopped" and stacked[1].steps < stacked[0].steps == 20
    # the stopped member is its solo run stopped at the same step: the flag was set at the same point
    stop_alone = threading.Event()

    def stop_alone_after_second_point(event) -> None:
        if isinstance(event, EvalEvent) and event.step >= 11:
            stop_alone.set()

    lone = make_member(RUNS[1], sample_data, linear_teacher)
    assert_same_run(
        stacked[1], solo(replace(lone, on_event=stop_alone_after_second_point, stop=stop_alone), sample_data)
    )
    for index in (0, 2, 3):
        assert_same_run(stacked[index], solo(make_member(RUNS[index], sample_data, linear_teacher), sample_data))


def test_only_compatible_mlps_stack(sample_data, linear_teacher):
    member = make_member(RUNS[0], sample_data, linear_teacher)
    with pytest.raises(ValueError, match="same model shape"):
        train_stacked([member, replace(member, config=replace(member.config, epochs=3))], sample_data.test)
    with pytest.raises(ValueError, match="same model shape"):
        train_stacked([member, replace(member, model=build_model("mlp-30x2", seed=0))], sample_data.test)
    for architecture in ("lenet5", "mlp-1200x2"):  # a CNN; an MLP with dropout
        with pytest.raises(ValueError, match="Only MLPs without dropout"):
            train_stacked([replace(member, model=build_model(architecture, seed=0))], sample_data.test)
    with pytest.raises(ValueError, match="at least one member"):
        train_stacked([], sample_data.test)
