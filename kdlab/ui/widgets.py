"""Small reusable widgets: teacher and student pickers, model sizes, the loss formula, a soft-target
preview, page links."""

from __future__ import annotations

import streamlit as st
import torch
from streamlit.errors import StreamlitAPIException

from kdlab.classroom.lab_settings import MLP_WIDTHS
from kdlab.classroom.links import escape_markdown, shown
from kdlab.experiments.distill import DEFAULT_TEACHER
from kdlab.ml.data import MnistData
from kdlab.ml.metrics import softened_probabilities
from kdlab.ml.models import ARCHITECTURES, MLP_DEPTH_RANGE, describe_model, mlp_name
from kdlab.plots import lab as plots
from kdlab.teachers.ensembles import ENSEMBLE_PRESETS, describe_teacher, parse_teacher_name
from kdlab.teachers.teacher import Teacher
from kdlab.ui.resources import teacher_is_cached

PREVIEW_IMAGE = 0  # the test set's first image (a 7 in full MNIST)
ADVANCED_LABEL = "Advanced"  # the label every Advanced section starts with (tests find them by it)

MLP_FAMILY = "MLP"
FAMILY_LABELS = {
    MLP_FAMILY: "MLP (choose width and depth)",
    "lenet5": "LeNet-5",
    "cnn": "Small CNN",
    "linear": "Linear (logistic regression)",
    "mlp-1200x2": "Hinton's MLP 1200x2 (dropout)",
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
        f"{name} ({describe_teacher(name).parameters:,} parameters{', cached' if teacher_is_cached(name) else ''})"
        for name in options
    )
    kwargs.setdefault(
        "help",
        f"Trained once on first use, then cached for everyone: {names}. Type your own ensemble as "
        "ensemble:cnn,lenet5 (different architectures) or ensemble:lenet5*4 (seeds of one); it teaches with the "
        "average of its members' softened probabilities.",
    )
    kwargs.setdefault("index", options.index(DEFAULT_TEACHER))  # the lab's and the explorer's default teacher
    chosen = st.selectbox(label, options, key=key, accept_new_options=True, **kwargs)
    if not validate:
        return chosen
    try:
        return parse_teacher_name(chosen).name
    except ValueError as error:
        st.error(f"**Teacher {shown(chosen)} is not one kdlab knows.** {escape_markdown(error)}")
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
        format_func=lambda name: FAMILY_LABELS.get(name, name),
        horizontal=True,
        persist_state=persist_state,
        disabled=disabled,
        help="The student is trained twice: once distilled from the teacher, once alone.",
    )
    if family != MLP_FAMILY:
        return family
    width = st.select_slider(
        "Width (units per hidden layer)",
        MLP_WIDTHS,
        value=300,
        key=f"{key_prefix}.width",
        persist_state=persist_state,
        disabled=disabled,
    )
    depth = st.slider(
        "Depth (hidden layers)",
        *MLP_DEPTH_RANGE,
        value=2,
        key=f"{key_prefix}.depth",
        persist_state=persist_state,
        disabled=disabled,
    )
    return mlp_name(width, depth)


def _megaflops(flops: int) -> str:
    return f"{flops / 1e6:.2f} MFLOPs" if flops >= 1e5 else f"{flops / 1e3:.1f} kFLOPs"


def model_sizes(teacher: str, student: str) -> None:
    """Parameters and compute of teacher and student, and the compression ratio, in one caption."""
    t, s = describe_teacher(teacher), describe_model(student)
    ratio = t.parameters / s.parameters
    compute = t.flops_per_image / s.flops_per_image
    if ratio >= 1:
        size = f"**{ratio:.1f}× fewer parameters** than the teacher"
    else:
        size = f"**{1 / ratio:.1f}× more parameters** than the teacher"
    speed = f"{compute:.1f}× less compute per image" if compute >= 1 else f"{1 / compute:.1f}× more compute per image"
    st.caption(
        f"Student {student}: {s.parameters:,} parameters, {_megaflops(s.flops_per_image)} per image. "
        f"Teacher {teacher}: {t.parameters:,} parameters, {_megaflops(t.flops_per_image)}. "
        f"The student has {size} and needs {speed}."
    )


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
    figure.update_layout(title_text=f"At T = 1 and T = {temperature:g}")  # the column is narrow: short labels
    figure.update_traces(x=[str(digit) for digit in range(10)]).update_xaxes(tickangle=0, title_text=None)
    st.plotly_chart(figure, key=key)
    st.caption(
        f"The teacher's soft targets for the first test image (a {label}), on a log scale: the "
        "wrong digits' share grows with T. The explorer shows any digit."
    )


def advanced_section(expanded: bool, what: str = ""):
    """An "Advanced" expander (TCKD and NCKD, calibration, the optimiser): closed unless ``expanded`` (a link's
    ``advanced=1``, ``kdlab.classroom.links``); ``what`` says what is inside."""
    return st.expander(ADVANCED_LABEL + (f": {what}" if what else ""), expanded=expanded, icon=":material/tune:")


def page_link(path: str, label: str, icon: str | None = None, query_params: dict[str, str] | None = None) -> None:
    """``st.page_link`` to a page of the navigation (with ``query_params``, e.g. a replay's tab);
    bold text when the page runs alone."""
    try:
        st.page_link(path, label=label, icon=icon, query_params=query_params)
    except StreamlitAPIException:  # StreamlitPageNotFoundError: no navigation around this page
        st.markdown(f"**{label}**")
