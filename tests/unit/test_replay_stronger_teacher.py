"""The stronger-teacher replay (does a stronger teacher teach better?): its config, a tiny run on the offline sample,
the paired gains over seeds and their verdict, and the command line."""

import json
from dataclasses import replace

import pytest
import torch

from kdlab.cli import main
from kdlab.experiments import replays
from kdlab.experiments.replays import REPLAYS, Budget, replay_config, run_replay
from kdlab.experiments.replays.stronger_teacher import (
    METHOD_RUNS,
    PAPER_STRONGER,
    TEACHERS,
    StrongerTeacherConfig,
    stronger_teacher_config,
    stronger_teacher_seeds,
)

TINY_BUDGET = Budget("test", teacher_epochs=1, student_epochs=1, sweep_epochs=1, sweep_train_size=200)
# A linear teacher and an ensemble of two linear models: the ensemble's path (soft targets averaged at each T) runs.
TINY = dict(
    teachers=("linear", "ensemble:linear*2"),
    student="mlp-20x1",
    teacher_epochs=1,
    train_size=300,
    evals_per_epoch=1,
    curve_test_images=100,
)


def test_config_is_the_lab_student_from_four_rising_teachers_three_ways_at_the_replays_alpha(sample_data):
    config = replay_config("stronger-teacher", "quick", seed=3)
    assert isinstance(config, StrongerTeacherConfig) and REPLAYS["stronger-teacher"].seeds == 3
    assert config.teachers == TEACHERS == ("linear", "mlp-1200x2", "cnn-wide", "ensemble:cnn*3")
    assert (config.student, config.train_size) == ("mlp-200x1", None)  # the lab's student and transfer set
    assert config.training.epochs == replays.BUDGETS["quick"].student_epochs
    for teacher in config.teachers:
        kd, skd, dist = (config.distill_config(teacher, method) for method in METHOD_RUNS)
        assert (kd.soft, kd.standardise, kd.training.temperature) == ("kd", False, 4.0)
        assert (skd.soft, skd.standardise, skd.training.temperature) == ("kd", True, 2.0)  # Sun et al.'s base T
        assert (dist.soft, dist.standardise, dist.method_settings) == (
            "dist",
            False,
            {"dist_inter": None, "dist_intra": None},
        )
        assert {lab.training.alpha for lab in (kd, skd, dist)} == {0.5}
        assert {lab.training.seed for lab in (kd, skd, dist)} == {3} and not kd.with_baseline
    # kdlab prepare caches every teacher, each as the lab trains it (4 epochs on full MNIST's size, no jitter).
    listed = REPLAYS["stronger-teacher"].teachers(config, sample_data)
    assert [(teacher.name, teacher.seed, teacher.jitter_pixels) for teacher in listed] == [
        (name, 0, 0) for name in TEACHERS
    ]
    assert json.loads(json.dumps(config.as_dict()))["teachers"] == list(TEACHERS)
    with pytest.raises(ValueError, match="two or more different teachers"):
        stronger_teacher_config(teachers=("cnn", "cnn"))
    with pytest.raises(ValueError, match="Unknown architecture|not a known"):
        stronger_teacher_config(teachers=("linear", "resnet-152"))


def test_short_run_trains_the_student_alone_once_and_three_per_teacher_on_the_same_batches(sample_data):
    config = StrongerTeacherConfig.build(budget=TINY_BUDGET, **TINY)
    result = run_replay("stronger-teacher", sample_data, config=config)
    summary = result.summary
    assert summary["status"] == "completed" and summary["replay"] == "stronger-teacher"
    assert summary["paper"] == PAPER_STRONGER and summary["paper_source"].startswith("Huang")
    assert [row["teacher"] for row in summary["teachers"]] == ["linear", "ensemble:linear*2"]
    alone = summary["baseline_errors"]
    assert alone == summary["students"]["baseline"]["test_errors"]
    for row in summary["teachers"]:
        assert isinstance(row["teacher_errors"], int) and list(row["errors"]) == list(METHOD_RUNS)
        for method in METHOD_RUNS:
            errors = summary["students"][f"{row['teacher']}/{method}"]["test_errors"]
            assert row["errors"][method] == errors and row["gains"][method] == alone - errors
    runs = ["baseline", *(f"{row['teacher']}/{method}" for row in summary["teachers"] for method in METHOD_RUNS)]
    assert list(result.test_logits) == runs
    # Each method changes the student: no two runs end with the same logits.
    for one, other in zip(runs, runs[1:]):
        assert not torch.equal(result.test_logits[one], result.test_logits[other])
    json.dumps(summary, allow_nan=False)


