"""The command line's options for the lab's settings, one per row of
``kdlab.classroom.lab_settings.LAB_SETTINGS``: its name (``--temperature``, ``--lr``), type, default and
help all come from the row and the command's config, and the parsed options go back to the config's
keywords through the same rows. Options that are not lab settings (``--json``, ``--baseline``, ...)
stay with their command."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import fields

from kdlab.classroom.lab_settings import LAB_SETTINGS, LabSetting
from kdlab.cli.common import switch, train_size
from kdlab.cli.seeds import seed_count
from kdlab.i18n import _
from kdlab.ml.config import HoldsTraining

# The settings whose command-line value is not a plain number or name: the training set takes 'all', the
# seeds a count the lab's slider bounds. Every other option's type is its default's (int, float or str).
ARGUMENT_TYPES = {"train_size": train_size, "seeds": seed_count, "standardise": switch}


def config_value(config: HoldsTraining, field: str) -> object:
    """``config``'s value of a ``build`` keyword: its own field or its training's (``temperature``)."""
    own = {item.name for item in fields(config)}
    return getattr(config if field in own else config.training, field)


def option_default(setting: LabSetting, defaults: HoldsTraining) -> object:
    """What the option holds when not given: the config's value; None for a setting of the press of Train
    (``--seeds``: one run) and where the config itself leaves the field unset (``--beta``)."""
    return config_value(defaults, setting.field) if setting.in_config else None


def option_help(setting: LabSetting, default: object) -> str:
    """The option's help in the current language: the row's label and help, what the command line adds, and the
    default (the lab's when the config leaves the field unset: 5,000 training images, beta 8)."""
    parts = [_(setting.label) + (f". {_(setting.help).rstrip('.')}" if setting.help else "")]
    if setting.cli_help:
        parts.append(_(setting.cli_help))
    text = "; ".join(parts)
    if not setting.in_config:
        return text
    shown = setting.default() if default is None else default
    value = format(shown, setting.number_format) if setting.number_format else shown
    return _("{help} (default: {value})").format(help=text, value=value)


def add_setting_options(
    parser: argparse.ArgumentParser, defaults: HoldsTraining, urls: Sequence[str] | None = None
) -> None:
    """One option per lab setting (``urls`` by URL name, in the table's order; None: every one), with
    ``defaults``'s values: ``DistillConfig()`` for ``distill``, ``SchemeConfig()`` for ``schemes``."""
    for setting in LAB_SETTINGS:
        if urls is not None and setting.url not in urls:
            continue
        default = option_default(setting, defaults)
        typed = setting.default() if default is None else default
        kind = ARGUMENT_TYPES.get(setting.field) or (type(typed) if isinstance(typed, (int, float)) else None)
        parser.add_argument(
            setting.option,
            *setting.cli_aliases,
            dest=setting.field,
            type=kind,
            default=default,
            choices=list(setting.options) if setting.widget == "radio" else None,
            metavar="{on,off}" if kind is switch else None,  # what a user types, not the parsed True/False
            help=option_help(setting, default),
        )


def setting_keywords(args: argparse.Namespace) -> dict[str, object]:
    """The parsed options of the lab's config settings -> ``build``'s keywords (``{"temperature": 8.0, ...}``);
    a setting the command does not offer is left out."""
    return {
        setting.field: getattr(args, setting.field)
        for setting in LAB_SETTINGS
        if setting.in_config and hasattr(args, setting.field)
    }
