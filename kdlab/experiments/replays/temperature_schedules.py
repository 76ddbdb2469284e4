"""The ``temperature-schedules`` replay: is one temperature right?

Since Hinton, Vinyals & Dean (2015) one constant T softens teacher and student alike. The lab's student learns
here from the lab's teacher eleven ways (``ROWS``), every student from the same initial weights on the same
batches: alone; KD at each fixed T of ``FIXED_TEMPERATURES`` and at ``LIMIT_TEMPERATURE``; logit matching, the
limit KD approaches as T grows (Hinton et al. 2015, section 2.1); KD on standardised logits at Sun et al.'s base
T = 2 (CVPR 2024); T annealed from 8 down to 1 (the high-to-low curriculum of annealing KD, Jafari et al. 2021);
and T learned against the student through a gradient reversal from T = 4 (CTKD, Li et al. 2023). Over seeds
(``Replay.seeds``: 3) every row is compared with the student alone and with KD at the lab's T = 4, paired by
seed; the verdict (``temperature_verdict``) is read from those intervals, with how close T = 50 comes to logit
matching (the share of test digits both predict the same) and each seed's learned T.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from kdlab.experiments.distill import DEFAULT_STUDENT, DEFAULT_TEACHER, DistillConfig, train_config_pair
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
from kdlab.experiments.replays.paper import CTKD, HINTON_LIMIT, JAFARI, SUN
from kdlab.experiments.replays.replay import Replay
from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.config import TrainConfig
from kdlab.ml.context import RunContext
from kdlab.ml.data import MnistData
from kdlab.ml.train import TrainResult, run_summary
from kdlab.teachers.ensembles import training_cost

# What the papers report. Sun et al.: CIFAR-100, ResNet32x4 -> ResNet8x4, top-1 % (their Table 1: KD and KD with
# their standardisation), base T = 2, the soft term weighted 9 against the labels' 0.1. CTKD: its learned T adds
# 0.3 to 0.5 points of top-1 to the method it is added to (CIFAR-100 and ImageNet). Hinton et al. and Jafari et al.
# are checked in words.
PAPER_TEMPERATURE = {
    "limit": N_("As T grows, KD on zero-mean logits becomes matching the logits (squared error): the same gradient."),
    "intermediate": N_(
        "When the student is too small to take in all the teacher knows, intermediate temperatures work best: very "
        "high T makes it spend itself on the very negative logits."
    ),
    "sun": {
        "setting": N_("CIFAR-100, ResNet32x4 -> ResNet8x4, top-1 %"),
        "kd": 73.33,
        "standardised": 76.62,
        "base_temperature": 2.0,
        "kd_weight": 9.0,
        "ce_weight": 0.1,
    },
    "ctkd": {"setting": "CIFAR-100 and ImageNet", "gain_low": 0.3, "gain_high": 0.5},
    "annealed": N_(
        "Letting T fall from high to 1 over training (a curriculum from soft to sharp) teaches better than one fixed T."
    ),
}
SUN_SETTING = PAPER_TEMPERATURE["sun"]["setting"]  # marked N_ above, translated where shown
FIXED_TEMPERATURES = (1.0, 2.0, 4.0, 8.0, 20.0)
LIMIT_TEMPERATURE = 50.0  # the lab's highest T, where KD's gradient is 0.99+ of logit matching's
REFERENCE_TEMPERATURE = TrainConfig().temperature  # the lab's T = 4: KD as a class runs it
STANDARDISED_BASE = PAPER_TEMPERATURE["sun"]["base_temperature"]
ANNEALED_FROM = 8.0  # down to kdlab.ml.temperature.ANNEALED_END = 1
LEARNED_FROM = 4.0  # CTKD's learned T starts where the lab's fixed one is


@dataclass(frozen=True)
class Row:
    """One student: its words and how its soft term is softened (``soft`` None: the student alone)."""

    label: str  # the page's, the log's and the bars' words
    short: str  # the comparisons' and the verdict's words
    soft: str | None = "kd"
    temperature: float = REFERENCE_TEMPERATURE
    standardise: bool = False
    schedule: str = "constant"


def _fixed(temperature: float) -> Row:
    return Row(f"KD, T = {temperature:g}", f"T = {temperature:g}", temperature=temperature)


ROWS = {
    "baseline": Row(N_("Student alone"), N_("alone"), soft=None),
    **{f"kd-t{t:g}": _fixed(t) for t in (*FIXED_TEMPERATURES, LIMIT_TEMPERATURE)},
    "logits": Row(N_("Logit matching (the high-T limit)"), N_("logit matching"), soft="logits"),
    "standardised": Row(
        f"Standardised KD (base T = {STANDARDISED_BASE:g})",
        N_("standardised"),
        temperature=STANDARDISED_BASE,
        standardise=True,
    ),
    "annealed": Row(
        f"Annealed KD (T from {ANNEALED_FROM:g} to 1)", N_("annealed"), temperature=ANNEALED_FROM, schedule="annealed"
    ),
    "learned": Row(
        f"Learned T (CTKD, from T = {LEARNED_FROM:g})", N_("learned"), temperature=LEARNED_FROM, schedule="learned"
    ),
}
RUNS = tuple(ROWS)
REFERENCE = f"kd-t{REFERENCE_TEMPERATURE:g}"
LIMIT = f"kd-t{LIMIT_TEMPERATURE:g}"
FIXED = tuple(run for run in RUNS if run.startswith("kd-t"))  # every fixed T, the limit's included
RUN_LABELS = {run: row.label for run, row in ROWS.items()}
SHORT_LABELS = {run: row.short for run, row in ROWS.items()}
WEIGHTING = N_(
    "**How the terms are weighted.** Every row at the lab's alpha = 0.9 (the soft term 0.9, the labels 0.1), "
    "so KD at T = 4 is the lab's own run. The replays that drop to alpha = 0.5 do so for a term that says nothing "
    "of the right digit (the decoupled replay's NCKD) or for terms that run alone with the labels (the knowledge "
    "replay); every soft term here is the whole of KD, or its limit, and carries the right digit. The papers weigh "
    "the teacher as heavily: Hinton et al. put a considerably lower weight on the labels, Sun et al. 9 against "
    "0.1, CTKD its base method's 0.9."
)
TEMPERATURE_NOTES = {
    "quick": N_(
        "The lab's teacher and student (cached teacher, 5,000 transfer images), each of the eleven students 20 epochs."
    ),
    "full": N_(
        "The lab's teacher and student (cached teacher, 5,000 transfer images), each of the eleven students 60 epochs."
    ),
}


@dataclass(frozen=True)
class TemperatureConfig(OnBudget):
    """The lab's distillation (teacher, student, transfer set, alpha) for each row of ``ROWS``, the students' epochs
    from ``budget.student_epochs``. The teacher is the lab's: ``teacher_epochs`` None trains it as the lab does."""

    HIDDEN_TRAINING_FIELDS = ("epochs", "evals_per_epoch", "jitter_pixels", "curve_test_images", "temperature")

    budget: Budget = BUDGETS["quick"]
    teacher: str = DEFAULT_TEACHER
    student: str = DEFAULT_STUDENT
    training: TrainConfig = TrainConfig(curve_test_images=2_000)  # the lab's alpha, 0.9 (``WEIGHTING``)
    train_size: int | None = None  # the lab's: 5,000 images, or all when fewer
    teacher_epochs: int | None = None
    teacher_seed: int = 0

    def __post_init__(self) -> None:
        self.take_budget()
        for run in RUNS:
            self.distill_config(run)  # every student's settings checked, with the lab's messages

    def distill_config(self, run: str) -> DistillConfig:
        """The lab config of one student of ``ROWS``: its method, T, standardisation and schedule (the student
        alone is KD's baseline)."""
        row = ROWS[run]
        return DistillConfig(
            teacher=self.teacher,
            student=self.student,
            training=replace(self.training, temperature=row.temperature),
            train_size=self.train_size,
            teacher_epochs=self.teacher_epochs,
            teacher_seed=self.teacher_seed,
            with_baseline=row.soft is None,
            soft=row.soft or "kd",
            standardise=row.standardise,
            schedule=row.schedule,
        )


