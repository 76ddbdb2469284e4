"""Distillation lab: distill a student from a teacher, live, beside the same student trained alone.

Widgets -> ``DistillConfig`` -> ``kdlab.tasks.submit_distillation`` (a background job) -> the
page polls the job for progress and live curves; the job files the result in this session's
runs, so it survives page switches.
"""

import streamlit as st

from kdlab import plots, ui
from kdlab.distill import DEMO_TRAIN_SIZE, DistillConfig, StageEvent
from kdlab.jobs import JobStatus, default_runner
from kdlab.runs import curves_from_events
from kdlab.tasks import TeacherReady, submit_distillation
from kdlab.teachers import default_teacher_epochs

TEMPERATURES = [1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0, 15.0, 20.0]
LEARNING_RATES = [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03]
BATCH_SIZES = [16, 32, 64, 128, 256, 512, 1024]
TRAIN_SIZES = [500, 1000, 2000, 5000, 10_000, 20_000, 30_000]
PERSIST = "session"  # the controls keep their values when the student visits another page
LIVE_SECONDS = 2.0


def render_live(job, config: dict) -> None:
    """Live curves from the job's event log: test accuracy and the loss anatomy."""
    if job.status != JobStatus.RUNNING:
        return
    events = job.events()
    curves = curves_from_events(events)
    ready = [event for event in events if isinstance(event, TeacherReady)]
    stages = [event for event in events if isinstance(event, StageEvent)]
    if stages:
        st.caption(stages[-1].message)
    accuracy, loss = st.columns(2)
    with accuracy:
        st.plotly_chart(
            plots.accuracy_curves(
                curves,
                ready[-1].test_accuracy if ready else None,
                total_epochs=config.get("epochs"),
                title="Test accuracy, live",
            ),
            key="lab.live.accuracy",
        )
    with loss:
        st.plotly_chart(plots.loss_anatomy(curves), key="lab.live.loss")


ui.ensure_entrypoint()
st.title("Distillation lab")
st.markdown(
    "Train a student from the teacher's soft targets and, with the same seed and data order, the same "
    "student from the labels alone. Press **Train** and watch both learn."
)
data = ui.get_data()
store = ui.session_runs()
job = ui.recall_job("lab")
busy = job is not None and not job.is_finished
train_count = len(data.train)

with st.container(border=True):
    models, softening, training = st.columns(3, gap="large")
    with models:
        st.markdown("**Teacher and student**")
        teacher = ui.teacher_selectbox("Teacher", key="lab.teacher", persist_state=PERSIST)
        trained = ui.cached_teacher(teacher)
        if trained is not None:
            st.caption(
                f"Cached teacher: {trained.record.test_accuracy:.2%} test accuracy "
                f"({trained.record.test_errors:,} errors)."
            )
        else:
            st.caption(
                f"Not trained yet: the run trains it first ({default_teacher_epochs(train_count)} epochs on "
                f"{train_count:,} images), once for everyone."
            )
        student = ui.student_picker(key_prefix="lab.student", persist_state=PERSIST)
        ui.model_sizes(teacher, student)
    with softening:
        st.markdown("**Soft targets**")
        temperature = st.select_slider(
            "Temperature T",
            TEMPERATURES,
            value=4.0,
            key="lab.temperature",
            format_func=lambda value: f"{value:g}",
            persist_state=PERSIST,
            help="Softens the teacher's and the student's outputs in the soft term.",
        )
        alpha = st.slider(
            "alpha: weight of the teacher's soft targets",
            0.0,
            1.0,
            0.9,
            0.05,
            key="lab.alpha",
            persist_state=PERSIST,
            help="0 ignores the teacher (plain training); 1 ignores the labels.",
        )
    with training:
        st.markdown("**Training**")
        epochs = st.slider("Epochs", 1, 50, 20, key="lab.epochs", persist_state=PERSIST)
        learning_rate = st.select_slider(
            "Learning rate (Adam, cosine decay)",
            LEARNING_RATES,
            value=0.001,
            key="lab.learning_rate",
            format_func=lambda value: f"{value:g}",
            persist_state=PERSIST,
        )
        batch_size = st.select_slider("Batch size", BATCH_SIZES, value=128, key="lab.batch_size", persist_state=PERSIST)
        sizes = [size for size in TRAIN_SIZES if size < train_count] + [train_count]
        train_size = st.select_slider(
            "Training images",
            sizes,
            value=min(DEMO_TRAIN_SIZE, train_count),
            key="lab.train_size",
            persist_state=PERSIST,
            format_func=lambda size: f"{size:,}" + (" (all)" if size == train_count else ""),
            help="A random subset (by seed), used for both students.",
        )
        seed = st.number_input(
            "Seed",
            0,
            9999,
            0,
            step=1,
            key="lab.seed",
            persist_state=PERSIST,
            help="Same seed: same initial weights and data order for both students.",
        )
    ui.loss_formula(temperature, alpha)

config, problem = None, None
try:
    config = DistillConfig.build(
        teacher=teacher,
        student=student,
        temperature=temperature,
        alpha=alpha,
        epochs=epochs,
        learning_rate=learning_rate,
        batch_size=batch_size,
        train_size=train_size,
        seed=int(seed),
    )
    config.transfer_indices(data)
except ValueError as error:
    config, problem = None, str(error)
if problem:
    st.error(f"**These settings cannot run.** {problem}")

train_column, note_column = st.columns([1, 4], vertical_alignment="center")
clicked = train_column.button(
    "Train", type="primary", key="lab.train", icon=":material/play_arrow:", disabled=busy or config is None
)
if busy:
    note_column.caption("Your run is in progress below: stop it to start another.")
if clicked and config is not None and not busy:
    try:
        job = submit_distillation(default_runner(), config, data, store, owner=ui.session_owner())
    except ValueError as error:
        st.error(f"**These settings cannot run.** {error}")
    else:
        ui.remember_job("lab", job)
        st.session_state["lab.job_config"] = config.as_dict()

if job is not None:
    st.divider()
    if not job.is_finished:
        st.subheader(job.name)
        live_config = st.session_state.get("lab.job_config", {})
        # Redrawing the charts every 2 s rather than every second: where browser and server share a
        # small CPU, the default run took 40 s instead of 61 s (39 s with nobody watching).
        ui.follow_job(job, lambda job: render_live(job, live_config), key="lab.progress", interval=LIVE_SECONDS)
    else:
        record = store.get(job.result) if isinstance(job.result, str) else None
        if job.status == JobStatus.FAILED:
            st.error(f"The run failed: {job.error}. Check the settings and press Train again.")
        elif record is None:
            st.info("The run was cancelled before it started.")
        else:
            st.subheader(f"Result of run {record.number}: {record.config['student']} from {record.config['teacher']}")
            ui.render_run_result(record, key="lab.result")
            ui.page_link("pages/runs.py", "Compare all your runs and download them", ":material/table_chart:")
