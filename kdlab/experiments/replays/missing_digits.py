"""The ``omit-3`` and ``only-7-8`` replays: a transfer set with digits left out, fixed afterwards
by shifting output biases on the stored test logits (nothing is retrained).

Choosing the bias: the paper picked the bias that minimised errors on the test set. We pick
it on a held-out slice of the training set (never in the transfer set) and report the
test-optimal bias beside it, so both the honest number and the paper's protocol are visible.
"""

from __future__ import annotations

import time

import torch

from kdlab.experiments.distill import train_student_pair
from kdlab.experiments.plans import PlannedRun, student_pair_plan
from kdlab.experiments.replays.common import (
    ReplayResult,
    base_summary,
    comparison_row,
    keep_students,
    load_teacher,
    overall_status,
    setup_teachers,
    teacher_summary,
)
from kdlab.experiments.replays.config import MissingDigitsConfig, get_budget
from kdlab.experiments.replays.paper import PAPER, PAPER_TEST_SIZE, PAPER_TEST_THREES
from kdlab.experiments.replays.replay import Replay
from kdlab.i18n import N_, number, percent
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData, select_transfer_indices, stratified_split
from kdlab.ml.metrics import BiasEffect, best_bias, evaluate_bias, finite_or_none
from kdlab.ml.progress import ProgressTracker
from kdlab.ml.train import predict_logits, run_summary
from kdlab.teachers.ensembles import training_cost

PAPER_OMIT_3 = {
    "errors": 206,
    "errors_on_3s": 133,
    "bias": 3.5,
    "errors_after_bias": 109,
    "errors_on_3s_after_bias": 14,
    "accuracy_on_3s_after_bias": 0.986,
    "test_3s": PAPER_TEST_THREES,
    "test_size": PAPER_TEST_SIZE,
}
PAPER_ONLY_7_8 = {
    "test_error_rate": 0.473,
    "bias": -7.6,
    "test_error_rate_after_bias": 0.132,
    "test_size": PAPER_TEST_SIZE,
}


def replay_missing_digits(
    config: MissingDigitsConfig,
    data: MnistData,
    *,
    context: RunContext | None = None,
) -> ReplayResult:
    """Distill on a transfer set without some digits, then fix the output biases afterwards.

    A stratified ``validation_fraction`` of the training images is held out of the transfer
    set; the bias that minimises errors on it is the one we use. The test-optimal bias (the
    paper's choice) is reported beside it.
    """
    context = context or RunContext()
    name = "omit-3" if config.omit_classes == (3,) else ("only-7-8" if config.only_classes == (7, 8) else "custom")
    started = time.perf_counter()
    training = config.training
    pool, validation = stratified_split(data.train.labels, config.validation_fraction, seed=training.seed)
    chosen_in_pool = select_transfer_indices(
        data.train.labels[pool], config.transfer_spec(), batch_size=training.batch_size
    )
    indices = pool[chosen_in_pool]
    transfer = data.train.subset(indices)
    runs = {"distilled": "distilled"}
    teacher_run = PlannedRun(config.teacher, len(data.train), config.budget.teacher_epochs)
    student_run = PlannedRun(config.student, len(transfer), training.epochs)
    progress = ProgressTracker(context.on_event, student_pair_plan(teacher_run, student_run, runs))
    teacher = load_teacher(config, data, progress, context)
    classes = config.bias_classes
    replay = {OMIT_3.name: OMIT_3, ONLY_7_8.name: ONLY_7_8}.get(name)
    title, paper = (replay.title, replay.paper_numbers) if replay else ("A transfer set with digits left out", None)
    summary = base_summary(name, title, paper, config, data) | {
        "transfer_set": {
            "size": len(transfer),
            "class_counts": transfer.class_counts(),
            "omitted": list(config.omit_classes),
            "only": list(config.only_classes),
        },
        "validation_set": {
            "size": len(validation),
            "class_counts": data.train.subset(validation).class_counts(),
            "note": "held out of the transfer set; used only to choose the bias",
        },
        "teacher": teacher_summary(teacher, config),
        "bias_classes": list(classes),
    }
    student = train_student_pair(
        teacher,
        transfer,
        indices,
        data.test,
        config.student,
        training,
        runs=runs,
        on_start=lambda run: progress.start(run, f"Distilled student (T = {training.temperature:g})"),
        on_finish=progress.finish,
        context=context.with_events(None),
    ).get("distilled")
    summary["distilled"] = run_summary(config.student, student)
    status = overall_status(teacher.status, student.status if student else "stopped")
    logits = {}
    if student is not None:
        labels = data.test.labels
        validation_logits = predict_logits(student.model, data.train.images[validation], torch.device("cpu"))
        chosen = best_bias(validation_logits, data.train.labels[validation], classes)
        test_optimal = best_bias(student.test_logits, labels, classes)
        before = evaluate_bias(student.test_logits, labels, {}, classes)
        after = evaluate_bias(student.test_logits, labels, dict.fromkeys(classes, chosen))
        paper_protocol = evaluate_bias(student.test_logits, labels, dict.fromkeys(classes, test_optimal))
        summary |= {
            "bias_used": chosen,
            "bias_chosen_on": "held-out training images (validation_set)",
            "before_bias": before.as_dict(),
            "after_bias": after.as_dict(),
            "test_optimal_bias": test_optimal,
            "after_test_optimal_bias": paper_protocol.as_dict(),
            "accuracy_on_biased_digits": {
                "before": finite_or_none(before.class_accuracy),
                "after": finite_or_none(after.class_accuracy),
                "at_test_optimal_bias": finite_or_none(paper_protocol.class_accuracy),
            },
        }
        summary["comparison"] = _comparison(name, classes, before, after, chosen, test_optimal, paper_protocol)
        logits["distilled"] = student.test_logits
    summary |= {"status": status, "seconds": round(time.perf_counter() - started, 2)}
    progress.done(f"Finished: {status}.")
    students = keep_students({"distilled": student.model}, config.student) if student is not None else {}
    return ReplayResult(name, summary, data.test.labels, logits, student_files=students)


