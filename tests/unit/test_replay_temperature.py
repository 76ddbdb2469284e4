"""The temperature-schedules replay (is one temperature right?) at a tiny budget on the offline sample, its rows,
its paired intervals over seeds and its verdict."""

import json
import statistics
from dataclasses import replace

import pytest
import torch
from scipy import stats

from kdlab.cli import main
from kdlab.experiments import replays
from kdlab.experiments.replays import REPLAYS, Budget, TemperatureConfig, replay_config, run_replay
from kdlab.experiments.replays.temperature_schedules import (
    LIMIT,
    PAPER_TEMPERATURE,
    REFERENCE,
    RUNS,
    temperature_config,
    temperature_seeds,
)

TINY_BUDGET = Budget("test", teacher_epochs=1, student_epochs=1, sweep_epochs=1, sweep_train_size=200)
TINY = dict(teacher="linear", teacher_epochs=1, train_size=300, evals_per_epoch=2, curve_test_images=100)


def test_the_rows_are_the_ones_the_papers_ask_for_at_the_labs_pair_and_alpha():
    config = replay_config("temperature-schedules", "quick", seed=3)
    assert isinstance(config, TemperatureConfig) and REPLAYS["temperature-schedules"].seeds == 3
    assert (config.teacher, config.student) == ("cnn-wide", "mlp-200x1")  # DistillConfig()'s, the lab's
    rows = {}
    for run in RUNS:
        lab = config.distill_config(run)
        assert (lab.teacher, lab.student, lab.training.seed, lab.training.alpha) == ("cnn-wide", "mlp-200x1", 3, 0.9)
        assert lab.training.epochs == replays.BUDGETS["quick"].student_epochs
        rows[run] = (lab.soft, lab.training.temperature, lab.standardise, lab.schedule, lab.with_baseline)
    fixed = {f"kd-t{t:g}": ("kd", t, False, "constant", False) for t in (1.0, 2.0, 4.0, 8.0, 20.0, 50.0)}
    assert rows == {
        "baseline": ("kd", 4.0, False, "constant", True),
        **fixed,
        "logits": ("logits", 4.0, False, "constant", False),
        "standardised": ("kd", 2.0, True, "constant", False),  # Sun et al.'s base T
        "annealed": ("kd", 8.0, False, "annealed", False),  # from 8 down to 1
        "learned": ("kd", 4.0, False, "learned", False),  # CTKD from the lab's T
    }
    assert (REFERENCE, LIMIT) == ("kd-t4", "kd-t50")
    assert json.loads(json.dumps(config.as_dict()))["seed"] == 3 and "temperature" not in config.as_dict()
    with pytest.raises(ValueError, match="Unknown budget"):
        temperature_config("huge")
    with pytest.raises(ValueError, match="Students do not jitter"):
        temperature_config(jitter_pixels=2)


def test_short_run_trains_eleven_students_on_the_same_batches_and_reports_the_limit_and_learned_t(sample_data):
    config = TemperatureConfig.build(budget=TINY_BUDGET, **TINY)
    result = run_replay("temperature-schedules", sample_data, config=config)
    summary = result.summary
    assert summary["status"] == "completed" and summary["replay"] == "temperature-schedules"
    assert summary["paper"] == PAPER_TEMPERATURE and summary["paper_source"].startswith("Hinton")
    assert list(summary["errors"]) == list(RUNS)
    assert all(summary["errors"][run] == summary["students"][run]["test_errors"] for run in RUNS)
    assert set(result.test_logits) == set(RUNS) | {"teacher"}
    for one, other in zip(RUNS, RUNS[1:]):
        assert not torch.equal(result.test_logits[one], result.test_logits[other])
    # how close T = 50 comes to logit matching, from the two students' test logits
    same = (result.test_logits[LIMIT].argmax(1) == result.test_logits["logits"].argmax(1)).float().mean()
    limit = summary["limit"]
    assert limit["agreement"] == round(float(same), 4) and 0 <= limit["agreement"] <= 1
    assert (limit["limit_errors"], limit["logits_errors"]) == (summary["errors"][LIMIT], summary["errors"]["logits"])
    # the learned T is reported, and it moved; the fixed ones carry none
    learned = summary["students"]["learned"]["final_temperature"]
    assert summary["final_temperature"] == learned and learned != 4.0
    assert "final_temperature" not in summary["students"][REFERENCE]
    quantities = [row["quantity"] for row in summary["comparison"]]
    assert quantities[0].startswith("High-T limit") and len(quantities) == 5
    assert f"{summary['errors']['standardised']:,} errors" in summary["comparison"][2]["ours"]
    json.dumps(summary, allow_nan=False)


def _summaries(errors_by_seed: list[dict[str, int]], agreement=(0.99, 0.98, 0.97), learned=(5.0, 6.0, 7.0)):
    return [
        {"config": {"seed": seed}, "errors": errors, "limit": {"agreement": share}, "final_temperature": t}
        for seed, (errors, share, t) in enumerate(zip(errors_by_seed, agreement, learned))
    ]


