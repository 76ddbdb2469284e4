"""The distillation lab's page: the controls (one per row of the lab's settings table) -> ``DistillConfig``
-> ``Press`` -> ``kdlab.ui.lab_run.start_press`` (a cached result at once, or a background job), and the live view.

A run trained earlier comes from the result cache at once; otherwise a background job (or an identical
one in progress) that the page polls for progress and live curves. The job files the result in the
student's runs in the database, so it survives page switches, reloads and server restarts.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from kdlab.classroom.glossary import TERMS_BY_ANCHOR, term_link
from kdlab.classroom.lab_settings import (
    LAB_SETTINGS,
    LabSetting,
    config_fields,
    lab_setting,
    request_fields,
    settings_in,
)
from kdlab.classroom.links import ParsedLink
from kdlab.experiments.distill import DistillConfig
from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.data import MnistData
from kdlab.ml.methods.registry import METHODS
from kdlab.ml.temperature import SCHEDULES
from kdlab.serve.limits import CostTooHigh, check_cost
from kdlab.serve.request import Press
from kdlab.serve.runner import JobStatus
from kdlab.teachers.teacher import Teacher, default_teacher_epochs
from kdlab.ui.assignment import (
    active_class,
    apply_lab_link,
    forget_prediction,
    prediction_box,
    render_assignment,
    share_control,
)
from kdlab.ui.feature_views import render_view_figures
from kdlab.ui.lab_controls import init_controls, lab_control, method_control, shown_value
from kdlab.ui.lab_run import (
    advance_press,
    current_ticket,
    is_busy,
    render_interrupted_runs,
    render_lab_run,
    start_press,
    start_watching,
)
from kdlab.ui.lab_seeds import render_seeds
from kdlab.ui.lab_split import non_target_caption
from kdlab.ui.lesson_question import render_lesson_question
from kdlab.ui.live_figures import LIVE_FIGURES
from kdlab.ui.resources import cached_teacher, get_data
from kdlab.ui.session import session_runs, student_runs_for_action
from kdlab.ui.widgets import advanced_section, loss_formula, model_sizes, soft_targets_preview

# Every 4 s (queued views every 8 s) cut a lesson of 30's browsers' CPU from 324 s to 272 s on the shared
# 2 cores (bench/classroom_load.py, 2026-12-03), but a run shorter than a tick then showed no live curve
# at all (deploy/rehearse.sh's first run): 2 s it stays.
LIVE_SECONDS = 2.0
# A longer run's live view refreshes less often, about 15 times over the run (kdlab.ui.progress.paced_interval),
# and its curves are a view of their own redrawn every third tick, so a tick of the progress bar sends and
# redraws no chart: a tab watching a live run of 40 epochs on 20,000 images spent 3.01 s of Chromium's CPU
# per 20 s and received 453 kB a minute with both every 2 s, 1.62 s and 85 kB so (bench/classroom_load.py
# --tab-cost, full MNIST, docs/deployment.md). A changed Plotly figure costs the browser about five times
# an unchanged one resent.
LONG_LIVE_SECONDS = 5.0
FIGURE_TICKS = 3
CURVE_NOTE = N_(  # English: shown with _(CURVE_NOTE)
    "While training, each curve point is the accuracy on a fixed set of {images} test images (the same "
    "for every run, so it is cheap to measure); the final numbers use the whole test set."
)


def render_live(job, config: dict) -> bool:
    """Live curves from the job's event log: test accuracy and the loss anatomy, and a feature method's live view
    (``kdlab.ui.live_figures``: built once per curve point for every session watching the job). True once they
    show a curve point."""
    if job.status != JobStatus.RUNNING:
        return False
    figures = LIVE_FIGURES.figures(job, config.get("epochs"), config.get("soft", "kd"), get_data().test)
    if figures.stage:
        st.caption(figures.stage)
    accuracy, loss = st.columns(2)
    with accuracy:
        st.plotly_chart(figures.accuracy, key="lab.live.accuracy")
    with loss:
        st.plotly_chart(figures.loss, key="lab.live.loss")
    if figures.view is not None:
        render_view_figures(figures.view, key="lab.live.feature")
    subset = config.get("curve_test_images")
    if subset:
        st.caption(_(CURVE_NOTE).format(images=number(subset)))
    else:
        st.caption(
            _(
                "While training, each curve point is the accuracy on all the test images; the final numbers use the "
                "whole test set."
            )
        )
    return figures.points > 0


def teacher_caption(trained: Teacher | None, train_count: int) -> None:
    """The cached teacher's test accuracy (an ensemble's beside its best member's), or what a run trains first."""
    if trained is None:
        epochs = default_teacher_epochs(train_count)
        st.caption(
            ngettext(
                "Not trained yet: the run trains it first ({epochs} epoch on {images} images), once for everyone.",
                "Not trained yet: the run trains it first ({epochs} epochs on {images} images), once for everyone.",
                epochs,
            ).format(epochs=epochs, images=number(train_count))
        )
        return
    record, best = trained.record, trained.best_member()
    text = ngettext(
        "Cached teacher: {accuracy} test accuracy ({errors} error).",
        "Cached teacher: {accuracy} test accuracy ({errors} errors).",
        record.test_errors,
    ).format(accuracy=percent(record.test_accuracy, 2), errors=number(record.test_errors))
    if best:
        text += " " + ngettext(
            "Its best member, {architecture} seed {seed}: {accuracy} ({errors} error).",
            "Its best member, {architecture} seed {seed}: {accuracy} ({errors} errors).",
            best.record.test_errors,
        ).format(
            architecture=best.record.architecture,
            seed=best.record.seed,
            accuracy=percent(best.record.test_accuracy, 2),
            errors=number(best.record.test_errors),
        )
    st.caption(text)


