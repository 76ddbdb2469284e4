"""Training schemes: offline KD, deep mutual learning, born-again networks, teacher assistant.

Thin page: widgets -> ``SchemeConfig`` -> ``kdlab.schemes.compare_schemes`` in a background
job -> one chart per scheme against the student alone and offline KD (same seed and budget).
"""

import streamlit as st

from kdlab import replay_plots, ui
from kdlab.jobs import JobContext, JobStatus, default_runner
from kdlab.models import ARCHITECTURES, describe_model, mlp_name
from kdlab.schemes import (SCHEME_DESCRIPTIONS, SCHEME_PAPERS, SCHEME_TITLES, SCHEMES, ProgressEvent, SchemeComparison,
                           SchemeConfig, compare_schemes)

SLOT = "schemes"
TRAIN_SIZES = {"1,000": 1_000, "5,000": 5_000, "10,000": 10_000, "all": None}


def schemes_target(config: SchemeConfig, schemes: tuple[str, ...], data):
    """The background job: the references, then every chosen scheme, with progress."""
    def target(context: JobContext) -> SchemeComparison:
        def on_event(event) -> None:
            if isinstance(event, ProgressEvent):
                context.set_progress(event.fraction, event.message)

        context.set_progress(0.0, "Starting ...")
        # The teacher comes from the disk cache, or is trained (and cached) as the job's first stage.
        return compare_schemes(config, data, schemes, on_event=on_event, stop=context.stop_requested)

    return target


def render_comparison(comparison: SchemeComparison, key: str) -> None:
    summary = comparison.summary()
    budget = summary["budget"]
    if summary["status"] != "completed":
        st.warning(f"The comparison was **{summary['status']}** before it finished: the charts show the runs "
                   "that completed.")
    st.caption(f"Every run: {budget['epochs_per_run']} epochs on the same {budget['train_size']:,} images of "
               f"{summary['data']['label']}, seed {budget['seed']}, so every student starts from the same weights "
               f"and sees the same batches. Total time {summary['seconds']:.0f} s.")
    if summary["student_alone"] is None or summary["offline_kd"] is None:
        return
    st.plotly_chart(replay_plots.schemes_overview_figure(summary), key=f"{key}.overview")
    names = list(summary["schemes"])
    for tab, name in zip(st.tabs([SCHEME_TITLES[name] for name in names]), names):
        with tab:
            entry = summary["schemes"][name]
            st.markdown(entry["description"])
            st.caption(entry["paper"])
            if entry["final"] is None:
                continue
            alone, offline = entry["vs_student_alone_errors"], entry["vs_offline_kd_errors"]
            columns = st.columns(3)
            columns[0].metric(f"{entry['final']['label']} ({entry['final']['arch']})",
                              f"{entry['final']['test_accuracy']:.2%}",
                              delta=f"{entry['final']['test_errors']:,} errors", delta_color="off", delta_arrow="off")
            columns[1].metric("vs the student alone", f"{alone:+,} errors", delta_color="off", delta_arrow="off")
            columns[2].metric("vs offline KD", f"{offline:+,} errors", delta_color="off", delta_arrow="off",
                              help=f"The scheme cost {entry['extra_training_runs']} training run(s) of the budget "
                                   "beyond the two references.")
            charts = st.columns(2)
            with charts[0]:
                st.plotly_chart(replay_plots.scheme_figure(summary, name), key=f"{key}.{name}.bars")
            with charts[1]:
                st.plotly_chart(replay_plots.scheme_curves_figure(summary, name), key=f"{key}.{name}.curves")


ui.ensure_entrypoint()
st.title("Training schemes")
st.markdown("Offline distillation is one way to pass knowledge on. Since 2015 others have been proposed: students "
            "that teach each other, networks distilled into copies of themselves, and teachers helped by an "
            "assistant. Here each one runs on the same data, seed and epochs as the student alone and the "
            "offline-KD student, so the comparison is fair.")
with st.expander("What each scheme is, in two sentences"):
    for name in SCHEMES:
        st.markdown(f"**{SCHEME_TITLES[name]}.** {SCHEME_DESCRIPTIONS[name]}  \n*{SCHEME_PAPERS[name]}*")

data = ui.get_data()
defaults = SchemeConfig()
with st.form("schemes.settings"):
    chosen = st.multiselect("Schemes", list(SCHEMES), default=list(SCHEMES), format_func=SCHEME_TITLES.get,
                            key="schemes.chosen")
    left, middle, right = st.columns(3)
    teacher = left.selectbox("Teacher", list(ARCHITECTURES), index=list(ARCHITECTURES).index(defaults.teacher),
                             key="schemes.teacher",
                             format_func=lambda name: f"{name} ({describe_model(name).parameters:,} parameters)")
    assistant_width = middle.select_slider("Assistant: units (1 hidden layer)", [50, 100, 200, 300, 500, 800],
                                           value=300, key="schemes.assistant")
    student_width = right.select_slider("Student: units (1 hidden layer)", [10, 20, 30, 50, 100, 200],
                                        value=100, key="schemes.student")
    left, middle, right = st.columns(3)
    epochs = left.slider("Epochs per training run", 1, 20, defaults.epochs, key="schemes.epochs")
    train_size = middle.select_slider("Training images", list(TRAIN_SIZES), value="10,000", key="schemes.train_size")
    generations = right.slider("Born-again generations", 1, 3, defaults.generations, key="schemes.generations")
    left, middle, right = st.columns(3)
    temperature = left.slider("Temperature T (teacher -> student steps)", 1.0, 20.0, defaults.temperature, 0.5,
                              key="schemes.temperature")
    alpha = middle.slider("alpha: weight of the soft term", 0.0, 1.0, defaults.alpha, 0.05, key="schemes.alpha")
    seed = right.number_input("Seed", 0, 10_000, 0, key="schemes.seed")
    submitted = st.form_submit_button("Compare the schemes", type="primary", icon=":material/play_arrow:")

job = ui.recall_job(SLOT)
if submitted:
    if not chosen:
        st.error("Choose at least one scheme.")
    elif job is not None and not job.is_finished:
        st.info("A comparison is still running: stop it first or wait for it to finish.")
    else:
        try:
            config = SchemeConfig(teacher=teacher, assistant=mlp_name(assistant_width, 1),
                                  student=mlp_name(student_width, 1), temperature=temperature, alpha=alpha,
                                  epochs=epochs, train_size=TRAIN_SIZES[train_size], generations=generations,
                                  seed=int(seed))
        except ValueError as error:
            st.error(str(error))
        else:
            job = default_runner().submit("Training schemes", schemes_target(config, tuple(chosen), data),
                                          owner=ui.session_owner())
            ui.remember_job(SLOT, job)

if job is not None:
    if not job.is_finished:
        ui.follow_job(job, key=SLOT)
    elif job.status == JobStatus.FAILED:
        st.error(f"The comparison failed: {job.error}")
    elif job.result is not None:
        render_comparison(job.result, f"{SLOT}.{job.id}")
