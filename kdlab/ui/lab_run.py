"""The lab's run: pressing Train, following the live run (one's own, or an identical one another
student started), and the result, also after a reload.

Pressing Train builds one ``kdlab.serve.request.Press`` (1 to 5 seeds) and starts it with
``kdlab.serve.series.start_series``; each seed is answered in one of three ways: the same run trained
earlier on this server (copied into the student's runs at once, said so, with a button to train it again
live), an identical run in progress (followed live; the student gets their own copy of the record), or a
new background job. The session keeps the press's ``SeedSeries`` and its newest seed's ``LabTicket``
(which carries the request); every page run starts the next seed once the one before has its result.
After a reload the lab finds the student's live run again, or shows their latest stored run. A run cut
off by a server restart is listed with its settings, to train again or dismiss.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st

from kdlab.classroom.board import check_prediction, prediction_text
from kdlab.db.database import StorageError
from kdlab.experiments.distill import DistillConfig
from kdlab.i18n import N_, _, ngettext, number
from kdlab.plots import lab as plots
from kdlab.runs.record import RunRecord, curves_at, curves_seconds
from kdlab.runs.store import RunStore
from kdlab.serve.baselines import SHARED_NOTE
from kdlab.serve.jobs import default_runner
from kdlab.serve.lab import LabOutcome, LabTicket, stop_lab_run
from kdlab.serve.live import LIVE_RUNS
from kdlab.serve.request import Press, TrainRequest
from kdlab.serve.runner import Job, JobStatus
from kdlab.serve.series import SeedSeries, advance_series, start_series
from kdlab.teachers.teacher import Teacher
from kdlab.ui.assignment import LINK_KEY
from kdlab.ui.card import render_compression_card
from kdlab.ui.client import client_address
from kdlab.ui.downloads import notebook_download, onnx_download
from kdlab.ui.drawing import render_models_on_a_drawing
from kdlab.ui.language import choose_language
from kdlab.ui.progress import follow_job, paced_interval
from kdlab.ui.resources import cached_teacher
from kdlab.ui.results import render_run_result
from kdlab.ui.session import remember_job, session_owner, unsaved_runs
from kdlab.ui.widgets import page_link

SERIES_KEY = "lab.series"  # the session's SeedSeries: its latest press of Train
TICKET_KEY = "lab.ticket"  # the newest seed's LabTicket; its request holds the run's settings
LEFT_KEY = "lab.left"  # run ids this session stopped following
WATCH_KEY = "lab.watching"  # (run id, clock() when it started) of a cached run shown training again
PREDICTIONS_KEY = "lab.predictions"  # run id -> the prediction made before it (also in the store)
clock = time.monotonic  # the watch's clock: a test moves it on
CACHED_NOTE = N_(
    "This exact run was trained earlier on this server (same data, teacher, settings and seed), so here is "
    "its result at once."
)
JOINED_NOTE = N_(
    "Another student started exactly this run (same data, teacher, settings and seed) a moment ago, so you "
    "are following it live instead of waiting for a copy; the result goes into your runs too."
)


def start_press(press: Press, data, store: RunStore, *, teacher: Teacher | None) -> bool:
    """Press Train (``press.again()``: "Train it again live", never from the cache): its first seed starts.
    Shows an error and returns False when the run cannot start."""
    try:
        series = start_series(
            default_runner(), press, data, store, owner=session_owner(), client=client_address(), teacher=teacher
        )
    except (ValueError, StorageError) as error:  # settings that do not fit, the cap, a full queue, a busy database
        st.error(
            ngettext("**The run cannot start.** {error}", "**The runs cannot start.** {error}", press.seeds).format(
                error=error
            )
        )
        return False
    st.session_state[SERIES_KEY] = series
    if press.first.prediction is not None:
        st.session_state.setdefault(PREDICTIONS_KEY, {})[series.tickets[0].run_id] = press.first.prediction
    _follow(series.tickets[-1])
    return True


def advance_press(data) -> None:
    """Start the session's next seed if the one before has its result (before the page decides whether
    Train is busy); the student leaving the seed in progress ends the series."""
    series: SeedSeries | None = st.session_state.get(SERIES_KEY)
    if series is None or series.finished:
        return
    if _left(series.tickets[-1]):
        series.halted = "you left the run"
        return
    teacher = cached_teacher(series.press.first.config.teacher)
    started = advance_series(
        series, default_runner(), data, owner=session_owner(), client=client_address(), teacher=teacher
    )
    if started is not None:
        _follow(started)


def _follow(ticket: LabTicket) -> None:
    st.session_state[TICKET_KEY] = ticket
    if ticket.job is not None:
        remember_job("lab", ticket.job)


def current_ticket(store: RunStore) -> LabTicket | None:
    """This session's lab run; after a reload, the live run this student follows, if any."""
    ticket = st.session_state.get(TICKET_KEY)
    if ticket is None:
        found = LIVE_RUNS.find(store.student_key)
        if found is not None:
            live, follower = found
            ticket = LabTicket(follower.source, follower.run_id, follower.number, live.request, live.job)
            st.session_state[TICKET_KEY] = ticket
            remember_job("lab", live.job)
    return ticket


