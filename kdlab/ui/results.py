"""The result of a lab run: what happened in one sentence, the numbers, and the plots."""

from __future__ import annotations

import streamlit as st

from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.temperature import TemperatureSchedule
from kdlab.plots import lab as plots
from kdlab.plots.style import role_name
from kdlab.runs.record import RunRecord, describe_outcome, status_text
from kdlab.ui.feature_views import digit_images, render_view_figures, view_figures
from kdlab.ui.resources import get_data
from kdlab.ui.result_limit import render_run_limit


def _accuracy(record: RunRecord, role: str) -> str:
    accuracy = record.accuracy(role)
    return _("not trained") if accuracy is None else percent(accuracy, 2)


def errors_text(count: int) -> str:
    """ "1,234 errors" in the current language."""
    return ngettext("{count} error", "{count} errors", count).format(count=number(count))


def _t(value: float) -> str:
    """A temperature to 3 significant digits, in the current language's numbers."""
    return number(float(f"{value:.3g}"))


# Marked in English; shown through ``_()``.
SCHEDULE_WORDS = {"annealed": N_("annealed along a cosine"), "learned": N_("learned, CTKD")}


def temperature_text(record: RunRecord) -> str | None:
    """How a scheduled run's temperature moved, in one sentence: from where its schedule starts (the run's T) to
    the summary's ``final_temperature`` (else its last curve point's), with its highest or lowest value on the way
    where that lies beyond both ends; None for a constant T (and runs filed before the schedules)."""
    config = record.config
    schedule = config.get("schedule", "constant")
    points = [point for point in record.curves.get("distilled", []) if point.get("temperature") is not None]
    if schedule == "constant" or schedule not in SCHEDULE_WORDS or not points:
        return None
    start = TemperatureSchedule(schedule, config["temperature"]).current(0.0)  # a learned T starts within its range
    end = (record.summary.get("student") or {}).get("final_temperature", points[-1]["temperature"])
    how = _(SCHEDULE_WORDS[schedule])
    highest = max(points, key=lambda point: point["temperature"])
    lowest = min(points, key=lambda point: point["temperature"])
    if round(highest["temperature"], 2) > round(max(start, end), 2):
        how = _("{how}; highest {temperature} at epoch {epoch}").format(
            how=how, temperature=_t(highest["temperature"]), epoch=number(highest["epoch"])
        )
    elif round(lowest["temperature"], 2) < round(min(start, end), 2):
        how = _("{how}; lowest {temperature} at epoch {epoch}").format(
            how=how, temperature=_t(lowest["temperature"]), epoch=number(lowest["epoch"])
        )
    if end > start:
        sentence = _("T went from {start} to {end} ({how}): the temperature rose as the student learnt.")
    elif end < start:
        sentence = _("T went from {start} to {end} ({how}): the temperature fell as the student learnt.")
    else:
        sentence = _("T went from {start} to {end} ({how}): the temperature stayed put as the student learnt.")
    return sentence.format(start=_t(start), end=_t(end), how=how)


def render_feature_view(record: RunRecord, *, key: str) -> None:
    """A feature- or relation-based run's last live view and its distance over the run (nothing for the others)."""
    view, soft = record.feature_view, record.config.get("soft", "kd")
    if view is None or soft not in METHODS or METHODS[soft].transfer is None:
        return
    test = get_data().test
    images = digit_images(view, test.images, test.labels)
    render_view_figures(view_figures(soft, view, record.curves.get("distilled", []), images), key=key)