def _summaries(alone: list[int], errors: dict[str, dict[str, list[int]]]) -> list[dict]:
    """Made-up summaries: the student alone's errors per seed, and per teacher each method's errors per seed."""
    return [
        {
            "config": {"seed": seed},
            "baseline_errors": alone[seed],
            "teachers": [
                {"teacher": name, "teacher_errors": 100 - 10 * index, "errors": {m: v[seed] for m, v in row.items()}}
                for index, (name, row) in enumerate(errors.items())
            ],
        }
        for seed in range(len(alone))
    ]


def test_the_gains_are_paired_by_seed_and_the_verdict_reads_the_intervals():
    summaries = _summaries(
        [500, 510, 505],
        {
            "weak": {"kd": [450, 455, 452], "skd": [520, 530, 525], "dist": [470, 475, 480]},
            "strong": {"kd": [448, 470, 440], "skd": [400, 405, 402], "dist": [430, 432, 428]},
        },
    )
    over = stronger_teacher_seeds(summaries)
    weak, strong = over["rows"]
    # KD from the weak teacher: gains 50, 55, 53 -> mean 52.67; t(0.975, 2) = 4.303, sd = 2.517, half-width 6.25.
    gain = weak["gains"]["kd"]
    assert gain["fewer_errors"] == pytest.approx(52.67, abs=0.01)
    assert gain["interval_95"] == pytest.approx([46.415, 58.918], abs=0.01)
    assert gain["bigger_than_spread"] and gain["comparison"] == "KD vs alone (weak)"
    assert weak["errors"]["kd"]["values"] == [450, 455, 452] and weak["teacher_errors"] == 100
    # KD from the strong teacher against the weak one: 2, -15, 12 fewer errors: the interval holds 0.
    kd_step = over["stronger"]["kd"][0]
    assert kd_step["fewer_errors"] == pytest.approx(-0.33, abs=0.01) and not kd_step["bigger_than_spread"]
    assert strong["versus_kd"]["dist"]["fewer_errors"] == pytest.approx(22.67, abs=0.01)
    verdict = over["verdict"]
    assert "KD, mean errors removed by teacher (weakest first): weak +52.67, strong +52.33" in verdict
    assert "Standardised KD" in verdict and "it hurt with weak" in verdict
    assert "Standardised KD, mean errors removed by teacher (weakest first): weak -20, strong +102.67" in verdict
    assert "The strongest teacher taught better than the one before it (Standardised KD from strong" in verdict
    assert "these seeds cannot tell them apart" in verdict  # KD's step
    names = [row["comparison"] for row in over["comparisons"]]
    assert "DIST vs KD (strong)" in names and "DIST from strong vs from weak" in names
    # Weakest first by the teachers' own test errors, whatever order they were asked in.
    for summary in summaries:
        summary["teachers"].reverse()
    assert [row["teacher"] for row in stronger_teacher_seeds(summaries)["rows"]] == ["weak", "strong"]


def test_command_line_stronger_teacher_json_over_two_seeds(capsys, monkeypatch):
    def tiny(budget, **settings):
        return stronger_teacher_config(budget, **{**TINY, "teachers": ("linear", "mlp-20x1")}, **settings)

    monkeypatch.setitem(replays.BUDGETS, "quick", TINY_BUDGET)
    monkeypatch.setitem(REPLAYS, "stronger-teacher", replace(REPLAYS["stronger-teacher"], config=tiny))
    code = main(["replay", "stronger-teacher", "--seed", "1", "--seeds", "2", "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    summary = json.loads(captured.out)
    assert summary["budget"]["name"] == "test" and summary["seeds"]["seeds"] == [1, 2]
    assert "DIST vs alone (mlp-20x1)" in captured.err and "KD, mean errors removed by teacher" in captured.err
    assert "Teachers' test errors: linear " in captured.err
