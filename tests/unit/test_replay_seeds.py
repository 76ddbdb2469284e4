"""``replay temperature-width|decoupled --seeds N``: each number with its spread over the seeds, and
the comparisons paired by seed that are bigger than that spread (summaries built here, and the
decoupled replay on the command line at a tiny budget)."""

import json

import pytest

from kdlab.cli import main
from kdlab.experiments import replays
from kdlab.experiments.replays import Budget, replay_config, run_over_seeds
from kdlab.experiments.replays.over_seeds import (
    comparison_line,
    decoupled_seeds,
    seeded_configs,
    temperature_width_seeds,
)
from kdlab.experiments.seeds import t_interval
from tests.conftest import TINY_TEACHER_EPOCHS


def grid_summary(seed, alone, at_4, at_20):
    cells = [(None, alone), (4.0, at_4), (20.0, at_20)]
    return {
        "config": {"seed": seed},
        "status": "completed",
        "grid": [{"width": 30, "temperature": t, "test_errors": errors} for t, errors in cells],
    }


def test_the_grid_over_seeds_says_which_differences_are_bigger_than_the_spread():
    summaries = [grid_summary(0, 300, 200, 205), grid_summary(1, 310, 195, 190), grid_summary(2, 305, 205, 212)]
    over = temperature_width_seeds(summaries)
    alone = next(cell for cell in over["grid"] if cell["temperature"] is None)["errors"]
    assert alone["values"] == [300, 310, 305] and alone["mean"] == 305.0 and alone["sd"] == 5.0
    rows = {row["comparison"]: row for row in over["comparisons"]}
    vs_alone = rows["width 30, T = 4 vs alone"]
    assert vs_alone["fewer_errors"] == pytest.approx((100 + 115 + 100) / 3, abs=0.01) and vs_alone["bigger_than_spread"]
    versus_best = rows["width 30, T = 20 vs T = 4 (the best on average)"]  # 5, -5, 7 more: within the spread
    assert not versus_best["bigger_than_spread"]
    assert versus_best["interval_95"] == [round(x, 2) for x in t_interval([-5, 5, -7])]
    assert "within the seed-to-seed spread" in comparison_line(versus_best)
    assert "bigger than the seed-to-seed spread" in comparison_line(vs_alone)


def test_the_decoupled_replay_over_seeds_pairs_each_loss_with_alone_and_kd():
    def summary(seed, errors):
        names = ("baseline", "kd", "tckd", "nckd", "dkd")
        return {
            "config": {"seed": seed},
            "status": "completed",
            "ours": {f"{n}_errors": e for n, e in zip(names, errors)},
        }

    over = decoupled_seeds([summary(0, (624, 547, 640, 448, 450)), summary(1, (637, 572, 650, 435, 440))])
    assert over["errors"]["nckd"]["values"] == [448, 435]
    rows = {row["comparison"]: row for row in over["comparisons"]}
    assert set(rows) == {
        "kd vs alone",
        "tckd vs alone",
        "nckd vs alone",
        "dkd vs alone",
        "tckd vs kd",
        "nckd vs kd",
        "dkd vs kd",
    }
    assert rows["nckd vs alone"]["fewer_errors"] == pytest.approx((176 + 202) / 2)
    assert rows["nckd vs kd"]["wins"] == "nckd won in 2 of 2 seeds"


def test_seeds_are_checked_and_only_the_replays_that_compare_settings_take_them(capsys):
    config = replay_config("decoupled", seed=3)
    assert [seeded.training.seed for seeded in seeded_configs(config, 3)] == [3, 4, 5]
    with pytest.raises(ValueError, match="1 to 5 seeds"):
        seeded_configs(config, 6)
    with pytest.raises(ValueError, match="temperature-width and decoupled"):
        run_over_seeds("table", config, 2, lambda seeded: {})
    assert main(["replay", "table", "--seeds", "2"]) == 2
    assert (
        "--seeds applies to the temperature-width, decoupled, knowledge, temperature-schedules, stronger-teacher "
        "replays" in capsys.readouterr().err
    )


def test_command_line_decoupled_over_two_seeds(capsys, monkeypatch, linear_teacher):
    budget = Budget("test", teacher_epochs=TINY_TEACHER_EPOCHS, student_epochs=1, sweep_epochs=1, sweep_train_size=300)
    monkeypatch.setitem(replays.BUDGETS, "quick", budget)
    arguments = ["replay", "decoupled", "--teacher", "linear", "--student", "mlp-20x1", "--seeds", "2", "--json"]
    code = main(arguments)
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["seeds"]["seeds"] == [0, 1] and len(summary["seeds"]["errors"]["kd"]["values"]) == 2
    assert "Over seeds 0, 1, paired by seed:" in captured.err and "nckd vs kd: " in captured.err
