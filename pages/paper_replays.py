"""Paper replays: the MNIST experiments of Hinton, Vinyals & Dean (2015), run for real.

Thin page: a budget and a button per replay -> ``kdlab.replays`` in a background job ->
the paper's numbers beside ours. The bias sliders only re-read the stored test logits.
"""

import streamlit as st

from kdlab import replay_plots, ui
from kdlab.jobs import JobContext, JobStatus, default_runner
from kdlab.replays import (BUDGET_NOTES, BUDGETS, PAPER_NUMBERS, REPLAY_TITLES, ReplayResult, bias_sweep,
                           evaluate_bias, format_value, load_cached_temperature_width, replay_config, run_replay)
from kdlab.schemes import ProgressEvent

INTRO = {
    "table": "The paper's teacher is a 784-1200-1200-10 ReLU net trained with dropout and images shifted by up "
             "to 2 pixels; a 784-800-800-10 net trained alone makes about twice its errors. Trained to match "
             "the teacher's soft targets at T = 20, the same small net gets most of the way to the teacher.",
    "omit-3": "The student is distilled on a transfer set with **no 3s at all**. It still learns a lot about "
              "3s from the teacher's soft targets for other digits (a 5 that looks a bit like a 3); mostly its "
              "output bias for 3 is too low. Raise that bias, with no retraining, and more 3s come back.",
    "only-7-8": "The student sees **only 7s and 8s**, so it learns to answer 7 or 8 far too often. Lowering "
                "the biases of 7 and 8, without retraining, recovers much of what the teacher knew about the "
                "other eight digits.",
    "temperature-width": "Distilled students of several widths (two hidden layers) at several temperatures, "
                         "each beside the same width trained without a teacher (the column 'alone'). Does the "
                         "best temperature depend on how big the student is?",
}
PAPER_LINES = {
    "table": "Paper: teacher 67 test errors, student alone 146, distilled student 74 (of 10,000).",
    "omit-3": "Paper: 206 errors, 133 of them on the 1,010 test 3s; with the 3 bias raised by 3.5, 109 errors "
              "and 14 on 3s, so 98.6% of the 3s are right without the student ever seeing one.",
    "only-7-8": "Paper: 47.3% test error; 13.2% after lowering the biases of 7 and 8 by 7.6.",
    "temperature-width": " ".join(PAPER_NUMBERS["temperature-width"].values()),
}


def replay_target(name: str, budget: str, data):
    """The background job: run one replay and report its progress."""
    def target(context: JobContext) -> ReplayResult:
        def on_event(event) -> None:
            if isinstance(event, ProgressEvent):
                context.set_progress(event.fraction, event.message)

        context.set_progress(0.0, f"Starting the {name} replay ...")
        return run_replay(name, data, budget, on_event=on_event, stop=context.stop_requested)

    return target


def comparison_table(summary: dict) -> None:
    rows = [{"": row["quantity"], "Paper": format_value(row["paper"], row["unit"], row["paper_total"]),
             "Ours": format_value(row["ours"], row["unit"], row["ours_total"])}
            for row in summary.get("comparison", [])]
    if rows:
        st.dataframe(rows, hide_index=True, width="stretch")


def budget_caption(summary: dict) -> None:
    budget, teacher = summary["budget"], summary.get("teacher") or {}
    cached = "loaded from the cache" if teacher.get("from_cache") else "trained in this run"
    if summary["replay"] == "temperature-width":
        students = f"each student {budget['sweep_epochs']} epochs on {summary['transfer_set']['size']:,} images"
    else:
        students = f"students {budget['student_epochs']} epochs on {summary['transfer_set']['size']:,} images"
    st.caption(f"Ran on {summary['data']['label']} with the **{budget['name']}** budget: teacher "
               f"{budget['teacher_epochs']} epochs ({cached}; {teacher.get('train_seconds', 0):.0f} s to train), "
               f"{students}. This run took {summary['seconds']:.0f} s.")


def headline(summary: dict) -> None:
    """The result in one sentence, the way the paper tells it."""
    before, after = summary["before_bias"], summary["after_bias"]
    if summary["replay"] == "omit-3":
        st.success(f"**The student never saw a single 3, yet it recognises {before['class_accuracy']:.1%} of the "
                   f"{before['class_total']:,} test 3s**; with the 3 bias raised by {summary['bias_used']:+.1f} it "
                   f"gets {after['class_accuracy']:.1%} of them right (the paper: 98.6%).")
    else:
        st.success(f"**The student saw only 7s and 8s, yet it gets {1 - before['error_rate']:.1%} of all test digits "
                   f"right**; with both biases moved by {summary['bias_used']:+.1f} it gets "
                   f"{1 - after['error_rate']:.1%} (the paper: 52.7% and 86.8%).")


def render_table(result: ReplayResult, key: str) -> None:
    summary = result.summary
    ours = summary["ours"]
    if None not in ours.values():
        gained = ours["student_alone_errors"] - ours["distilled_errors"]
        closed = gained / max(1, ours["student_alone_errors"] - ours["teacher_errors"])
        paper = "the paper: 72 of 146, 91% of the gap"
        if gained >= 0:
            st.info(f"Distilling removed **{gained:,} of the student alone's {ours['student_alone_errors']:,} "
                    f"errors**: {closed:.0%} of its gap to the teacher ({paper}).")
        else:
            st.warning(f"The distilled student made **{-gained:,} more errors** than the student alone ({paper}): "
                       "with this budget it has not caught up. The full budget trains longer.")
    columns = st.columns(3)
    for column, (label, key) in zip(columns, [("Teacher", "teacher_errors"), ("Student alone", "student_alone_errors"),
                                               ("Distilled, T = 20", "distilled_errors")]):
        paper = PAPER_NUMBERS["table"][key]
        value = ours[key]
        column.metric(label, "-" if value is None else f"{value:,} errors",
                      delta=f"paper: {paper} of 10,000", delta_color="off", delta_arrow="off")
    st.plotly_chart(replay_plots.table_figure(summary), key=f"{key}.figure")
    comparison_table(summary)


