"""The paper replays' results on a page: one renderer per replay (``RENDERERS``, by the replay's name).

Every number said to be the paper's comes from the replay's ``paper_numbers``
(``kdlab.experiments.replays.REPLAYS``); ours come from the replay's summary, so the prose never drifts from the
data. A replay's words above its result (``intro``, ``paper_line``) are in its entry too.
"""

from __future__ import annotations

import streamlit as st

from kdlab.experiments.replays import REPLAYS, ReplayResult, format_value, shown_quantity
from kdlab.experiments.replays.config import STAND_IN_NOTE
from kdlab.experiments.replays.decoupled import RUN_LABELS, claim_rows, summary_claims
from kdlab.experiments.replays.knowledge import SHORT_LABELS as KNOWLEDGE_LABELS
from kdlab.experiments.replays.knowledge import knowledge_verdict
from kdlab.experiments.replays.knowledge import published_comparison as knowledge_comparison
from kdlab.experiments.replays.stronger_teacher import METHOD_LABELS as STRONGER_LABELS
from kdlab.experiments.replays.stronger_teacher import stronger_verdict
from kdlab.experiments.replays.temperature_schedules import RUN_LABELS as TEMPERATURE_LABELS
from kdlab.experiments.replays.temperature_schedules import temperature_verdict
from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.metrics import bias_sweep, evaluate_bias
from kdlab.plots import replays as replay_plots
from kdlab.ui import bucila
from kdlab.ui.replay_cards import render_replay_cards

_TABLE, _OMIT_3 = REPLAYS["table"].paper_numbers, REPLAYS["omit-3"].paper_numbers
_ONLY_7_8 = REPLAYS["only-7-8"].paper_numbers

STATUS_WORDS = {
    "stopped": N_("stopped"),
    "diverged": N_("diverged"),
    "failed": N_("failed"),
}  # a result's status, where it is not "completed"
TABLE_METRICS = [
    (N_("Teacher"), "teacher_errors"),
    (N_("Student alone"), "student_alone_errors"),
    (N_("Distilled"), "distilled_errors"),
]


def translated(labels: dict[str, str]) -> dict[str, str]:
    """A replay's run labels (marked ``N_`` where they are words) in the current language."""
    return {run: _(label) for run, label in labels.items()}


def comparison_table(summary: dict) -> None:
    """The summary's paper-versus-ours rows as a table."""
    rows = [
        {
            "": shown_quantity(row),
            _("Paper"): format_value(row["paper"], row["unit"], row["paper_total"]),
            _("Ours"): format_value(row["ours"], row["unit"], row["ours_total"]),
        }
        for row in summary.get("comparison", [])
    ]
    if rows:
        st.dataframe(
            rows, hide_index=True, width="stretch", column_config={"": _("quantity")}
        )  # a header for every column


def budget_caption(summary: dict) -> None:
    """What ran: the data, the budget, where the teacher came from, how long it took (the compression replay,
    whose budget has other parts, says it in ``kdlab.ui.bucila.caption``)."""
    budget, teacher = summary["budget"], summary.get("teacher") or {}
    cached = _("loaded from the cache") if teacher.get("from_cache") else _("trained in this run")
    size = number(summary["transfer_set"]["size"])
    if summary["replay"] == "temperature-width":
        students = _("each student {epochs} epochs on {size} images").format(epochs=budget["sweep_epochs"], size=size)
    else:
        students = _("students {epochs} epochs on {size} images").format(epochs=budget["student_epochs"], size=size)
    st.caption(
        _(
            "Ran on {data} with the **{budget}** budget: teacher {epochs} epochs ({cached}; {train_seconds} s to "
            "train), {students}. This run took {seconds} s."
        ).format(
            data=summary["data"]["label"],
            budget=budget["name"],
            epochs=budget["teacher_epochs"],
            cached=cached,
            train_seconds=number(teacher.get("train_seconds", 0), 0),
            students=students,
            seconds=number(summary["seconds"], 0),
        )
    )
    if teacher.get("stand_in"):
        note = _(STAND_IN_NOTE).format(
            teacher=teacher.get("arch", summary["config"].get("teacher")), budget=budget["name"]
        )
        st.info(_("**Teacher:** {note}").format(note=note))


