"""The live view of a background job: progress bar with ETA, queue position, Stop button,
refreshed by polling.

The training runs on a ``kdlab.serve.jobs`` thread; the page only reads the job's progress and
events. ``follow_job`` renders that view inside ``st.fragment(run_every=...)``, so only the
view reruns each second, not the whole page with its widgets: cheap for a crowded server, and
it leaves the CPU (and the GIL) to the training. When the job ends, the fragment reruns the
whole page once, which then shows the result. AppTest never fires ``run_every`` ticks: a test
calls ``at.run()`` again until the job has finished.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import streamlit as st

from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.runs.record import status_text
from kdlab.serve.lab import STAGE_NAMES
from kdlab.serve.runner import Job, JobStatus
from kdlab.ui.language import choose_language

QUEUED_SECONDS = 5.0
LIVE_UPDATES = 15  # refreshes a paced live view shows over a run (``paced_interval``)
# A run expected to be shorter ticks its body (the lab's curves) with the progress bar (``follow_job``): at the
# shortest pace (2 s) that is at most 15 redraws, and a body of its own redrawn every third tick would show such a
# run's curves twice at most, or never (the rehearsal's first run on the offline sample, deploy/rehearse.sh).
SHORT_RUN_SECONDS = 30.0


def _duration(seconds: float) -> str:
    if seconds < 90:
        return _("{seconds} s").format(seconds=number(max(1, round(seconds))))
    return _("{minutes} min").format(minutes=number(round(seconds / 60)))


def eta_text(job: Job) -> str:
    """Time spent and an estimate of the time left: from the job's progress once it says enough,
    before that from how long recent runs of the same kind took (``Job.eta_seconds``)."""
    elapsed = job.elapsed_seconds
    left = job.eta_seconds()
    if left is None or elapsed < 1:
        return _("{elapsed} so far, estimating the time left ...").format(elapsed=_duration(elapsed))
    return _("{elapsed} so far, about {left} left").format(elapsed=_duration(elapsed), left=_duration(left))


def queue_text(job: Job) -> str:
    """Where a queued job stands: its place in line and, once the server has timed a few runs,
    when it should start and finish."""
    position = job.queue_position()
    if position <= 1:
        text = _("Waiting for a free trainer: number {position} in the queue (you are next).")
    else:
        text = ngettext(
            "Waiting for a free trainer: number {position} in the queue ({ahead} run ahead of you).",
            "Waiting for a free trainer: number {position} in the queue ({ahead} runs ahead of you).",
            position - 1,
        )
    text = text.format(position=number(position), ahead=number(position - 1))
    starts, finishes = job.starts_in_seconds(), job.eta_seconds()
    if starts is not None and finishes is not None:
        text += " " + _("It should start in about {starts} and finish in about {finishes}.").format(
            starts=_duration(starts), finishes=_duration(finishes)
        )
    return text + " " + _("Runs take turns so the server stays fast for everyone.")


STEP_DETAIL = re.compile(r"^(?P<stage>.+): step (?P<step>[\d,]+)/(?P<total>[\d,]+)$")
# The lab job's own progress lines (kdlab.serve.lab), English in the job, by the message they fill.
LAB_LINES = (
    (re.compile(r"^Preparing teacher (?P<name>\S+) \.\.\.$"), N_("Preparing teacher {name} ...")),
    (re.compile(r"^Finished: (?P<status>\w+)\.$"), N_("Finished: {status}.")),
)


def progress_text(message: str) -> str:
    """A job's progress message (English, shared by everyone watching the job: "Distilling the student: step
    120/400") in the current language: a lab stage's name (``kdlab.serve.lab.STAGE_NAMES``) and the lab's own lines
    translated, the step count in the language's numbers; any other message as it is (its job's slice marks it)."""
    shown = STEP_DETAIL.match(message)
    if shown is not None:
        step, total = (int(shown[name].replace(",", "")) for name in ("step", "total"))
        return _("{stage}: step {step}/{total}").format(
            stage=_stage(shown["stage"]), step=number(step), total=number(total)
        )
    for pattern, template in LAB_LINES:
        line = pattern.match(message)
        if line is not None:
            words = line.groupdict()
            if "status" in words:
                words["status"] = status_text(words["status"])
            return _(template).format(**words)
    return _stage(message)


def _stage(name: str) -> str:
    return _(name) if name in STAGE_NAMES.values() else name


def paced_interval(job: Job, shortest: float, longest: float, updates: int = LIVE_UPDATES) -> float:
    """Seconds between two refreshes of ``job``'s live view: about ``updates`` over the run as the server expects
    it to last (``Job.eta_seconds``), never more often than every ``shortest`` seconds (also while the server has
    no estimate) nor less often than every ``longest``."""
    expected = expected_seconds(job)
    if expected is None:
        return shortest
    return min(longest, max(shortest, expected / updates))


def render_job_progress(
    job: Job, *, key: str, stoppable: bool = True, on_stop: Callable[[Job], object] | None = None
) -> None:
    """Show where ``job`` is: its place in the queue, or a progress bar with message and ETA.

    Args:
        job: a job from ``kdlab.serve.jobs``.
        key: unique prefix for this view's widgets.
        stoppable: show a Stop button (Leave the queue while waiting) that asks the job to stop;
            the run keeps its partial result.
        on_stop: called with the job instead of ``job.request_stop()`` (the lab: a student may
            leave a run that others still follow).
    """
    if job.status == JobStatus.QUEUED:
        st.progress(0.0, text=queue_text(job))
    elif job.status == JobStatus.RUNNING:
        message = progress_text(job.progress_message) if job.progress_message else job.name
        if st.session_state.get(f"{key}.stopping") == job.id:
            message = _("{message} (stopping ...)").format(message=message)
        st.progress(float(job.progress), text=f"{message} · {percent(job.progress)} · {eta_text(job)}")
    if stoppable and not job.is_finished:
        label = _("Leave the queue") if job.status == JobStatus.QUEUED else _("Stop")
        st.button(
            label,
            key=f"{key}.stop",
            on_click=_request_stop,
            args=(job, key, on_stop),
            icon=":material/stop:",
            help=_("Ends the run now and keeps what it has learned so far, marked 'stopped'."),
        )


def _request_stop(job: Job, key: str, on_stop: Callable[[Job], object] | None = None) -> None:
    if on_stop is None:
        job.request_stop()
    else:
        on_stop(job)
    st.session_state[f"{key}.stopping"] = job.id


def follow_job(
    job: Job,
    body: Callable[[Job], object] | None = None,
    *,
    key: str,
    interval: float = 1.0,
    body_interval: float | None = None,
    stoppable: bool = True,
    on_stop: Callable[[Job], object] | None = None,
) -> None:
    """Show ``render_job_progress(job)`` and then ``body(job)`` (e.g. live curves), refreshed
    every ``interval`` seconds until the job ends; then rerun the whole page once.

    With ``body_interval``, the body of a run expected to last ``SHORT_RUN_SECONDS`` or more is a view of its own
    refreshed every ``body_interval`` seconds, while the progress bar above it moves every ``interval``: a tick of
    the progress bar then sends and redraws no chart (the browser's CPU for a tab watching the lab's live run,
    bench/classroom_load.py --tab-cost). A shorter run's body ticks with the progress bar, so that it shows its
    points live at all. While the server cannot yet say how long the run will last (its first of a kind), the body
    ticks with the progress bar until it shows the job's progress (it returns True: a first curve point), and that
    tick reruns the page once, which then paces both by the run's estimate.

    While the job waits in the queue the view refreshes every ``QUEUED_SECONDS`` at most often (only its place in
    line changes), and reruns the whole page once when the job starts, which then refreshes at ``interval``: a
    crowded queue costs the server little.

    Call it only for an unfinished job, typically as the last thing on the page.
    """
    queued = job.status == JobStatus.QUEUED
    shown = f"{key}.body_shown"  # the job whose body showed its progress before the server had an estimate
    paced = body is not None and body_interval is not None
    expected = None if queued else expected_seconds(job)
    separate = paced and (
        st.session_state.get(shown) == job.id or (expected is not None and expected >= SHORT_RUN_SECONDS)
    )
    rerun_when_shown = paced and expected is None

    @st.fragment(run_every=max(interval, QUEUED_SECONDS) if queued else interval)
    def live_view() -> None:
        choose_language()  # a tick of the fragment runs without the page's script
        if job.is_finished or (queued and job.status != JobStatus.QUEUED):
            st.rerun()  # the whole page: the result, or the running view at its own pace
        render_job_progress(job, key=key, stoppable=stoppable, on_stop=on_stop)
        if body is None or separate or (paced and queued):
            return  # a queued job's body shows nothing; its start reruns the page
        if body(job) and rerun_when_shown:
            st.session_state[shown] = job.id
            st.rerun()  # the whole page, once: paced by the estimate the run now has

    live_view()
    if separate and not queued:

        @st.fragment(run_every=max(interval, body_interval))
        def body_view() -> None:
            choose_language()
            body(job)  # the job's end reruns the whole page from the view above

        body_view()


def expected_seconds(job: Job) -> float | None:
    """How long the server expects ``job`` to run in all (time so far plus its estimate), None while unknown."""
    left = job.eta_seconds()
    return None if left is None else job.elapsed_seconds + left
