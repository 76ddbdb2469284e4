"""The class board's numbers: every run under one class code, summed up for a projector.

Plain Python over ``ClassRun`` rows (``kdlab.classroom.classes.class_runs`` reads them): the
headline in words ("14 runs by 9 students"), the class's mean improvement per temperature
and per (T, alpha) cell with its count, each prediction beside its outcome, the table and its
CSV. Students appear under their random nicknames only. The figures are in
``kdlab.plots.board``.

"Errors removed" is the student alone's test errors minus the distilled student's (same
student, seed and batches): positive when distilling helped. "The share of the gap closed" is the errors
removed over the alone student's errors minus the teacher's: 1 when the distilled student does as well as its
teacher, blank where the teacher is no better than the student alone (nothing to close) or its errors are not
in the run's summary. The class's trainings grouped by what a lesson varies are in ``kdlab.classroom.board_groups``.
"""

from __future__ import annotations

import csv
import io
import math
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace

from kdlab.experiments.seeds import t_interval
from kdlab.i18n import DEFAULT_LANGUAGE, N_, _, ngettext, number, speaking
from kdlab.ml.methods.registry import METHODS, method_settings
from kdlab.ml.models import describe_model
from kdlab.runs.store import checked_prediction

PREDICTION_CHOICES = {True: N_("fewer errors"), False: N_("as many or more errors")}


@dataclass(frozen=True)
class ClassRun:
    """One run of a class, as the board shows it."""

    nickname: str
    student_id: int
    created_at: float
    status: str
    source: str  # "trained", "joined", "cache"
    teacher: str
    student: str
    temperature: float
    alpha: float
    epochs: int
    train_images: int | None
    seed: int
    baseline_errors: int | None
    distilled_errors: int | None
    test_size: int | None
    prediction: dict | None = None  # {"fewer": bool, "by": int | None}
    soft: str = "kd"  # the distillation method (DistillConfig.soft, a key of kdlab.ml.methods.METHODS)
    learning_rate: float | None = None
    batch_size: int | None = None
    method_settings: tuple[tuple[str, float], ...] = ()  # the method's own settings, defaults filled: (("beta", 8.0),)
    teacher_errors: int | None = None  # the teacher's test errors on the same test set; None: not in the summary
    schedule: str = "constant"  # how T moves over the run (DistillConfig.schedule)
    standardise: bool = False  # whether the soft term z-scores the logits (DistillConfig.standardise)

    @property
    def settings(self) -> tuple:
        """Everything but T, alpha and the seed that makes a run: runs that share it differ by those only."""
        return (
            self.teacher, self.student, self.soft, self.method_settings, self.schedule, self.standardise, self.epochs,
            self.learning_rate, self.batch_size, self.train_images, self.test_size,
        )  # fmt: skip

    @property
    def errors_removed(self) -> int | None:
        """Student alone's errors minus the distilled student's (positive: distilling helped)."""
        if self.baseline_errors is None or self.distilled_errors is None:
            return None
        return self.baseline_errors - self.distilled_errors

    @property
    def gap(self) -> int | None:
        """The student alone's errors minus the teacher's: what distilling could remove at most, if the student
        learnt to do as well as its teacher. None where the teacher's errors are unknown."""
        if self.baseline_errors is None or self.teacher_errors is None:
            return None
        return self.baseline_errors - self.teacher_errors

    @property
    def gap_closed(self) -> float | None:
        """``gap_share`` of this run alone."""
        return None if self.errors_removed is None else gap_share(self.errors_removed, self.gap)


def gap_share(removed: float, gap: float | None) -> float | None:
    """The share of the gap between the student alone and its teacher that distilling closed: errors removed
    over (alone errors - teacher errors); None where the teacher is no better than the student alone or its
    errors are unknown (``gap`` None)."""
    if gap is None or gap <= 0:
        return None
    return removed / gap