def render_controls(data: MnistData, link: ParsedLink) -> tuple[dict[str, object], Teacher | None, Any]:
    """The lab's three columns of controls, then its Advanced section (closed unless the link opens it); returns
    their values by URL name, the cached teacher, and the Advanced section (the page adds to it)."""
    train_count = len(data.train)
    values: dict[str, object] = {}
    with st.container(border=True):
        models, softening, training = st.columns(3, gap="large")
        with models:
            st.markdown("**" + _(lab_setting("teacher").section) + "**")
            values["teacher"] = lab_control(lab_setting("teacher"), link, train_count)
            trained = cached_teacher(values["teacher"])
            teacher_caption(trained, train_count)
            values["student"] = lab_control(lab_setting("student"), link, train_count)
            model_sizes(values["teacher"], values["student"])
            words_caption([lab_setting("teacher"), lab_setting("student")], "parameters")
        for column, section in ((softening, lab_setting("T").section), (training, lab_setting("epochs").section)):
            with column:
                st.markdown("**" + _(section) + "**")
                shown = [setting for setting in settings_in(section) if not setting.advanced]
                for setting in shown:
                    values[setting.url] = lab_control(setting, link, train_count, applies=setting.applies(values))
                if section == lab_setting("T").section and trained is not None:
                    soft_targets_preview(trained, data, values["T"], key="lab.preview")
                more = ("soft-target", "dark-knowledge") if section == lab_setting("T").section else ()
                words_caption(shown, *more)
        advanced_box = advanced_section(link.advanced, _("method, optimiser"))
        with advanced_box:
            advanced = [setting for setting in LAB_SETTINGS if setting.advanced]
            for setting in advanced:
                if setting.url == "soft":  # only the methods that fit the pair, and why the others do not
                    values["soft"] = method_control(setting, link, train_count, values["teacher"], values["student"])
                    continue
                values[setting.url] = lab_control(setting, link, train_count, applies=setting.applies(values))
            words_caption(advanced)
        loss_formula(values["T"], values["alpha"])
        method = METHODS[values["soft"]]
        named = {"method": _(method.label), "summary": _(method.summary)}
        if method.transfer is not None:  # the formula shows KD's loss; the method adds a term to it
            st.caption(_("Method {method}: {summary}; its term is added to the loss above.").format(**named))
        elif values["soft"] != "kd":  # the formula shows all of the KL; say which part replaces it
            st.caption(_("Method {method}: {summary}, in place of the KL above.").format(**named))
        temperature_caption(values)
    return values, trained, advanced_box


def temperature_caption(values: dict[str, object]) -> None:
    """What the formula's T means under the chosen settings: standardised logits (the soft term divides Z(z), each
    image's z-scored logits, by T) and a schedule that moves T (``SCHEDULES``'s line); nothing for raw logits at a
    constant T, or for a method without T."""
    if not METHODS[values["soft"]].softened:
        return
    parts = []
    if values.get("standardise"):
        parts.append(
            _(
                r"Standardised logits: the soft term uses $Z(z)/T$ in place of $z/T$, where $Z(z) = (z - "
                r"\mathrm{mean}(z)) / \mathrm{std}(z)$ over each image's ten logits, for the teacher and the student "
                "(Sun et al. 2024), so each image is softened at its own temperature, T times the spread of its logits."
            )
        )
    schedule = values.get("schedule", "constant")
    if schedule != "constant":
        parts.append(
            _("Temperature schedule {schedule}: {summary}; the curves draw T as it moves.").format(
                schedule=shown_value(lab_setting("schedule"), schedule), summary=_(SCHEDULES[schedule])
            )
        )
    if parts:
        st.caption(" ".join(parts))


