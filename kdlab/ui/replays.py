"""The paper replays' results on a page: one renderer per replay (``RENDERERS``, by the replay's name).

Every number said to be the paper's comes from the replay's ``paper_numbers``
(``kdlab.experiments.replays.REPLAYS``); ours come from the replay's summary, so the prose never drifts from the
data. A replay's words above its result (``intro``, ``paper_line``) are in its entry too.
"""

from __future__ import annotations

import streamlit as st

from kdlab.experiments.replays import REPLAYS, ReplayResult, format_value
from kdlab.experiments.replays.decoupled import RUN_LABELS
from kdlab.experiments.replays.knowledge import SHORT_LABELS as KNOWLEDGE_LABELS
from kdlab.experiments.replays.stronger_teacher import METHOD_LABELS as STRONGER_LABELS
from kdlab.experiments.replays.temperature_schedules import RUN_LABELS as TEMPERATURE_LABELS
from kdlab.ml.metrics import bias_sweep, evaluate_bias
from kdlab.plots import replays as replay_plots
from kdlab.ui import bucila
from kdlab.ui.replay_cards import render_replay_cards

_TABLE, _OMIT_3 = REPLAYS["table"].paper_numbers, REPLAYS["omit-3"].paper_numbers
_ONLY_7_8 = REPLAYS["only-7-8"].paper_numbers

TABLE_METRICS = [
    ("Teacher", "teacher_errors"),
    ("Student alone", "student_alone_errors"),
    ("Distilled", "distilled_errors"),
]


def comparison_table(summary: dict) -> None:
    """The summary's paper-versus-ours rows as a table."""
    rows = [
        {
            "": row["quantity"],
            "Paper": format_value(row["paper"], row["unit"], row["paper_total"]),
            "Ours": format_value(row["ours"], row["unit"], row["ours_total"]),
        }
        for row in summary.get("comparison", [])
    ]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")


def budget_caption(summary: dict) -> None:
    """What ran: the data, the budget, where the teacher came from, how long it took (the compression replay,
    whose budget has other parts, says it in ``kdlab.ui.bucila.caption``)."""
    budget, teacher = summary["budget"], summary.get("teacher") or {}
    cached = "loaded from the cache" if teacher.get("from_cache") else "trained in this run"
    size = summary["transfer_set"]["size"]
    if summary["replay"] == "temperature-width":
        students = f"each student {budget['sweep_epochs']} epochs on {size:,} images"
    else:
        students = f"students {budget['student_epochs']} epochs on {size:,} images"
    st.caption(
        f"Ran on {summary['data']['label']} with the **{budget['name']}** budget: teacher "
        f"{budget['teacher_epochs']} epochs ({cached}; {teacher.get('train_seconds', 0):.0f} s to train), "
        f"{students}. This run took {summary['seconds']:.0f} s."
    )
    if teacher.get("stand_in"):
        st.info(f"**Teacher:** {teacher['stand_in']}")


def headline(summary: dict) -> None:
    """The result of a missing-digits replay in one sentence, the way the paper tells it."""
    before, after = summary["before_bias"], summary["after_bias"]
    if summary["replay"] == "omit-3":
        st.success(
            f"**The student never saw a single 3, yet it recognises {before['class_accuracy']:.1%} of the "
            f"{before['class_total']:,} test 3s**; with the 3 bias raised by {summary['bias_used']:+.1f} it "
            f"gets {after['class_accuracy']:.1%} of them right (the paper: {_OMIT_3['accuracy_on_3s_after_bias']:.1%})."
        )
    else:
        paper_before, paper_after = 1 - _ONLY_7_8["test_error_rate"], 1 - _ONLY_7_8["test_error_rate_after_bias"]
        st.success(
            f"**The student saw only 7s and 8s, yet it gets {1 - before['error_rate']:.1%} of all test digits "
            f"right**; with both biases moved by {summary['bias_used']:+.1f} it gets "
            f"{1 - after['error_rate']:.1%} (the paper: {paper_before:.1%} and {paper_after:.1%})."
        )


