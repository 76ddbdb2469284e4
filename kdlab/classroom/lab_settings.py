"""The one table of the lab's settings: each row, in keywords, is a setting's URL name, ``DistillConfig``
field, label, widget, the values its control offers, the check a URL value must pass and, where the
command line says more or names it otherwise, its option.

Everything else is derived from it: the lab's controls and their locks (``kdlab.ui.lab_controls``), the
assignment links (``kdlab.classroom.links``), the share link (``kdlab.classroom.urls``), the configs a
lesson's links ask for and the command line's options for them (``kdlab.cli.setting_options``). A link
can only ask for what a control shows. The defaults come from ``DistillConfig()``. Plain Python, no
Streamlit.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields

from kdlab.classroom.values import in_range, one_of, parse_float, parse_int, parse_switch
from kdlab.experiments.distill import DEMO_TRAIN_SIZE, DistillConfig
from kdlab.experiments.seeds import MAX_SEEDS
from kdlab.i18n import N_
from kdlab.ml.methods.method import Method, MethodSetting
from kdlab.ml.methods.registry import METHODS, method_settings
from kdlab.ml.models import ARCHITECTURES, MLP_DEPTH_RANGE, canonical_architecture, mlp_name
from kdlab.ml.temperature import SCHEDULES
from kdlab.teachers.ensembles import EXAMPLES, parse_teacher_name

TEMPERATURES = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0, 50.0)  # 50: near the logit-matching limit
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
TRAIN_SIZES = (500, 1000, 2000, 5000, 10_000, 20_000, 30_000)
MLP_WIDTHS = (10, 20, 30, 50, 100, 200, 300, 500, 800, 1200)  # the student picker's widths
EPOCH_RANGE = (1, 50)
SEED_RANGE = (0, 9999)
SEEDS_RANGE = (1, MAX_SEEDS)  # how many seeds one press of Train runs
ALPHA_STEP = 0.05
WIDGETS = ("teacher", "student", "radio", "select_slider", "slider", "number_input")
# The settings that are not a field of each run's config but of the press of Train (TrainRequest.build's
# keywords), with their defaults: several seeds make several runs, each its own config.
REQUEST_DEFAULTS = {"seeds": 1}

# The method's and the schedule's help: a line per method (its label and summary) or per schedule (``SCHEDULES``),
# then these; the lab shows each part in the session's language (``kdlab.ui.lab_controls.control_help``).
METHOD_SOURCES = N_(
    "(Zhao et al. 2022, Decoupled KD; Huang et al. 2022, DIST; Romero et al. 2015, FitNets; Zagoruyko & Komodakis "
    "2017, AT; Park et al. 2019, RKD; Tung & Mori 2019, SP). Only the methods that fit the teacher and the student "
    "are offered."
)
SCHEDULE_NOTE = N_("The curves draw T when it changes. Not for logit matching, which has no T.")

Check = Callable[["LabSetting", str, "int | None"], tuple[object, str]]


def check_student(raw: str) -> tuple[str | None, str]:
    """A student the lab's picker can show: a named architecture, or mlp-<width>x<depth> with one
    of its widths."""
    try:
        name = canonical_architecture(raw)
    except ValueError:
        return None, f"is not a student kdlab knows ({', '.join(ARCHITECTURES)} or mlp-<width>x<depth>)"
    if name in ARCHITECTURES:
        return name, ""
    widths = [
        width
        for width in MLP_WIDTHS
        for depth in range(MLP_DEPTH_RANGE[0], MLP_DEPTH_RANGE[1] + 1)
        if mlp_name(width, depth) == name
    ]
    if not widths:
        return None, f"has a width the lab does not offer (widths {', '.join(map(str, MLP_WIDTHS))})"
    return name, ""


def check_teacher(raw: str) -> tuple[str | None, str]:
    """A teacher name kdlab knows: an architecture or an ensemble such as ensemble:cnn*3."""
    try:
        return parse_teacher_name(raw).name, ""
    except ValueError:
        return None, f"is not a teacher kdlab knows ({', '.join(ARCHITECTURES)}, or ensemble:cnn*3)"


def check_alpha(raw: str) -> tuple[float | None, str]:
    """alpha from 0 to 1 in the slider's steps, rounded to them."""
    value = parse_float(raw)
    if value is None:
        return None, "is not a number"
    steps = value / ALPHA_STEP
    if not 0 <= value <= 1 or not math.isclose(steps, round(steps), abs_tol=1e-6):
        return None, f"must be from 0 to 1 in steps of {ALPHA_STEP:g}"
    return round(round(steps) * ALPHA_STEP, 2), ""


