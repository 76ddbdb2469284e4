"""Distillation lab: distill a student from a teacher, live, beside the same student trained alone.

Widgets -> ``DistillConfig`` -> ``kdlab.serve.lab.request_distillation`` (through ``ui.start_run``): a run
trained earlier comes from the result cache at once; otherwise a background job (or an identical
one in progress) that the page polls for progress and live curves. The job files the result in the
student's runs in the database, so it survives page switches, reloads and server restarts.
"""

import streamlit as st

from kdlab import ui
from kdlab.classroom.links import SEED_RANGE, lab_options
from kdlab.experiments.distill import DistillConfig, StageEvent
from kdlab.plots import lab as plots
from kdlab.runs.record import curves_from_events
from kdlab.serve.lab import TeacherReady, TrainRequest
from kdlab.serve.limits import CostTooHigh, check_cost
from kdlab.serve.runner import JobStatus
from kdlab.teachers.teacher import default_teacher_epochs
from kdlab.ui.assignment import (
    active_class,
    apply_lab_link,
    forget_prediction,
    init_controls,
    lock_help,
    lock_label,
    prediction_box,
    render_assignment,
    share_control,
)

PERSIST = "session"  # the controls keep their values when the student visits another page
LIVE_SECONDS = 2.0
CURVE_NOTE = (
    "While training, each curve point is the accuracy on a fixed set of {images} test images (the same "
    "for every run, so it is cheap to measure); the final numbers use the whole test set."
)


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
    subset = config.get("curve_test_images")
    st.caption(CURVE_NOTE.format(images=f"{subset:,}" if subset else "all the"))


ui.ensure_entrypoint()
st.title("Distillation lab")
st.markdown(
    "Train a student from the teacher's soft targets and, with the same seed and data order, the same "
    "student from the labels alone. Press **Train** and watch both learn."
)
data = ui.get_data()
store = ui.session_runs()
ticket = ui.current_ticket(store)
busy = ui.is_busy(ticket)
train_count = len(data.train)
options = lab_options(train_count)  # the controls' values, DistillConfig()'s defaults among them
init_controls(train_count)
link = apply_lab_link(train_count)  # an assignment link's settings and locks (checked; bad values explained)
render_assignment(link)