def headline(summary: dict) -> None:
    """The result of a missing-digits replay in one sentence, the way the paper tells it."""
    before, after = summary["before_bias"], summary["after_bias"]
    if summary["replay"] == "omit-3":
        st.success(
            _(
                "**The student never saw a single 3, yet it recognises {before} of the {threes} test 3s**; with the 3 "
                "bias raised by {bias} it gets {after} of them right (the paper: {paper})."
            ).format(
                before=percent(before["class_accuracy"], 1),
                threes=number(before["class_total"]),
                bias=signed(summary["bias_used"]),
                after=percent(after["class_accuracy"], 1),
                paper=percent(_OMIT_3["accuracy_on_3s_after_bias"], 1),
            )
        )
    else:
        paper_before, paper_after = 1 - _ONLY_7_8["test_error_rate"], 1 - _ONLY_7_8["test_error_rate_after_bias"]
        st.success(
            _(
                "**The student saw only 7s and 8s, yet it gets {before} of all test digits right**; with both biases "
                "moved by {bias} it gets {after} (the paper: {paper_before} and {paper_after})."
            ).format(
                before=percent(1 - before["error_rate"], 1),
                bias=signed(summary["bias_used"]),
                after=percent(1 - after["error_rate"], 1),
                paper_before=percent(paper_before, 1),
                paper_after=percent(paper_after, 1),
            )
        )


def signed(value: float) -> str:
    """A bias with its sign and one decimal, in the current language: "+2.0", "-1,5"."""
    return ("+" if value >= 0 else "") + number(value, 1)


def digits_words(classes: tuple[int, ...]) -> str:
    """The biased digits in words: "3s", "7s and 8s"."""
    if len(classes) == 1:
        return _("{digit}s").format(digit=classes[0])
    return _("{first}s and {second}s").format(first=classes[0], second=classes[1])


def signed_count(change: int) -> str:
    """A change in errors with its sign, in the current language: "+12", "-1,204"."""
    return ("+" if change > 0 else "") + number(change)


def render_table(result: ReplayResult, key: str) -> None:
    """Teacher, student alone and distilled student: how much of the gap distilling closed."""
    summary, ours = result.summary, result.summary["ours"]
    budget_caption(summary)
    paper_gained = _TABLE["student_alone_errors"] - _TABLE["distilled_errors"]
    paper_closed = paper_gained / (_TABLE["student_alone_errors"] - _TABLE["teacher_errors"])
    paper = _("the paper: {gained} of {alone}, {closed} of the gap").format(
        gained=number(paper_gained), alone=number(_TABLE["student_alone_errors"]), closed=percent(paper_closed)
    )
    if None not in ours.values():
        gained = ours["student_alone_errors"] - ours["distilled_errors"]
        closed = gained / max(1, ours["student_alone_errors"] - ours["teacher_errors"])
        if gained >= 0:
            st.info(
                _(
                    "Distilling removed **{gained} of the student alone's {alone} errors**: {closed} of its gap to the "
                    "teacher ({paper})."
                ).format(
                    gained=number(gained),
                    alone=number(ours["student_alone_errors"]),
                    closed=percent(closed),
                    paper=paper,
                )
            )
        else:
            st.warning(
                ngettext(
                    "The distilled student made **{count} more error** than the student alone ({paper}): with this "
                    "budget it has not caught up. The full budget trains longer.",
                    "The distilled student made **{count} more errors** than the student alone ({paper}): with this "
                    "budget it has not caught up. The full budget trains longer.",
                    -gained,
                ).format(count=number(-gained), paper=paper)
            )
    temperature = summary["config"]["temperature"]
    for column, (label, quantity) in zip(st.columns(3), TABLE_METRICS):
        value = ours[quantity]
        column.metric(
            _("{label}, T = {temperature}").format(label=_(label), temperature=number(temperature))
            if quantity == "distilled_errors"
            else _(label),
            "-" if value is None else ngettext("{count} error", "{count} errors", value).format(count=number(value)),
            delta=_("paper: {errors} of {total}").format(
                errors=number(_TABLE[quantity]), total=number(_TABLE["test_size"])
            ),
            delta_color="off",
            delta_arrow="off",
        )
    st.plotly_chart(replay_plots.table_figure(summary), key=f"{key}.figure")
    comparison_table(summary)


