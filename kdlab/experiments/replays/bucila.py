"""The ``compression`` replay: Bucila, Caruana & Niculescu-Mizil (2006), "Model compression", on MNIST.

The paper's setting: a small labelled training set, an ensemble trained on it, and a small
model that should do the ensemble's job. Trained on the labelled set alone, the small model is
far worse than the ensemble. Trained to mimic the ensemble on a *large* transfer set that only
the ensemble labels, it comes close to the ensemble. We replay it with:

- a labelled set of ``labelled_size`` MNIST training images (2,000 at the quick budget), and an
  ensemble teacher trained on it (each member cached like any teacher);
- the student trained on the labelled images alone (cross-entropy on their labels);
- the same student (same seed, so the same initial weights) trained only on the ensemble's soft
  targets (alpha = 1) on each transfer set: ``labelled``: the labelled images themselves (Hinton
  et al.'s distillation, with no extra images: what the soft targets alone add); and three sets of
  ``transfer_size`` images that only the ensemble labels: ``real``: other MNIST training images,
  their labels ignored; ``munge``: synthetic images made from the labelled images with MUNGE
  (``kdlab.experiments.munge``); ``noise``: uniform random pixels, the contrast that shows the transfer images
  must look like the data.

Every error count is on the whole test set; the summary holds the sizes of every set.
"""

from __future__ import annotations

import time
from dataclasses import replace

import torch

from kdlab.experiments.munge import cached_transfer_images
from kdlab.experiments.plans import PlannedRun, progress_plan
from kdlab.experiments.replays.bucila_settings import (
    CLAIM_RULE,
    CLOSE_GAP_CLOSED,
    COMPRESSION_NOTES,
    TRANSFER_LABELS,
    WIDE_FEWER_ERRORS,
    CompressionConfig,
    compression_config,
)
from kdlab.experiments.replays.common import ReplayResult, comparison_row, keep_students, overall_status
from kdlab.experiments.replays.paper import BUCILA
from kdlab.experiments.replays.replay import Replay, ReplayTeacher
from kdlab.i18n import N_, _
from kdlab.ml.config import TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import DataSource, ImageSet, MnistData, TransferSetSpec, select_transfer_indices
from kdlab.ml.models import build_model
from kdlab.ml.progress import ProgressTracker
from kdlab.ml.train import TrainResult, run_summary, train_model
from kdlab.teachers.cache import resolve_teacher
from kdlab.teachers.ensembles import training_cost
from kdlab.teachers.teacher import Teacher

# Bucila et al. report their claim over eight non-image data sets, not MNIST numbers: it is checked here in words,
# and ``_claim`` turns it into two tests.
PAPER_COMPRESSION = {
    "source": BUCILA,
    "claim": N_(
        "A small model trained to mimic the ensemble on a large transfer set labelled only by the ensemble comes "
        "close to the ensemble's performance, and beats the same small model trained on the original labelled set "
        "alone by a wide margin."
    ),
    "synthetic": N_(
        "Where no unlabelled data exists, MUNGE's synthetic data works nearly as well as real unlabelled data; data "
        "drawn without regard to the training distribution (RANDOM) works much worse."
    ),
    "expected": {
        "real": N_("close to the ensemble"),
        "munge": N_("close to the ensemble"),
        "noise": N_("little better than alone, or worse"),
    },
}
# The comparison's line of the student from each transfer set (``TRANSFER_LABELS``' words, as one message each).
STUDENT_FROM = {
    "labelled": N_("Student from {size} labelled images, the ensemble's soft targets only"),
    "real": N_("Student from {size} real MNIST images, labels ignored"),
    "munge": N_("Student from {size} MUNGE images made from the labelled set"),
    "noise": N_("Student from {size} random noise images"),
}


