"""Small reusable widgets: teacher and student pickers, model sizes, the loss formula, a soft-target
preview, page links."""

from __future__ import annotations

import streamlit as st
import torch
from streamlit.errors import StreamlitAPIException

from kdlab.classroom.lab_settings import MLP_WIDTHS
from kdlab.classroom.links import escape_markdown, shown
from kdlab.experiments.distill import DEFAULT_TEACHER
from kdlab.i18n import N_, _, number
from kdlab.ml.data import MnistData
from kdlab.ml.metrics import softened_probabilities
from kdlab.ml.models import ARCHITECTURES, MLP_DEPTH_RANGE, describe_model, mlp_name
from kdlab.plots import lab as plots
from kdlab.teachers.ensembles import ENSEMBLE_PRESETS, describe_teacher, parse_teacher_name
from kdlab.teachers.teacher import Teacher
from kdlab.ui.resources import teacher_is_cached

PREVIEW_IMAGE = 0  # the test set's first image (a 7 in full MNIST)
ADVANCED_LABEL = N_("Advanced")  # the label every Advanced section starts with (tests find them by it)

MLP_FAMILY = "MLP"
FAMILY_LABELS = {
    MLP_FAMILY: N_("MLP (choose width and depth)"),
    "lenet5": N_("LeNet-5"),
    "cnn": N_("Small CNN"),
    "linear": N_("Linear (logistic regression)"),
    "mlp-1200x2": N_("Hinton's MLP 1200x2 (dropout)"),
}


def teacher_selectbox(label: str, *, key: str, validate: bool = True, **kwargs) -> str:
    """A teacher from the model zoo, or an ensemble of them; returns its canonical name.

    Options are the bare names, so that with ``bind="query-params"`` a link like ``?<key>=lenet5``
    or ``?<key>=ensemble:cnn*5`` selects a teacher. Any ``ensemble:...`` name can be typed in; a
    name that does not parse (from the box or a link) shows what to write instead and stops the
    page. Inside a form, where stopping would drop the submit button, ``validate=False`` returns
    the name as typed and leaves the check to the config the form builds.
    """
    options = list(ARCHITECTURES) + list(ENSEMBLE_PRESETS)
    names = ", ".join(
        (
            _("{name} ({parameters} parameters, cached)")
            if teacher_is_cached(name)
            else _("{name} ({parameters} parameters)")
        ).format(name=name, parameters=number(describe_teacher(name).parameters))
        for name in options
    )
    kwargs.setdefault(
        "help",
        _(
            "Trained once on first use, then cached for everyone: {names}. Type your own ensemble as "
            "`ensemble:cnn,lenet5` (different architectures) or `ensemble:lenet5*4` (seeds of one); it teaches with "
            "the average of its members' softened probabilities."
        ).format(names=names),
    )
    kwargs.setdefault("index", options.index(DEFAULT_TEACHER))  # the lab's and the explorer's default teacher
    chosen = st.selectbox(label, options, key=key, accept_new_options=True, **kwargs)
    if not validate:
        return chosen
    try:
        return parse_teacher_name(chosen).name
    except ValueError as error:
        problem = _("**Teacher {name} is not one kdlab knows.**").format(name=shown(chosen))
        st.error(f"{problem} {escape_markdown(error)}")
        st.stop()


def student_picker(
    label: str, *, key_prefix: str, persist_state: str | None = "session", disabled: bool = False
) -> str:
    """Architecture family (the radio is labelled ``label``), and for the MLP family its width and
    depth; returns the name. ``disabled``: shown but locked (an assignment link set the student)."""
    family = st.radio(
        label,
        [MLP_FAMILY, *ARCHITECTURES],
        key=f"{key_prefix}.family",
        format_func=lambda name: _(FAMILY_LABELS[name]) if name in FAMILY_LABELS else name,
        horizontal=True,
        persist_state=persist_state,
        disabled=disabled,
        help=_("The student is trained twice: once distilled from the teacher, once alone."),
    )
    if family != MLP_FAMILY:
        return family
    width = st.select_slider(
        _("Width (units per hidden layer)"),
        MLP_WIDTHS,
        value=300,
        key=f"{key_prefix}.width",
        persist_state=persist_state,
        disabled=disabled,
    )
    depth = st.slider(
        _("Depth (hidden layers)"),
        *MLP_DEPTH_RANGE,
        value=2,
        key=f"{key_prefix}.depth",
        persist_state=persist_state,
        disabled=disabled,
    )
    return mlp_name(width, depth)


def _megaflops(flops: int) -> str:
    if flops >= 1e5:
        return _("{count} MFLOPs").format(count=number(flops / 1e6, 2))
    return _("{count} kFLOPs").format(count=number(flops / 1e3, 1))