def _paper_values(name: str) -> dict:
    """The paper's numbers in the comparison's terms; None where it reports none (or for other filters)."""
    paper: dict = dict.fromkeys(
        ("errors", "class_errors", "bias", "errors_after", "class_errors_after", "class_accuracy_after")
    )
    if name == "omit-3":
        numbers = PAPER_OMIT_3
        paper = {
            "errors": numbers["errors"],
            "class_errors": numbers["errors_on_3s"],
            "bias": numbers["bias"],
            "errors_after": numbers["errors_after_bias"],
            "class_errors_after": numbers["errors_on_3s_after_bias"],
            "class_accuracy_after": numbers["accuracy_on_3s_after_bias"],
        }
    elif name == "only-7-8":
        numbers = PAPER_ONLY_7_8
        paper |= {
            "errors": round(numbers["test_error_rate"] * PAPER_TEST_SIZE),
            "bias": numbers["bias"],
            "errors_after": round(numbers["test_error_rate_after_bias"] * PAPER_TEST_SIZE),
        }
    return paper


def _comparison(
    name: str,
    classes: tuple[int, ...],
    before: BiasEffect,
    after: BiasEffect,
    chosen: float,
    test_optimal: float,
    paper_protocol: BiasEffect,
) -> list[dict]:
    """The paper beside ours, row by row."""
    paper = _paper_values(name)
    total, class_total = before.total, before.class_total
    paper_class_total = PAPER_TEST_THREES if name == "omit-3" else None
    one = len(classes) == 1
    digits = {"first": classes[0], "second": classes[-1]}  # the row's message names one digit or two
    return [
        comparison_row(
            N_("Test errors, no bias change"), paper["errors"], before.errors, "errors", PAPER_TEST_SIZE, total
        ),
        comparison_row(
            N_("Errors on the test {first}s") if one else N_("Errors on the test {first}s and {second}s"),
            paper["class_errors"],
            before.class_errors,
            "errors",
            paper_class_total,
            class_total,
            values=digits,
        ),
        comparison_row(
            N_("Output bias added to the {first}s (ours: chosen on held-out training images)")
            if one
            else N_("Output bias added to the {first}s and {second}s (ours: chosen on held-out training images)"),
            paper["bias"],
            chosen,
            "bias",
            values=digits,
        ),
        comparison_row(
            N_("Test errors after the bias change"),
            paper["errors_after"],
            after.errors,
            "errors",
            PAPER_TEST_SIZE,
            total,
        ),
        comparison_row(
            N_("Errors on the test {first}s after the bias change")
            if one
            else N_("Errors on the test {first}s and {second}s after the bias change"),
            paper["class_errors_after"],
            after.class_errors,
            "errors",
            paper_class_total,
            class_total,
            values=digits,
        ),
        comparison_row(
            N_("Accuracy on the test {first}s after the bias change")
            if one
            else N_("Accuracy on the test {first}s and {second}s after the bias change"),
            paper["class_accuracy_after"],
            after.class_accuracy,
            "accuracy",
            values=digits,
        ),
        comparison_row(N_("Test-optimal bias (the paper's protocol)"), paper["bias"], test_optimal, "bias"),
        comparison_row(
            N_("Test errors at the test-optimal bias"),
            paper["errors_after"],
            paper_protocol.errors,
            "errors",
            PAPER_TEST_SIZE,
            total,
        ),
    ]