def temperature_config(budget: str = "quick", **settings) -> TemperatureConfig:
    """The replay's config at the named budget; ``settings`` override fields flat (``seed=3``)."""
    return TemperatureConfig.build(budget=get_budget(budget), **settings)


def replay_temperature(
    config: TemperatureConfig, data: MnistData, *, context: RunContext | None = None
) -> ReplayResult:
    """The student alone and distilled ten ways, every student on the same batches."""
    context = context or RunContext()
    started = time.perf_counter()
    indices = config.distill_config(REFERENCE).transfer_indices(data)
    transfer = data.train.subset(indices)
    student_run = PlannedRun(config.student, len(transfer), config.training.epochs)
    teacher, progress, teacher_epochs = load_lab_teacher(config, data, dict.fromkeys(RUNS, student_run), context)
    results: dict[str, TrainResult] = {}
    for run in RUNS[1:]:
        lab = config.distill_config(run)
        runs = ({"baseline": "baseline"} if run == REFERENCE else {}) | {"distilled": run}
        trained = train_config_pair(
            lab,
            teacher,
            transfer,
            indices,
            data.test,
            runs=runs,
            on_start=lambda stage: progress.start(stage, RUN_LABELS[stage]),
            on_finish=progress.finish,
            context=context.with_events(None),
        )
        results |= {runs[kind]: result for kind, result in trained.items()}
        if len(trained) < len(runs) or context.stopped:
            break
    finished = "completed" if len(results) == len(RUNS) else "stopped"
    status = overall_status(teacher.status, *(result.status for result in results.values()), finished)
    students = {run: run_summary(config.student, results.get(run)) for run in RUNS}
    errors = {run: results[run].evaluation.errors if run in results else None for run in RUNS}
    limit = limit_agreement(results)
    learned = (students["learned"] or {}).get("final_temperature")
    summary = base_summary(REPLAY.name, REPLAY.title, PAPER_TEMPERATURE, config, data, REPLAY.source) | {
        **lab_teacher_summary(config, teacher, teacher_epochs, TEMPERATURE_NOTES),
        "weighting": WEIGHTING,
        "transfer_set": {"size": len(transfer), "class_counts": transfer.class_counts()},
        "errors": errors,
        "students": students,
        "limit": limit,
        "final_temperature": learned,
        "comparison": published_comparison(errors, limit, [learned]),
        "status": status,
        "seconds": round(time.perf_counter() - started, 2),
    }
    progress.done(f"Finished: {status}.")
    return students_result(REPLAY.name, summary, data.test.labels, results, teacher, config.student)


