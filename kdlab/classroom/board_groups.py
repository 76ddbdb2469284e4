"""The class board's groups: the class's trainings grouped by what a lesson varies.

A lesson hands out one link per student size, teacher, method or temperature (a step's ``vary``); the board
groups the class's finished trainings by one or more of the lab's settings (``GROUP_SETTINGS``, the rows of
``kdlab.classroom.lab_settings.LAB_SETTINGS`` that a run's config holds, the seed left out: seeds are what a
group pools). Each group counts a training once (``kdlab.classroom.board.trainings``: thirty copies of one
lesson link are one result), pools its runs over their seeds (``seed_pool``) and says what share of the gap
between the student alone and its teacher distilling closed (``gap_share``).

Groups come in the order a student reads them: a teacher from the weakest to the strongest (its test errors in
the class's runs; by parameters where they are not recorded), a student by its parameter count (mlp-10x1 before
mlp-100x1), a number by its value, a named option (the method) in the lab's order. Plain Python.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from kdlab.classroom.board import ClassRun, SeedPool, finished, gap_share, seed_pool, trainings
from kdlab.classroom.lab_settings import LAB_SETTINGS, LabSetting
from kdlab.ml.models import describe_model
from kdlab.teachers.ensembles import parse_teacher_name

GROUP_SETTINGS = tuple(setting for setting in LAB_SETTINGS if setting.in_config and setting.field != "seed")
GROUP_NAMES = tuple(setting.url for setting in GROUP_SETTINGS)  # what ?vary= and the "Group by" control offer
MAX_GROUPING = 3  # settings at once: a fourth makes more groups than a projector shows


def group_setting(name: str) -> LabSetting:
    """The row of a setting the board can group by (a URL name of ``GROUP_NAMES``)."""
    return GROUP_SETTINGS[GROUP_NAMES.index(name)]


def setting_value(run: ClassRun, setting: LabSetting) -> object:
    """A run's value of one lab setting; None for a method's own setting (beta) in a run of another method."""
    if setting.field == "train_size":
        return run.train_images  # the images it trained on (a config's None is the demo size)
    own = dict(run.method_settings)
    if setting.only_with is not None:  # a method's own setting
        return own.get(setting.field)
    return getattr(run, setting.field)


def varied_settings(runs: list[ClassRun]) -> tuple[str, ...]:
    """The URL names of the settings that take more than one value among the class's finished trainings, in the
    lab's order, at most ``MAX_GROUPING``: the board's grouping until a link or the page says another."""
    done = [run for run, _ in trainings(runs)]
    varied = [
        setting.url
        for setting in GROUP_SETTINGS
        if len({value for run in done if (value := setting_value(run, setting)) is not None}) > 1
    ]
    return tuple(varied[:MAX_GROUPING])


def _parameters(architecture: str) -> float:
    """A teacher's or student's parameter count (an ensemble's members together); inf for a name kdlab does
    not know, so it sorts last."""
    try:
        return sum(describe_model(member).parameters for member in parse_teacher_name(architecture).architectures)
    except ValueError:
        return math.inf


def order_key(setting: LabSetting, value: object, teacher_errors: dict[str, float] | None = None) -> tuple:
    """Where a value of ``setting`` sorts: a teacher from the weakest to the strongest (most test errors first, in
    ``teacher_errors``: the class's runs' record), then by parameters; a student by its parameters; a named option
    in the lab's order; a number by its value; None (the setting does not apply) last."""
    if value is None:
        return (1, 0.0, "")
    if setting.widget == "teacher" and (errors := (teacher_errors or {}).get(str(value))) is not None:
        return (0, -errors, str(value))
    if setting.widget in ("teacher", "student"):
        return (0, _parameters(str(value)), str(value))
    if setting.widget == "radio":
        options = list(setting.options)
        return (0, float(options.index(value)) if value in options else math.inf, str(value))
    return (0, float(value), "")


def value_text(setting: LabSetting, value: object) -> str:
    """A group's value as the lab's control shows it ("mlp-10x1", "0.9", "5,000", "DKD"); "-" where it does not
    apply."""
    return "-" if value is None else setting.display(value)


@dataclass(frozen=True)
class Group:
    """The finished trainings of the class that share the grouping's values.

    ``mean`` is the mean errors removed over its trainings (each once); ``pool`` its runs pooled by seed
    (``seed_pool``); ``gap_closed`` the share of the alone-to-teacher gap closed, pooled the same way (the
    trainings' errors removed over their gaps), None where the teacher is no better than the student alone or
    no training knows its teacher's errors.
    """

    values: tuple  # one per setting of the grouping, in its order
    trainings: int
    mean: float
    pool: SeedPool | None
    gap_closed: float | None
    teacher_errors_unknown: int  # trainings whose summary lacks the teacher's test errors


def class_groups(runs: list[ClassRun], grouping: Sequence[str]) -> list[Group]:
    """The class's finished trainings grouped by the settings ``grouping`` names (URL names of ``GROUP_NAMES``;
    none: one group of all), in the order of ``order_key``, setting by setting."""
    settings = [group_setting(name) for name in grouping]

    def key(run: ClassRun) -> tuple:
        return tuple(setting_value(run, setting) for setting in settings)

    by_key: dict[tuple, list[tuple[ClassRun, float]]] = defaultdict(list)
    for run, removed in trainings(runs):
        by_key[key(run)].append((run, removed))
    runs_by_key: dict[tuple, list[ClassRun]] = defaultdict(list)
    recorded: dict[str, list[int]] = defaultdict(list)
    for run in finished(runs):
        runs_by_key[key(run)].append(run)
        if run.teacher_errors is not None:
            recorded[run.teacher].append(run.teacher_errors)
    teacher_errors = {teacher: sum(errors) / len(errors) for teacher, errors in recorded.items()}
    ordered = sorted(by_key, key=lambda values: [order_key(s, v, teacher_errors) for s, v in zip(settings, values)])
    return [_group(values, by_key[values], runs_by_key[values]) for values in ordered]


def _group(values: tuple, members: list[tuple[ClassRun, float]], runs: list[ClassRun]) -> Group:
    removed = [value for _, value in members]
    known = [(run.gap, value) for run, value in members if run.gap is not None]
    closed = gap_share(sum(value for _, value in known), sum(gap for gap, _ in known)) if known else None
    return Group(
        values,
        len(members),
        sum(removed) / len(removed),
        seed_pool(runs),
        closed,
        len(members) - len(known),
    )