def _seed(alone, t1, t2, t4, t8, t20, t50, logits, standardised, annealed, learned) -> dict:
    return dict(zip(RUNS, (alone, t1, t2, t4, t8, t20, t50, logits, standardised, annealed, learned)))


def test_the_paired_intervals_are_the_t_intervals_of_the_differences_by_hand():
    errors = [
        _seed(300, 260, 228, 230, 235, 250, 262, 263, 220, 232, 229),
        _seed(310, 270, 240, 236, 232, 255, 270, 268, 226, 230, 231),
        _seed(305, 262, 236, 233, 240, 254, 265, 266, 221, 238, 236),
    ]
    over = temperature_seeds(_summaries(errors))
    rows = {row["comparison"]: row for row in over["comparisons"]}
    for name, reference, run in (
        ("standardised vs T = 4", "kd-t4", "standardised"),
        ("T = 1 vs alone", "baseline", "kd-t1"),
    ):
        differences = [seed[reference] - seed[run] for seed in errors]  # fewer errors than the reference
        mean, sem = statistics.mean(differences), statistics.stdev(differences) / 3**0.5
        half = stats.t.ppf(0.975, 2) * sem
        assert rows[name]["fewer_errors"] == pytest.approx(mean, abs=0.01)
        assert rows[name]["interval_95"] == pytest.approx([mean - half, mean + half], abs=0.01)
    assert rows["standardised vs T = 4"]["bigger_than_spread"]  # 10, 10, 12 fewer
    assert not rows["learned vs T = 4"]["bigger_than_spread"]  # 1, 5, -3
    limit = rows["logit matching vs T = 50"]  # -1, 2, -1 fewer: no difference beyond the spread
    assert limit["fewer_errors"] == pytest.approx(0, abs=0.01) and not limit["bigger_than_spread"]
    assert over["errors"]["kd-t4"]["values"] == [230, 236, 233] and over["final_temperatures"] == [5.0, 6.0, 7.0]
    verdict = over["verdict"]
    assert "Standardised beat KD at T = 4 beyond the spread" in verdict
    assert "T = 1, T = 20, T = 50 and logit matching did worse than KD at T = 4, beyond the spread" in verdict
    assert "learned is within" not in verdict and "T = 2, T = 8, annealed and learned are within the spread" in verdict
    assert "The best fixed T on average is T = 4, in between, but T = 2 and T = 8 are within its spread." in verdict
    assert "predict the same digit on 98.0% of test digits on average (99.0%, 98.0%, 97.0%)" in verdict
    assert "The learned T moved from 4 to 5.00, 6.00, 7.00" in verdict
    assert verdict.endswith("T = 20 253, T = 1 264, T = 50 265.67, logit matching 265.67, alone 305.")
    standardised = next(row for row in over["comparison"] if row["quantity"].startswith("Standardised"))
    assert standardised["ours"].startswith("10.67 fewer errors than KD at T = 4 on average [95%: ")
    sun = PAPER_TEMPERATURE["sun"]
    assert standardised["paper"].startswith(f"{sun['setting']}: KD {sun['kd']:.2f} -> {sun['standardised']:.2f}")


def test_a_verdict_says_when_nothing_is_beyond_the_spread():
    flat = [_seed(*[300] * 11), _seed(*[310] * 11), _seed(*[290] * 11)]
    flat[0]["kd-t4"], flat[1]["kd-t4"], flat[2]["kd-t4"] = 290, 280, 300  # fewest on average, within the spread
    verdict = temperature_seeds(_summaries(flat))["verdict"]
    assert verdict.startswith("Nothing beats the student alone by more than the seed-to-seed spread.")
    assert "No method beats KD at T = 4 by more than the spread." in verdict
    assert "The best fixed T on average is T = 4, in between, but T = 1, T = 2, T = 8, T = 20 and T = 50 are" in verdict


def test_command_line_offers_the_replay_by_name_and_runs_it_over_two_seeds(capsys, monkeypatch):
    with pytest.raises(SystemExit):
        main(["replay", "--help"])
    assert "temperature-schedules = Is one temperature right?" in capsys.readouterr().out.replace("\n", " ")
    monkeypatch.setitem(replays.BUDGETS, "quick", TINY_BUDGET)
    tiny = replace(REPLAYS["temperature-schedules"], config=lambda budget, **s: temperature_config(budget, **TINY, **s))
    monkeypatch.setitem(REPLAYS, "temperature-schedules", tiny)
    code = main(["replay", "temperature-schedules", "--seed", "1", "--seeds", "2", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["seeds"]["seeds"] == [1, 2] and len(summary["seeds"]["final_temperatures"]) == 2
    assert "standardised vs T = 4" in captured.err and "Mean errors, fewest first:" in captured.err
    assert "Test errors (seed 1): alone " in captured.err and "learned T ended at " in captured.err