def class_run(
    nickname: str, student_id: int, created_at: float, status: str, source: str, summary: dict, prediction: dict | None
) -> ClassRun:
    """A ``ClassRun`` from a stored run's summary (``DistillationResult.summary()``)."""
    config = summary.get("config", {})
    alone, distilled = summary.get("baseline") or {}, summary.get("student") or {}
    return ClassRun(
        nickname=nickname,
        student_id=student_id,
        created_at=created_at,
        status=status,
        source=source,
        teacher=str(config.get("teacher", "?")),
        student=str(config.get("student", "?")),
        temperature=float(config.get("temperature", math.nan)),
        alpha=float(config.get("alpha", math.nan)),
        epochs=int(config.get("epochs", 0)),
        train_images=(summary.get("transfer_set") or {}).get("size"),
        seed=int(config.get("seed", 0)),
        baseline_errors=alone.get("test_errors"),
        distilled_errors=distilled.get("test_errors"),
        test_size=(summary.get("data") or {}).get("test_size"),
        prediction=prediction if isinstance(prediction, dict) else None,
        soft=str(config.get("soft", "kd")),
        learning_rate=config.get("learning_rate"),
        batch_size=config.get("batch_size"),
        method_settings=_method_settings(config),
        teacher_errors=(summary.get("teacher") or {}).get("test_errors"),
        schedule=str(config.get("schedule", "constant")),
        standardise=config.get("standardise") is True,
    )


def _method_settings(config: dict) -> tuple[tuple[str, float], ...]:
    method = METHODS.get(str(config.get("soft", "kd")))
    return () if method is None else tuple(method.setting_values(config).items())


def distinct_nicknames(runs: list[ClassRun]) -> list[ClassRun]:
    """``runs`` with a nickname that several students share told apart: "Calm Owl 17 (2)" for the
    second student (by first run) to have it; the first keeps it as it is."""
    students_by_name: dict[str, list[int]] = {}
    for run in runs:
        holders = students_by_name.setdefault(run.nickname, [])
        if run.student_id not in holders:
            holders.append(run.student_id)
    return [
        run
        if (place := students_by_name[run.nickname].index(run.student_id)) == 0
        else replace(run, nickname=f"{run.nickname} ({place + 1})")
        for run in runs
    ]


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}{'' if count == 1 else 's'}"


def signed(value: float, decimals: int = 1) -> str:
    """``value`` with its sign ("+12.3", "-5.0", "+0.0") in the current language's number format."""
    return ("-" if value < 0 else "+") + number(abs(value), decimals)


def headline(runs: list[ClassRun]) -> str:
    """ "14 runs by 9 students", "No runs yet", in the current language."""
    if not runs:
        return _("No runs yet")
    students = len({run.student_id for run in runs})
    # Translators: the board's headline, e.g. "14 runs by 9 students"; {students} is the second part.
    return ngettext("{count} run by {students}", "{count} runs by {students}", len(runs)).format(
        count=number(len(runs)),
        students=ngettext("{count} student", "{count} students", students).format(count=number(students)),
    )


def finished(runs: list[ClassRun]) -> list[ClassRun]:
    """The runs with both students' errors (a run stopped early has no comparison)."""
    return [run for run in runs if run.errors_removed is not None]


def trainings(runs: list[ClassRun]) -> list[tuple[ClassRun, float]]:
    """Each training of the finished runs once: (its first run, the mean errors removed of its runs). Runs with
    the same settings, T, alpha and seed are one training (copied from the result cache or joined live, they
    carry its numbers; on two servers they may differ in the last digits), so thirty students on one lesson
    link weigh as one result, not thirty."""
    groups: dict[tuple, list[ClassRun]] = defaultdict(list)
    for run in finished(runs):
        groups[(run.settings, run.temperature, run.alpha, run.seed)].append(run)
    return [(same[0], sum(run.errors_removed for run in same) / len(same)) for same in groups.values()]


def mean_by_temperature(runs: list[ClassRun]) -> list[tuple[float, float, int]]:
    """(T, mean errors removed, trainings) for each temperature the class tried, in order of T: the class's
    curve, each training counted once (``trainings``)."""
    groups: dict[float, list[float]] = defaultdict(list)
    for run, removed in trainings(runs):
        groups[run.temperature].append(removed)
    return [(temperature, sum(values) / len(values), len(values)) for temperature, values in sorted(groups.items())]


@dataclass(frozen=True)
class HeatCells:
    """The class's mean errors removed over a T x alpha grid, each training counted once (``trainings``); None
    where nobody ran."""

    temperatures: list[float]
    alphas: list[float]
    means: list[list[float | None]]  # [alpha index][T index]
    counts: list[list[int]]  # distinct trainings
    pools: list[list[SeedPool | None]] = field(default_factory=list)  # [alpha index][T index]: ``seed_pool``