def render_missing_digits(result: ReplayResult, key: str, bias: float | None = None) -> None:
    """The transfer set, then bias sliders that re-read the stored test logits (no retraining); they start
    at ``bias`` (a lesson's link) or at the bias chosen on held-out images."""
    summary, paper_bias = result.summary, REPLAYS[result.name].paper_numbers["bias"]
    budget_caption(summary)
    if "bias_used" not in summary:
        comparison_table(summary)
        return
    headline(summary)
    classes = tuple(summary["bias_classes"])
    label = digits_words(classes)
    counts = replay_plots.transfer_counts_figure(
        summary["transfer_set"]["class_counts"], missing=tuple(summary["transfer_set"]["omitted"])
    )
    st.plotly_chart(counts, key=f"{key}.counts")
    st.markdown(
        _(
            "**Move the bias and watch the errors change.** The sliders add a constant to the output of the {digits} "
            "in the stored test logits; nothing is retrained. It starts at **{bias}**, the value that minimises "
            "errors on {held_out} held-out training images (the paper tuned its {paper_bias} on the test set; the "
            "test-optimal value here is {test_optimal})."
        ).format(
            digits=label,
            bias=signed(summary["bias_used"]),
            held_out=number(summary["validation_set"]["size"]),
            paper_bias=signed(paper_bias),
            test_optimal=signed(summary["test_optimal_bias"]),
        )
    )
    low, high = min(-15.0, summary["bias_used"] - 2), max(15.0, summary["bias_used"] + 2)
    start = float(summary["bias_used"]) if bias is None else float(bias)
    biases = {
        digit: column.slider(
            _("Bias added to the {digits}").format(digits=digits_words((digit,))),
            low,
            high,
            start,
            0.1,
            key=f"{key}.bias.{digit}",
        )
        for digit, column in zip(classes, st.columns(len(classes)))
    }
    logits, labels = result.test_logits["distilled"], result.test_labels
    before = summary["before_bias"]
    effect = evaluate_bias(logits, labels, biases)
    metrics = st.columns(3)
    of = _("{part} of {total}")
    versus = _("{change} vs no bias")
    metrics[0].metric(
        _("Test errors"),
        of.format(part=number(effect.errors), total=number(effect.total)),
        delta=versus.format(change=signed_count(effect.errors - before["errors"])),
        delta_color="inverse",
    )
    metrics[1].metric(
        _("Errors on the test {digits}").format(digits=label),
        of.format(part=number(effect.class_errors), total=number(effect.class_total)),
        delta=versus.format(change=signed_count(effect.class_errors - before["class_errors"])),
        delta_color="inverse",
    )
    metrics[2].metric(
        _("Accuracy on the {digits}").format(digits=label),
        percent(effect.class_accuracy, 1),
        delta=_("was {accuracy}").format(accuracy=percent(before["class_accuracy"], 1)),
        delta_color="off",
        delta_arrow="off",
    )
    sweep = replay_plots.bias_sweep_figure(
        bias_sweep(logits, labels, classes),
        label,
        current_bias=sum(biases.values()) / len(biases),
        chosen_bias=summary["bias_used"],
        paper_bias=paper_bias,
    )
    st.plotly_chart(sweep, key=f"{key}.sweep")
    per_class = replay_plots.per_class_figure(
        before["per_class_accuracy"], list(effect.per_class_accuracy), _("the slider's bias")
    )
    st.plotly_chart(per_class, key=f"{key}.per_class")
    comparison_table(summary)


def render_temperature_width(result: ReplayResult, key: str) -> None:
    """The heatmap of accuracy over width and temperature, and the paper's findings beside ours."""
    summary = result.summary
    budget_caption(summary)
    if summary["grid"]:
        st.plotly_chart(replay_plots.temperature_width_figure(summary["grid"]), key=f"{key}.heatmap")
    comparison_table(summary)
    if summary.get("from_cache"):
        st.caption(_("Shown from the cache: this grid was computed once and stored."))


def render_decoupled(result: ReplayResult, key: str) -> None:
    """The five students' errors as bars, the teacher's non-target weight, and each claim's verdict."""
    summary = result.summary
    budget_caption(summary)
    weight, temperature = summary["non_target_weight"], summary["config"]["temperature"]
    if weight is not None:
        st.info(
            _(
                "At T = {temperature} the teacher gives the right digit **{right}** of its probability on average, "
                "so classical KD weights NCKD by only **{weight}**: most of what it says about the wrong digits is "
                "turned down. DKD turns it back up."
            ).format(temperature=number(temperature), right=percent(1 - weight, 1), weight=percent(weight, 1))
        )
    st.plotly_chart(replay_plots.decoupled_figure(summary, translated(RUN_LABELS)), key=f"{key}.figure")
    comparison_table({"comparison": claim_rows(summary_claims(summary))})  # the claims said in this language
    st.caption(
        _("One seed decides each bar: `python -m kdlab distill --seeds 5 --soft nckd` shows the seed-to-seed spread.")
    )


