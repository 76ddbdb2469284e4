"""Streamlit-only helpers for app.py and the pages; ``import kdlab`` never imports this package.

Import as ``from kdlab import ui``. Everything here is safe to call from any page, and
works when a page runs alone (``AppTest.from_file("pages/x.py")``).

Shared, read-only resources (``kdlab.ui.resources``); ``st.cache_resource`` is shared by all
sessions, so only the dataset and trained teachers live there:

- ``get_data() -> MnistData``: MNIST, loaded once per process. On a data error it shows
  ``st.error`` with how to fix it and stops the page.
- ``require_teacher(architecture: str, *, key: str) -> Teacher``: the trained teacher for the
  current data. Cached teachers load at once; otherwise one shared background job trains it
  (every session waiting for it shows its ``st.progress`` bar with ETA and queue position) and
  the page stops here (``st.stop``) until it is ready; the progress view reruns the page then.
  ``key`` namespaces the progress widgets.
- ``cached_teacher(architecture: str) -> Teacher | None``: the teacher if it is already
  trained (memory or disk), never training it.
- ``teacher_is_cached(architecture: str) -> bool`` and ``teacher_cache_dir() -> Path``.
- ``leave_a_core_to_the_server() -> None``: caps torch's threads at the cores minus one, so
  training does not stall against the web server (app.py calls it).

Background jobs (``kdlab.ui.progress``), for ``kdlab.jobs`` jobs:

- ``render_job_progress(job: Job, *, key: str, stoppable: bool = True) -> None``: while
  queued, the queue position; while running, a progress bar with the job's message, percent
  and ETA; a Stop button (``job.request_stop``) unless ``stoppable`` is False.
- ``follow_job(job: Job, body: Callable[[Job], None] | None = None, *, key: str,
  interval: float = 1.0, stoppable: bool = True) -> None``: for an unfinished job, the
  progress view followed by ``body(job)`` (live curves, say) in an ``st.fragment`` that reruns
  every ``interval`` seconds; when the job ends it reruns the whole page once. Under AppTest
  the fragment does not tick: call ``at.run()`` again until the job is finished.
- ``keep_polling(job: Job | None, interval: float = 0.5) -> None``: the simple alternative,
  called LAST on a page: while ``job`` is unfinished, sleep ``interval`` seconds and rerun the
  whole page (every widget too). Under AppTest one ``at.run()`` then lasts until the job ends.
- ``eta_text(job: Job) -> str``: "about 12 s left" style text.

Per-session state (``kdlab.ui.session``), in ``st.session_state`` under "kdlab.*" keys:

- ``session_runs() -> RunStore``: this session's runs (``kdlab.runs.RunStore``).
- ``session_owner() -> str``: a random id for this session, for ``JobRunner.submit(owner=...)``.
- ``remember_job(slot: str, job: Job) -> None`` / ``recall_job(slot: str) -> Job | None``: keep
  a job's id (not the job) in the session, so a run survives page switches.
- ``ensure_entrypoint() -> None``: call first on a page. If a deep link was the first request
  after the server started, Streamlit's legacy ``pages/`` mode runs the page without app.py;
  this reruns it through app.py's navigation.

Widgets (``kdlab.ui.widgets``):

- ``teacher_selectbox(label: str, *, key: str, **kwargs) -> str``: a teacher architecture,
  labelled with its size and whether it is cached.
- ``student_picker(*, key_prefix: str) -> str``: architecture family, MLP width and depth;
  returns the architecture name.
- ``model_sizes(teacher: str, student: str) -> None``: parameters, FLOPs and compression ratio.
- ``loss_formula(temperature: float | None = None, alpha: float | None = None) -> None``: the
  KD loss with ``st.latex``, with the numbers filled in when given.
- ``page_link(path: str, label: str, icon: str | None = None) -> None``: ``st.page_link`` that
  degrades to bold text when the page runs outside the navigation (AppTest of one page).
- ``render_run_result(record: RunRecord, *, key: str) -> None``: the result of a lab run
  (``kdlab.ui.results``): outcome sentence, metrics, curves, per-class accuracy, confusion.

Sidebar (``kdlab.ui.sidebar``): ``render_sidebar() -> None``: data source, device, teacher
cache, training queue.
"""

from kdlab.ui.progress import eta_text, follow_job, keep_polling, render_job_progress
from kdlab.ui.resources import (cached_teacher, get_data, leave_a_core_to_the_server, require_teacher,
                                teacher_cache_dir, teacher_is_cached)
from kdlab.ui.results import render_run_result
from kdlab.ui.session import ensure_entrypoint, recall_job, remember_job, session_owner, session_runs
from kdlab.ui.sidebar import render_sidebar
from kdlab.ui.widgets import loss_formula, model_sizes, page_link, student_picker, teacher_selectbox

__all__ = [
    "cached_teacher", "ensure_entrypoint", "eta_text", "follow_job", "get_data", "keep_polling",
    "leave_a_core_to_the_server", "loss_formula", "model_sizes", "page_link", "recall_job", "remember_job",
    "render_job_progress", "render_run_result", "render_sidebar", "require_teacher", "session_owner", "session_runs",
    "student_picker", "teacher_cache_dir", "teacher_is_cached", "teacher_selectbox",
]
