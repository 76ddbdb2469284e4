"""Streamlit-only helpers for app.py and the pages; ``import kdlab`` never imports this package.

Import as ``from kdlab import ui``. Each module holds one concern, and each function documents
itself: ``resources`` (the dataset and trained teachers, shared read-only by every session),
``session`` (the settings check, the student's token, their runs and job ids), ``client`` (the session and
address that rate limits count), ``instructor_key`` (the instructor's key: checked, rate-limited, out of the URL), ``lab`` (the lab's run: Train,
live, cached, result), ``progress`` (the live view of a background job),
``widgets`` (pickers, model sizes, the loss formula, the soft-target preview, page links), ``results`` / ``replays`` /
``compression`` / ``schemes`` (renderers of each experiment's result), ``assignment`` (assignment links, the
prediction, the share control), ``sharing`` (the address students open, a link with its QR code),
``lab_controls`` (the lab's controls, one per row of its settings table), ``board`` and ``instructor`` (the
class board and its controls), ``pages`` (the navigation, from the library's table of pages) and ``sidebar``.
Each page of ``pages/`` is its title and one renderer: ``render_<page>_page`` in ``home``, ``explorer``,
``lab_page``, ``runs_page``, ``replays_page``, ``schemes_page``, ``lessons_page`` and ``board_page``. Everything works when a page runs alone under AppTest.
"""

# Plotly imports pandas on the first figure it validates. When several sessions build their first figures
# at once (a class's first live curves), the threads race on that import and some get a half-imported
# pandas ("partially initialized module 'pandas' has no attribute 'Series"; bench/soak.py, 5 students):
# imported here, once, before any page runs.
import pandas  # noqa: F401, I001

from kdlab.ui.board_page import render_board_page
from kdlab.ui.explorer import render_explorer_page
from kdlab.ui.home import render_home_page
from kdlab.ui.lab import current_ticket, is_busy, render_interrupted_runs, render_lab_run, start_run
from kdlab.ui.lab_page import render_lab_page
from kdlab.ui.lessons_page import render_lessons_page
from kdlab.ui.progress import eta_text, follow_job, render_job_progress
from kdlab.ui.replays_page import render_replays_page
from kdlab.ui.resources import (
    cached_teacher,
    get_data,
    leave_a_core_to_the_server,
    require_teacher,
    teacher_cache_dir,
    teacher_is_cached,
)
from kdlab.ui.results import render_run_result
from kdlab.ui.runs_page import render_runs_page
from kdlab.ui.schemes_page import render_schemes_page
from kdlab.ui.session import (
    ensure_entrypoint,
    recall_job,
    remember_job,
    require_valid_settings,
    session_owner,
    session_runs,
    student_token,
    unsaved_runs,
)
from kdlab.ui.sidebar import render_sidebar
from kdlab.ui.widgets import (
    loss_formula,
    model_sizes,
    page_link,
    soft_targets_preview,
    student_picker,
    teacher_selectbox,
)

__all__ = [
    "render_schemes_page",
    "render_replays_page",
    "render_lessons_page",
    "render_home_page",
    "render_board_page",
    "cached_teacher",
    "current_ticket",
    "ensure_entrypoint",
    "eta_text",
    "follow_job",
    "get_data",
    "is_busy",
    "leave_a_core_to_the_server",
    "loss_formula",
    "model_sizes",
    "page_link",
    "recall_job",
    "remember_job",
    "render_explorer_page",
    "render_interrupted_runs",
    "render_job_progress",
    "render_lab_page",
    "render_lab_run",
    "render_run_result",
    "render_runs_page",
    "render_sidebar",
    "require_teacher",
    "require_valid_settings",
    "session_owner",
    "session_runs",
    "soft_targets_preview",
    "start_run",
    "student_picker",
    "student_token",
    "teacher_cache_dir",
    "teacher_is_cached",
    "teacher_selectbox",
    "unsaved_runs",
]
