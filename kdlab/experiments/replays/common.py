"""What the replays share: the result, the cached teacher of the paper's setup, and the summary's common parts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import torch
from torch import nn

from kdlab.experiments.plans import PlannedRun, progress_plan
from kdlab.experiments.replays.config import BUDGET_NOTES, HintonSetup
from kdlab.experiments.replays.paper import PAPER
from kdlab.experiments.replays.replay import ReplayTeacher
from kdlab.i18n import _, ngettext, number, percent
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.ml.export import student_file_bytes
from kdlab.ml.progress import ProgressTracker
from kdlab.ml.train import TrainResult
from kdlab.teachers.cache import resolve_teacher
from kdlab.teachers.teacher import Teacher, default_teacher_epochs

# A replay result lives in its job's memory while the page shows it: its students' weights (for their
# compression cards) are kept up to this many bytes. The table replay's two 800-800 students take
# 2 x 5.1 MB at the full budget; the decoupled replay's five lab students 5 x 1.1 MB.
KEEP_STUDENT_BYTES = 24_000_000


@dataclass
class ReplayResult:
    """A replay's JSON-ready ``summary``, the stored test logits behind it, and its students' weights."""

    name: str
    summary: dict
    test_labels: torch.Tensor | None = None
    test_logits: dict[str, torch.Tensor] = field(default_factory=dict)  # run -> (N_test, 10)
    images: dict[str, torch.Tensor] = field(default_factory=dict)  # kind -> uint8 (K, 28, 28) examples to show
    # run -> a student file (``kdlab.ml.export.student_file_bytes``: architecture and weights), see ``keep_students``
    student_files: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def status(self) -> str:
        return self.summary["status"]


def keep_students(models: dict[str, nn.Module], architecture: str) -> dict[str, bytes]:
    """Student files of ``models`` (run -> model of ``architecture``), in order, while their bytes stay
    within ``KEEP_STUDENT_BYTES``: the replay result's ``student_files``."""
    kept, total = {}, 0
    for run, model in models.items():
        blob = student_file_bytes(model, architecture)
        if total + len(blob) > KEEP_STUDENT_BYTES:
            break
        kept[run], total = blob, total + len(blob)
    return kept


def students_result(
    name: str, summary: dict, labels, results: Mapping[str, TrainResult], teacher: Teacher, architecture: str
) -> ReplayResult:
    """A replay's result from its students' ``results`` (run -> result, in order) and its ``teacher``: each one's
    test logits (the teacher's as "teacher" when it trained) and the student files ``keep_students`` keeps."""
    logits = {run: result.test_logits for run, result in results.items()}
    if teacher.status == "completed":
        logits["teacher"] = teacher.test_logits
    students = keep_students({run: result.model for run, result in results.items()}, architecture)
    return ReplayResult(name, summary, labels, logits, student_files=students)


def load_teacher(setup: HintonSetup, data: MnistData, progress: ProgressTracker, context: RunContext) -> Teacher:
    """The setup's teacher from ``context``'s cache, or trained now as the "teacher" stage of ``progress``."""
    teacher = resolve_teacher(
        setup.teacher,
        data,
        epochs=setup.budget.teacher_epochs,
        seed=setup.teacher_seed,
        jitter_pixels=setup.teacher_jitter_pixels,
        context=context.with_events(progress.start("teacher", f"Teacher {setup.teacher}")),
    )
    progress.finish("teacher")
    return teacher


def load_lab_teacher(
    config, data: MnistData, students: Mapping[str, PlannedRun], context: RunContext
) -> tuple[Teacher, ProgressTracker, int]:
    """For a replay of the lab's pair (``config``'s teacher, ``teacher_epochs`` and ``teacher_seed``): the progress
    of its teacher and ``students`` (stage -> planned run), the teacher from ``context``'s cache or trained as the lab
    does (its "teacher" stage), and the teacher's epochs."""
    teacher_epochs = config.teacher_epochs or default_teacher_epochs(len(data.train))
    plan = {"teacher": PlannedRun(config.teacher, len(data.train), teacher_epochs)} | dict(students)
    progress = ProgressTracker(context.on_event, progress_plan(plan))
    teacher = resolve_teacher(
        config.teacher,
        data,
        epochs=config.teacher_epochs,
        seed=config.teacher_seed,
        context=context.with_events(progress.start("teacher", f"Teacher {config.teacher}")),
    )
    progress.finish("teacher")
    return teacher, progress, teacher_epochs