def check_train_size(raw: str, train_count: int | None) -> tuple[int | None, str]:
    """One of the lab's sizes, or "all"; a size the data cannot give becomes all of it (the
    caller says so). ``train_count`` None (a lesson checked without data) accepts every size."""
    if raw.strip().lower() == "all":
        return train_count or max(TRAIN_SIZES), ""
    value, problem = one_of(raw, TRAIN_SIZES, "lab's training-set sizes")
    if value is None and train_count is not None and parse_int(raw) == train_count:
        return train_count, ""
    if value is None:
        return None, problem + ' or "all"'
    return int(value) if train_count is None else min(int(value), train_count), ""


def check_soft(raw: str) -> tuple[str | None, str]:
    """A distillation method by name (a key of ``kdlab.ml.methods.METHODS``: kd, dkd, at, ...)."""
    name = raw.strip().lower()
    if name not in METHODS:
        return None, f"is not a method ({', '.join(METHODS)})"
    return name, ""


def check_schedule(raw: str) -> tuple[str | None, str]:
    """A temperature schedule by name (``kdlab.ml.temperature.SCHEDULES``: constant, annealed, learned)."""
    name = raw.strip().lower()
    if name not in SCHEDULES:
        return None, f"is not a temperature schedule ({', '.join(SCHEDULES)})"
    return name, ""


def check_switch(raw: str) -> tuple[bool | None, str]:
    """On or off: 1/0, on/off, true/false, yes/no."""
    value = parse_switch(raw)
    return (value, "") if value is not None else (None, "must be on or off (1 or 0)")