def is_busy(ticket: LabTicket | None) -> bool:
    """True while the session's lab run trains (one at a time per session)."""
    return ticket is not None and ticket.job is not None and not ticket.job.is_finished and not _left(ticket)


def _left(ticket: LabTicket) -> bool:
    return ticket.run_id in st.session_state.get(LEFT_KEY, ())


def stop_or_leave(run_id: str) -> Callable[[Job], object]:
    """The ``on_stop`` of every Stop on a lab run (the lab, the Runs page): ``stop_lab_run``, so a
    follower's Stop leaves the run and only the last follower stops it."""

    def stop(job: Job) -> None:
        if stop_lab_run(job, run_id) == "left":
            st.session_state[LEFT_KEY] = {*st.session_state.get(LEFT_KEY, ()), run_id}

    return stop


def render_lab_run(
    ticket: LabTicket | None,
    store,
    data,
    *,
    busy: bool,
    teacher: Teacher | None,
    live_body: Callable[[Job], None],
    interval: tuple[float, float],
    figure_ticks: int = 1,
) -> None:
    """The run below the lab's controls: live, or its result (the latest stored one without a ticket).

    ``busy`` is ``is_busy(ticket)`` as the page saw it above (Train disabled): a run that ends
    while the page draws is then drawn live once more, and its end reruns the whole page. The live run's
    progress bar moves every ``interval`` = (shortest, longest) seconds, paced by the run's expected length
    (``paced_interval``), and ``live_body`` (its curves) every ``figure_ticks`` of its ticks.
    """
    if ticket is None:
        record = _latest(store)
        if record is not None:
            st.divider()
            _render_record(record, store)
        return
    st.divider()
    if ticket.how == "cache":
        st.info(_(CACHED_NOTE))
        again, watch = st.columns(2)
        if again.button(
            _("Train it again live"),
            key="lab.again",
            icon=":material/replay:",
            help=_("Trains the same run now, live, instead of showing the earlier result."),
        ):
            if start_press(Press.of(ticket.request.again()), data, store, teacher=teacher):
                st.rerun()
        if watch.button(
            _("Watch it train again"),
            key="lab.watch",
            icon=":material/slow_motion_video:",
            help=_("Redraws the two curves point by point, as fast as they came when this run trained."),
        ):
            start_watching(ticket.run_id)
        if watching(ticket.run_id):
            render_watch_again(ticket.record, interval[0])
            return
        _render_record(ticket.record, store)
        return
    job = ticket.job
    if _left(ticket):
        st.info(
            _("You left run {number}; it goes on for the other students following it. Press Train again.").format(
                number=ticket.number
            )
        )
    elif busy or not job.is_finished:
        config = ticket.request.config
        st.subheader(
            _("Run {number}: {student} from {teacher}").format(
                number=ticket.number, student=config.student, teacher=config.teacher
            )
        )
        if ticket.how == "joined":
            st.info(_(JOINED_NOTE))
        pace = paced_interval(job, *interval)
        follow_job(
            job,
            live_body,
            key="lab.progress",
            interval=pace,
            body_interval=figure_ticks * pace,
            on_stop=stop_or_leave(ticket.run_id),
        )
    elif job.status == JobStatus.FAILED:
        # The full error stays in the server's log: a message can name server paths.
        st.error(_("The run failed on the server ({error}). Press Train to try again.").format(error=job.error_kind))
    elif not isinstance(job.result, LabOutcome) or not job.result.has(ticket.run_id):
        st.info(_("The run was cancelled before it started."))
    elif ticket.run_id in job.result.unsaved_records:
        record = job.result.unsaved_records[ticket.run_id]
        st.error(
            _("**This run is not saved.** {reason} It shows in this tab only.").format(
                reason=job.result.unsaved[ticket.run_id]
            )
        )
        memory = unsaved_runs()
        if memory.get(record.run_id) is None and memory is not store:
            memory.add(record)
        _render_record(record, store)
    else:  # filed: the job keeps only its id (kdlab.serve.lab.LabOutcome)
        record = _stored(store, ticket.run_id)
        if record is None:
            st.info(_("Run {number} is no longer in your runs.").format(number=ticket.number))
        else:
            _render_record(record, store)