def verdicts(read: list[str]) -> None:
    """A replay's verdicts read over seeds, each in a box; none (one seed): why it takes three."""
    for verdict in read:
        st.info(_("**Verdict.** {verdict}").format(verdict=verdict))
    if not read:
        st.info(
            _(
                "One seed cannot tell a method's gain from what changing the seed does: run it at 3 seeds for the "
                "verdict, each difference with its paired interval."
            )
        )


def render_knowledge(result: ReplayResult, key: str) -> None:
    """How the terms were weighted, the verdict of each transfer set (over seeds), the students' errors as bars
    and the published numbers beside ours."""
    summary = result.summary
    budget_caption(summary)
    sizes = [number(row["train_size"]) for row in summary["rows"]]
    st.caption(
        _(
            "Every student learns on {first} and {second} transfer images in turn, weighted as the tab's introduction "
            "says."
        ).format(first=sizes[0], second=sizes[-1])
        if len(sizes) > 1
        else _("Every student learns on {size} transfer images, weighted as the tab's introduction says.").format(
            size=sizes[0]
        )
    )
    over = summary.get("seeds")
    # Said again here, in the session's language, from the intervals the summary keeps (its "verdict" is English).
    verdicts(
        [
            knowledge_verdict(row["train_size"], row["errors"], row["against"]) if "against" in row else row["verdict"]
            for row in over["rows"]
        ]
        if over
        else []
    )
    st.plotly_chart(replay_plots.knowledge_figure(summary, translated(KNOWLEDGE_LABELS)), key=f"{key}.figure")
    st.markdown(
        _(
            "**Beside the published numbers** (top-1 accuracy, the rank among the five methods), ours on {size} "
            "transfer images (test errors, the rank; fewest first). Theirs are CIFAR-100 and ImageNet: the order, not "
            "the numbers, is what compares."
        ).format(size=number(summary["rows"][0]["train_size"]))
    )
    # Said again in this language from the first transfer set's errors (a seed's, or the means over seeds).
    errors = (
        {run: spread["mean"] for run, spread in over["rows"][0]["errors"].items()}
        if over
        else (summary["rows"][0]["errors"] if summary["rows"] else {})
    )
    comparison_table({"comparison": knowledge_comparison(errors, over_seeds=bool(over))})


def render_temperature(result: ReplayResult, key: str) -> None:
    """The verdict (over seeds), the students' errors as bars, how close T = 50 came to logit matching, where the
    learned T ended, and the papers' claims beside ours."""
    summary = result.summary
    budget_caption(summary)
    over = summary.get("seeds")
    if over:
        verdict = (
            temperature_verdict(over["errors"], over["against"], over["limit"], over["final_temperatures"])
            if "against" in over
            else over["verdict"]
        )
        st.info(_("**Verdict.** {verdict}").format(verdict=verdict))
    else:
        st.info(
            _(
                "One seed cannot tell a temperature's gain from what changing the seed does: run it at 3 seeds for the "
                "verdict, each difference with its paired interval."
            )
        )
    st.plotly_chart(replay_plots.temperature_figure(summary, translated(TEMPERATURE_LABELS)), key=f"{key}.figure")
    limit, learned = summary["limit"], summary["final_temperature"]
    if limit is not None:
        st.markdown(
            _(
                "**How close the limit comes** (this seed): KD at T = {temperature} and logit matching predict the "
                "same digit on **{agreement}** of the test digits ({limit_errors} and {logits_errors} errors)."
            ).format(
                temperature=number(limit["temperature"]),
                agreement=percent(limit["agreement"], 1),
                limit_errors=number(limit["limit_errors"]),
                logits_errors=number(limit["logits_errors"]),
            )
        )
    if learned is not None:
        ended = ", ".join(number(t, 2) for t in over["final_temperatures"]) if over else number(learned, 2)
        st.markdown(
            _("**The learned T** ended at {temperatures} (seed by seed), starting from the lab's T.").format(
                temperatures=ended
            )
        )
    st.markdown(_("**Beside the papers' claims** (theirs are CIFAR-100 and ImageNet: the direction is what compares)."))
    comparison_table({"comparison": over["comparison"] if over else summary["comparison"]})


