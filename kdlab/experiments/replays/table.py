"""The ``table`` replay: the paper's MNIST table of teacher, student alone and distilled student,
our test errors beside the paper's (``PAPER_TABLE``)."""

from __future__ import annotations

import time

from kdlab.experiments.distill import train_student_pair
from kdlab.experiments.plans import PlannedRun, student_pair_plan
from kdlab.experiments.replays.common import (
    ReplayResult,
    base_summary,
    comparison_row,
    load_teacher,
    overall_status,
    setup_teachers,
    students_result,
    teacher_summary,
)
from kdlab.experiments.replays.config import TableConfig, get_budget
from kdlab.experiments.replays.paper import PAPER, PAPER_TEST_SIZE
from kdlab.experiments.replays.replay import Replay
from kdlab.i18n import N_, number
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData, TransferSetSpec, select_transfer_indices
from kdlab.ml.progress import ProgressTracker
from kdlab.ml.train import run_summary
from kdlab.teachers.ensembles import training_cost

PAPER_TABLE = {
    "teacher_errors": 67,
    "student_alone_errors": 146,
    "distilled_errors": 74,
    "temperature": 20,
    "test_size": PAPER_TEST_SIZE,
}
TABLE_RUNS = {"baseline": "baseline", "distilled": "distilled"}


def replay_table(
    config: TableConfig,
    data: MnistData,
    *,
    context: RunContext | None = None,
) -> ReplayResult:
    """Teacher, the student trained alone (the baseline), and the same student distilled.

    Both students start from the same weights and see the same batches (same seed); the only
    difference is the teacher's soft targets.
    """
    context = context or RunContext()
    started = time.perf_counter()
    training = config.training
    spec = TransferSetSpec(size=config.budget.student_train_size, seed=training.seed)
    indices = select_transfer_indices(data.train.labels, spec, batch_size=training.batch_size)
    transfer = data.train.subset(indices)
    teacher_run = PlannedRun(config.teacher, len(data.train), config.budget.teacher_epochs)
    student_run = PlannedRun(config.student, len(transfer), training.epochs)
    progress = ProgressTracker(context.on_event, student_pair_plan(teacher_run, student_run, TABLE_RUNS))
    teacher = load_teacher(config, data, progress, context)
    distilled_label = f"Distilled student (T = {training.temperature:g})"
    runs = train_student_pair(
        teacher,
        transfer,
        indices,
        data.test,
        config.student,
        training,
        runs=TABLE_RUNS,
        on_start=lambda run: progress.start(run, "Student alone" if run == "baseline" else distilled_label),
        on_finish=progress.finish,
        context=context.with_events(None),
    )
    finished = "completed" if len(runs) == 2 else "stopped"
    status = overall_status(teacher.status, *(result.status for result in runs.values()), finished)
    paper, test_total = PAPER_TABLE, len(data.test)
    errors = {run: result.evaluation.errors for run, result in runs.items()}
    summary = base_summary(REPLAY.name, REPLAY.title, PAPER_TABLE, config, data) | {
        "transfer_set": {"size": len(transfer), "class_counts": transfer.class_counts()},
        "teacher": teacher_summary(teacher, config),
        "student_alone": run_summary(config.student, runs.get("baseline")),
        "distilled": run_summary(config.student, runs.get("distilled")),
        "ours": {
            "teacher_errors": teacher.record.test_errors,
            "student_alone_errors": errors.get("baseline"),
            "distilled_errors": errors.get("distilled"),
            "test_size": test_total,
        },
        "comparison": [
            comparison_row(
                N_("Teacher 1200-1200, dropout, jitter (ours: {teacher} stands in)")
                if config.stand_in_note
                else N_("Teacher 1200-1200, dropout, jitter"),
                paper["teacher_errors"],
                teacher.record.test_errors,
                "errors",
                PAPER_TEST_SIZE,
                test_total,
                values={"teacher": config.teacher} if config.stand_in_note else None,
            ),
            comparison_row(
                N_("Student 800-800 alone"),
                paper["student_alone_errors"],
                errors.get("baseline"),
                "errors",
                PAPER_TEST_SIZE,
                test_total,
            ),
            comparison_row(
                N_("Student 800-800 distilled, T = {temperature}"),
                paper["distilled_errors"],
                errors.get("distilled"),
                "errors",
                PAPER_TEST_SIZE,
                test_total,
                values={"temperature": training.temperature},
            ),
        ],
        "status": status,
        "seconds": round(time.perf_counter() - started, 2),
    }
    progress.done(f"Finished: {status}.")
    return students_result("table", summary, data.test.labels, runs, teacher, config.student)


def table_config(budget: str = "quick", **settings) -> TableConfig:
    """The table replay's config at the named budget; ``settings`` override fields flat (``seed=3``)."""
    return TableConfig.build(budget=get_budget(budget), **settings)


def table_cost(config: TableConfig, data: MnistData) -> float:
    """The student alone and the distilled student, on the budget's transfer set."""
    images = min(len(data.train), config.budget.student_train_size or len(data.train))
    return 2 * training_cost(config.student, images, config.training.epochs)


REPLAY = Replay(
    name="table",
    title=N_("The MNIST table: teacher, student alone, distilled student"),
    source=PAPER,
    paper_numbers=PAPER_TABLE,
    intro=N_(
        "The paper's teacher is a 784-1200-1200-10 ReLU net trained with dropout and images shifted by up "
        "to 2 pixels; a 784-800-800-10 net trained alone makes about twice its errors. Trained to match the "
        "teacher's soft targets at T = {temperature}, the same small net gets most of the way to the teacher."
    ),
    paper_line=N_(
        "Paper: teacher {teacher_errors} test errors, student alone {student_alone_errors}, distilled student "
        "{distilled_errors} (of {test_size})."
    ),
    text_values=lambda: {
        **{key: number(PAPER_TABLE[key]) for key in ("teacher_errors", "student_alone_errors", "distilled_errors")},
        "temperature": number(PAPER_TABLE["temperature"]),
        "test_size": number(PAPER_TABLE["test_size"]),
    },
    config=table_config,
    run=replay_table,
    teachers=setup_teachers,
    cost=table_cost,
)
