"""The distillation method as a class setting (issue #29, items 5 and 6): the lab and its links offer only the
methods that fit the pair, the command line's ``--method``, the board's method column and groups, and the cost
cap counting a feature run at its method's cost."""

import json

import pytest

from kdlab.classroom.board import TABLE_COLUMNS, class_run, table_rows
from kdlab.classroom.board_groups import class_groups
from kdlab.classroom.lab_settings import lab_setting, method_fit
from kdlab.classroom.links import check_link, parse_lab_link
from kdlab.experiments.distill import DistillConfig
from kdlab.experiments.plans import PlannedRun, student_pair_plan
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.models import describe_model
from kdlab.serve import limits
from kdlab.serve.limits import CostTooHigh, check_cost
from kdlab.serve.request import TrainRequest
from tests.unit.test_board_groups import run
from tests.unit.test_cli import run_cli

FEATURE_METHODS = [name for name, method in METHODS.items() if method.transfer is not None]


def test_the_methods_offered_are_those_that_fit_the_pair_and_each_left_out_says_why():
    for teacher, student in [("cnn-wide", "cnn-small"), ("cnn-wide", "mlp-200x1"), ("ensemble:cnn*3", "linear")]:
        fitting, unfit = method_fit(teacher, student)
        assert set(fitting) | set(unfit) == set(METHODS) and not set(fitting) & set(unfit)
        assert list(fitting) == [name for name in METHODS if name in fitting]  # the registry's order
        assert all(METHODS[name].unfit(teacher, student) == why != "" for name, why in unfit.items())
    assert method_fit("cnn-wide", "cnn-small")[0] == tuple(METHODS)  # the lesson's pair: every method
    fitting, unfit = method_fit("cnn-wide", "mlp-200x1")
    assert "at" not in fitting and "hints" in fitting and "the student mlp-200x1 has none" in unfit["at"]
    assert method_fit("ensemble:cnn*3", "mlp-200x1")[0] == ("kd", "tckd", "nckd", "dkd", "logits", "dist")


def test_a_link_that_sets_or_locks_an_unfit_method_gets_one_warning_and_kd():
    link = parse_lab_link({"soft": "at", "student": "mlp-200x1", "lock": "soft,student"}, 4000)
    assert link.values["soft"] == "kd" and link.is_locked("soft")
    [problem] = link.problems
    assert problem.startswith("soft=`at` does not fit this pair: AT matches the conv blocks' feature maps")
    assert problem.endswith("using soft = kd")
    # the lab's default student is an MLP, so a link naming only the method is refused the same way
    assert parse_lab_link({"soft": "at"}, 4000).values["soft"] == "kd"
    fits = parse_lab_link({"soft": "at", "student": "cnn-small", "at_weight": "300"}, 4000)
    assert (fits.values["soft"], fits.values["at_weight"], fits.problems) == ("at", 300.0, ())
    assert "ensemble" in parse_lab_link({"soft": "sp", "teacher": "ensemble:cnn*3"}, 4000).problems[0]
    assert any("does not fit" in problem for problem in check_link("lab", {"soft": "rkd", "student": "linear"}))


def test_the_method_setting_is_named_method_and_keeps_its_soft_url():
    setting = lab_setting("soft")
    assert (setting.url, setting.field, setting.name) == ("soft", "soft", "method")
    assert setting.label.startswith("Method") and setting.option == "--method" and "--soft" in setting.cli_aliases


def test_the_board_has_a_method_column_and_pools_seeds_per_method_in_the_registry_order():
    lesson = ["kd", "hints", "at", "rkd", "sp"]
    runs = [
        run(seed, distilled=400 + 10 * n + seed, student_id=10 * n + seed, soft=name, student="cnn-small")
        for n, name in enumerate(reversed(lesson))
        for seed in (0, 1)
    ]
    groups = class_groups(runs, ("soft",))
    assert [group.values[0] for group in groups] == lesson
    assert all(group.pool.seeds == 2 and group.trainings == 2 for group in groups)
    assert "method" in TABLE_COLUMNS and "soft" not in TABLE_COLUMNS
    summary = {"config": {"soft": "at", "at_weight": 300.0}, "baseline": {"test_errors": 50}}
    [row] = table_rows([class_run("Al", 1, 1.0, "completed", "trained", summary, None)])
    assert row["method"] == "at" and row["at_weight"] == 300.0 and row["hint_weight"] is None