def start_watching(run_id: str) -> None:
    """Show the run ``run_id`` (a result from the cache) training again, from now."""
    st.session_state[WATCH_KEY] = (run_id, clock())


def watching(run_id: str) -> bool:
    """True while the run ``run_id`` is shown training again."""
    watch = st.session_state.get(WATCH_KEY)
    return watch is not None and watch[0] == run_id


def render_watch_again(record: RunRecord, interval: float) -> None:
    """The run's two curves growing point by point at the speed they were recorded (``curves_at``): what its
    live view showed while it trained, then its result. The page's live interval paces the redraws."""
    started = st.session_state[WATCH_KEY][1]
    total = curves_seconds(record.curves)
    config = record.config

    @st.fragment(run_every=interval)
    def view() -> None:
        choose_language()  # a tick of the fragment runs without the page's script
        elapsed = clock() - started
        if elapsed >= total:
            st.session_state.pop(WATCH_KEY, None)
            st.rerun()  # the whole page: the result
        st.subheader(_("Run {number}, training again as recorded").format(number=record.number))
        st.progress(
            min(elapsed / total, 1.0),
            text=_("{elapsed} of {total} s, at the speed it trained").format(
                elapsed=number(elapsed, 0), total=number(total, 0)
            ),
        )
        shown = curves_at(record.curves, elapsed)
        accuracy, loss = st.columns(2)
        title = _("Test accuracy, as it trained")
        figure = plots.accuracy_curves(shown, record.accuracy("teacher"), total_epochs=config["epochs"], title=title)
        accuracy.plotly_chart(figure, key="lab.watch.accuracy")
        loss.plotly_chart(plots.loss_anatomy(shown, config.get("soft", "kd")), key="lab.watch.loss")
        if st.button(_("Skip to the result"), key="lab.watch.skip", icon=":material/skip_next:"):
            st.session_state.pop(WATCH_KEY, None)
            st.rerun()

    view()