def limit_agreement(results: dict[str, TrainResult]) -> dict | None:
    """How close KD at ``LIMIT_TEMPERATURE`` comes to logit matching on the test digits: the share both students
    predict the same digit, and their errors (None unless both trained)."""
    if LIMIT not in results or "logits" not in results:
        return None
    high, matching = results[LIMIT], results["logits"]
    same = (high.test_logits.argmax(dim=1) == matching.test_logits.argmax(dim=1)).float().mean()
    return {
        "temperature": LIMIT_TEMPERATURE,
        "agreement": round(float(same), 4),
        "limit_errors": high.evaluation.errors,
        "logits_errors": matching.evaluation.errors,
    }


def temperature_seeds(summaries: list[dict]) -> dict:
    """The replay over seeds: every student's errors with their spread, each row against the student alone and
    against KD at the lab's T, paired by seed, how close T = 50 came to logit matching on each seed, the learned
    T of each seed, and the verdict read from those intervals."""
    seeds = tuple(summary["config"]["seed"] for summary in summaries)
    errors = {run: [summary["errors"][run] for summary in summaries] for run in RUNS}
    against = {
        "alone": {run: paired(SHORT_LABELS[run], "alone", seeds, errors["baseline"], errors[run]) for run in RUNS[1:]},
        "reference": {
            run: paired(SHORT_LABELS[run], SHORT_LABELS[REFERENCE], seeds, errors[REFERENCE], errors[run])
            for run in RUNS[1:]
            if run != REFERENCE
        },
    }
    spreads = {run: spread(values) for run, values in errors.items()}
    limit = {
        "agreement": [summary["limit"]["agreement"] for summary in summaries],
        # logit matching against T = 50: above 0 when matching the logits made fewer errors
        "difference": paired(SHORT_LABELS["logits"], SHORT_LABELS[LIMIT], seeds, errors[LIMIT], errors["logits"]),
    }
    learned = [summary["final_temperature"] for summary in summaries]
    means = {run: spread["mean"] for run, spread in spreads.items()}
    return {
        "seeds": list(seeds),
        "errors": spreads,
        "comparisons": [*against["alone"].values(), *against["reference"].values(), limit["difference"]],
        "limit": limit,
        "final_temperatures": learned,
        "against": against,  # the verdict's inputs, so a page says it again in its language
        "verdict": temperature_verdict(spreads, against, limit, learned),
        "comparison": published_comparison(
            means, {"agreement": sum(limit["agreement"]) / len(limit["agreement"])}, learned, against["reference"]
        ),
    }


def _names(runs) -> str:
    """The rows' short labels as a list in words, its first letter a capital: "Standardised, T = 8 and learned"."""
    words = listed([_(SHORT_LABELS[run]) for run in runs])
    return words[:1].upper() + words[1:]