def render_missing_digits(result: ReplayResult, key: str) -> None:
    summary, name = result.summary, result.name
    if "bias_used" not in summary:
        comparison_table(summary)
        return
    headline(summary)
    classes = tuple(summary["bias_classes"])
    label = " and ".join(f"{digit}s" for digit in classes)
    st.plotly_chart(replay_plots.transfer_counts_figure(summary["transfer_set"]["class_counts"],
                                                        missing=tuple(summary["transfer_set"]["omitted"])),
                    key=f"{key}.counts")
    st.markdown(f"**Move the bias and watch the errors change.** The sliders add a constant to the output of "
                f"the {label} in the stored test logits; nothing is retrained. It starts at "
                f"**{summary['bias_used']:+.1f}**, the value that minimises errors on "
                f"{summary['validation_set']['size']:,} held-out training images (the paper tuned its "
                f"{PAPER_NUMBERS[name]['bias']:+.1f} on the test set; the test-optimal value here is "
                f"{summary['test_optimal_bias']:+.1f}).")
    low, high = min(-15.0, summary["bias_used"] - 2), max(15.0, summary["bias_used"] + 2)
    columns = st.columns(len(classes))
    biases = {digit: column.slider(f"Bias added to the {digit}s", low, high, float(summary["bias_used"]), 0.1,
                                   key=f"{key}.bias.{digit}")
              for digit, column in zip(classes, columns)}
    logits, labels = result.test_logits["distilled"], result.test_labels
    before = summary["before_bias"]
    effect = evaluate_bias(logits, labels, biases)
    metrics = st.columns(3)
    metrics[0].metric("Test errors", f"{effect.errors:,} of {effect.total:,}",
                      delta=f"{effect.errors - before['errors']:+,} vs no bias", delta_color="inverse")
    metrics[1].metric(f"Errors on the test {label}", f"{effect.class_errors:,} of {effect.class_total:,}",
                      delta=f"{effect.class_errors - before['class_errors']:+,} vs no bias", delta_color="inverse")
    metrics[2].metric(f"Accuracy on the {label}", f"{effect.class_accuracy:.1%}",
                      delta=f"was {before['class_accuracy']:.1%}", delta_color="off", delta_arrow="off")
    common = sum(biases.values()) / len(biases)
    st.plotly_chart(replay_plots.bias_sweep_figure(bias_sweep(logits, labels, classes), label, current_bias=common,
                                                   chosen_bias=summary["bias_used"],
                                                   paper_bias=PAPER_NUMBERS[name]["bias"]),
                    key=f"{key}.sweep")
    st.plotly_chart(replay_plots.per_class_figure(before["per_class_accuracy"], list(effect.per_class_accuracy),
                                                  "the slider's bias"), key=f"{key}.per_class")
    comparison_table(summary)


def render_temperature_width(result: ReplayResult, key: str) -> None:
    summary = result.summary
    if summary["grid"]:
        st.plotly_chart(replay_plots.temperature_width_figure(summary["grid"]), key=f"{key}.heatmap")
    comparison_table(summary)
    if summary.get("from_cache"):
        st.caption("Shown from the cache: this grid was computed once and stored.")


RENDERERS = {"table": render_table, "omit-3": render_missing_digits, "only-7-8": render_missing_digits,
             "temperature-width": render_temperature_width}


ui.ensure_entrypoint()
st.title("Paper replays: Hinton, Vinyals & Dean (2015) on MNIST")
st.markdown("Each replay trains for real on the data in use and shows the paper's numbers beside ours, with the "
            "compute that ran. The same replays run from the command line: `python -m kdlab replay NAME --json`.")
data = ui.get_data()
budget = st.radio("Budget", list(BUDGETS), horizontal=True, key="replay.budget",
                  format_func=lambda name: {"quick": "Quick (classroom)", "full": "Full (long)"}[name],
                  help="Quick runs in minutes on a laptop CPU; full is closer to the paper and takes much longer.")
st.caption(BUDGET_NOTES[budget] + " The teacher is trained once per budget and cached for everyone.")

for tab, name in zip(st.tabs([REPLAY_TITLES[name] for name in REPLAY_TITLES]), REPLAY_TITLES):
    with tab:
        st.markdown(INTRO[name])
        st.caption(PAPER_LINES[name])
        slot = f"replay.{name}"
        job = ui.recall_job(slot)
        if name == "temperature-width" and job is None:
            cached = load_cached_temperature_width(replay_config(name, budget), data)
            if cached is not None:
                budget_caption(cached.summary)
                render_temperature_width(cached, f"{slot}.cached")
                continue
        running = job is not None and not job.is_finished
        if st.button(f"Run the {name} replay ({budget} budget)", key=f"{slot}.run", type="primary",
                     disabled=running, icon=":material/play_arrow:"):
            job = default_runner().submit(f"Replay {name} ({budget})", replay_target(name, budget, data),
                                          owner=ui.session_owner())
            ui.remember_job(slot, job)
        if job is None:
            continue
        if not job.is_finished:
            ui.follow_job(job, key=slot)  # refreshes only the progress view, then the page once at the end
        elif job.status == JobStatus.FAILED:
            st.error(f"The replay failed: {job.error}")
        elif job.result is not None:
            result = job.result
            if result.status != "completed":
                st.warning(f"This replay was **{result.status}** before it finished; the numbers below are what "
                           "it had done by then.")
            budget_caption(result.summary)
            RENDERERS[name](result, f"{slot}.{job.id}")
