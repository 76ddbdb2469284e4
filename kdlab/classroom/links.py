"""Assignment links: the settings a page reads from its URL, validated, and the links that carry them.

A teacher's link opens a page with the lesson's settings and can lock them, the way
TensorFlow Playground keeps its whole state in the URL::

    /distillation_lab?T=8&alpha=0.5&lock=T,alpha&class=PHYS7&predict=1

Every value is a string from a stranger, so every one is checked here against what the page's
controls can show: a value that is not a number, out of range or unknown is dropped with one
sentence that names the parameter, says what is allowed and what is used instead ("T=abc is not
a number; using T = 4"). The lab's defaults come from ``DistillConfig()``. This module is plain
Python (no Streamlit): the pages, the lesson loader and its test all use the same checks.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from kdlab.experiments.distill import DEMO_TRAIN_SIZE, DistillConfig
from kdlab.experiments.replays.config import REPLAY_TITLES
from kdlab.ml.models import ARCHITECTURES, MLP_DEPTH_RANGE, get_architecture, mlp_name
from kdlab.teachers.ensembles import parse_teacher_name

# The lab's control values (the page draws its sliders from these, so a link can only ask for what they show).
TEMPERATURES = (1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0)
LEARNING_RATES = (0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03)
BATCH_SIZES = (16, 32, 64, 128, 256, 512, 1024)
TRAIN_SIZES = (500, 1000, 2000, 5000, 10_000, 20_000, 30_000)
MLP_WIDTHS = (10, 20, 30, 50, 100, 200, 300, 500, 800, 1200)  # the student picker's widths
EPOCH_RANGE = (1, 50)
SEED_RANGE = (0, 9999)
ALPHA_STEP = 0.05
EXPLORER_TEMPERATURES = (0.5, 0.7, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 7.0, 10.0, 15.0, 20.0, 30.0, 50.0)
BIAS_RANGE = (-15.0, 15.0)  # the replay's bias sliders span at least this
MAX_SHOWN = 30  # characters of a bad value echoed back in a message

# URL name -> DistillConfig.build name, in the order the lab shows them.
LAB_PARAMETERS = {
    "teacher": "teacher",
    "student": "student",
    "T": "temperature",
    "alpha": "alpha",
    "epochs": "epochs",
    "lr": "learning_rate",
    "batch": "batch_size",
    "train_size": "train_size",
    "seed": "seed",
}
EXPLORER_PARAMETERS = ("digit", "T")
REPLAY_PARAMETERS = ("replay", "bias")
LINK_EXTRAS = ("lock", "class", "predict")  # the lab's: what is locked, the class code, a prediction first
CLASS_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]{1,15}")
# Page name in a lesson file -> (page file, URL path): Streamlit names a page's URL after its file.
PAGES = {
    "lab": ("pages/distillation_lab.py", "distillation_lab"),
    "explorer": ("pages/dark_knowledge.py", "dark_knowledge"),
    "replays": ("pages/paper_replays.py", "paper_replays"),
    "board": ("pages/class_board.py", "class_board"),
    "lessons": ("pages/lessons.py", "lessons"),
}


def shown(raw: object) -> str:
    """A URL value fit to echo in a message: printable, short, and in a code span (no Markdown links)."""
    text = "".join(character for character in str(raw) if character.isprintable() and character != "`")
    return f"`{text[:MAX_SHOWN]}{'...' if len(text) > MAX_SHOWN else ''}`"


def number_text(value: float) -> str:
    """``4.0`` -> "4", ``0.001`` -> "0.001": how the pages show numbers."""
    return f"{value:g}"


def _float(raw: str) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _int(raw: str) -> int | None:
    value = _float(raw)
    return int(value) if value is not None and value == int(value) else None


def _one_of(raw: str, options: Sequence[float], what: str) -> tuple[float | None, str]:
    value = _float(raw)
    if value is None:
        return None, "is not a number"
    for option in options:
        if math.isclose(value, option, rel_tol=1e-9):
            return option, ""
    return None, f"is not one of the {what} ({', '.join(number_text(option) for option in options)})"


def _in_range(raw: str, low: int, high: int) -> tuple[int | None, str]:
    value = _int(raw)
    if value is None:
        return None, "is not a whole number"
    if not low <= value <= high:
        return None, f"is outside {low} to {high}"
    return value, ""


def check_student(raw: str) -> tuple[str | None, str]:
    """A student the lab's picker can show: a named architecture, or mlp-<width>x<depth> with one
    of its widths."""
    name = raw.strip()
    try:
        get_architecture(name)
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
    value = _float(raw)
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
    value, problem = _one_of(raw, TRAIN_SIZES, "lab's training-set sizes")
    if value is None and train_count is not None and _int(raw) == train_count:
        return train_count, ""
    if value is None:
        return None, problem + ' or "all"'
    return int(value) if train_count is None else min(int(value), train_count), ""


def lab_defaults(train_count: int) -> dict[str, object]:
    """The lab's controls with ``DistillConfig()``'s settings, by URL name."""
    config = DistillConfig()
    training = config.training
    return {
        "teacher": config.teacher,
        "student": config.student,
        "T": training.temperature,
        "alpha": training.alpha,
        "epochs": training.epochs,
        "lr": training.learning_rate,
        "batch": training.batch_size,
        "train_size": min(config.train_size or DEMO_TRAIN_SIZE, train_count),
        "seed": training.seed,
    }


def with_default(options: Sequence, default) -> list:
    """The control's options with the default among them (defaults change; the controls follow)."""
    return sorted({*options, default})


