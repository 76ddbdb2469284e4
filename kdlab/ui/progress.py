"""The live view of a background job: progress bar with ETA, queue position, Stop button,
refreshed by polling.

The training runs on a ``kdlab.jobs`` thread; the page only reads the job's progress and
events. ``follow_job`` renders that view inside ``st.fragment(run_every=...)``, so only the
view reruns each second, not the whole page with its widgets: cheap for a crowded server, and
it leaves the CPU (and the GIL) to the training. When the job ends, the fragment reruns the
whole page once, which then shows the result. AppTest never fires ``run_every`` ticks: a test
calls ``at.run()`` again until the job has finished.
"""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from kdlab.jobs import Job, JobStatus

MIN_PROGRESS_FOR_ETA = 0.03


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    return f"{seconds / 60:.0f} min"


def eta_text(job: Job) -> str:
    """Time spent and an estimate of the time left, from the job's progress so far."""
    elapsed = job.elapsed_seconds
    if job.progress < MIN_PROGRESS_FOR_ETA or elapsed < 1:
        return f"{_duration(elapsed)} so far, estimating the time left ..."
    left = elapsed * (1 - job.progress) / job.progress
    return f"{_duration(elapsed)} so far, about {_duration(left)} left"


def render_job_progress(job: Job, *, key: str, stoppable: bool = True) -> None:
    """Show where ``job`` is: its place in the queue, or a progress bar with message and ETA.

    Args:
        job: a job from ``kdlab.jobs``.
        key: unique prefix for this view's widgets.
        stoppable: show a Stop button (Leave the queue while waiting) that asks the job to stop;
            the run keeps its partial result.
    """
    if job.status == JobStatus.QUEUED:
        position = job.queue_position()
        ahead = "you are next" if position <= 1 else f"{position - 1} run(s) ahead of you"
        st.progress(
            0.0,
            text=f"Waiting for a free trainer: number {position} in the queue ({ahead}). "
            "Runs take turns so the server stays fast for everyone.",
        )
    elif job.status == JobStatus.RUNNING:
        message = job.progress_message or job.name
        stopping = " (stopping ...)" if st.session_state.get(f"{key}.stopping") == job.id else ""
        st.progress(float(job.progress), text=f"{message}{stopping} · {job.progress:.0%} · {eta_text(job)}")
    if stoppable and not job.is_finished:
        label = "Leave the queue" if job.status == JobStatus.QUEUED else "Stop"
        st.button(
            label,
            key=f"{key}.stop",
            on_click=_request_stop,
            args=(job, key),
            icon=":material/stop:",
            help="Ends the run now and keeps what it has learned so far, marked 'stopped'.",
        )


def _request_stop(job: Job, key: str) -> None:
    job.request_stop()
    st.session_state[f"{key}.stopping"] = job.id


def follow_job(
    job: Job, body: Callable[[Job], None] | None = None, *, key: str, interval: float = 1.0, stoppable: bool = True
) -> None:
    """Show ``render_job_progress(job)`` and then ``body(job)`` (e.g. live curves), refreshed
    every ``interval`` seconds until the job ends; then rerun the whole page once.

    Call it only for an unfinished job, typically as the last thing on the page.
    """

    @st.fragment(run_every=interval)
    def live_view() -> None:
        if job.is_finished:
            st.rerun()  # the whole page, which now shows the result
        render_job_progress(job, key=key, stoppable=stoppable)
        if body is not None:
            body(job)

    live_view()