def render_run_result(record: RunRecord, *, key: str) -> None:
    """Outcome sentence, accuracy and errors of teacher / baseline / distilled student, the
    difference, the time taken, the curves, per-class accuracy and confusion matrices.

    Args:
        record: a finished (or stopped) run.
        key: unique prefix for this view's chart keys.
    """
    outcome = describe_outcome(record)
    baseline, distilled = record.errors("baseline"), record.errors("distilled")
    if record.status != "completed":
        st.warning(
            _("**Run {number} {status}.** {outcome}").format(
                number=record.number, status=status_text(record.status), outcome=outcome
            )
        )
    elif baseline is not None and distilled is not None and distilled < baseline:
        st.success(outcome)
    else:
        st.info(outcome)
    moved = temperature_text(record)
    if moved is not None:
        st.markdown(f":material/thermostat: {moved}")

    config = record.config
    columns = st.columns(4)
    columns[0].metric(
        _("Teacher ({name})").format(name=config["teacher"]),
        _accuracy(record, "teacher"),
        help=_("Accuracy on the test images the students never train on."),
        delta=errors_text(record.errors("teacher")),
        delta_color="off",
        delta_arrow="off",
    )
    columns[1].metric(
        _("Student alone ({name})").format(name=config["student"]),
        _accuracy(record, "baseline"),
        delta=None if baseline is None else errors_text(baseline),
        delta_color="off",
        delta_arrow="off",
        help=_("The same student trained on the labels only, with the same seed and data order."),
    )
    difference = None if baseline is None or distilled is None else distilled - baseline
    columns[2].metric(
        _("Distilled student"),
        _accuracy(record, "distilled"),
        # The sign leads: Streamlit colours the delta by it (fewer errors, green).
        delta=None
        if difference is None
        else ngettext("{difference} error vs alone", "{difference} errors vs alone", abs(difference)).format(
            difference=("+" if difference > 0 else "-" if difference < 0 else "") + number(abs(difference))
        ),
        delta_color="inverse",
        help=_("Fewer errors than the student alone shows in green."),
    )
    transfer = record.summary["transfer_set"]["size"]
    epochs = ngettext("{images} images × {epochs} epoch", "{images} images × {epochs} epochs", int(config["epochs"]))
    if record.status != "completed" and record.summary.get("student"):
        epochs = ngettext(
            "{images} images × {done} of {epochs} epoch",
            "{images} images × {done} of {epochs} epochs",
            int(config["epochs"]),
        )
    done = (record.summary.get("student") or {}).get("epochs_done", 0)
    columns[3].metric(
        _("Time taken"),
        _("{seconds} s").format(seconds=number(record.summary["seconds"], 1)),
        delta=epochs.format(images=number(transfer), epochs=number(config["epochs"]), done=number(done)),
        delta_color="off",
        delta_arrow="off",
        help=_("Both students, trained one after the other."),
    )

    curves, losses = st.columns(2)
    with curves:
        st.plotly_chart(
            plots.accuracy_curves(
                record.curves, teacher_accuracy=record.accuracy("teacher"), total_epochs=config["epochs"]
            ),
            key=f"{key}.accuracy",
        )
    with losses:
        st.plotly_chart(plots.loss_anatomy(record.curves, record.config.get("soft", "kd")), key=f"{key}.loss")
    render_run_limit(record)
    render_feature_view(record, key=f"{key}.feature")

    per_class_tab, confusion_tab = st.tabs([_("Accuracy per digit"), _("Confusion matrices")])
    with per_class_tab:
        order = [role for role in ("teacher", "baseline", "distilled") if role in record.per_class_accuracy]
        st.plotly_chart(
            plots.per_class_accuracy({role: record.per_class_accuracy[role] for role in order}), key=f"{key}.per_class"
        )
    with confusion_tab:
        roles = [role for role in ("baseline", "distilled") if role in record.confusion]
        most = max(
            (
                count
                for role in roles
                for row, counts in enumerate(record.confusion[role])
                for column, count in enumerate(counts)
                if row != column
            ),
            default=1,
        )
        for column, role in zip(st.columns(max(1, len(roles))), roles):
            with column:
                title = ngettext("{role}: {count} mistake", "{role}: {count} mistakes", record.errors(role)).format(
                    role=role_name(role), count=number(record.errors(role))
                )
                st.plotly_chart(
                    plots.confusion_heatmap(record.confusion[role], title, zmax=max(most, 1)),
                    key=f"{key}.confusion.{role}",
                )
        st.caption(
            _(
                "Rows are the true digits, columns what the model answered; the diagonal (correct answers) "
                "is left blank so the mistakes stand out."
            )
        )