def render_interrupted_runs(store, data, *, busy: bool) -> None:
    """The student's runs that a server restart cut off (they have no result): each with its
    settings, "Train it again" and "Dismiss"."""
    try:
        interrupted = store.interrupted()
    except StorageError as error:
        st.error(_("**Runs cut off by a server restart cannot be listed right now.** {error}").format(error=error))
        return
    for run in interrupted:
        settings = run.config
        with st.container(border=True):
            st.warning(
                _(
                    "**Run {number} was cut off**: the server restarted while it trained, so it has no result. "
                    "Its settings: {student} from {teacher}, T = {temperature}, alpha = {alpha}, {epochs} epochs, "
                    "seed {seed}."
                ).format(
                    number=run.number,
                    student=settings.get("student"),
                    teacher=settings.get("teacher"),
                    temperature=settings.get("temperature"),
                    alpha=settings.get("alpha"),
                    epochs=settings.get("epochs"),
                    seed=settings.get("seed"),
                ),
                icon=":material/restart_alt:",
            )
            again, dismiss = st.columns(2)
            if again.button(
                _("Train it again"),
                key=f"lab.interrupted.{run.run_id}.again",
                icon=":material/replay:",
                disabled=busy,
                help=_("Your run in progress must end first.") if busy else None,
            ):
                try:
                    config = DistillConfig.build(**settings)
                    request = TrainRequest.build(config, data)
                except (TypeError, ValueError) as error:  # settings of an older kdlab, or that no longer fit
                    st.error(
                        _("**These settings cannot run any more.** {error} Dismiss the run instead.").format(
                            error=error
                        )
                    )
                else:
                    if start_press(Press.of(request), data, store, teacher=cached_teacher(config.teacher)):
                        _forget(store, run.run_id)
                        st.rerun()
            if dismiss.button(_("Dismiss"), key=f"lab.interrupted.{run.run_id}.dismiss", icon=":material/close:"):
                _forget(store, run.run_id)
                st.rerun()


def _forget(store, run_id: str) -> None:
    try:
        store.forget_start(run_id)
    except StorageError as error:
        st.error(_("**The run could not be dismissed right now.** {error}").format(error=error))


def _stored(store, run_id: str) -> RunRecord | None:
    try:
        return store.get(run_id)
    except StorageError as error:
        st.error(_("**This run cannot be shown right now.** {error}").format(error=error))
        return None


def _latest(store) -> RunRecord | None:
    try:
        return store.latest()
    except StorageError as error:
        st.error(_("**Your earlier runs cannot be shown right now.** {error}").format(error=error))
        return None


def _prediction(record: RunRecord, store) -> dict | None:
    known = st.session_state.get(PREDICTIONS_KEY, {}).get(record.run_id)
    if known is not None:
        return known
    try:
        return store.prediction_of(record.run_id)
    except StorageError:
        return None


def render_prediction(record: RunRecord, prediction: dict | None) -> None:
    """The student's prediction beside the outcome, in words (not only by colour)."""
    baseline, distilled = record.errors("baseline"), record.errors("distilled")
    check = check_prediction(prediction, None if None in (baseline, distilled) else baseline - distilled)
    if check is None:
        if prediction:
            st.info(
                _("**You predicted:** {prediction}. The run has no comparison to check it against.").format(
                    prediction=prediction_text(prediction)
                )
            )
        return
    text = _(
        "**You predicted:** {prediction}. **Outcome:** the student alone made {baseline} errors, the distilled "
        "student {distilled}. {verdict}"
    ).format(
        prediction=prediction_text(prediction),
        baseline=number(baseline),
        distilled=number(distilled),
        verdict=check.sentence(),
    )
    if check.right_direction:
        st.success(text, icon=":material/check_circle:")
    else:
        st.warning(text, icon=":material/cancel:")


def _render_record(record: RunRecord, store) -> None:
    st.subheader(
        _("Result of run {number}: {student} from {teacher}").format(
            number=record.number, student=record.config["student"], teacher=record.config["teacher"]
        )
    )
    render_prediction(record, _prediction(record, store))
    if record.summary.get("baseline_shared"):
        st.caption(_(SHARED_NOTE))
    render_run_result(record, key="lab.result")
    link = st.session_state.get(LINK_KEY)  # a lesson's link with advanced=1 opens the card's calibration too
    render_compression_card(record, key="lab.card", advanced=link is not None and link.advanced)
    render_models_on_a_drawing(record, key="lab.drawing")
    notebook_download(record, key="lab.notebook")
    onnx_download(record, key="lab.onnx")
    page_link("pages/runs.py", _("Compare all your runs and download them"), ":material/table_chart:")