def temperature_verdict(spreads: dict[str, dict], against: dict[str, dict[str, dict]], limit: dict, learned) -> str:
    """What the numbers say, from the paired intervals only: which rows beat the student alone, which differ from
    KD at the lab's T beyond the seed-to-seed spread, the best fixed T, how close T = 50 came to logit matching, and
    where the learned T ended."""
    kd = _("KD at {temperature}").format(temperature=SHORT_LABELS[REFERENCE])
    sentences = paired_verdict(against["alone"], against["reference"], _names, kd)
    sentences.append(best_fixed_sentence(spreads))
    share = sum(limit["agreement"]) / len(limit["agreement"])
    difference = limit["difference"]
    values = {
        "limit": SHORT_LABELS[LIMIT],
        "share": percent(share, 1),
        "shares": ", ".join(percent(value, 1) for value in limit["agreement"]),
        "difference": number(abs(difference["fewer_errors"])),
    }
    if difference["bigger_than_spread"]:
        sentence = _(
            "KD at {limit} and logit matching predict the same digit on {share} of test digits on average "
            "({shares}); their errors differ by {difference} on average, beyond the spread."
        )
    else:
        sentence = _(
            "KD at {limit} and logit matching predict the same digit on {share} of test digits on average "
            "({shares}); their errors differ by {difference} on average, within the spread."
        )
    sentences.append(sentence.format(**values))
    if None not in learned:
        sentences.append(
            _("The learned T moved from {start} to {ends}.").format(
                start=number(LEARNED_FROM), ends=", ".join(number(t, 2) for t in learned)
            )
        )
    order = sorted(RUNS, key=lambda run: spreads[run]["mean"])
    means = ", ".join(f"{_(SHORT_LABELS[r])} {number(spreads[r]['mean'])}" for r in order)
    sentences.append(_("Mean errors, fewest first: {means}.").format(means=means))
    return " ".join(sentences)


def best_fixed_sentence(spreads: dict[str, dict]) -> str:
    """Which fixed T (``FIXED``) made the fewest errors on average, whether it is in between (Hinton et al.'s
    intermediate T) or an end of the range, and which other fixed T are within its spread (paired by seed)."""
    best = min(FIXED, key=lambda run: (spreads[run]["mean"], run))
    seeds = tuple(range(len(spreads[best]["values"])))
    close = [
        run
        for run in FIXED
        if run != best
        and not paired("", "", seeds, spreads[run]["values"], spreads[best]["values"])["bigger_than_spread"]
    ]
    end = best in (FIXED[0], FIXED[-1])
    if not close:
        if end:
            message = _(
                "The best fixed T on average is {best}, an end of the range; every other fixed T did worse beyond the "
                "spread."
            )
        else:
            message = _(
                "The best fixed T on average is {best}, in between; every other fixed T did worse beyond the spread."
            )
        return message.format(best=SHORT_LABELS[best])
    if end:
        message = ngettext(
            "The best fixed T on average is {best}, an end of the range, but {close} is within its spread.",
            "The best fixed T on average is {best}, an end of the range, but {close} are within its spread.",
            len(close),
        )
    else:
        message = ngettext(
            "The best fixed T on average is {best}, in between, but {close} is within its spread.",
            "The best fixed T on average is {best}, in between, but {close} are within its spread.",
            len(close),
        )
    return message.format(best=SHORT_LABELS[best], close=listed([SHORT_LABELS[r] for r in close]))


def _against_reference(run: str, errors: dict, reference: dict | None) -> str:
    """A row's errors beside KD at the lab's T: one seed's counts, or over seeds the paired difference."""
    kd = f"KD at {SHORT_LABELS[REFERENCE]}"
    if reference is None:
        return f"{errors[run]:,g} errors, {kd} {errors[REFERENCE]:,g}"
    row = reference[run]
    interval = "" if row["interval_95"] is None else " [95%: {:g} to {:g}]".format(*row["interval_95"])
    where = "beyond" if row["bigger_than_spread"] else "within"
    fewer = row["fewer_errors"]
    words = f"{abs(fewer):g} {'fewer' if fewer >= 0 else 'more'} errors"
    return f"{words} than {kd} on average{interval}, {where} the seed-to-seed spread"