def words_caption(settings: list[LabSetting], *more: str) -> None:
    """The glossary's words for these controls (each setting's ``term``) and ``more`` anchors, as links."""
    anchors = dict.fromkeys([*(setting.term for setting in settings if setting.term), *more])
    # Small markdown, not a caption: a caption draws its links at 60% too, 3.0:1 on white and 3.9:1 on the dark
    # theme's background (axe-core's color-contrast asks 4.5:1).
    words = " · ".join(term_link(anchor, _(TERMS_BY_ANCHOR[anchor].term)) for anchor in anchors)
    st.markdown(":small[" + _("Words: {words}").format(words=words) + "]")


def lab_press(values: dict[str, object], data: MnistData, link: ParsedLink) -> Press | None:
    """What pressing Train would send for the controls' values, or None with the reason shown; a link's run
    over the server's cap is flagged here (Train would refuse it the same way)."""
    try:
        press = Press.build(DistillConfig.build(**config_fields(values)), data, **request_fields(values))
    except ValueError as error:
        st.error(_("**These settings cannot run.** {problem}").format(problem=error))
        return None
    if link.sets_controls:
        first = press.first
        try:
            check_cost(first.config, len(first.transfer_indices), first.plan["teacher"], seeds=press.seeds)
        except CostTooHigh as error:
            st.warning(_("**This link asks for more than this server allows.** {problem}").format(problem=error))
    return press


def render_lab_page() -> None:
    """The lab below its title: controls, the prediction, Train and Share, then the run (live or its result)."""
    st.markdown(
        _(
            "The lab trains one student twice. One copy learns from the teacher's {soft_targets}; the other learns "
            "from the labels alone. Both use the same {seed}, so they start alike and see the same images in the same "
            "order. Press **Train** and watch both learn."
        ).format(soft_targets=term_link("soft-target", _("soft targets")), seed=term_link("seed", _("seed")))
    )
    data = get_data()
    store = session_runs()
    advance_press(data)  # several seeds: the next one starts once the one before has its result
    ticket = current_ticket(store)
    busy = is_busy(ticket)
    init_controls(len(data.train))
    link = apply_lab_link(len(data.train))  # an assignment link's settings and locks (checked; bad values explained)
    render_assignment(link)
    render_lesson_question("lab", joins_class=False)  # a lesson's link: its question (the link joined its class)
    values, trained, advanced_box = render_controls(data, link)
    press = lab_press(values, data, link)
    with advanced_box:  # the wrong digits' weight (NCKD) for the run these settings ask for
        non_target_caption(trained, None if press is None else press.first, data)

    prediction = prediction_box(required=link.predict)
    waiting = link.predict and prediction is None
    train_column, note_column, share_column = st.columns([1, 3, 1], vertical_alignment="center")
    clicked = train_column.button(
        _("Train"),
        type="primary",
        key="lab.train",
        icon=":material/play_arrow:",
        disabled=busy or press is None or waiting,
    )
    if busy:
        note_column.caption(_("Your run is in progress below: stop it to start another."))
    elif waiting:
        note_column.caption(_("This assignment asks for your prediction first: choose an answer above, then Train."))
    with share_column:
        share_control(values)
    if clicked and press is not None and not busy and not waiting:
        acting = student_runs_for_action()  # the first Train makes the student (None: over the limit, shown)
        if acting is not None:
            store = acting
            if start_press(
                press.tagged(class_code=active_class(), prediction=prediction), data, store, teacher=trained
            ):
                forget_prediction()
                ticket = current_ticket(store)
                busy = is_busy(ticket)
                if link.live and ticket is not None and ticket.how == "cache":  # ?live=1: it trains again, watched
                    start_watching(ticket.run_id)

    render_interrupted_runs(store, data, busy=busy)
    render_seeds()
    # The run's own settings, from its request (also after a reload), not the controls' current values.
    live_config = ticket.request.config.as_dict() if ticket is not None else {}
    # Redrawing the charts every 2 s rather than every second: where browser and server share a
    # small CPU, the default run took 40 s instead of 61 s (39 s with nobody watching).
    render_lab_run(
        ticket,
        store,
        data,
        busy=busy,
        teacher=trained,
        live_body=lambda job: render_live(job, live_config),
        interval=(LIVE_SECONDS, LONG_LIVE_SECONDS),
        figure_ticks=FIGURE_TICKS,
    )