def test_a_feature_methods_distilled_run_costs_its_methods_factor(monkeypatch, sample_data, small_teacher):
    at = DistillConfig.build(teacher="lenet5", teacher_epochs=8, student="cnn-small", soft="at", train_size=1000)
    kd = DistillConfig.build(**{**at.as_dict(), "soft": "kd", "at_weight": None})
    factor = METHODS["at"].cost
    assert factor > 1  # measured by bench/method_cost.py
    one = PlannedRun("cnn-small", 1000, at.training.epochs)
    plan = student_pair_plan(None, one, at.student_runs, factor)
    assert plan["distilled"] == pytest.approx(factor * plan["baseline"]) and plan["teacher"] == 0
    request, kd_request = TrainRequest.build(at, sample_data), TrainRequest.build(kd, sample_data)
    assert request.plan["distilled"] == pytest.approx(factor * kd_request.plan["distilled"])
    student = 1000 * at.training.epochs * describe_model("cnn-small").flops_per_image
    assert check_cost(at, 1000, 0.0) == pytest.approx(student * (factor + 1))
    assert check_cost(kd, 1000, 0.0) == pytest.approx(student * 2)
    # a cap that the KD run just fits refuses the AT run, and says the method is counted at its factor
    monkeypatch.setattr(limits, "max_run_cost", lambda: student * 2)
    with pytest.raises(CostTooHigh, match=f"the AT run counted {factor:g} times"):
        check_cost(at, 1000, 0.0)


def test_every_feature_method_has_a_measured_cost_over_one_and_no_method_costs_less_than_kd():
    for name, method in METHODS.items():
        assert (method.cost > 1) if name in FEATURE_METHODS else (method.cost >= 1)
    assert METHODS["kd"].cost == 1  # the unit every other method's cost is measured in


def test_distill_method_json_carries_the_method_its_settings_and_the_feature_term(small_teacher):
    common = ("--teacher", "lenet5", "--teacher-epochs", "8", "--student", "mlp-50x1", "--epochs", "1")
    completed = run_cli("distill", *common, "--train-size", "500", "--method", "hints", "--baseline", "--json")
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["method"] == {
        "name": "hints",
        "label": METHODS["hints"].label,
        "knowledge": "feature",
        "settings": METHODS["hints"].setting_values({}),
    }
    assert report["config"]["soft"] == "hints"
    assert report["student"]["feature_loss"] >= 0 and "feature_loss" not in report["baseline"]
    assert "Hints (FitNets) term" in completed.stderr
    alias = run_cli("distill", *common, "--train-size", "500", "--soft", "sp", "--sp-weight", "1000", "--json")
    assert alias.returncode == 0, alias.stderr
    assert json.loads(alias.stdout)["method"]["settings"] == {"sp_weight": 1000.0}


def test_distill_seeds_json_carries_each_seeds_feature_term(small_teacher):
    completed = run_cli(
        "distill",
        "--teacher",
        "lenet5",
        "--teacher-epochs",
        "8",
        "--student",
        "mlp-20x1",
        "--epochs",
        "1",
        "--train-size",
        "500",
        "--method",
        "rkd",
        "--seeds",
        "2",
        "--json",
    )
    assert completed.returncode == 0, completed.stderr
    report = json.loads(completed.stdout)
    assert report["method"]["name"] == "rkd" and report["method"]["knowledge"] == "relation"
    assert [run["seed"] for run in report["seeds"]["runs"]] == [0, 1]
    assert all(run["feature_loss"] >= 0 for run in report["seeds"]["runs"])


def test_distill_refuses_an_unfit_pair_with_its_sentence_and_lists_every_method_in_help():
    completed = run_cli("distill", "--method", "at", "--student", "mlp-200x1")
    assert completed.returncode == 2 and completed.stdout == ""
    assert completed.stderr.strip() == "kdlab: error: " + METHODS["at"].unfit("cnn-wide", "mlp-200x1")
    shown = " ".join(run_cli("distill", "--help").stdout.split())  # argparse wraps the help
    assert "--method {" + ",".join(METHODS) + "}" in shown
    assert all(f"{method.label}: {' '.join(method.summary.split())}" in shown for method in METHODS.values())