def heat_cells(runs: list[ClassRun]) -> HeatCells:
    """Mean errors removed and the number of distinct trainings per (alpha, T) cell, over the values the class
    used."""
    groups: dict[tuple[float, float], list[float]] = defaultdict(list)
    for run, removed in trainings(runs):
        groups[(run.alpha, run.temperature)].append(removed)
    temperatures = sorted({temperature for _, temperature in groups})
    alphas = sorted({alpha for alpha, _ in groups})
    means = [[None] * len(temperatures) for _ in alphas]
    counts = [[0] * len(temperatures) for _ in alphas]
    for (alpha, temperature), values in groups.items():
        row, column = alphas.index(alpha), temperatures.index(temperature)
        means[row][column], counts[row][column] = sum(values) / len(values), len(values)
    cell_runs: dict[tuple[float, float], list[ClassRun]] = defaultdict(list)
    for run in finished(runs):
        cell_runs[(run.alpha, run.temperature)].append(run)
    pools = [[seed_pool(cell_runs.get((alpha, temperature), [])) for temperature in temperatures] for alpha in alphas]
    return HeatCells(temperatures, alphas, means, counts, pools)


@dataclass(frozen=True)
class SeedPool:
    """One cell's runs of the same settings pooled over their seeds: the mean errors removed per seed,
    its 95% t-interval (None with one seed), and how many seeds it rests on."""

    seeds: int
    mean: float
    interval: tuple[float, float] | None

    def text(self) -> str:
        """ "+12.3 [4.1, 20.5], 4 seeds", "+8.0, 1 seed", in the current language."""
        seeds = ngettext("{count} seed", "{count} seeds", self.seeds).format(count=number(self.seeds))
        if self.interval is None:
            return f"{signed(self.mean)}, {seeds}"
        return f"{signed(self.mean)} [{signed(self.interval[0])}, {signed(self.interval[1])}], {seeds}"


