"""The decoupled replay (Zhao et al. 2022) at a tiny budget on the offline sample, and its verdicts."""

import json
import threading

import pytest
import torch

from kdlab.cli import main
from kdlab.experiments import replays
from kdlab.experiments.replays import REPLAYS, Budget, DecoupledConfig, replay_config, run_replay
from kdlab.experiments.replays.decoupled import RUN_LABELS, claim_verdicts
from kdlab.ml.context import RunContext
from tests.conftest import TINY_TEACHER_EPOCHS

TINY_BUDGET = Budget("test", teacher_epochs=2, student_epochs=1, sweep_epochs=1, sweep_train_size=300)
TINY = dict(teacher="linear", teacher_epochs=TINY_TEACHER_EPOCHS, student="mlp-20x1", train_size=500)


def test_config_is_the_labs_pair_with_epochs_from_the_budget():
    config = replay_config("decoupled", "quick", seed=3)
    assert isinstance(config, DecoupledConfig)
    assert (config.teacher, config.student, config.train_size) == ("cnn-wide", "mlp-200x1", None)
    assert config.training.epochs == replays.BUDGETS["quick"].student_epochs and config.training.seed == 3
    assert config.training.alpha == 0.5 and config.training.temperature == 4.0  # Zhao et al.'s CE : part = 1 : 1
    assert config.distill_config("dkd").beta == 8.0 and config.distill_config("nckd").beta is None
    assert config.distill_config("kd").with_baseline and not config.distill_config("tckd").with_baseline
    assert json.loads(json.dumps(config.as_dict()))["budget"] == "quick"
    with pytest.raises(ValueError, match="beta must be a number from 0 to 100"):
        replay_config("decoupled", beta=-2.0)


def test_short_run_trains_five_students_on_the_same_batches(sample_data, linear_teacher):
    config = DecoupledConfig.build(budget=TINY_BUDGET, **TINY)
    result = run_replay("decoupled", sample_data, config=config)
    summary = result.summary
    assert summary["status"] == "completed" and summary["replay"] == "decoupled"
    assert summary["paper_source"].startswith("Zhao")  # its own paper, not Hinton et al.
    assert summary["teacher"]["test_errors"] == linear_teacher.record.test_errors  # the lab's (here the tests') teacher
    assert set(result.test_logits) == set(RUN_LABELS) | {"teacher"}
    for run in RUN_LABELS:
        assert summary["ours"][f"{run}_errors"] == summary["students"][run]["test_errors"]
    for one, other in [("kd", "tckd"), ("tckd", "nckd"), ("nckd", "dkd"), ("baseline", "kd")]:
        assert not torch.equal(result.test_logits[one], result.test_logits[other])
    # The teacher's mean 1 - p_target on the transfer set, computed here from its logits.
    indices = config.distill_config("kd").transfer_indices(sample_data)
    probabilities = torch.softmax(linear_teacher.logits_at(4.0)[indices] / 4.0, dim=1)
    target = probabilities[torch.arange(len(indices)), sample_data.train.labels[indices]]
    assert summary["non_target_weight"] == pytest.approx(1 - target.mean().item(), abs=1e-4)
    assert [claim["claim"] for claim in summary["claims"]] == ["nckd", "tckd", "dkd"]
    assert [row["paper"] for row in summary["comparison"]] == [
        REPLAYS["decoupled"].paper_numbers[c] for c in ("nckd", "tckd", "dkd")
    ]
    json.dumps(summary, allow_nan=False)


def test_verdicts_follow_the_numbers():
    good = claim_verdicts({"baseline": 500, "kd": 400, "tckd": 480, "nckd": 420, "dkd": 390}, 0.02)
    assert [claim["holds"] for claim in good] == [True, True, True]
    bad = claim_verdicts({"baseline": 500, "kd": 400, "tckd": 410, "nckd": 460, "dkd": 401}, 0.02)
    assert [claim["holds"] for claim in bad] == [False, False, False]
    assert bad[0]["ours"].startswith("does not hold: NCKD alone 460 errors, KD 400")
    no_gain = claim_verdicts({"baseline": 400, "kd": 410, "tckd": 405, "nckd": 400, "dkd": 399}, 0.3)
    assert no_gain[1]["holds"] is None and "KD itself did not help" in no_gain[1]["ours"]
    stopped = claim_verdicts({"baseline": 400, "kd": 410, "tckd": None, "nckd": None, "dkd": None}, None)
    assert [claim["holds"] for claim in stopped] == [None, None, None]


def test_stopped_replay_is_partial(sample_data, linear_teacher):
    stop = threading.Event()
    stop.set()
    result = run_replay(
        "decoupled",
        sample_data,
        config=DecoupledConfig.build(budget=TINY_BUDGET, **TINY),
        context=RunContext(stop=stop),
    )
    assert result.status == "stopped"


def test_command_line_decoupled_json(capsys, monkeypatch, linear_teacher):
    monkeypatch.setitem(replays.BUDGETS, "quick", TINY_BUDGET)
    code = main(["replay", "decoupled", "--teacher", "linear", "--student", "mlp-20x1", "--seed", "1", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["budget"]["name"] == "test" and summary["config"]["seed"] == 1
    assert summary["config"]["teacher"] == "linear" and summary["transfer_set"]["size"] == 4_000  # all, under 5,000
    assert "NCKD alone vs KD" in captured.err and "Student alone" in captured.err