def render_stronger_teacher(result: ReplayResult, key: str) -> None:
    """The verdict (over seeds), the gain of each method against the teacher's own errors as lines, and a table of
    each teacher's errors and each method's gain."""
    summary = result.summary
    budget_caption(summary)
    over = summary.get("seeds")
    verdicts([stronger_verdict(over["rows"], over["stronger"])] if over else [])
    st.plotly_chart(replay_plots.stronger_teacher_figure(summary, translated(STRONGER_LABELS)), key=f"{key}.figure")
    st.dataframe(stronger_teacher_rows(summary), hide_index=True, key=f"{key}.teachers")
    st.caption(
        _(
            "Student alone: {errors} test errors (seed {seed}). A gain is the test errors a method removes from the "
            "student alone; over seeds, the mean with its paired 95% interval."
        ).format(errors=number(summary["baseline_errors"]), seed=summary["config"]["seed"])
    )


def stronger_teacher_rows(summary: dict) -> list[dict]:
    """One row per teacher, in the order asked: its own test errors and each method's gain (over seeds: the mean and
    its paired interval)."""
    over = {row["teacher"]: row["gains"] for row in summary["seeds"]["rows"]} if "seeds" in summary else None
    rows = []
    for row in summary["teachers"]:
        line = {_("Teacher"): row["teacher"], _("Teacher's test errors"): row["teacher_errors"]}
        for method, label in STRONGER_LABELS.items():
            column = _("{method}: errors removed").format(method=_(label))
            if over:
                gain = over[row["teacher"]][method]
                interval = gain["interval_95"]
                line[column] = f"{gain['fewer_errors']:+g}" + (
                    f" [{interval[0]:g}, {interval[1]:g}]" if interval else ""
                )
            else:
                gain = row["gains"][method]
                line[column] = "-" if gain is None else f"{gain:+d}"
        rows.append(line)
    return rows


# Each replay's result, by its name (tests/unit/test_replay_registry.py: one renderer per replay, and no other).
RENDERERS = {
    "table": render_table,
    "omit-3": render_missing_digits,
    "only-7-8": render_missing_digits,
    "temperature-width": render_temperature_width,
    "compression": bucila.render_compression,
    "decoupled": render_decoupled,
    "knowledge": render_knowledge,
    "temperature-schedules": render_temperature,
    "stronger-teacher": render_stronger_teacher,
}


def render_result(result: ReplayResult, key: str, bias: float | None = None) -> None:
    """A finished (or stopped) replay: its renderer (each says first what ran); ``key`` namespaces the widgets;
    ``bias`` starts a missing-digits replay's bias sliders (a lesson's link); the students' compression card
    last."""
    if result.status != "completed":
        st.warning(
            _(
                "This replay was **{status}** before it finished; the numbers below are what it had done by then."
            ).format(status=_(STATUS_WORDS.get(result.status, result.status)))
        )
    if bias is not None and RENDERERS[result.name] is render_missing_digits:
        render_missing_digits(result, key, bias)
    else:
        RENDERERS[result.name](result, key)
    render_replay_cards(result, key)
    if "seeds" in result.summary:
        render_seed_comparisons(result.summary["seeds"], key)


def seeds_sentence(over: dict) -> str:
    """Which of the paired differences are bigger than the seed-to-seed spread, in words."""
    bigger = [row["comparison"] for row in over["comparisons"] if row["bigger_than_spread"]]
    seeds = ", ".join(map(str, over["seeds"]))
    if not bigger:
        return _("Over seeds {seeds}, no difference here is bigger than the seed-to-seed spread.").format(seeds=seeds)
    return _(
        "Over seeds {seeds}, bigger than the seed-to-seed spread: {differences}. The others are within it."
    ).format(seeds=seeds, differences="; ".join(bigger))


def render_seed_comparisons(over: dict, key: str) -> None:
    """The replay over seeds: the sentence, and every comparison with its paired 95% interval."""
    st.subheader(_("Over seeds: which differences are bigger than the spread?"))
    st.markdown(seeds_sentence(over))
    st.dataframe(
        [
            {
                _("Comparison"): row["comparison"],
                _("Fewer errors (mean)"): row["fewer_errors"],
                _("95% interval"): ""
                if row["interval_95"] is None
                else _("{low} to {high}").format(low=number(row["interval_95"][0]), high=number(row["interval_95"][1])),
                _("Bigger than the spread"): _("yes") if row["bigger_than_spread"] else _("no"),
                _("Seeds won"): row["wins"],
            }
            for row in over["comparisons"]
        ],
        hide_index=True,
        key=f"{key}.seeds",
    )
    st.caption(_("Paired by seed: within one seed every student shares the transfer set, initial weights and batches."))