def lab_options(train_count: int | None = None) -> dict[str, list]:
    """The values each select-slider of the lab offers, and the epochs' (low, high), default included."""
    defaults = lab_defaults(train_count or max(TRAIN_SIZES))
    sizes = [
        size for size in with_default(TRAIN_SIZES, defaults["train_size"]) if train_count is None or size < train_count
    ]
    return {
        "T": with_default(TEMPERATURES, defaults["T"]),
        "lr": with_default(LEARNING_RATES, defaults["lr"]),
        "batch": with_default(BATCH_SIZES, defaults["batch"]),
        "train_size": sizes + ([train_count] if train_count is not None else []),
        "epochs": [EPOCH_RANGE[0], max(EPOCH_RANGE[1], int(defaults["epochs"]))],
    }


def lab_checks(train_count: int | None) -> dict[str, Callable[[str], tuple[object, str]]]:
    """URL name -> a function that turns the raw string into the control's value, or (None, why not)."""
    options = lab_options(train_count)

    def batch(raw: str) -> tuple[int | None, str]:
        value, why = _one_of(raw, options["batch"], "lab's batch sizes")
        return (None if value is None else int(value)), why

    return {
        "teacher": check_teacher,
        "student": check_student,
        "T": lambda raw: _one_of(raw, options["T"], "lab's temperatures"),
        "alpha": check_alpha,
        "epochs": lambda raw: _in_range(raw, *options["epochs"]),
        "lr": lambda raw: _one_of(raw, options["lr"], "lab's learning rates"),
        "batch": batch,
        "train_size": lambda raw: check_train_size(raw, train_count),
        "seed": lambda raw: _in_range(raw, *SEED_RANGE),
    }


def value_text(name: str, value: object) -> str:
    """``T = 4``, ``train_size = 4,000``: a value the way a message shows it."""
    if isinstance(value, float):
        return f"{name} = {number_text(value)}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{name} = {value:,}"
    return f"{name} = {value}"


@dataclass(frozen=True)
class ParsedLink:
    """What a link asks of a page: control values, locked names, and one message per ignored value."""

    values: dict[str, object] = field(default_factory=dict)  # URL name -> the control's value
    locked: frozenset[str] = frozenset()
    problems: tuple[str, ...] = ()
    class_code: str | None = None
    predict: bool = False
    sets_controls: bool = False  # the link names settings or locks: it sets every control

    def is_locked(self, name: str) -> bool:
        return name in self.locked


def _raw(params: Mapping[str, object], name: str) -> str | None:
    value = params.get(name)
    if isinstance(value, (list, tuple)):  # a repeated parameter: the last one counts, as in st.query_params
        value = value[-1] if value else None
    return None if value is None else str(value)


def parse_class_code(raw: str | None) -> tuple[str | None, str]:
    """A class code, upper-cased: 2 to 16 letters, digits or dashes; or (None, why not)."""
    if raw is None or not raw.strip():
        return None, ""
    code = raw.strip().upper()
    if not CLASS_CODE.fullmatch(code):
        return None, f"class={shown(raw)} is not a class code (2 to 16 letters, digits or dashes, such as PHYS-7)"
    return code, ""


def parse_lock(raw: str | None, names: Sequence[str]) -> tuple[frozenset[str], list[str]]:
    """``lock=T,alpha`` or ``lock=all``: the locked names, and a message per unknown one."""
    if raw is None or not raw.strip():
        return frozenset(), []
    wanted = [name.strip() for name in raw.split(",") if name.strip()]
    if any(name.lower() == "all" for name in wanted):
        return frozenset(names), []
    unknown = [name for name in wanted if name not in names]
    problems = [
        f"lock={shown(name)} is not a setting of this page ({', '.join(names)}, or all); nothing else is "
        "locked because of it"
        for name in unknown
    ]
    return frozenset(name for name in wanted if name in names), problems


def parse_flag(raw: str | None) -> bool:
    return raw is not None and raw.strip().lower() in ("1", "true", "yes", "on")