def labelled_subset(config: CompressionConfig, data: MnistData) -> tuple[MnistData, torch.Tensor]:
    """The small labelled set as ``MnistData`` (its own source name, so its teachers cache apart),
    and the indices of its images in ``data.train``."""
    size = config.budget.labelled_size
    if size >= len(data.train):
        raise ValueError(
            f"The labelled set ({size:,} images) must be smaller than the training set "
            f"({len(data.train):,}): the other images are the unlabelled pool."
        )
    indices = select_transfer_indices(data.train.labels, TransferSetSpec(size=size, seed=config.labelled_seed))
    source = data.source
    labelled = DataSource(
        f"{source.name}-labelled-s{config.labelled_seed}",
        source.location,
        size,
        source.test_size,
        f"{size:,} labelled images of {source.label}",
    )
    return MnistData(data.train.subset(indices), data.test, labelled), indices


def _transfer_images(
    kind: str, config: CompressionConfig, data: MnistData, labelled_indices: torch.Tensor, cache_dir
) -> tuple[torch.Tensor, bool]:
    """The transfer set's images (no labels) and whether they came from the cache."""
    size = config.budget.transfer_size
    if kind == "real":
        unlabelled = torch.ones(len(data.train), dtype=torch.bool)
        unlabelled[labelled_indices] = False
        pool = torch.nonzero(unlabelled).flatten()
        order = torch.randperm(len(pool), generator=torch.Generator().manual_seed(config.labelled_seed))
        return data.train.images[pool[order[:size]].sort().values], False
    if kind == "munge":
        return cached_transfer_images(
            "munge",
            size,
            images=data.train.images[labelled_indices],
            seed=config.labelled_seed,
            cache_dir=cache_dir,
            swap_probability=config.swap_probability,
            spread=config.spread,
        )
    return cached_transfer_images("noise", size, seed=config.labelled_seed, cache_dir=cache_dir)


def replay_compression(
    config: CompressionConfig,
    data: MnistData,
    *,
    context: RunContext | None = None,
) -> ReplayResult:
    """The ensemble on the labelled set, the student alone, and the student from each transfer set.

    Every student starts from the same initial weights and uses the same seed; the transfer-set
    students learn from the ensemble's soft targets alone (alpha = 1).

    Raises:
        ValueError: the labelled set is not smaller than the training set.
    """
    context = context or RunContext()
    started = time.perf_counter()
    budget, training = config.budget, config.training
    labelled, labelled_indices = labelled_subset(config, data)
    alone_training = replace(training, epochs=budget.epochs_for(budget.labelled_size))
    alone = PlannedRun(config.student, budget.labelled_size, alone_training.epochs)
    stages = {
        "teacher": PlannedRun(config.teacher, budget.labelled_size, budget.teacher_epochs),
        "alone": alone,
        **{
            kind: alone
            if kind == "labelled"
            else PlannedRun(config.student, budget.transfer_size, budget.student_epochs)
            for kind in config.transfer_kinds
        },
    }
    progress = ProgressTracker(context.on_event, progress_plan(stages))
    teacher = resolve_teacher(
        config.teacher,
        labelled,
        epochs=budget.teacher_epochs,
        seed=config.teacher_seed,
        jitter_pixels=config.teacher_jitter_pixels,
        context=context.with_events(progress.start("teacher", f"Ensemble {config.teacher} on the labelled set")),
    )
    progress.finish("teacher")
    runs: dict[str, TrainResult] = {}
    sets = {"labelled": {"size": len(labelled.train), "class_counts": labelled.train.class_counts()}}

    if teacher.status == "completed" and not context.stopped:
        runs["alone"] = _train(
            config,
            labelled.train,
            data.test,
            alone_training,
            None,
            "alone",
            progress,
            "Student alone on the labelled set",
            context,
        )
    examples: dict[str, torch.Tensor] = {}
    for kind in config.transfer_kinds:
        if teacher.status != "completed" or context.stopped:
            break
        if kind == "labelled":  # the ensemble's own training images: their soft targets are stored already
            images, kind_training = labelled.train.images, alone_training
            targets = teacher.logits_at(training.temperature)
        else:
            images, from_cache = _transfer_images(kind, config, data, labelled_indices, context.cache_dir)
            kind_training = replace(training, epochs=budget.epochs_for(len(images)))
            targets = teacher.predict(images, training.temperature, context.device)  # (N, 10)
            sets[kind] = {"size": len(images), "from_cache": from_cache}
        ensemble_labels = targets.argmax(1)  # the ensemble's hard labels; alpha = 1 gives them no weight
        sets[kind] |= {
            "description": TRANSFER_LABELS[kind],
            "ensemble_label_counts": torch.bincount(ensemble_labels, minlength=10).tolist(),
        }
        examples[kind] = images[:16].clone()
        runs[kind] = _train(
            config,
            ImageSet(images, ensemble_labels),
            data.test,
            kind_training,
            targets,
            kind,
            progress,
            f"Student from {TRANSFER_LABELS[kind]}",
            context,
        )
    sets["test"] = {"size": len(data.test)}
    finished = "completed" if len(runs) == 1 + len(config.transfer_kinds) else "stopped"
    status = overall_status(teacher.status, *(result.status for result in runs.values()), finished)
    summary = _summary(config, data, teacher, runs, sets, status) | {"seconds": round(time.perf_counter() - started, 2)}
    progress.done(f"Finished: {status}.")
    logits = {run: result.test_logits for run, result in runs.items()}
    if teacher.status == "completed":
        logits["ensemble"] = teacher.test_logits
        if teacher.members:  # a single network can teach here too; then there is no best member
            logits["best member"] = teacher.best_member().test_logits
    examples["labelled"] = labelled.train.images[:16].clone()
    students = keep_students({run: result.model for run, result in runs.items()}, config.student)
    return ReplayResult(REPLAY.name, summary, data.test.labels, logits, examples, students)


