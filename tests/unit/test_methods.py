"""The distillation methods' registry (``kdlab.ml.methods``): each method declared once, in its module, and
the lab's controls, links, the command line and DistillConfig's checks derived from it."""

import argparse

import pytest
import torch

from kdlab.classroom.board import TABLE_COLUMNS, class_run, table_rows
from kdlab.classroom.lab_settings import LAB_SETTINGS, lab_setting
from kdlab.classroom.links import parse_lab_link
from kdlab.cli.core import add_distill_arguments
from kdlab.experiments.distill import DistillConfig
from kdlab.ml.losses import DecoupledTeacherLoss, TeacherLoss, decoupled_kl, kd_loss
from kdlab.ml.methods import at, dist, dkd, hints, kd, logits, nckd, rkd, sp, tckd
from kdlab.ml.methods.registry import METHODS, method_settings, teacher_objective
from kdlab.serve.keys import NOT_IN_BASELINE, baseline_identity


def test_every_method_module_is_registered_once_under_its_own_name():
    modules = (kd, tckd, nckd, dkd, logits, dist, hints, at, rkd, sp)
    names = ["kd", "tckd", "nckd", "dkd", "logits", "dist", "hints", "at", "rkd", "sp"]
    assert list(METHODS) == [module.METHOD.name for module in modules] == names
    assert all(METHODS[module.METHOD.name] is module.METHOD for module in modules)
    assert all(method.label and method.summary and method.formula for method in METHODS.values())


def test_the_lab_the_links_and_the_command_line_offer_exactly_the_registered_methods():
    soft = lab_setting("soft")
    assert soft.options == tuple(METHODS)
    assert soft.option_labels == {name: method.label for name, method in METHODS.items()}
    assert all(method.summary in soft.help for method in METHODS.values())
    parser = argparse.ArgumentParser()
    add_distill_arguments(parser)
    choices = next(action.choices for action in parser._actions if action.dest == "soft")
    assert list(choices) == list(METHODS)
    for name, (method, setting) in method_settings().items():
        row = lab_setting(name)  # each method setting is a lab control shown with its method only
        assert row.options == setting.values and row.only_with == ("soft", method.name) and row.unset == setting.default
        assert parser.parse_args([f"--{name.replace('_', '-')}", "3"]).__dict__[name] == 3.0
    assert [row.url for row in LAB_SETTINGS].count("beta") == 1
    link = parse_lab_link({"soft": "dkd", "beta": "4"}, 4000)
    assert link.values["soft"] == "dkd" and link.values["beta"] == 4.0
    assert "is not a method (kd, tckd, nckd, dkd, logits, dist, hints, at, rkd, sp)" in " ".join(
        parse_lab_link({"soft": "fitnets"}, 4000).problems
    )


def test_a_method_setting_belongs_to_its_method_and_stays_in_its_range():
    DistillConfig.build(soft="dkd", beta=2.0)  # fine
    with pytest.raises(ValueError, match="beta is a setting of the dkd method only"):
        DistillConfig.build(soft="kd", beta=2.0)
    with pytest.raises(ValueError, match="beta must be a number from 0 to 100"):
        DistillConfig.build(soft="dkd", beta=101.0)
    with pytest.raises(ValueError, match="Unknown method 'fitnets'"):
        DistillConfig.build(soft="fitnets")


def test_each_method_makes_the_objective_of_its_formula():
    torch.manual_seed(0)
    student, teacher, labels = torch.randn(6, 10), torch.randn(6, 10), torch.randint(0, 10, (6,))
    index = torch.arange(6)
    assert isinstance(teacher_objective(teacher, 4.0, 0.9, "kd"), TeacherLoss)
    kd_total = teacher_objective(teacher, 4.0, 0.9, "kd")([student], 0, labels, index).total
    assert torch.allclose(kd_total, kd_loss(student, teacher, labels, 4.0, 0.9).total)
    parts = decoupled_kl(student, teacher, labels, 4.0)
    for name, (tckd_weight, nckd_weight) in {"tckd": (1.0, 0.0), "nckd": (0.0, 1.0), "dkd": (1.0, 8.0)}.items():
        objective = teacher_objective(teacher, 4.0, 1.0, name)  # alpha 1: the soft term alone; dkd: beta's default
        assert isinstance(objective, DecoupledTeacherLoss)
        soft = objective([student], 0, labels, index).soft
        assert torch.allclose(soft, tckd_weight * parts.tckd.mean() + nckd_weight * parts.nckd.mean())
    beta_two = teacher_objective(teacher, 4.0, 1.0, "dkd", beta=2.0)([student], 0, labels, index).soft
    assert torch.allclose(beta_two, parts.tckd.mean() + 2.0 * parts.nckd.mean())


def test_each_methods_loss_anatomy_draws_exactly_the_parts_its_objective_weighs():
    torch.manual_seed(1)
    student, teacher, labels = torch.randn(6, 10), torch.randn(6, 10), torch.randint(0, 10, (6,))
    for name, method in METHODS.items():
        logits_objective = method.objective(teacher, 4.0, 0.5, method.setting_values({}))  # a feature method's KD part
        if not hasattr(logits_objective, "soft_parts"):  # a soft term that is not KL (logit matching): no parts
            assert method.anatomy == (), name
            continue
        tckd_part, nckd_part = logits_objective.soft_parts(student, labels, torch.arange(6))
        weighed = {part for part, value in (("tckd", tckd_part), ("nckd", nckd_part)) if value > 0}
        assert {part for part, _ in method.anatomy} == weighed, name
        method.dark_knowledge.format(**method.setting_values({}))  # its sentence takes its own settings only


def test_the_board_and_the_baseline_key_take_each_method_setting_from_the_registry(sample_data):
    runs = [
        class_run("Owl", 1, 1.0, "completed", "trained", {"config": {"soft": "dkd", "beta": None}}, None),
        class_run("Fox", 2, 2.0, "completed", "trained", {"config": {"soft": "dkd", "beta": 2.0}}, None),
        class_run("Elk", 3, 3.0, "completed", "trained", {"config": {"soft": "kd"}}, None),
    ]
    rows = {row["student"]: row for row in table_rows(runs)}
    for name, (method, setting) in method_settings().items():
        assert name in TABLE_COLUMNS and name in NOT_IN_BASELINE  # the student alone never sees the method
        [unset] = table_rows(
            [class_run("Yak", 4, 4.0, "completed", "trained", {"config": {"soft": method.name}}, None)]
        )
        assert unset[name] == setting.default and rows["Elk"][name] is None
    assert rows["Fox"]["beta"] == 2.0
    distilled_by_dkd = DistillConfig.build(soft="dkd", beta=2.0)
    assert baseline_identity(distilled_by_dkd, sample_data) == baseline_identity(DistillConfig.build(), sample_data)