def lab_teacher_summary(config, teacher: Teacher, teacher_epochs: int, notes: Mapping[str, str]) -> dict:
    """The summary's "budget" (with the lab's teacher and its epochs, and the replay's note of the budget,
    ``notes``) and "teacher" of a replay of the lab's pair (``load_lab_teacher``)."""
    return {
        "budget": {
            **config.budget.as_dict(),
            "teacher": config.teacher,
            "teacher_epochs": teacher_epochs,
            "note": notes.get(config.budget.name, "Custom budget."),
        },
        "teacher": {**teacher.summary(), "train_seconds": teacher.record.train_seconds, "note": teacher.note},
    }


def setup_teachers(setup: HintonSetup, data: MnistData) -> tuple[ReplayTeacher, ...]:
    """The setup's one teacher, jittered, on every training image: what ``load_teacher`` trains or loads."""
    return (
        ReplayTeacher(
            setup.teacher, setup.budget.teacher_epochs, setup.teacher_seed, setup.teacher_jitter_pixels, data
        ),
    )


def teacher_summary(teacher: Teacher, setup: HintonSetup) -> dict:
    return {
        **teacher.summary(),
        "jitter_pixels": setup.teacher_jitter_pixels,
        "stand_in": setup.stand_in_note,
        "train_seconds": teacher.record.train_seconds,
        "note": teacher.note,
    }


def base_summary(
    name: str, title: str, paper: Mapping | None, setup: HintonSetup, data: MnistData, source: str = PAPER
) -> dict:
    """The part of a replay summary that is known before anything trains; ``paper``: the numbers of the paper
    ``source`` (Hinton et al.'s unless the replay's entry says otherwise)."""
    return {
        "replay": name,
        "title": title,
        "paper_source": source,
        "data": data.source.as_dict(),
        "budget": {**setup.budget.as_dict(), "note": BUDGET_NOTES.get(setup.budget.name, "Custom budget.")},
        "config": setup.as_dict(),
        "paper": paper,
    }


def overall_status(*statuses: str) -> str:
    """ "completed", or the first status that is not."""
    return next((status for status in statuses if status != "completed"), "completed")


def comparison_row(
    quantity: str,
    paper,
    ours,
    unit: str,
    paper_total: int | None = None,
    ours_total: int | None = None,
    values: Mapping[str, object] | None = None,
) -> dict:
    """One line of a summary's "comparison": the paper's value beside ours (see ``format_value``). ``quantity`` is a
    message marked ``N_`` whose placeholders ``values`` fills: the row keeps it filled in English ("quantity", for the
    command line and the JSON) and as the message and its values ("message", "values") for ``shown_quantity``."""
    english = {name: _english(value) for name, value in (values or {}).items()}
    row = {
        "quantity": quantity.format(**english),
        "paper": paper,
        "ours": ours,
        "unit": unit,
        "paper_total": paper_total,
        "ours_total": ours_total,
    }
    if values:
        row |= {"message": quantity, "values": dict(values)}
    return row


def _english(value) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    return f"{value:,}" if isinstance(value, int) else f"{value:g}"


def shown_quantity(row: dict) -> str:
    """A comparison row's quantity in the current language (numbers in its format)."""
    values = {
        name: number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value
        for name, value in row.get("values", {}).items()
    }
    return _(row.get("message", row["quantity"])).format(**values)


def format_value(value, unit: str, total: int | None = None) -> str:
    """One comparison value in words, in the current language: "74 of 10,000 wrong (0.74%)", "+3.5", "T = 4"; a
    claim in words (a message marked ``N_``) translated."""
    if value is None:
        return "-"
    if isinstance(value, str):  # a claim in words (Bucila et al. give no MNIST numbers)
        return _(value)
    if unit == "errors":
        if not total:
            return ngettext("{count} error", "{count} errors", value).format(count=number(value))
        return _("{errors} of {total} wrong ({share})").format(
            errors=number(value), total=number(total), share=percent(value / total, 2)
        )
    if unit == "bias":
        return ("+" if value >= 0 else "") + number(value, 1)
    if unit == "accuracy":
        return percent(value, 1)
    return str(value)