def render_table(result: ReplayResult, key: str) -> None:
    """Teacher, student alone and distilled student: how much of the gap distilling closed."""
    summary, ours = result.summary, result.summary["ours"]
    budget_caption(summary)
    paper_gained = _TABLE["student_alone_errors"] - _TABLE["distilled_errors"]
    paper_closed = paper_gained / (_TABLE["student_alone_errors"] - _TABLE["teacher_errors"])
    paper = f"the paper: {paper_gained} of {_TABLE['student_alone_errors']}, {paper_closed:.0%} of the gap"
    if None not in ours.values():
        gained = ours["student_alone_errors"] - ours["distilled_errors"]
        closed = gained / max(1, ours["student_alone_errors"] - ours["teacher_errors"])
        if gained >= 0:
            st.info(
                f"Distilling removed **{gained:,} of the student alone's {ours['student_alone_errors']:,} "
                f"errors**: {closed:.0%} of its gap to the teacher ({paper})."
            )
        else:
            st.warning(
                f"The distilled student made **{-gained:,} more errors** than the student alone ({paper}): "
                "with this budget it has not caught up. The full budget trains longer."
            )
    temperature = summary["config"]["temperature"]
    for column, (label, number) in zip(st.columns(3), TABLE_METRICS):
        value = ours[number]
        column.metric(
            f"{label}, T = {temperature:g}" if number == "distilled_errors" else label,
            "-" if value is None else f"{value:,} errors",
            delta=f"paper: {_TABLE[number]} of {_TABLE['test_size']:,}",
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
    label = " and ".join(f"{digit}s" for digit in classes)
    counts = replay_plots.transfer_counts_figure(
        summary["transfer_set"]["class_counts"], missing=tuple(summary["transfer_set"]["omitted"])
    )
    st.plotly_chart(counts, key=f"{key}.counts")
    st.markdown(
        f"**Move the bias and watch the errors change.** The sliders add a constant to the output of "
        f"the {label} in the stored test logits; nothing is retrained. It starts at "
        f"**{summary['bias_used']:+.1f}**, the value that minimises errors on "
        f"{summary['validation_set']['size']:,} held-out training images (the paper tuned its "
        f"{paper_bias:+.1f} on the test set; the test-optimal value here is {summary['test_optimal_bias']:+.1f})."
    )
    low, high = min(-15.0, summary["bias_used"] - 2), max(15.0, summary["bias_used"] + 2)
    start = float(summary["bias_used"]) if bias is None else float(bias)
    biases = {
        digit: column.slider(f"Bias added to the {digit}s", low, high, start, 0.1, key=f"{key}.bias.{digit}")
        for digit, column in zip(classes, st.columns(len(classes)))
    }
    logits, labels = result.test_logits["distilled"], result.test_labels
    before = summary["before_bias"]
    effect = evaluate_bias(logits, labels, biases)
    metrics = st.columns(3)
    metrics[0].metric(
        "Test errors",
        f"{effect.errors:,} of {effect.total:,}",
        delta=f"{effect.errors - before['errors']:+,} vs no bias",
        delta_color="inverse",
    )
    metrics[1].metric(
        f"Errors on the test {label}",
        f"{effect.class_errors:,} of {effect.class_total:,}",
        delta=f"{effect.class_errors - before['class_errors']:+,} vs no bias",
        delta_color="inverse",
    )
    metrics[2].metric(
        f"Accuracy on the {label}",
        f"{effect.class_accuracy:.1%}",
        delta=f"was {before['class_accuracy']:.1%}",
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
        before["per_class_accuracy"], list(effect.per_class_accuracy), "the slider's bias"
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
        st.caption("Shown from the cache: this grid was computed once and stored.")


def render_decoupled(result: ReplayResult, key: str) -> None:
    """The five students' errors as bars, the teacher's non-target weight, and each claim's verdict."""
    summary = result.summary
    budget_caption(summary)
    weight, temperature = summary["non_target_weight"], summary["config"]["temperature"]
    if weight is not None:
        st.info(
            f"At T = {temperature:g} the teacher gives the right digit **{1 - weight:.1%}** of its probability on "
            f"average, so classical KD weights NCKD by only **{weight:.1%}**: most of what it says about the wrong "
            "digits is turned down. DKD turns it back up."
        )
    st.plotly_chart(replay_plots.decoupled_figure(summary, RUN_LABELS), key=f"{key}.figure")
    comparison_table(summary)
    st.caption(
        "One seed decides each bar: `python -m kdlab distill --seeds 5 --soft nckd` shows the seed-to-seed spread."
    )


def verdicts(read: list[str]) -> None:
    """A replay's verdicts read over seeds, each in a box; none (one seed): why it takes three."""
    for verdict in read:
        st.info(f"**Verdict.** {verdict}")
    if not read:
        st.info(
            "One seed cannot tell a method's gain from what changing the seed does: run it at 3 seeds for the "
            "verdict, each difference with its paired interval."
        )


def render_knowledge(result: ReplayResult, key: str) -> None:
    """How the terms were weighted, the verdict of each transfer set (over seeds), the students' errors as bars
    and the published numbers beside ours."""
    summary = result.summary
    budget_caption(summary)
    sizes = " and ".join(f"{row['train_size']:,}" for row in summary["rows"])
    st.caption(f"Every student learns on {sizes} transfer images in turn, weighted as the tab's introduction says.")
    over = summary.get("seeds")
    verdicts([row["verdict"] for row in over["rows"]] if over else [])
    st.plotly_chart(replay_plots.knowledge_figure(summary, KNOWLEDGE_LABELS), key=f"{key}.figure")
    st.markdown(
        f"**Beside the published numbers** (top-1 accuracy, the rank among the five methods), ours on "
        f"{summary['rows'][0]['train_size']:,} transfer images (test errors, the rank; fewest first). Theirs are "
        "CIFAR-100 and ImageNet: the order, not the numbers, is what compares."
    )
    comparison_table({"comparison": over["comparison"] if over else summary["comparison"]})


def render_temperature(result: ReplayResult, key: str) -> None:
    """The verdict (over seeds), the students' errors as bars, how close T = 50 came to logit matching, where the
    learned T ended, and the papers' claims beside ours."""
    summary = result.summary
    budget_caption(summary)
    over = summary.get("seeds")
    if over:
        st.info(f"**Verdict.** {over['verdict']}")
    else:
        st.info(
            "One seed cannot tell a temperature's gain from what changing the seed does: run it at 3 seeds for the "
            "verdict, each difference with its paired interval."
        )
    st.plotly_chart(replay_plots.temperature_figure(summary, TEMPERATURE_LABELS), key=f"{key}.figure")
    limit, learned = summary["limit"], summary["final_temperature"]
    if limit is not None:
        st.markdown(
            f"**How close the limit comes** (this seed): KD at T = {limit['temperature']:g} and logit matching "
            f"predict the same digit on **{limit['agreement']:.1%}** of the test digits ({limit['limit_errors']:,} "
            f"and {limit['logits_errors']:,} errors)."
        )
    if learned is not None:
        ended = ", ".join(f"{t:.2f}" for t in over["final_temperatures"]) if over else f"{learned:.2f}"
        st.markdown(f"**The learned T** ended at {ended} (seed by seed), starting from the lab's T.")
    st.markdown("**Beside the papers' claims** (theirs are CIFAR-100 and ImageNet: the direction is what compares).")
    comparison_table({"comparison": over["comparison"] if over else summary["comparison"]})


def render_stronger_teacher(result: ReplayResult, key: str) -> None:
    """The verdict (over seeds), the gain of each method against the teacher's own errors as lines, and a table of
    each teacher's errors and each method's gain."""
    summary = result.summary
    budget_caption(summary)
    over = summary.get("seeds")
    verdicts([over["verdict"]] if over else [])
    st.plotly_chart(replay_plots.stronger_teacher_figure(summary, STRONGER_LABELS), key=f"{key}.figure")
    st.dataframe(stronger_teacher_rows(summary), hide_index=True, key=f"{key}.teachers")
    st.caption(
        f"Student alone: {summary['baseline_errors']} test errors (seed {summary['config']['seed']}). A gain is the "
        "test errors a method removes from the student alone; over seeds, the mean with its paired 95% interval."
    )


def stronger_teacher_rows(summary: dict) -> list[dict]:
    """One row per teacher, in the order asked: its own test errors and each method's gain (over seeds: the mean and
    its paired interval)."""
    over = {row["teacher"]: row["gains"] for row in summary["seeds"]["rows"]} if "seeds" in summary else None
    rows = []
    for row in summary["teachers"]:
        line = {"Teacher": row["teacher"], "Teacher's test errors": row["teacher_errors"]}
        for method, label in STRONGER_LABELS.items():
            if over:
                gain = over[row["teacher"]][method]
                interval = gain["interval_95"]
                line[f"{label}: errors removed"] = f"{gain['fewer_errors']:+g}" + (
                    f" [{interval[0]:g}, {interval[1]:g}]" if interval else ""
                )
            else:
                gain = row["gains"][method]
                line[f"{label}: errors removed"] = "-" if gain is None else f"{gain:+d}"
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
            f"This replay was **{result.status}** before it finished; the numbers below are what it had done by then."
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
        return f"Over seeds {seeds}, no difference here is bigger than the seed-to-seed spread."
    return (
        f"Over seeds {seeds}, bigger than the seed-to-seed spread: " + "; ".join(bigger) + ". The others are within it."
    )


def render_seed_comparisons(over: dict, key: str) -> None:
    """The replay over seeds: the sentence, and every comparison with its paired 95% interval."""
    st.subheader("Over seeds: which differences are bigger than the spread?")
    st.markdown(seeds_sentence(over))
    st.dataframe(
        [
            {
                "Comparison": row["comparison"],
                "Fewer errors (mean)": row["fewer_errors"],
                "95% interval": ""
                if row["interval_95"] is None
                else f"{row['interval_95'][0]:g} to {row['interval_95'][1]:g}",
                "Bigger than the spread": "yes" if row["bigger_than_spread"] else "no",
                "Seeds won": row["wins"],
            }
            for row in over["comparisons"]
        ],
        hide_index=True,
        key=f"{key}.seeds",
    )
    st.caption("Paired by seed: within one seed every student shares the transfer set, initial weights and batches.")
