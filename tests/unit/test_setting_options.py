"""The command line's options for the lab's settings (``kdlab.cli.setting_options``): generated from
``LAB_SETTINGS``, so a setting of the lab cannot be missing from ``distill`` nor drift from it."""

import argparse
from dataclasses import fields

import pytest

from kdlab.classroom.lab_settings import LAB_SETTINGS
from kdlab.cli import main
from kdlab.cli.core import add_distill_arguments
from kdlab.cli.schemes import add_arguments as add_scheme_arguments
from kdlab.cli.setting_options import config_value, setting_keywords
from kdlab.experiments.distill import DistillConfig
from kdlab.experiments.schemes.config import SchemeConfig
from kdlab.ml.config import TrainConfig


def parser_of(add_arguments) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser


def options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {name: action for action in parser._actions for name in action.option_strings}


def test_every_lab_setting_of_the_config_is_an_option_of_distill_with_its_default_in_the_help():
    config_keywords = {item.name for item in fields(DistillConfig) + fields(TrainConfig)}
    distill = options(parser_of(add_distill_arguments))
    defaults = DistillConfig()
    for setting in LAB_SETTINGS:
        if setting.field not in config_keywords:
            continue
        action = distill[setting.option]
        assert action.dest == setting.field and action.default == config_value(defaults, setting.field)
        assert "(default: " in action.help and action.help.startswith(setting.label)


def test_the_options_keep_their_names_types_and_defaults():
    distill = options(parser_of(add_distill_arguments))
    expected = {
        "--teacher": (None, "cnn-wide"),
        "--student": (None, "mlp-200x1"),
        "--temperature": (float, 4.0),
        "--alpha": (float, 0.9),
        "--soft": (None, "kd"),
        "--beta": (float, None),
        "--epochs": (int, 40),
        "--lr": (float, 0.001),
        "--batch-size": (int, 128),
        "--seed": (int, 0),
    }
    assert {name: (distill[name].type, distill[name].default) for name in expected} == expected
    assert distill["--train-size"].default is None and distill["--seeds"].default is None
    assert "(default: 5,000)" in distill["--train-size"].help and "(default: 8)" in distill["--beta"].help
    schemes = options(parser_of(add_scheme_arguments))
    assert (schemes["--epochs"].default, schemes["--train-size"].default) == (20, 10_000)
    assert "--soft" not in schemes and "(default: 10,000)" in schemes["--train-size"].help


def test_the_parsed_options_are_the_configs_keywords():
    args = parser_of(add_distill_arguments).parse_args(
        ["--temperature", "8", "--lr", "0.01", "--batch-size", "64", "--soft", "dkd", "--beta", "2", "--seeds", "3"]
    )
    keywords = setting_keywords(args)
    assert "seeds" not in keywords  # a setting of the press, not of the config
    config = DistillConfig.build(**keywords)
    assert (config.training.temperature, config.training.learning_rate, config.training.batch_size) == (8.0, 0.01, 64)
    assert (config.soft, config.beta) == ("dkd", 2.0)
    scheme_args = parser_of(add_scheme_arguments).parse_args(["--temperature", "2", "--train-size", "500"])
    scheme = SchemeConfig.build(**setting_keywords(scheme_args))
    assert (scheme.training.temperature, scheme.train_size) == (2.0, 500)


@pytest.mark.parametrize(
    "args",
    [["--temperature", "hot"], ["--lr", "fast"], ["--train-size", "many"], ["--seeds", "9"], ["--soft", "fitnets"]],
)
def test_a_bad_value_exits_2_with_one_line(args, capsys):
    assert main(["distill", *args]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("kdlab: error: ")