with st.container(border=True):
    models, softening, training = st.columns(3, gap="large")
    with models:
        st.markdown("**Teacher and student**")
        teacher = ui.teacher_selectbox(
            lock_label("Teacher", "teacher", link),
            key="lab.teacher",
            persist_state=PERSIST,
            disabled=link.is_locked("teacher"),
            **({"help": lock_help("teacher", link)} if link.is_locked("teacher") else {}),
        )
        trained = ui.cached_teacher(teacher)
        if trained is not None:
            best = trained.best_member()  # an ensemble's accuracy is shown beside its best member's
            st.caption(
                f"Cached teacher: {trained.record.test_accuracy:.2%} test accuracy "
                f"({trained.record.test_errors:,} errors)."
                + (
                    f" Its best member, {best.record.architecture} seed {best.record.seed}: "
                    f"{best.record.test_accuracy:.2%} ({best.record.test_errors:,} errors)."
                    if best
                    else ""
                )
            )
        else:
            st.caption(
                f"Not trained yet: the run trains it first ({default_teacher_epochs(train_count)} epochs on "
                f"{train_count:,} images), once for everyone."
            )
        student = ui.student_picker(key_prefix="lab.student", persist_state=PERSIST, disabled=link.is_locked("student"))
        if link.is_locked("student"):
            st.caption(f":material/lock: The student is locked by the assignment link: {student}.")
        ui.model_sizes(teacher, student)
    with softening:
        st.markdown("**Soft targets**")
        temperature = st.select_slider(
            lock_label("Temperature T", "T", link),
            options["T"],
            key="lab.temperature",
            format_func=lambda value: f"{value:g}",
            persist_state=PERSIST,
            disabled=link.is_locked("T"),
            help=lock_help("T", link, "Softens the teacher's and the student's outputs in the soft term."),
        )
        alpha = st.slider(
            lock_label("alpha: weight of the teacher's soft targets", "alpha", link),
            0.0,
            1.0,
            step=0.05,
            key="lab.alpha",
            persist_state=PERSIST,
            disabled=link.is_locked("alpha"),
            help=lock_help("alpha", link, "0 ignores the teacher (plain training); 1 ignores the labels."),
        )
        if trained is not None:
            ui.soft_targets_preview(trained, data, temperature, key="lab.preview")
    with training:
        st.markdown("**Training**")
        epochs = st.slider(
            lock_label("Epochs", "epochs", link),
            *options["epochs"],
            key="lab.epochs",
            persist_state=PERSIST,
            disabled=link.is_locked("epochs"),
            help=lock_help("epochs", link),
        )
        learning_rate = st.select_slider(
            lock_label("Learning rate (Adam, cosine decay)", "lr", link),
            options["lr"],
            key="lab.learning_rate",
            format_func=lambda value: f"{value:g}",
            persist_state=PERSIST,
            disabled=link.is_locked("lr"),
            help=lock_help("lr", link),
        )
        batch_size = st.select_slider(
            lock_label("Batch size", "batch", link),
            options["batch"],
            key="lab.batch_size",
            persist_state=PERSIST,
            disabled=link.is_locked("batch"),
            help=lock_help("batch", link),
        )
        train_size = st.select_slider(
            lock_label("Training images", "train_size", link),
            options["train_size"],
            key="lab.train_size",
            persist_state=PERSIST,
            format_func=lambda size: f"{size:,}" + (" (all)" if size == train_count else ""),
            disabled=link.is_locked("train_size"),
            help=lock_help("train_size", link, "A random subset (by seed), used for both students."),
        )
        seed = st.number_input(
            lock_label("Seed", "seed", link),
            *SEED_RANGE,
            step=1,
            key="lab.seed",
            persist_state=PERSIST,
            disabled=link.is_locked("seed"),
            help=lock_help("seed", link, "Same seed: same initial weights and data order for both students."),
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
    request = TrainRequest.build(config, data)  # this press's request, if Train is pressed: computed once
except ValueError as error:
    config, request, problem = None, None, str(error)
if problem:
    st.error(f"**These settings cannot run.** {problem}")
elif link.sets_controls:
    try:
        # the server's cap applies to links too; Train would refuse the same way
        check_cost(config, len(request.transfer_indices), request.plan["teacher"])
    except CostTooHigh as error:
        st.warning(f"**This link asks for more than this server allows.** {error}")

prediction = prediction_box(required=link.predict)
waiting = link.predict and prediction is None
train_column, note_column, share_column = st.columns([1, 3, 1], vertical_alignment="center")
clicked = train_column.button(
    "Train", type="primary", key="lab.train", icon=":material/play_arrow:", disabled=busy or config is None or waiting
)
if busy:
    note_column.caption("Your run is in progress below: stop it to start another.")
elif waiting:
    note_column.caption("This assignment asks for your prediction first: choose an answer above, then Train.")
with share_column:
    share_control(
        {
            "teacher": teacher,
            "student": student,
            "T": temperature,
            "alpha": alpha,
            "epochs": epochs,
            "lr": learning_rate,
            "batch": batch_size,
            "train_size": train_size,
            "seed": int(seed),
        }
    )
if (
    clicked
    and config is not None
    and not busy
    and not waiting
    and ui.start_run(request.tagged(class_code=active_class(), prediction=prediction), data, store, teacher=trained)
):
    forget_prediction()
    ticket = ui.current_ticket(store)
    busy = ui.is_busy(ticket)

ui.render_interrupted_runs(store, data, busy=busy)
# The run's own settings, from its request (also after a reload), not the controls' current values.
live_config = ticket.request.config.as_dict() if ticket is not None else {}
# Redrawing the charts every 2 s rather than every second: where browser and server share a
# small CPU, the default run took 40 s instead of 61 s (39 s with nobody watching).
ui.render_lab_run(
    ticket,
    store,
    data,
    busy=busy,
    teacher=trained,
    live_body=lambda job: render_live(job, live_config),
    interval=LIVE_SECONDS,
)