def model_sizes(teacher: str, student: str) -> None:
    """Parameters and compute of teacher and student, and the compression ratio, in one caption."""
    t, s = describe_teacher(teacher), describe_model(student)
    ratio = t.parameters / s.parameters
    compute = t.flops_per_image / s.flops_per_image
    sizes = _(
        "Student {student}: {student_parameters} parameters, {student_compute} per image. "
        "Teacher {teacher}: {teacher_parameters} parameters, {teacher_compute}."
    ).format(
        student=student,
        student_parameters=number(s.parameters),
        student_compute=_megaflops(s.flops_per_image),
        teacher=teacher,
        teacher_parameters=number(t.parameters),
        teacher_compute=_megaflops(t.flops_per_image),
    )
    if ratio >= 1 and compute >= 1:
        comparison = _(
            "The student has **{size}× fewer parameters** than the teacher and needs {speed}× less compute per image."
        )
    elif ratio >= 1:
        comparison = _(
            "The student has **{size}× fewer parameters** than the teacher and needs {speed}× more compute per image."
        )
    elif compute >= 1:
        comparison = _(
            "The student has **{size}× more parameters** than the teacher and needs {speed}× less compute per image."
        )
    else:
        comparison = _(
            "The student has **{size}× more parameters** than the teacher and needs {speed}× more compute per image."
        )
    size, speed = (ratio if ratio >= 1 else 1 / ratio), (compute if compute >= 1 else 1 / compute)
    st.caption(sizes + " " + comparison.format(size=number(size, 1), speed=number(speed, 1)))


def loss_formula(temperature: float | None = None, alpha: float | None = None) -> None:
    """The knowledge-distillation loss (Hinton et al. 2015) with ``st.latex``; with ``temperature``
    and ``alpha`` it also shows the weights those values give each term."""
    st.latex(
        r"\mathcal{L} = \alpha\,T^2\,\mathrm{KL}\!\left(\mathrm{softmax}(z_t/T)\,\middle\|\,"
        r"\mathrm{softmax}(z_s/T)\right) + (1-\alpha)\,\mathrm{CE}\!\left(\mathrm{softmax}(z_s),\,y\right)"
    )
    if temperature is not None and alpha is not None:
        soft_weight = alpha * temperature**2
        st.latex(
            rf"\mathcal{{L}} = {alpha:g}\cdot{temperature:g}^2\cdot\mathrm{{KL}}_{{T={temperature:g}}}"
            rf" + {1 - alpha:.2g}\cdot\mathrm{{CE}} = {soft_weight:.3g}\,\mathrm{{KL}} + {1 - alpha:.2g}"
            rf"\,\mathrm{{CE}}"
        )


def soft_targets_preview(teacher: Teacher, data: MnistData, temperature: float, *, key: str) -> None:
    """The teacher's probabilities for one test image at T = 1 and at ``temperature``: the soft
    targets the student learns from. An ensemble's are the mean of its members' softened ones."""
    networks = teacher.members or [teacher]
    logits = torch.stack([network.test_logits[PREVIEW_IMAGE] for network in networks])  # (M, 10)
    plain = softened_probabilities(logits, 1.0).mean(0)
    softened = softened_probabilities(logits, temperature).mean(0)
    label = int(data.test.labels[PREVIEW_IMAGE])
    figure = plots.probability_bars(plain.tolist(), softened.tolist(), temperature, label, log_scale=True, height=280)
    figure.update_layout(
        title_text=_("At T = 1 and T = {temperature}").format(temperature=number(temperature))
    )  # the column is narrow: short labels
    figure.update_traces(x=[str(digit) for digit in range(10)]).update_xaxes(tickangle=0, title_text=None)
    st.plotly_chart(figure, key=key)
    st.caption(
        _(
            "The teacher's soft targets for the first test image (a {digit}), on a log scale: the wrong digits' share "
            "grows with T. The explorer shows any digit."
        ).format(digit=label)
    )


def advanced_section(expanded: bool, what: str = ""):
    """An "Advanced" expander (TCKD and NCKD, calibration, the optimiser): closed unless ``expanded`` (a link's
    ``advanced=1``, ``kdlab.classroom.links``); ``what`` says what is inside."""
    label = _("Advanced: {what}").format(what=what) if what else _(ADVANCED_LABEL)
    return st.expander(label, expanded=expanded, icon=":material/tune:")


def page_link(path: str, label: str, icon: str | None = None, query_params: dict[str, str] | None = None) -> None:
    """``st.page_link`` to a page of the navigation (with ``query_params``, e.g. a replay's tab);
    bold text when the page runs alone."""
    try:
        st.page_link(path, label=label, icon=icon, query_params=query_params)
    except StreamlitAPIException:  # StreamlitPageNotFoundError: no navigation around this page
        st.markdown(f"**{label}**")
