"""Shared read-only resources: the dataset and trained teachers, one copy per server process.

``st.cache_resource`` is shared by every session, so it holds only things no session
mutates: the MNIST tensors and trained teachers (with their precomputed logits). A teacher
that is not cached yet is trained once, by one background job that every waiting session
watches, so thirty students opening the explorer at once start one training, not thirty; on the explorer
a quick teacher, trained in seconds by one shared job too, stands in meanwhile (``teacher_or_stand_in``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st

from kdlab.classroom.links import escape_markdown
from kdlab.i18n import ngettext, number
from kdlab.ml.data import DataError, MnistData, default_cache_dir, is_offline, load_mnist
from kdlab.serve.gate import admit_quick_teacher, admit_teacher
from kdlab.serve.jobs import cap_torch_threads, default_runner
from kdlab.serve.runner import Job
from kdlab.serve.tasks import TEACHER_JOBS
from kdlab.settings import current_settings
from kdlab.teachers import quick as quick_teacher
from kdlab.teachers.cache import is_teacher_cached, load_cached_teacher
from kdlab.teachers.teacher import Teacher, default_teacher_epochs
from kdlab.ui.client import client_address
from kdlab.ui.progress import follow_job
from kdlab.ui.session import session_owner

log = logging.getLogger(__name__)


def leave_a_core_to_the_server() -> None:
    """Cap torch's threads so the runner's concurrent trainings fit the cores left after one for
    the web server (``kdlab.serve.jobs.cap_torch_threads``: one thread each when several run at once).

    Why: torch's intra-op threads wait on each other, and when they outnumber the free cores
    (the web server and page reruns need one) every step stalls. Measured on a shared 2-core
    machine: the default lab run on full MNIST took 378 s with 2 threads, 63 s with 1. An
    explicit ``OMP_NUM_THREADS`` is left alone. Cheap and idempotent: app.py calls it each run.
    """
    cap_torch_threads(default_runner().max_concurrent)


@st.cache_resource(show_spinner="Loading MNIST ...")
def _load_data(data_dir: str | None, cache_dir: str, offline: bool) -> MnistData:
    # The arguments are the environment load_mnist reads, so they are the cache key.
    return load_mnist(data_dir, cache_dir=cache_dir, offline=offline)


def load_data() -> MnistData:
    """``load_mnist()`` for the current environment, once per process; raises ``DataError``."""
    data_dir = current_settings().data_dir
    return _load_data(str(data_dir) if data_dir else None, str(default_cache_dir()), is_offline())


def get_data() -> MnistData:
    """MNIST from the first source that works, loaded once per process.

    A data folder that was asked for but is unusable shows ``st.error`` with what is wrong and stops the
    page (never a traceback); the message names no server folder (``DataError.advice``), the log does.
    """
    try:
        return load_data()
    except DataError as error:
        log.error("No usable MNIST data: %s", error)
        st.error(f"**No usable MNIST data.** {error.advice} Tell your instructor.")
        st.stop()


def teacher_cache_dir() -> Path:
    """Where trained teachers are cached (``KDLAB_CACHE_DIR``/teachers)."""
    return default_cache_dir() / "teachers"


def teacher_is_cached(architecture: str) -> bool:
    """True when the default teacher of this architecture (or every member of this ensemble) is on disk."""
    return is_teacher_cached(architecture, get_data())


def cached_teacher(architecture: str) -> Teacher | None:
    """The trained teacher if it is cached (on disk or finished in this process); never trains, not even for a
    corrupt or old-format file: that is removed (``kdlab.teachers.cache.load_cached_teacher``), so
    ``require_teacher`` queues its training like any untrained teacher's.

    Loaded through ``kdlab.teachers.cache``, the process's one bounded memory cache of teachers.
    """
    return load_cached_teacher(architecture, get_data())


def _admit_teacher(architecture: str) -> Job:
    """The job training ``architecture`` through the gate (within the cap, this student's own unless a
    preset); a refusal is shown and stops the page."""
    try:
        return admit_teacher(
            default_runner(),
            architecture,
            get_data(),
            default_cache_dir(),
            owner=session_owner(),
            client=client_address(),
        )
    except ValueError as error:  # over the cap, this student already has a job, or the queue is full
        st.error(f"**The teacher {architecture} cannot be trained now.** {escape_markdown(error)}")
        st.stop()


def require_teacher(architecture: str, *, key: str) -> Teacher:
    """The trained teacher; if it is not cached, train it in a job (``kdlab.serve.gate.admit_teacher``) and
    stop the page.

    While the teacher trains, the page shows a progress bar with ETA (or the queue position),
    refreshed every second, and nothing below it; once trained, the teacher is cached on disk
    and in memory for every session.
    """
    teacher = cached_teacher(architecture)
    if teacher is not None:
        return teacher
    data, runner = get_data(), default_runner()
    job = TEACHER_JOBS.existing(runner, architecture, data, default_cache_dir())
    if job is not None and job.is_finished:
        if is_teacher_cached(architecture, data):
            st.rerun()  # it finished a moment ago
        outcome = job.error_kind if job.error else (job.result.status if job.result is not None else job.status)
        st.error(f"Training the teacher {architecture} did not finish ({outcome}). Press the button to try again.")
        if st.button("Train the teacher again", key=f"{key}.retry"):
            _admit_teacher(architecture)
            st.rerun()
        st.stop()
    job = _admit_teacher(architecture)
    epochs = default_teacher_epochs(len(data.train))
    st.info(
        f"**Training the teacher {architecture}** ({epochs} epochs on {len(data.train):,} images). This "
        "happens once: the trained teacher is cached for every session and every later visit."
    )
    follow_job(job, key=key, stoppable=False)
    st.stop()


def teacher_or_stand_in(architecture: str, *, key: str) -> tuple[Teacher, Job | None]:
    """The trained teacher and None; or, while a teacher that takes long to train is trained, the quick
    teacher standing in for it (``kdlab.teachers.quick``) and the job training it, for the page to follow.

    The first time, the quick teacher trains (seconds, one shared job for every session) while the page shows
    its progress and stops, as ``require_teacher`` does. A teacher about as quick to train as the quick one,
    one whose training ended without a teacher, or a quick teacher that could not be trained: ``require_teacher``.
    """
    teacher = cached_teacher(architecture)
    if teacher is not None:
        return teacher, None
    data, runner, cache = get_data(), default_runner(), default_cache_dir()
    job = TEACHER_JOBS.existing(runner, architecture, data, cache)
    if not quick_teacher.needs_a_stand_in(architecture, data) or (job is not None and job.is_finished):
        return require_teacher(architecture, key=key), None
    quick = quick_teacher.cached_quick_teacher(data)
    quick_job = None if quick is not None else admit_quick_teacher(runner, data, cache)
    job = _admit_teacher(architecture)  # after the quick one: on a busy server the quick one starts first
    quick = quick or quick_teacher.cached_quick_teacher(data)  # its job may have ended meanwhile
    if quick is not None:  # read, never trained here: a page request trains nothing
        return quick, job
    if quick_job.is_finished:  # without a quick teacher: wait for the chosen one
        return require_teacher(architecture, key=key), None
    epochs = quick_teacher.quick_teacher_epochs(data)
    st.info(
        ngettext(
            "**Training a quick teacher first** ({quick}, {count} epoch on {images} images: seconds), to show you "
            "the dark knowledge now. The teacher you chose, {chosen}, trains meanwhile ({chosen_epochs} epochs) and "
            "replaces it on this page when it is ready. Both train once, for every session.",
            "**Training a quick teacher first** ({quick}, {count} epochs on {images} images: seconds), to show you "
            "the dark knowledge now. The teacher you chose, {chosen}, trains meanwhile ({chosen_epochs} epochs) and "
            "replaces it on this page when it is ready. Both train once, for every session.",
            epochs,
        ).format(
            quick=quick_teacher.QUICK_TEACHER.architecture,
            count=epochs,
            images=number(len(data.train)),
            chosen=architecture,
            chosen_epochs=default_teacher_epochs(len(data.train)),
        )
    )
    follow_job(quick_job, key=f"{key}.quick", stoppable=False)
    st.stop()
