"""The knowledge replay (which knowledge transfers?) at a tiny budget on the offline sample, and its verdict."""

import json
from dataclasses import replace

import pytest
import torch

from kdlab.cli import main
from kdlab.experiments import replays
from kdlab.experiments.replays import REPLAYS, Budget, KnowledgeConfig, replay_config, run_replay
from kdlab.experiments.replays.knowledge import (
    COMBINED_TERM,
    PAPER_KNOWLEDGE,
    RUNS,
    TERMS,
    knowledge_config,
    knowledge_seeds,
)

TINY_BUDGET = Budget("test", teacher_epochs=1, student_epochs=1, sweep_epochs=1, sweep_train_size=200)
# lenet5 has both conv blocks and a hidden layer, so every method fits it as cnn-wide does; one epoch is enough.
TINY = dict(teacher="lenet5", teacher_epochs=1, train_sizes=(300, 150), evals_per_epoch=1, curve_test_images=100)


def test_config_is_cnn_small_from_cnn_wide_with_the_terms_alone_and_kd_at_the_replays_alpha():
    config = replay_config("knowledge", "quick", seed=3)
    assert isinstance(config, KnowledgeConfig) and REPLAYS["knowledge"].seeds == 3
    assert (config.teacher, config.student, config.train_sizes) == ("cnn-wide", "cnn-small", (None, 1_000))
    assert config.training.epochs == replays.BUDGETS["quick"].student_epochs and config.training.seed == 3
    for run in RUNS:
        lab = config.distill_config(run, 1_000)
        assert lab.train_size == 1_000 and lab.training.seed == 3
        # As many images seen as on the lab's 5,000: five times the epochs.
        assert lab.training.epochs == 5 * config.distill_config(run, None).training.epochs == 5 * config.training.epochs
        assert lab.training.alpha == (0.0 if run in TERMS else 0.5)  # each term alone with the labels
        assert lab.soft == {"baseline": "kd", "kd": "kd", "combined": COMBINED_TERM}.get(run, run)
    assert config.distill_config("baseline", None).with_baseline and not config.distill_config("kd", None).with_baseline
    assert json.loads(json.dumps(config.as_dict()))["train_sizes"] == [None, 1_000]
    with pytest.raises(ValueError, match="the student mlp-200x1 has none"):  # AT needs conv blocks
        knowledge_config(student="mlp-200x1")
    with pytest.raises(ValueError, match="different transfer-set sizes"):
        knowledge_config(train_sizes=(1_000, 1_000))


def test_short_run_trains_seven_students_per_transfer_set_on_the_same_batches(sample_data):
    config = KnowledgeConfig.build(budget=TINY_BUDGET, **TINY)
    result = run_replay("knowledge", sample_data, config=config)
    summary = result.summary
    assert summary["status"] == "completed" and summary["replay"] == "knowledge"
    assert summary["paper"] == PAPER_KNOWLEDGE and summary["paper_source"].startswith("Tian")
    assert [row["train_size"] for row in summary["rows"]] == [300, 150]
    for row in summary["rows"]:
        assert list(row["errors"]) == list(RUNS)
        assert all(row["errors"][run] == row["students"][run]["test_errors"] for run in RUNS)
    assert set(result.test_logits) == set(RUNS) | {"teacher"}  # the first transfer set's students
    for one, other in zip(RUNS, RUNS[1:]):
        assert not torch.equal(result.test_logits[one], result.test_logits[other])
    assert sorted(result.student_files) == sorted(RUNS)
    # The published numbers beside ours: one row per method both tables may hold, ranked.
    first = summary["rows"][0]["errors"]
    rows = {row["quantity"].split(" (")[0]: row for row in summary["comparison"]}
    assert rows["KD"]["paper"] == "RepDistiller 73.33% (3 of 5); torchdistill 71.37% (1 of 2)"
    assert rows["RKD"]["ours"].startswith(f"{first['rkd']:,} errors (")
    json.dumps(summary, allow_nan=False)