def replay_omit_3(config: MissingDigitsConfig, data: MnistData, **kwargs) -> ReplayResult:
    """The ``omit-3`` replay: ``replay_missing_digits`` with a transfer set without 3s."""
    if config.omit_classes != (3,) or config.only_classes:
        raise ValueError("The omit-3 replay leaves out exactly the 3s: use replay_config('omit-3', budget).")
    return replay_missing_digits(config, data, **kwargs)


def replay_only_7_8(config: MissingDigitsConfig, data: MnistData, **kwargs) -> ReplayResult:
    """The ``only-7-8`` replay: ``replay_missing_digits`` with a transfer set of only 7s and 8s."""
    if config.only_classes != (7, 8) or config.omit_classes:
        raise ValueError("The only-7-8 replay keeps exactly the 7s and 8s: use replay_config('only-7-8', budget).")
    return replay_missing_digits(config, data, **kwargs)


def missing_digits_cost(config: MissingDigitsConfig, data: MnistData) -> float:
    """The distilled student, on the transfer set chosen as the replay chooses it."""
    pool, _ = stratified_split(data.train.labels, config.validation_fraction, seed=config.training.seed)
    spec, batch = config.transfer_spec(), config.training.batch_size
    images = len(select_transfer_indices(data.train.labels[pool], spec, batch_size=batch))
    return training_cost(config.student, images, config.training.epochs)


def omit_3_config(budget: str = "quick", **settings) -> MissingDigitsConfig:
    """The omit-3 replay's config at the named budget; ``settings`` override fields flat (``seed=3``)."""
    return MissingDigitsConfig.build(budget=get_budget(budget), **{"omit_classes": (3,), **settings})


def only_7_8_config(budget: str = "quick", **settings) -> MissingDigitsConfig:
    """The only-7-8 replay's config at the named budget; ``settings`` override fields flat (``seed=3``)."""
    return MissingDigitsConfig.build(
        budget=get_budget(budget), **{"omit_classes": (), "only_classes": (7, 8), **settings}
    )


OMIT_3 = Replay(
    name="omit-3",
    title=N_("A student that never saw a 3"),
    source=PAPER,
    paper_numbers=PAPER_OMIT_3,
    intro=N_(
        "The student is distilled on a transfer set with **no 3s at all**. It still learns a lot about 3s from the "
        "teacher's soft targets for other digits (a 5 that looks a bit like a 3); mostly its output bias for 3 is "
        "too low. Raise that bias, with no retraining, and more 3s come back."
    ),
    paper_line=N_(
        "Paper: {errors} errors, {errors_on_3s} of them on the {test_3s} test 3s; with the 3 bias raised by {bias}, "
        "{errors_after_bias} errors and {errors_on_3s_after_bias} on 3s, so {accuracy} of the 3s are right without "
        "the student ever seeing one."
    ),
    text_values=lambda: {
        **{
            key: number(PAPER_OMIT_3[key])
            for key in ("errors", "errors_on_3s", "test_3s", "bias", "errors_after_bias", "errors_on_3s_after_bias")
        },
        "accuracy": percent(PAPER_OMIT_3["accuracy_on_3s_after_bias"], 1),
    },
    config=omit_3_config,
    run=replay_omit_3,
    teachers=setup_teachers,
    cost=missing_digits_cost,
)
ONLY_7_8 = Replay(
    name="only-7-8",
    title=N_("A student that saw only 7s and 8s"),
    source=PAPER,
    paper_numbers=PAPER_ONLY_7_8,
    intro=N_(
        "The student sees **only 7s and 8s**, so it learns to answer 7 or 8 far too often. Lowering the biases of "
        "7 and 8, without retraining, recovers much of what the teacher knew about the other eight digits."
    ),
    paper_line=N_(
        "Paper: {error_rate} test error; {error_rate_after_bias} after lowering the biases of 7 and 8 by {bias}."
    ),
    text_values=lambda: {
        "error_rate": percent(PAPER_ONLY_7_8["test_error_rate"], 1),
        "error_rate_after_bias": percent(PAPER_ONLY_7_8["test_error_rate_after_bias"], 1),
        "bias": number(-PAPER_ONLY_7_8["bias"]),
    },
    config=only_7_8_config,
    run=replay_only_7_8,
    teachers=setup_teachers,
    cost=missing_digits_cost,
)