def seed_pool(runs: list[ClassRun]) -> SeedPool | None:
    """The finished ``runs`` of one cell pooled by seed: of the settings (``ClassRun.settings``) run at the
    most seeds, one errors-removed per seed (runs at one seed are one run, copied from the cache or
    joined live: their mean), so students who chose different seeds build the interval together."""
    groups: dict[tuple, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for run in finished(runs):
        groups[run.settings][run.seed].append(run.errors_removed)
    if not groups:
        return None
    by_seed = max(groups.values(), key=len)  # a tie: the settings seen first
    per_seed = [sum(values) / len(values) for values in by_seed.values()]
    return SeedPool(len(per_seed), sum(per_seed) / len(per_seed), t_interval(per_seed))


def prediction_text(prediction: dict | None) -> str:
    """ "fewer errors, by about 20", "as many or more errors", "" for none; in the current language."""
    read = read_prediction(prediction)
    if read is None:
        return ""
    fewer, by = read
    if not by:
        return _(PREDICTION_CHOICES[fewer])
    if fewer:
        return _("fewer errors, by about {count}").format(count=number(abs(by)))
    return _("as many or more errors, by about {count}").format(count=number(abs(by)))


@dataclass(frozen=True)
class PredictionCheck:
    """A prediction beside what happened."""

    predicted_fewer: bool
    predicted_by: int | None  # errors the student expected distilling to remove (negative: add)
    removed: int  # what it removed
    right_direction: bool

    @property
    def off_by(self) -> int | None:
        return None if self.predicted_by is None else abs(self.predicted_by - self.removed)

    def sentence(self) -> str:
        """The verdict in words, for the student or the board, in the current language."""
        if self.removed > 0:
            outcome = ngettext(
                "Distilling removed {count} error", "Distilling removed {count} errors", self.removed
            ).format(count=number(self.removed))
        elif self.removed < 0:
            outcome = ngettext(
                "Distilling added {count} error", "Distilling added {count} errors", -self.removed
            ).format(count=number(-self.removed))
        else:
            outcome = _("Both made the same errors")
        verdict = _("right about the direction") if self.right_direction else _("the other way round")
        if self.off_by is None:
            # Translators: "Distilling removed 12 errors: right about the direction."
            return _("{outcome}: {verdict}.").format(outcome=outcome, verdict=verdict)
        # Translators: "Distilling removed 12 errors: right about the direction; the guess was off by 8."
        return _("{outcome}: {verdict}; the guess was off by {count}.").format(
            outcome=outcome, verdict=verdict, count=number(self.off_by)
        )


def read_prediction(prediction: dict | None) -> tuple[bool, int | None] | None:
    """(fewer errors?, by how many) from a stored prediction ({"fewer": bool, "by": int | None}), or None.

    A number whose sign contradicts the choice wins ("fewer, by -5" reads as "5 more").
    """
    checked = checked_prediction(prediction)  # a stored number is within bounds, whatever filed it
    if checked is None:
        return None
    fewer, by = checked["fewer"], checked["by"]
    if by:
        fewer = by > 0
    return fewer, by


def check_prediction(prediction: dict | None, errors_removed: int | None) -> PredictionCheck | None:
    """Compare a prediction with the errors distilling removed (None without either)."""
    read = read_prediction(prediction)
    if read is None or errors_removed is None:
        return None
    fewer, by = read
    return PredictionCheck(fewer, by, errors_removed, fewer == (errors_removed > 0))


def prediction_summary(runs: list[ClassRun]) -> dict:
    """How the class predicted: made, said fewer, right about the direction (of the finished ones)."""
    made = [read for run in runs if (read := read_prediction(run.prediction))]
    checks = [check for run in runs if (check := check_prediction(run.prediction, run.errors_removed))]
    return {
        "made": len(made),
        "said_fewer": sum(1 for fewer, _ in made if fewer),
        "checked": len(checks),
        "right": sum(1 for check in checks if check.right_direction),
    }


TABLE_COLUMNS = (
    "student",
    "time",
    "teacher",
    "student_model",
    "student_parameters",  # sorts by size, where student_model sorts as text (mlp-100x1 before mlp-10x1)
    "T",
    "alpha",
    "method",  # the distillation method (a key of kdlab.ml.methods.METHODS)
    *method_settings(),  # a column per method setting (dkd's beta), blank for the runs of other methods
    "epochs",
    "train_images",
    "seed",
    "alone_errors",
    "distilled_errors",
    "errors_removed",
    "gap_closed",  # the share of the gap between alone and the teacher that distilling closed (gap_share)
    "prediction",
    "status",
    "source",
)


def table_rows(runs: list[ClassRun], *, hide_results: bool = False) -> list[dict]:
    """One row per run, newest first; ``hide_results`` blanks every outcome (before the reveal)."""
    rows = []
    for run in sorted(runs, key=lambda run: run.created_at, reverse=True):
        row = {
            "student": run.nickname,
            "time": time.strftime("%H:%M:%S", time.localtime(run.created_at)),
            "teacher": run.teacher,
            "student_model": run.student,
            "student_parameters": _parameters(run.student),
            "T": run.temperature,
            "alpha": run.alpha,
            "method": run.soft,
            **dict.fromkeys(method_settings()),
            **dict(run.method_settings),
            "epochs": run.epochs,
            "train_images": run.train_images,
            "seed": run.seed,
            "alone_errors": run.baseline_errors,
            "distilled_errors": run.distilled_errors,
            "errors_removed": run.errors_removed,
            "gap_closed": None if run.gap_closed is None else round(run.gap_closed, 3),
            "prediction": prediction_text(run.prediction),
            "status": run.status,
            "source": run.source,
        }
        if hide_results:
            row |= {
                "alone_errors": None,
                "distilled_errors": None,
                "errors_removed": None,
                "gap_closed": None,
                "status": "hidden",
            }
        rows.append(row)
    return rows


def _parameters(architecture: str) -> int | None:
    try:
        return describe_model(architecture).parameters  # cached per architecture
    except ValueError:  # a run recorded with a name this kdlab no longer knows
        return None


def board_csv(runs: list[ClassRun]) -> str:
    """The class's runs as CSV (nicknames, never tokens or names), for the instructor's export: data, so in
    English whatever the instructor's page speaks (its predictions' words too)."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=TABLE_COLUMNS, lineterminator="\n")
    writer.writeheader()
    with speaking(DEFAULT_LANGUAGE):
        writer.writerows(table_rows(runs))
    return buffer.getvalue()
