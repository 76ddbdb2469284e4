"""The Training schemes page: the settings form -> ``SchemeConfig`` -> a background job -> one chart per scheme."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.links import escape_markdown
from kdlab.experiments.schemes import SCHEME_DESCRIPTIONS, SCHEME_PAPERS, SCHEME_TITLES, SCHEMES, SchemeConfig
from kdlab.i18n import _, number
from kdlab.ml.data import MnistData
from kdlab.ml.models import ARCHITECTURES, mlp_name
from kdlab.serve.gate import admit_schemes
from kdlab.serve.jobs import default_runner
from kdlab.serve.runner import Job, JobStatus
from kdlab.ui.client import client_address
from kdlab.ui.progress import follow_job
from kdlab.ui.resources import get_data
from kdlab.ui.schemes import render_comparison
from kdlab.ui.session import recall_job, remember_job, session_owner
from kdlab.ui.widgets import teacher_selectbox

SLOT = "schemes"
TRAIN_SIZES = {"1,000": 1_000, "5,000": 5_000, "10,000": 10_000, "all": None}  # labels: train_size_label
# One-hidden-layer MLPs by name, labelled with their width; the defaults come from SchemeConfig.
ASSISTANT_WIDTHS = {mlp_name(width, 1): f"{width}" for width in (50, 100, 200, 300, 500, 800)}
STUDENT_WIDTHS = {mlp_name(width, 1): f"{width}" for width in (10, 20, 30, 50, 100, 200)}


def train_size_label(label: str) -> str:
    """A training-set size as the form shows it: the number in the current language's digits, or "all"."""
    size = TRAIN_SIZES[label]
    return _("all") if size is None else number(size)


def paper_line(name: str) -> str:
    """The paper of scheme ``name``, its authors and title as published, in italics."""
    return "*" + _("Paper: {reference}").format(reference=SCHEME_PAPERS[name]) + "*"


def settings_form() -> tuple[list[str], dict[str, object], bool]:
    """The form: the schemes chosen, ``SchemeConfig.build``'s settings, and whether it was sent."""
    defaults = SchemeConfig()
    training = defaults.training
    with st.form("schemes.settings"):
        chosen = st.multiselect(
            _("Schemes"),
            list(SCHEMES),
            default=list(SCHEMES),
            format_func=lambda name: _(SCHEME_TITLES[name]),
            key="schemes.chosen",
        )
        left, middle, right = st.columns(3)
        with left:  # any architecture or ensemble; SchemeConfig checks a typed-in name when the form is sent
            teacher = teacher_selectbox(
                _("Teacher"), key="schemes.teacher", validate=False, index=list(ARCHITECTURES).index(defaults.teacher)
            )
        assistant = middle.select_slider(
            _("Assistant: units (1 hidden layer)"),
            list(ASSISTANT_WIDTHS),
            value=defaults.assistant,
            format_func=ASSISTANT_WIDTHS.get,
            key="schemes.assistant",
        )
        student = right.select_slider(
            _("Student: units (1 hidden layer)"),
            list(STUDENT_WIDTHS),
            value=defaults.student,
            format_func=STUDENT_WIDTHS.get,
            key="schemes.student",
        )
        left, middle, right = st.columns(3)
        epochs = left.slider(_("Epochs per training run"), 1, 20, training.epochs, key="schemes.epochs")
        default_size = next(label for label, size in TRAIN_SIZES.items() if size == defaults.train_size)
        train_size = middle.select_slider(
            _("Training images"),
            list(TRAIN_SIZES),
            value=default_size,
            format_func=train_size_label,
            key="schemes.train_size",
        )
        generations = right.slider(_("Born-again generations"), 1, 3, defaults.generations, key="schemes.generations")
        left, middle, right = st.columns(3)
        temperature = left.slider(
            _("Temperature T (teacher -> student steps)"),
            1.0,
            20.0,
            training.temperature,
            0.5,
            key="schemes.temperature",
        )
        alpha = middle.slider(_("alpha: weight of the soft term"), 0.0, 1.0, training.alpha, 0.05, key="schemes.alpha")
        seed = right.number_input(_("Seed"), 0, 10_000, training.seed, key="schemes.seed")
        submitted = st.form_submit_button(_("Compare the schemes"), type="primary", icon=":material/play_arrow:")
    settings = {
        "teacher": teacher,
        "assistant": assistant,
        "student": student,
        "temperature": temperature,
        "alpha": alpha,
        "epochs": epochs,
        "train_size": TRAIN_SIZES[train_size],
        "generations": generations,
        "seed": int(seed),
    }
    return chosen, settings, submitted


def start_comparison(chosen: list[str], settings: dict[str, object], data: MnistData, job: Job | None) -> Job | None:
    """The comparison the sent form asks for, started in the background (or why not); returns the job to show."""
    if not chosen:
        st.error(_("Choose at least one scheme."))
        return job
    if job is not None and not job.is_finished:
        st.info(_("A comparison is still running: stop it first or wait for it to finish."))
        return job
    try:
        config = SchemeConfig.build(**settings)
        # Over the cost cap, a full queue, or a run of this student's still going: a ValueError too.
        job = admit_schemes(
            default_runner(), config, tuple(chosen), data, owner=session_owner(), client=client_address()
        )
    except ValueError as error:
        st.error(escape_markdown(error))
        return job
    remember_job(SLOT, job)
    return job


def render_schemes_page() -> None:
    """The page below its introduction: what each scheme is, the form, then the comparison's progress or result."""
    with st.expander(_("What each scheme is, in two sentences")):
        for name in SCHEMES:
            st.markdown(
                _("**{scheme}.** {description}").format(
                    scheme=_(SCHEME_TITLES[name]), description=_(SCHEME_DESCRIPTIONS[name])
                )
                + "  \n"
                + paper_line(name)
            )
    data = get_data()
    chosen, settings, submitted = settings_form()
    job = recall_job(SLOT)
    if submitted:
        job = start_comparison(chosen, settings, data, job)
    if job is None:
        return
    if not job.is_finished:
        follow_job(job, key=SLOT)
    elif job.status == JobStatus.FAILED:
        st.error(
            _("The comparison failed on the server ({error}); the details are in its log.").format(error=job.error_kind)
        )
    elif job.result is not None:
        render_comparison(job.result, f"{SLOT}.{job.id}")