def parse_lab_link(params: Mapping[str, object], train_count: int | None) -> ParsedLink:
    """The lab's settings from URL parameters (see the module docstring).

    A link that names any setting or ``lock`` sets every control: the link's value, or the
    default (``DistillConfig()``) for a value it leaves out or that is not allowed. A locked
    setting the link leaves out is locked at the default.
    """
    defaults = lab_defaults(train_count or max(TRAIN_SIZES))
    checks = lab_checks(train_count)
    values, problems = {}, []
    for name, check in checks.items():
        raw = _raw(params, name)
        if raw is None:
            continue
        value, why = check(raw)
        if value is None:
            problems.append(f"{name}={shown(raw)} {why}; using {value_text(name, defaults[name])}")
            continue
        if name == "train_size" and train_count is not None and _int(raw) not in (None, value):
            problems.append(
                f"train_size={shown(raw)}: this server's data has only {train_count:,} training images; "
                f"using all {train_count:,}"
            )
        values[name] = value
    locked, lock_problems = parse_lock(_raw(params, "lock"), list(LAB_PARAMETERS))
    class_code, class_problem = parse_class_code(_raw(params, "class"))
    sets_controls = bool(values) or bool(locked) or any(_raw(params, name) is not None for name in checks)
    if sets_controls:
        values = defaults | values
    return ParsedLink(
        values,
        locked,
        tuple(problems + lock_problems + ([class_problem] if class_problem else [])),
        class_code,
        parse_flag(_raw(params, "predict")),
        sets_controls,
    )


def parse_explorer_link(params: Mapping[str, object], default_temperature: float = 4.0) -> ParsedLink:
    """The explorer's ``digit`` (0 to 9, shown by class) and ``T``, and ``lock`` over those two."""
    values, problems = {}, []
    raw = _raw(params, "digit")
    if raw is not None:
        digit, why = _in_range(raw, 0, 9)
        if digit is None:
            problems.append(f"digit={shown(raw)} {why}; pick a digit from 0 to 9 below")
        else:
            values["digit"] = digit
    raw = _raw(params, "T")
    if raw is not None:
        temperature, why = _one_of(raw, EXPLORER_TEMPERATURES, "explorer's temperatures")
        if temperature is None:
            problems.append(f"T={shown(raw)} {why}; using T = {number_text(default_temperature)}")
        else:
            values["T"] = temperature
    locked, lock_problems = parse_lock(_raw(params, "lock"), list(EXPLORER_PARAMETERS))
    locked = frozenset(name for name in locked if name in values)  # a lock without a value locks nothing
    return ParsedLink(values, locked, tuple(problems + lock_problems), sets_controls=bool(values))


def parse_replay_link(params: Mapping[str, object]) -> ParsedLink:
    """The replay page's ``replay`` (which replay's tab) and ``bias`` (where its bias sliders start)."""
    values, problems = {}, []
    raw = _raw(params, "replay")
    if raw is not None:
        if raw.strip() in REPLAY_TITLES:
            values["replay"] = raw.strip()
        else:
            problems.append(f"replay={shown(raw)} is not a replay ({', '.join(REPLAY_TITLES)}); showing the first")
    raw = _raw(params, "bias")
    if raw is not None:
        bias = _float(raw)
        if bias is None or not BIAS_RANGE[0] <= bias <= BIAS_RANGE[1]:
            why = "is not a number" if bias is None else f"is outside {BIAS_RANGE[0]:g} to {BIAS_RANGE[1]:g}"
            problems.append(f"bias={shown(raw)} {why}; the sliders start at the bias chosen on held-out images")
        else:
            values["bias"] = round(bias, 1)
    return ParsedLink(values, problems=tuple(problems), sets_controls=bool(values))


PARSERS: dict[str, Callable[[Mapping[str, object]], ParsedLink]] = {
    "lab": lambda params: parse_lab_link(params, None),
    "explorer": parse_explorer_link,
    "replays": parse_replay_link,
    "board": lambda params: ParsedLink(problems=tuple(filter(None, [parse_class_code(_raw(params, "class"))[1]]))),
    "lessons": lambda params: ParsedLink(),
}
KNOWN_PARAMETERS = {
    "lab": (*LAB_PARAMETERS, *LINK_EXTRAS),
    "explorer": (*EXPLORER_PARAMETERS, "lock"),
    "replays": REPLAY_PARAMETERS,
    "board": ("class",),
    "lessons": ("lesson",),
}


def check_link(page: str, params: Mapping[str, object]) -> list[str]:
    """Every problem of a link to ``page`` ("lab", "explorer", ...): unknown pages and parameter
    names too (a lesson file is checked with this)."""
    if page not in PAGES:
        return [f"page {shown(page)} is not one of {', '.join(PAGES)}"]
    unknown = [
        f"{shown(name)} is not a parameter of the {page} page ({', '.join(KNOWN_PARAMETERS[page])})"
        for name in params
        if name not in KNOWN_PARAMETERS[page]
    ]
    return unknown + list(PARSERS[page](params).problems)