def method_fit(teacher: str, student: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The methods (by name, in the registry's order) that can distill ``student`` from ``teacher``, and for each
    one left out the sentence that says why (``Method.unfit``)."""
    unfit = {name: method.unfit(teacher, student) for name, method in METHODS.items()}
    return tuple(name for name, why in unfit.items() if not why), {name: why for name, why in unfit.items() if why}


def _choice(setting: LabSetting, raw: str, train_count: int | None) -> tuple[object, str]:
    return one_of(raw, setting.choices(train_count), setting.what)


def _whole(setting: LabSetting, raw: str, train_count: int | None) -> tuple[object, str]:
    return in_range(raw, *setting.choices(train_count))


@functools.cache
def default_config() -> DistillConfig:
    """``DistillConfig()``: the lab's defaults (frozen, so built once)."""
    return DistillConfig()


@dataclass(frozen=True, kw_only=True)
class LabSetting:
    """One setting of the lab: how the URL, the config, the widget, the messages and the command line
    name it, and the values its control offers (a select-slider's ``options``, a slider's or number
    box's ``bounds``; the default joins either). A row says only what is its own: the widget key is
    ``lab.<field>``, the name in messages is the URL name unless it says another, a select-slider's
    check is "one of the options" and a slider's or number box's "a whole number within the bounds"."""

    url: str  # the URL parameter: ?T=8
    field: str  # DistillConfig.build's keyword (TrainRequest.build's for a setting of the press)
    label: str  # the control's label
    name: str = ""  # how messages and the share menu name it, when not by the URL name: "learning rate"
    widget: str  # one of WIDGETS
    section: str  # the lab's column heading
    check: Check | None = None  # None: the widget's own check (see the class's docstring)
    options: tuple = ()
    bounds: tuple = ()
    step: float | None = None
    what: str = ""  # the options in a message: "lab's temperatures"
    number_format: str = ""  # how a select-slider shows a value ("g": 0.001; ",": 5,000)
    help: str | None = None
    option_labels: Mapping[str, str] | None = None  # how a radio shows each option: {"nckd": "NCKD only"}
    # The setting applies only while another (URL name) has this value; otherwise the config leaves it
    # unset (None) and the control is greyed out: beta weights NCKD in the dkd soft loss only.
    only_with: tuple[str, object] | None = None
    unset: object = None  # the control's value while the config leaves the field None
    cli: str = ""  # the command line's option, when not the field's: "lr" for --lr (learning_rate)
    cli_aliases: tuple[str, ...] = ()  # more option strings for it: --soft, the method's option in older scripts
    cli_help: str = ""  # what the option's help says beyond the label and help: the teacher's ensembles
    advanced: bool = False  # drawn in the lab's Advanced section (closed unless a link says advanced=1)
    term: str = ""  # the glossary's anchor for the word this setting is (kdlab.classroom.glossary)

    @property
    def key(self) -> str:
        """The widget's session-state key (the student picker's: the prefix of its keys)."""
        return f"lab.{self.field}"

    @property
    def option(self) -> str:
        """The command line's option: ``--temperature``, ``--batch-size``, ``--lr``."""
        return "--" + (self.cli or self.field.replace("_", "-"))

    @property
    def in_config(self) -> bool:
        """False for a setting of the press of Train rather than of each run (``REQUEST_DEFAULTS``)."""
        return self.field not in REQUEST_DEFAULTS

    def __post_init__(self):
        if self.widget not in WIDGETS:
            raise ValueError(f"setting {self.url}: widget {self.widget!r} is not one of {', '.join(WIDGETS)}")
        if self.widget == "select_slider" and not self.options:
            raise ValueError(f"setting {self.url}: a select-slider needs options")
        if self.widget in ("slider", "number_input") and len(self.bounds) != 2:
            raise ValueError(f"setting {self.url}: a {self.widget} needs bounds (low, high)")
        own_check = {"select_slider": _choice, "slider": _whole, "number_input": _whole}.get(self.widget)
        if self.check is None and own_check is None:
            raise ValueError(f"setting {self.url}: a {self.widget} needs a check")
        # frozen: the derived defaults are set once, here
        object.__setattr__(self, "check", self.check or own_check)
        object.__setattr__(self, "name", self.name or self.url)

    def default(self, train_count: int | None = None) -> object:
        """``DistillConfig()``'s value; the training set is the demo size, at most the data's."""
        if not self.in_config:
            return REQUEST_DEFAULTS[self.field]
        config = default_config()
        if self.field == "train_size":
            return min(config.train_size or DEMO_TRAIN_SIZE, train_count or max(TRAIN_SIZES))
        own = {item.name for item in fields(config)}
        value = getattr(config if self.field in own else config.training, self.field)
        return self.unset if value is None else value

    def applies(self, values: Mapping[str, object]) -> bool:
        """Whether the setting counts with these lab values (by URL name): see ``only_with``."""
        return self.only_with is None or values.get(self.only_with[0]) == self.only_with[1]

    def choices(self, train_count: int | None = None) -> tuple:
        """What the control offers with data of ``train_count`` images (None: any data): a
        select-slider's values or a slider's (low, high), the default among them."""
        default = self.default(train_count)
        if self.bounds:
            return (min(self.bounds[0], default), max(self.bounds[1], default))
        if self.widget == "radio":  # names, in the table's order
            return tuple(self.options)
        values = sorted({*self.options, default})
        if self.field == "train_size" and train_count is not None:  # the data's own size is the last: "all"
            values = [value for value in values if value < train_count] + [train_count]
        return tuple(values)

    def display(self, value: object, train_count: int | None = None) -> str:
        """A value as the control shows it: ``0.001``, ``5,000``, ``4,000 (all)``."""
        if self.option_labels:
            return self.option_labels.get(value, str(value))
        text = format(value, self.number_format) if self.number_format else str(value)
        return text + (" (all)" if self.field == "train_size" and value == train_count else "")


def method_setting(method: Method, setting: MethodSetting) -> LabSetting:
    """The lab's row for a distillation method's own setting (``kdlab.ml.methods``): a select slider of its
    values, shown with that method only."""
    return LabSetting(
        url=setting.name,
        field=setting.name,
        label=setting.label,
        widget="select_slider",
        section=N_("Soft targets"),
        options=setting.values,
        what=f"lab's {setting.name} values",
        number_format="g",
        help=setting.help,
        only_with=("soft", method.name),
        unset=setting.default,
        advanced=True,
    )


LAB_SETTINGS = (
    LabSetting(
        url="teacher",
        field="teacher",
        label=N_("Teacher"),
        widget="teacher",
        section=N_("Teacher and student"),
        check=lambda setting, raw, count: check_teacher(raw),
        cli_help=f"an architecture ({', '.join(ARCHITECTURES)}) or an ensemble: {EXAMPLES}",
        term="teacher",
    ),
    LabSetting(
        url="student",
        field="student",
        label=N_("Student architecture"),
        widget="student",
        section=N_("Teacher and student"),
        check=lambda setting, raw, count: check_student(raw),
        cli_help=f"{', '.join(ARCHITECTURES)} or mlp-<width>x<depth>",
        term="student",
    ),
    LabSetting(
        url="T",
        field="temperature",
        label=N_("Temperature T"),
        widget="select_slider",
        section=N_("Soft targets"),
        options=TEMPERATURES,
        what="lab's temperatures",
        number_format="g",
        help=N_(
            "T = 1 is the usual softmax. A higher T gives the wrong digits more probability, so the student sees "
            "more of what the teacher thinks of them. At a very high T the student copies the teacher's scores (logits); "
            "the T² factor keeps the soft term's size."
        ),
        term="temperature",
    ),
    LabSetting(
        url="alpha",
        field="alpha",
        label=N_("alpha: weight of the teacher's soft targets"),
        widget="slider",
        section=N_("Soft targets"),
        check=lambda setting, raw, count: check_alpha(raw),
        bounds=(0.0, 1.0),
        step=ALPHA_STEP,
        help=N_(
            "alpha = 0.9 weighs copying the teacher by 0.9 and the labels by 0.1. 0 ignores the teacher (plain "
            "training); 1 ignores the labels."
        ),
        term="alpha",
    ),
    LabSetting(
        url="soft",
        field="soft",
        label=N_("Method: what the student learns from the teacher"),
        name=N_("method"),
        widget="radio",
        section=N_("Soft targets"),
        check=lambda setting, raw, count: check_soft(raw),
        options=tuple(METHODS),
        option_labels={name: method.label for name, method in METHODS.items()},
        help="; ".join(f"{method.label}: {method.summary}" for method in METHODS.values()) + " " + METHOD_SOURCES,
        cli="method",
        cli_aliases=("--soft",),
        cli_help="one that does not fit the teacher and the student stops the command with the reason",
        advanced=True,
        term="tckd-nckd",
    ),
    *(method_setting(method, setting) for method, setting in method_settings().values()),
    LabSetting(
        url="schedule",
        field="schedule",
        label=N_("Temperature schedule"),
        widget="radio",
        section=N_("Soft targets"),
        check=lambda setting, raw, count: check_schedule(raw),
        options=tuple(SCHEDULES),
        option_labels={
            "constant": N_("constant T"),
            "annealed": N_("annealed (T down to 1)"),
            "learned": N_("learned (CTKD)"),
        },
        help="; ".join(f"{name}: {text}" for name, text in SCHEDULES.items()) + ". " + SCHEDULE_NOTE,
        cli_help="a learned run's --json gives the temperature it ended at (final_temperature)",
        advanced=True,
        term="temperature",
    ),
    LabSetting(
        url="standardise",
        field="standardise",
        label=N_("Standardised logits (z-score before T)"),
        widget="radio",
        section=N_("Soft targets"),
        check=lambda setting, raw, count: check_switch(raw),
        options=(False, True),
        option_labels={False: N_("raw logits"), True: N_("standardised")},
        help=N_(
            "Each image's logits minus their mean, over their spread, before dividing by T (Sun et al. 2024): the "
            "student matches how the teacher ranks the digits, not how big its logits are. T becomes a base "
            "temperature; each image's own is T times its logits' spread (the explorer shows it). Sun et al. use T = 2."
        ),
        cli_help="on or off",
        advanced=True,
        term="temperature",
    ),
    LabSetting(
        url="epochs",
        field="epochs",
        label=N_("Epochs"),
        widget="slider",
        section=N_("Training"),
        bounds=EPOCH_RANGE,
        help=N_("How many times the student goes through all its training images."),
        term="epoch",
    ),
    LabSetting(
        url="lr",
        field="learning_rate",
        label=N_("Learning rate"),
        name=N_("learning rate"),
        widget="select_slider",
        section=N_("Training"),
        options=LEARNING_RATES,
        what="lab's learning rates",
        number_format="g",
        help=N_(
            "How big a step the weights take at first. The optimiser is Adam; the rate then falls smoothly to 0 "
            "by the last epoch (cosine decay)."
        ),
        cli="lr",
        advanced=True,
        term="optimiser",
    ),
    LabSetting(
        url="batch",
        field="batch_size",
        label=N_("Batch size"),
        name=N_("batch size"),
        widget="select_slider",
        section=N_("Training"),
        options=BATCH_SIZES,
        what="lab's batch sizes",
        help=N_("How many images the student looks at before each change of its weights."),
        advanced=True,
    ),
    LabSetting(
        url="train_size",
        field="train_size",
        label=N_("Training images"),
        name=N_("training images"),
        widget="select_slider",
        section=N_("Training"),
        check=lambda setting, raw, count: check_train_size(raw, count),
        options=TRAIN_SIZES,
        number_format=",",
        help=N_("How many training images both students see, picked at random by the seed."),
        cli_help="a number, or 'all'",
        term="transfer-set",
    ),
    LabSetting(
        url="seed",
        field="seed",
        label=N_("Seed"),
        widget="number_input",
        section=N_("Training"),
        bounds=SEED_RANGE,
        help=N_(
            "Same seed, same start: both students get the same first weights and see the images in the same order."
        ),
        term="seed",
    ),
    LabSetting(
        url="seeds",
        field="seeds",
        label=N_("Seeds: repeat the run"),
        widget="slider",
        section=N_("Training"),
        bounds=SEEDS_RANGE,
        step=1,
        help=N_(
            "Trains the run again at the next seeds (seed, seed + 1, ...), each beside its student alone. Is the "
            "gain bigger than what a new seed changes? Each seed is a whole run."
        ),
        cli_help=f"1 to {MAX_SEEDS}; without it, one run and no comparison",
    ),
)
LAB_NAMES = tuple(setting.url for setting in LAB_SETTINGS)  # the URL names, in the order the lab shows them


def lab_setting(url: str) -> LabSetting:
    """The row of the setting a URL names (``"T"``); an unknown name lists the known ones."""
    for setting in LAB_SETTINGS:
        if setting.url == url:
            return setting
    raise ValueError(f"{url!r} is not a lab setting ({', '.join(LAB_NAMES)})")


def settings_in(section: str) -> list[LabSetting]:
    """The settings of one of the lab's columns, in order."""
    return [setting for setting in LAB_SETTINGS if setting.section == section]


def lab_defaults(train_count: int) -> dict[str, object]:
    """The lab's controls with ``DistillConfig()``'s settings, by URL name."""
    return {setting.url: setting.default(train_count) for setting in LAB_SETTINGS}


def config_fields(values: Mapping[str, object]) -> dict[str, object]:
    """Lab values by URL name -> ``DistillConfig.build``'s keywords (a setting that does not apply left out)."""
    return {
        setting.field: values[setting.url]
        for setting in LAB_SETTINGS
        if setting.url in values and setting.applies(values) and setting.in_config
    }


def request_fields(values: Mapping[str, object]) -> dict[str, object]:
    """Lab values by URL name -> ``TrainRequest.build``'s keywords beside the config: ``{"seeds": 3}``."""
    return {
        setting.field: values[setting.url]
        for setting in LAB_SETTINGS
        if setting.url in values and not setting.in_config
    }