def published_comparison(errors: dict, limit: dict | None, learned: list, reference: dict | None = None) -> list[dict]:
    """The papers' claims beside ours: one seed's errors (``limit``: how close T = 50 came), or over seeds the mean
    errors and each row's paired difference from KD at the lab's T (``reference``); "not run" until every row ran."""
    paper, sun, ctkd = PAPER_TEMPERATURE, PAPER_TEMPERATURE["sun"], PAPER_TEMPERATURE["ctkd"]
    claims = {
        "limit": ("High-T limit (Hinton et al. 2015, 2.1)", paper["limit"]),
        "intermediate": ("Intermediate T (Hinton et al. 2015, 2.1)", paper["intermediate"]),
        "standardised": (
            "Standardised logits (Sun et al. 2024)",
            f"{sun['setting']}: KD {sun['kd']:.2f} -> {sun['standardised']:.2f} standardised (base T = "
            f"{sun['base_temperature']:g}, soft term {sun['kd_weight']:g}, labels {sun['ce_weight']:g})",
        ),
        "learned": (
            "Learned T (CTKD, Li et al. 2023)",
            f"+{ctkd['gain_low']:g} to +{ctkd['gain_high']:g} points of top-1 ({ctkd['setting']})",
        ),
        "annealed": ("Annealed T (Jafari et al. 2021)", paper["annealed"]),
    }
    if any(errors.get(run) is None for run in RUNS):
        return [comparison_row(quantity, claim, "not run", "claim") for quantity, claim in claims.values()]
    best = min(FIXED, key=lambda run: (errors[run], run))
    fixed = ", ".join(f"{SHORT_LABELS[run]} {errors[run]:,g}" for run in FIXED)
    same = "" if limit is None else f"; the same digit on {limit['agreement']:.1%} of test digits"
    moved = "" if None in learned else f" (T ended at {', '.join(f'{t:.2f}' for t in learned)})"
    ours = {
        "limit": f"KD at {SHORT_LABELS[LIMIT]}: {errors[LIMIT]:,g} errors, logit matching: {errors['logits']:,g}{same}",
        "intermediate": f"best fixed T: {SHORT_LABELS[best]} (errors: {fixed})",
        "standardised": _against_reference("standardised", errors, reference),
        "learned": _against_reference("learned", errors, reference) + moved,
        "annealed": _against_reference("annealed", errors, reference),
    }
    return [comparison_row(quantity, claim, ours[key], "claim") for key, (quantity, claim) in claims.items()]


def temperature_cost(config: TemperatureConfig, data: MnistData) -> float:
    """Eleven students (``ROWS``) on the lab's transfer set."""
    images = len(config.distill_config(REFERENCE).transfer_indices(data))
    return len(RUNS) * training_cost(config.student, images, config.training.epochs)


REPLAY = Replay(
    name="temperature-schedules",
    title=N_("Is one temperature right?"),
    source=HINTON_LIMIT,
    paper_numbers=PAPER_TEMPERATURE,
    intro=N_(
        "Since 2015 one number, T, softens the teacher's and the student's outputs for the whole run. The lab's "
        "student learns here from the lab's teacher at each fixed T from 1 to 20, at T = 50 and by **matching the "
        "logits** themselves (the limit KD approaches as T grows), with each digit's logits **standardised** first "
        "(an own temperature per digit), with T **annealed** from high to 1, and with T **learned** against the "
        "student (it moves to make the student's task harder, easy to hard), all on the same batches. {weighting}"
    ),
    paper_line=N_(
        "{hinton}: {limit} {intermediate} {sun}, {sun_setting}: KD {sun_kd}, standardised {sun_standardised}. "
        "{ctkd}: +{gain_low} to +{gain_high} points. {jafari}: {annealed}"
    ),
    text_values=lambda: {
        "weighting": _(WEIGHTING),
        "hinton": HINTON_LIMIT,
        "sun": SUN,
        "ctkd": CTKD,
        "jafari": JAFARI,
        **{claim: _(PAPER_TEMPERATURE[claim]) for claim in ("limit", "intermediate", "annealed")},
        "sun_setting": _(SUN_SETTING),
        "sun_kd": number(PAPER_TEMPERATURE["sun"]["kd"], 2),
        "sun_standardised": number(PAPER_TEMPERATURE["sun"]["standardised"], 2),
        "gain_low": number(PAPER_TEMPERATURE["ctkd"]["gain_low"]),
        "gain_high": number(PAPER_TEMPERATURE["ctkd"]["gain_high"]),
    },
    config=temperature_config,
    run=replay_temperature,
    # The lab's teacher, which ``kdlab prepare`` caches for the lab already (as for the decoupled replay).
    teachers=lambda config, data: (),
    cost=temperature_cost,
    over_seeds=temperature_seeds,
    seeds=3,  # the verdict is read from the paired intervals, which one seed does not give
    budget_notes=TEMPERATURE_NOTES,
    run_labels=RUN_LABELS,
)