def _train(
    config,
    transfer: ImageSet,
    test: ImageSet,
    training: TrainConfig,
    targets,
    run: str,
    progress: ProgressTracker,
    label: str,
    context: RunContext,
) -> TrainResult:
    result = train_model(
        build_model(config.student, seed=training.seed),
        transfer,
        test,
        training,
        teacher_logits=targets,
        run=run,
        context=context.with_events(progress.start(run, label)),
    )
    progress.finish(run)
    return result


def _summary(
    config: CompressionConfig, data: MnistData, teacher: Teacher, runs: dict[str, TrainResult], sets: dict, status: str
) -> dict:
    """The JSON-ready summary: every set's size, every model's errors, and the claim checked."""
    test_total = len(data.test)
    best = teacher.best_member() if teacher.members else None
    errors = {run: result.evaluation.errors for run, result in runs.items()}
    ours = {
        "ensemble_errors": teacher.record.test_errors,
        "best_member_errors": best.record.test_errors if best else None,
        "student_alone_errors": errors.get("alone"),
        **{f"{kind}_errors": errors.get(kind) for kind in config.transfer_kinds},
        "test_size": test_total,
    }
    ensemble_predictions = teacher.test_logits.argmax(1)
    students = {
        run: run_summary(config.student, result)
        | {"agreement_with_ensemble": float((result.test_logits.argmax(1) == ensemble_predictions).float().mean())}
        for run, result in runs.items()
    }
    claim = {
        kind: _claim(ours["ensemble_errors"], errors.get("alone"), errors.get(kind)) for kind in config.transfer_kinds
    }
    rows = [
        comparison_row(
            N_("Ensemble {teacher} (the teacher)"),
            None,
            ours["ensemble_errors"],
            "errors",
            None,
            test_total,
            values={"teacher": config.teacher},
        ),
        comparison_row(N_("Its best member"), None, ours["best_member_errors"], "errors", None, test_total),
        comparison_row(
            N_("Student {student} on the {size} labelled images alone"),
            N_("far worse than the ensemble"),
            errors.get("alone"),
            "errors",
            None,
            test_total,
            values={"student": config.student, "size": sets["labelled"]["size"]},
        ),
    ] + [
        comparison_row(
            STUDENT_FROM[kind],
            PAPER_COMPRESSION["expected"].get(kind),
            errors.get(kind),
            "errors",
            None,
            test_total,
            values={"size": sets.get(kind, {}).get("size", 0)},
        )
        for kind in config.transfer_kinds
    ]
    return {
        "replay": REPLAY.name,
        "title": REPLAY.title,
        "paper_source": BUCILA,
        "data": data.source.as_dict(),
        "budget": {**config.budget.as_dict(), "note": COMPRESSION_NOTES.get(config.budget.name, "Custom budget.")},
        "config": config.as_dict(),
        "paper": PAPER_COMPRESSION,
        "sets": sets,
        "teacher": teacher.summary()
        | {
            "train_seconds": teacher.record.train_seconds,
            "note": teacher.note,
            "jitter_pixels": config.teacher_jitter_pixels,
        },
        "student_alone": students.get("alone"),
        "students": students,
        "ours": ours,
        "claim": claim,
        "claim_rule": CLAIM_RULE,
        "comparison": rows,
        "status": status,
    }


