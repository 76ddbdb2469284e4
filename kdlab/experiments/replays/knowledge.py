"""The ``knowledge`` replay: which knowledge transfers? The field sorts distillation by what the teacher gives: its
outputs (KD, Hinton et al. 2015), its features (hints, Romero et al. 2015; attention maps, Zagoruyko & Komodakis
2017) or how it relates examples to each other (RKD, Park et al. 2019; SP, Tung & Mori 2019).

``cnn-small`` (the one student every method fits) learns from ``cnn-wide`` seven ways from the same initial
weights on the same batches: alone, with KD, with each feature or relation term and with the declared combination
(KD + AT), at the lab's transfer set and at a small one (1,000 images), where extra knowledge should matter most.
Repeated over seeds (``Replay.seeds``: 3), each method is compared with the student alone and with KD, paired by
seed, and the verdict (``knowledge_verdict``) is read from those intervals. RepDistiller's and torchdistill's
published numbers stand beside ours (``PAPER_KNOWLEDGE``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import torch

from kdlab.experiments.distill import DEMO_TRAIN_SIZE, DistillConfig, train_config_pair
from kdlab.experiments.plans import PlannedRun
from kdlab.experiments.replays.common import (
    ReplayResult,
    base_summary,
    comparison_row,
    lab_teacher_summary,
    load_lab_teacher,
    overall_status,
    students_result,
)
from kdlab.experiments.replays.config import BUDGETS, Budget, OnBudget, get_budget
from kdlab.experiments.replays.over_seeds import listed, paired, paired_verdict, spread
from kdlab.experiments.replays.paper import REPDISTILLER, TORCHDISTILL
from kdlab.experiments.replays.replay import Replay
from kdlab.i18n import N_, _, number
from kdlab.ml.config import TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.progress import ProgressTracker
from kdlab.ml.train import TrainResult, run_summary
from kdlab.teachers.ensembles import training_cost
from kdlab.teachers.features import transfer_signal
from kdlab.teachers.teacher import Teacher

# Top-1 accuracy (%) as published. RepDistiller: CIFAR-100, resnet32x4 -> resnet8x4, its README's first table.
# torchdistill: ImageNet (ILSVRC 2012), ResNet-34 -> ResNet-18, its benchmarks page (it has no FitNets, RKD or SP
# row for that pair). CRD is neither here nor in kdlab: it is kept because it is what RepDistiller's table shows
# best.
PAPER_KNOWLEDGE = {
    "repdistiller": {
        "name": "RepDistiller",
        "source": REPDISTILLER,
        "setting": N_("CIFAR-100, resnet32x4 -> resnet8x4, top-1 %"),
        "teacher": 79.42,
        "baseline": 72.50,
        "kd": 73.33,
        "hints": 73.50,
        "at": 73.44,
        "sp": 72.94,
        "rkd": 71.90,
        "crd": 75.51,
    },
    "torchdistill": {
        "name": "torchdistill",
        "source": TORCHDISTILL,
        "setting": N_("ImageNet, ResNet-34 -> ResNet-18, top-1 %"),
        "baseline": 69.76,
        "kd": 71.37,
        "at": 70.90,
        "crd": 70.93,
    },
}
PAPER_SETTINGS = {paper: numbers["setting"] for paper, numbers in PAPER_KNOWLEDGE.items()}
PAPER_NAMES = {  # the papers' names of the methods, in RepDistiller's row order
    "teacher": N_("teacher"),
    "baseline": N_("student alone"),
    "kd": "KD",
    "hints": "FitNet",
    "at": "AT",
    "sp": "SP",
    "rkd": "RKD",
    "crd": "CRD",
}
TERMS = ("hints", "at", "rkd", "sp")  # the feature and relation terms, each a method of kdlab.ml.methods
# The combination is declared here, before any numbers, not picked from them: AT's paper combines AT with KD, and
# attention is the one term that reads the conv blocks' spatial maps, which neither the logits nor the last
# hidden layer hold. The verdict says which term did best alone, so a better pairing shows.
COMBINED_TERM = "at"
RUNS = ("baseline", "kd", *TERMS, "combined")
RUN_LABELS = {
    "baseline": N_("Student alone"),
    "kd": N_("KD (the outputs)"),
    "hints": N_("Hints (FitNets: the last hidden layer)"),
    "at": N_("AT (the conv blocks' attention maps)"),
    "rkd": N_("RKD (distances and angles between examples)"),
    "sp": N_("SP (which examples look alike)"),
    "combined": f"KD + {METHODS[COMBINED_TERM].label}",
}
SHORT_LABELS = {"baseline": N_("alone"), "kd": "KD", **{term: METHODS[term].label for term in TERMS}}
SHORT_LABELS["hints"] = "Hints"
SHORT_LABELS["combined"] = f"KD + {SHORT_LABELS[COMBINED_TERM]}"
# The weighting, declared once. The logits' term keeps the replays' alpha = 0.5 (labels and teacher weigh the same;
# at 0.9 a term that says nothing of the right digit drowned the labels: the decoupled replay's NCKD, full MNIST,
# 720 errors against 624 alone). Each feature or relation term runs alone with the labels (alpha = 0:
# CE + weight * term, as RepDistiller runs FitNets, AT, SP and RKD), so each row is one kind of knowledge.
LOGITS_ALPHA = 0.5
TERM_ALPHA = 0.0
SMALL_TRANSFER_SET = 1_000
# The intro's paragraph on the weighting: a message whose placeholders ``weighting`` fills where shown.
WEIGHTING = N_(
    "**How the terms are weighted.** KD at alpha = {logits_alpha}, the replays' alpha: the labels and the teacher's "
    "outputs weigh the same (at 0.9 the labels keep a tenth of the loss, and in the decoupled replay a term that says "
    "nothing of the right digit then left the student worse than alone). Each feature or relation term alone with "
    "the labels and without the outputs (alpha = {term_alpha}: CE + weight x term, at its paper's weight), as "
    "RepDistiller runs them, so each row is one kind of knowledge; RepDistiller's KD row uses alpha = 0.9 (ours "
    "{logits_alpha}). The combination, {combined}, is KD at alpha = {logits_alpha} plus the {term} term, declared "
    "before any run (AT's paper combines it with KD), not picked from the results."
)


def weighting(translated: bool = True) -> str:
    """``WEIGHTING`` in the current language (in English for the summary: ``translated`` False), its values filled."""
    return (_(WEIGHTING) if translated else WEIGHTING).format(
        logits_alpha=number(LOGITS_ALPHA) if translated else f"{LOGITS_ALPHA:g}",
        term_alpha=number(TERM_ALPHA) if translated else f"{TERM_ALPHA:g}",
        combined=SHORT_LABELS["combined"],
        term=SHORT_LABELS[COMBINED_TERM],
    )


KNOWLEDGE_NOTES = {  # SMALL_TRANSFER_SET's 1,000 written out: a note is one message
    "quick": N_(
        "cnn-small from the lab's cnn-wide (cached), each student 20 epochs on the lab's 5,000 transfer images "
        "and 100 on 1,000 (as many images seen)."
    ),
    "full": N_(
        "cnn-small from the lab's cnn-wide (cached), each student 60 epochs on the lab's 5,000 transfer images "
        "and 300 on 1,000 (as many images seen)."
    ),
}


@dataclass(frozen=True)
class KnowledgeConfig(OnBudget):
    """``student`` learns from ``teacher`` seven ways (``RUNS``) on each transfer set of ``train_sizes`` (None: the
    lab's 5,000 images, or all when fewer), the students' epochs from ``budget.student_epochs``; KD at
    ``training.alpha``, each term alone at ``TERM_ALPHA`` (``WEIGHTING``). ``teacher_epochs`` None trains the teacher
    as the lab does."""

    HIDDEN_TRAINING_FIELDS = ("epochs", "evals_per_epoch", "jitter_pixels", "curve_test_images")

    budget: Budget = BUDGETS["quick"]
    teacher: str = "cnn-wide"
    student: str = "cnn-small"
    training: TrainConfig = TrainConfig(alpha=LOGITS_ALPHA, curve_test_images=2_000)
    train_sizes: tuple[int | None, ...] = (None, SMALL_TRANSFER_SET)
    teacher_epochs: int | None = None
    teacher_seed: int = 0

    def __post_init__(self) -> None:
        self.take_budget()
        object.__setattr__(self, "train_sizes", tuple(self.train_sizes))
        if not self.train_sizes or len(set(self.train_sizes)) < len(self.train_sizes):
            raise ValueError(f"Give one or more different transfer-set sizes (got {list(self.train_sizes)}).")
        for size in self.train_sizes:
            for run in RUNS:
                self.distill_config(run, size)  # every student's settings checked, with the lab's messages

    def epochs_for(self, train_size: int | None) -> int:
        """A student's epochs on the transfer set of ``train_size`` images: every student sees as many images as
        one on the first set in ``budget.student_epochs`` epochs (the compression replay's rule), so a smaller set
        gets more epochs. Why: with the same 20 epochs the 1,000-image students had a fifth of the steps, and on
        full MNIST (seeds 0 to 2, 2026-12-07) the student alone stopped at 584 test errors and KD at 626, worse than
        alone; with 100 epochs alone made 409 and KD 240."""
        first = self.train_sizes[0] or DEMO_TRAIN_SIZE
        size = train_size or DEMO_TRAIN_SIZE
        return max(1, min(500, round(self.budget.student_epochs * first / size)))

    def distill_config(self, run: str, train_size: int | None) -> DistillConfig:
        """The lab config of one student of ``RUNS`` on the transfer set of ``train_size`` images: its method
        (the student alone is KD's baseline), its alpha and its epochs (``epochs_for``)."""
        soft = {"baseline": "kd", "kd": "kd", "combined": COMBINED_TERM}.get(run, run)
        alpha = TERM_ALPHA if run in TERMS else self.training.alpha
        return DistillConfig(
            teacher=self.teacher,
            student=self.student,
            training=replace(self.training, alpha=alpha, epochs=self.epochs_for(train_size)),
            train_size=train_size,
            teacher_epochs=self.teacher_epochs,
            teacher_seed=self.teacher_seed,
            with_baseline=run == "baseline",
            soft=soft,
        )


def knowledge_config(budget: str = "quick", **settings) -> KnowledgeConfig:
    """The knowledge replay's config at the named budget; ``settings`` override fields flat (``seed=3``)."""
    return KnowledgeConfig.build(budget=get_budget(budget), **settings)


def replay_knowledge(config: KnowledgeConfig, data: MnistData, *, context: RunContext | None = None) -> ReplayResult:
    """The student alone and taught six ways, on each transfer set, every student on the same batches."""
    context = context or RunContext()
    started = time.perf_counter()
    sets = [config.distill_config("kd", size).transfer_indices(data) for size in config.train_sizes]
    plan = {}
    for size, indices in zip(config.train_sizes, sets):
        epochs = config.epochs_for(size)
        plan |= {_stage(run, len(indices)): PlannedRun(config.student, len(indices), epochs) for run in RUNS}
    teacher, progress, teacher_epochs = load_lab_teacher(config, data, plan, context)
    rows, first = [], {}
    for size, indices in zip(config.train_sizes, sets):
        results = _teach_set(config, data, teacher, size, indices, progress, context)
        rows.append(
            {
                "train_size": len(indices),
                "class_counts": data.train.subset(indices).class_counts(),
                "errors": {run: results[run].evaluation.errors if run in results else None for run in RUNS},
                "students": {run: run_summary(config.student, results.get(run)) for run in RUNS},
            }
        )
        first = first or results
        if len(results) < len(RUNS):
            break
    done = len(rows) == len(sets) and all(None not in row["errors"].values() for row in rows)
    finished = "completed" if done else "stopped"
    status = overall_status(
        teacher.status,
        *(student["status"] for row in rows for student in row["students"].values() if student),
        finished,
    )
    summary = base_summary(REPLAY.name, REPLAY.title, PAPER_KNOWLEDGE, config, data, REPLAY.source) | {
        **lab_teacher_summary(config, teacher, teacher_epochs, KNOWLEDGE_NOTES),
        "weighting": weighting(translated=False),
        "combined": {"term": COMBINED_TERM, "label": SHORT_LABELS["combined"]},
        "transfer_set": {"size": len(sets[0]), "class_counts": data.train.subset(sets[0]).class_counts()},
        "rows": rows,
        "comparison": published_comparison(rows[0]["errors"] if rows else {}),
        "status": status,
        "seconds": round(time.perf_counter() - started, 2),
    }
    progress.done(f"Finished: {status}.")
    return students_result("knowledge", summary, data.test.labels, first, teacher, config.student)


def _teach_set(
    config: KnowledgeConfig,
    data: MnistData,
    teacher: Teacher,
    size: int | None,
    indices: torch.Tensor,
    progress: ProgressTracker,
    context: RunContext,
) -> dict[str, TrainResult]:
    """Every student of ``RUNS`` on the transfer set ``indices`` (asked as ``size``), one after another, until
    one stops: each with its method, its alpha and, for a feature or relation term, the teacher's signal."""
    transfer = data.train.subset(indices)
    results = {}
    for run in RUNS:
        if teacher.status != "completed" or context.stopped:
            break
        lab = config.distill_config(run, size)
        # read once per teacher and kept (kdlab.teachers.features); None for KD and the student alone
        signal = transfer_signal(teacher, METHODS[lab.soft], config.student, data, indices, cache_dir=context.cache_dir)
        kind = "baseline" if run == "baseline" else "distilled"
        label = f"{RUN_LABELS[run]}, {len(indices):,} images"
        trained = train_config_pair(
            lab,
            teacher,
            transfer,
            indices,
            data.test,
            runs={kind: _stage(run, len(indices))},
            on_start=lambda stage, label=label: progress.start(stage, label),
            on_finish=progress.finish,
            context=context.with_events(None),
            signal=signal,
        )
        if kind not in trained:
            break
        results[run] = trained[kind]
        if trained[kind].status == "stopped":
            break
    return results


def _stage(run: str, images: int) -> str:
    """A student's progress stage: its run and its transfer set's size, e.g. ``at@1000``."""
    return f"{run}@{images}"


def published_comparison(errors: dict[str, float | None], over_seeds: bool = False) -> list[dict]:
    """One row per method the papers report, in the current language (the page says them again from the summary's
    errors): RepDistiller's and torchdistill's top-1 and its rank among the five methods, beside our test ``errors``
    (a seed's, or the mean errors over seeds) on the first transfer set and their rank (fewest errors first)."""
    methods = ("kd", *TERMS)
    rows = []
    for run in methods:
        paper = []
        for numbers in PAPER_KNOWLEDGE.values():
            if run in numbers:
                ranked = sorted((m for m in methods if m in numbers), key=lambda m: -numbers[m])
                paper.append(
                    _("{benchmark} {accuracy}% ({rank})").format(
                        benchmark=numbers["name"], accuracy=number(numbers[run], 2), rank=_rank(ranked, run)
                    )
                )
        finished = [m for m in methods if errors.get(m) is not None]
        ranked = sorted(finished, key=lambda m: errors[m])
        ours = None
        if run in finished:
            message = _("{errors} mean errors ({rank})") if over_seeds else _("{errors} errors ({rank})")
            ours = message.format(errors=number(errors[run]), rank=_rank(ranked, run))
        rows.append(comparison_row(RUN_LABELS[run], "; ".join(paper), ours, "claim"))
    return rows


def _rank(ranked: list[str], run: str) -> str:
    return _("{place} of {count}").format(place=ranked.index(run) + 1, count=len(ranked))


def knowledge_seeds(summaries: list[dict]) -> dict:
    """The knowledge replay over seeds: per transfer set, every student's errors with their spread, each method
    against the student alone and against KD paired by seed, and the verdict read from those intervals."""
    seeds = tuple(summary["config"]["seed"] for summary in summaries)
    rows, comparisons = [], []
    for index, row in enumerate(summaries[0]["rows"]):
        errors = {run: [summary["rows"][index]["errors"][run] for summary in summaries] for run in RUNS}
        where = f" ({row['train_size']:,} images)"
        against = {
            "alone": {
                run: paired(SHORT_LABELS[run], "alone" + where, seeds, errors["baseline"], errors[run])
                for run in RUNS[1:]
            },
            "kd": {run: paired(SHORT_LABELS[run], "KD" + where, seeds, errors["kd"], errors[run]) for run in RUNS[2:]},
        }
        comparisons += [*against["alone"].values(), *against["kd"].values()]
        spreads = {run: spread(values) for run, values in errors.items()}
        rows.append(
            {
                "train_size": row["train_size"],
                "errors": spreads,
                "against": against,  # the verdict's inputs, so a page says it again in its language
                "verdict": knowledge_verdict(row["train_size"], spreads, against),
            }
        )
    means = {run: spread["mean"] for run, spread in rows[0]["errors"].items()}
    return {
        "seeds": list(seeds),
        "rows": rows,
        "comparisons": comparisons,
        "comparison": published_comparison(means, over_seeds=True),
    }


def knowledge_verdict(size: int, spreads: dict[str, dict], against: dict[str, dict[str, dict]]) -> str:
    """What one transfer set's numbers say, from the paired intervals only: which methods beat the student alone
    and which differ from KD by more than the seed-to-seed spread, the order of the means, and which term did best
    alone."""

    def names(runs) -> str:
        return listed([_(SHORT_LABELS[run]) for run in runs])

    sentences = [
        _("With {size} transfer images:").format(size=number(size)),
        *paired_verdict(against["alone"], against["kd"], names, "KD"),
    ]
    order = sorted(RUNS, key=lambda run: spreads[run]["mean"])
    means = ", ".join(f"{_(SHORT_LABELS[r])} {number(spreads[r]['mean'])}" for r in order)
    sentences.append(_("Mean errors, fewest first: {means}.").format(means=means))
    best = min(TERMS, key=lambda run: spreads[run]["mean"])
    if best != COMBINED_TERM:
        sentences.append(
            _(
                "{best} did best of the terms alone; the combination was declared with {declared} before the runs."
            ).format(best=SHORT_LABELS[best], declared=SHORT_LABELS[COMBINED_TERM])
        )
    return " ".join(sentences)


def knowledge_cost(config: KnowledgeConfig, data: MnistData) -> float:
    """Seven students on each transfer set, each at its epochs."""
    return sum(
        len(RUNS)
        * training_cost(
            config.student, len(config.distill_config("kd", size).transfer_indices(data)), config.epochs_for(size)
        )
        for size in config.train_sizes
    )


REPLAY = Replay(
    name="knowledge",
    title=N_("Which knowledge transfers?"),
    source=REPDISTILLER,
    paper_numbers=PAPER_KNOWLEDGE,
    intro=N_(
        "A teacher can give more than its outputs. **Feature-based** methods copy what its layers hold: hints "
        "(FitNets) its last hidden layer, attention transfer (AT) where its conv blocks look. **Relation-based** "
        "methods copy how it relates examples to each other: the distances and angles between them (RKD), which look "
        "alike (SP). The lab's small conv student learns here from each alone, from the outputs (KD), from KD and AT "
        "together and from nothing but the labels, all on the same batches, on the lab's 5,000 transfer images and on "
        "1,000, where extra knowledge should matter most. {weighting}"
    ),
    paper_line=N_(
        "{repdistiller}, {repdistiller_setting}: {repdistiller_numbers}. {torchdistill}, {torchdistill_setting}: "
        "{torchdistill_numbers}. Both put the methods within a point or two of each other."
    ),
    text_values=lambda: {
        "weighting": weighting(),
        "repdistiller": REPDISTILLER,
        "torchdistill": TORCHDISTILL,
        **{f"{paper}_setting": _(setting) for paper, setting in PAPER_SETTINGS.items()},
        **{
            f"{paper}_numbers": ", ".join(
                f"{_(name)} {number(PAPER_KNOWLEDGE[paper][key], 2)}"
                for key, name in PAPER_NAMES.items()
                if key in PAPER_KNOWLEDGE[paper]
            )
            for paper in PAPER_KNOWLEDGE
        },
    },
    config=knowledge_config,
    run=replay_knowledge,
    # The lab's teacher, which ``kdlab prepare`` caches for the lab already (as for the decoupled replay).
    teachers=lambda config, data: (),
    cost=knowledge_cost,
    # No --teacher or --student: cnn-small from cnn-wide is the pair every method fits (AT needs conv blocks in both,
    # hints, RKD and SP a hidden layer), so the replay compares the methods and nothing else.
    over_seeds=knowledge_seeds,
    seeds=3,  # the verdict is read from the paired intervals, which one seed does not give
    budget_notes=KNOWLEDGE_NOTES,
    run_labels=RUN_LABELS,
)