def _summaries(errors_by_seed: list[dict[str, int]]) -> list[dict]:
    return [
        {"config": {"seed": seed}, "rows": [{"train_size": 1_000, "errors": errors}]}
        for seed, errors in enumerate(errors_by_seed)
    ]


def test_the_verdict_is_read_from_the_paired_intervals():
    clear = _summaries(
        [
            {"baseline": 500, "kd": 400, "hints": 480, "at": 450, "rkd": 402, "sp": 520, "combined": 380},
            {"baseline": 510, "kd": 405, "hints": 470, "at": 460, "rkd": 398, "sp": 530, "combined": 385},
            {"baseline": 505, "kd": 402, "hints": 475, "at": 455, "rkd": 407, "sp": 525, "combined": 381},
        ]
    )
    over = knowledge_seeds(clear)
    (row,) = over["rows"]
    verdict = row["verdict"]
    assert verdict.startswith("With 1,000 transfer images:")
    assert "KD, Hints, AT, RKD and KD + AT beat the student alone" in verdict
    assert "SP did worse than the student alone, beyond the spread" in verdict
    assert "KD + AT beat KD beyond the spread" in verdict
    assert "Hints, AT and SP did worse than KD" in verdict
    assert "RKD is within the spread of KD: its interval holds 0" in verdict
    assert "Mean errors, fewest first: KD + AT 382, KD 402.33, RKD 402.33" in verdict
    assert "RKD did best of the terms alone" in verdict  # the declared combination was AT, and says so
    assert row["errors"]["kd"]["values"] == [400, 405, 402]
    names = [comparison["comparison"] for comparison in over["comparisons"]]
    assert "AT vs KD (1,000 images)" in names and "KD vs alone (1,000 images)" in names
    assert over["comparison"][0]["ours"] == "402.33 mean errors (1 of 5)"
    noisy = knowledge_seeds(
        _summaries([dict.fromkeys(RUNS, 500), {**dict.fromkeys(RUNS, 480), "kd": 520}, dict.fromkeys(RUNS, 510)])
    )
    assert "Nothing beats the student alone by more than the seed-to-seed spread" in noisy["rows"][0]["verdict"]
    assert "No method beats KD by more than the spread" in noisy["rows"][0]["verdict"]


def test_command_line_knowledge_json_over_two_seeds(capsys, monkeypatch):
    def tiny(budget, **settings):  # one transfer set: the command line's path, not the sizes, is tested here
        return knowledge_config(budget, **{**TINY, "train_sizes": (150,)}, **settings)

    monkeypatch.setitem(replays.BUDGETS, "quick", TINY_BUDGET)
    monkeypatch.setitem(REPLAYS, "knowledge", replace(REPLAYS["knowledge"], config=tiny))
    code = main(["replay", "knowledge", "--seed", "1", "--seeds", "2", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["budget"]["name"] == "test" and summary["config"]["seed"] == 1
    assert summary["seeds"]["seeds"] == [1, 2] and len(summary["seeds"]["rows"]) == 1
    assert "With 150 transfer images:" in captured.err and "AT vs KD (150 images)" in captured.err
    assert "Test errors (seed 1): 150 images: alone " in captured.err
    assert main(["replay", "knowledge", "--student", "mlp-200x1"]) == 2  # the pair is the replay's, fixed
    assert "--student applies to the compression and decoupled replays only" in capsys.readouterr().err


def test_a_student_may_run_one_seed_within_the_default_cap(full_data):
    """One seed of the quick replay is within the cap of 20 default runs on full MNIST; its default three seeds are
    the instructor's, or come from the cache ``kdlab prepare`` warms."""
    from kdlab.serve.gate import replay_cost
    from kdlab.serve.limits import default_run_cost

    cost = replay_cost("knowledge", "quick", full_data) / default_run_cost()
    assert 1 < cost <= 20