def _claim(ensemble: int, alone: int | None, student: int | None) -> dict | None:
    """How far ``student`` got from the student alone towards the ensemble, and the claim's verdict."""
    if alone is None or student is None:
        return None
    gap = alone - ensemble  # the errors distillation could remove; none when the ensemble is no better
    return {
        "gap_closed": round((alone - student) / gap, 3) if gap > 0 else None,
        "fewer_errors_than_alone": round((alone - student) / alone, 3) if alone else 0.0,
        "close_to_ensemble": student - ensemble <= (1 - CLOSE_GAP_CLOSED) * max(gap, 0),
        "beats_alone_widely": alone > 0 and (alone - student) / alone >= WIDE_FEWER_ERRORS,
    }


def compression_teachers(config: CompressionConfig, data: MnistData) -> tuple[ReplayTeacher, ...]:
    """The ensemble, which learns from the small labelled set only."""
    labelled, _ = labelled_subset(config, data)
    return (
        ReplayTeacher(
            config.teacher, config.budget.teacher_epochs, config.teacher_seed, config.teacher_jitter_pixels, labelled
        ),
    )


def compression_cost(config: CompressionConfig, data: MnistData) -> float:
    """The student alone on the labelled set, and the student from each transfer set."""
    plan = config.budget
    alone = training_cost(config.student, plan.labelled_size, plan.epochs_for(plan.labelled_size))
    transfer = training_cost(config.student, plan.transfer_size, plan.student_epochs)
    return alone + sum(alone if kind == "labelled" else transfer for kind in config.transfer_kinds)


REPLAY = Replay(
    name="compression",
    title=N_("Model compression: an ensemble taught through unlabelled images"),
    source=BUCILA,
    paper_numbers=PAPER_COMPRESSION,
    intro=N_(
        "Where distillation starts: Bucila, Caruana & Niculescu-Mizil (2006) had an ensemble that was too big and "
        "slow to use, and only a small labelled set. They labelled a **large transfer set with the ensemble** and "
        "trained a small network on it, so it learned far more than the small labelled set could teach it. When no "
        "unlabelled data existed they made some with **MUNGE**. Here: an ensemble trained on a small labelled MNIST "
        "set, the same student trained on those images alone, and from three transfer sets that only the ensemble "
        "labels (real images, MUNGE images, noise)."
    ),
    paper_line=N_("Paper: {claim} {synthetic}"),
    text_values=lambda: {key: _(PAPER_COMPRESSION[key]) for key in ("claim", "synthetic")},
    config=compression_config,
    run=replay_compression,
    teachers=compression_teachers,
    cost=compression_cost,
    options={
        "teacher": "the ensemble (default: ensemble:cnn*3), e.g. ensemble:cnn,lenet5,mlp-300x1 or ensemble:lenet5*5",
        "student": "the student (default: mlp-100x1)",
    },
    budget_notes=COMPRESSION_NOTES,
    run_labels={
        "alone": N_("Student alone (labelled set)"),
        "labelled": N_("From the labelled set"),
        "real": N_("From real images"),
        "munge": N_("From MUNGE images"),
        "noise": N_("From noise"),
    },
)
