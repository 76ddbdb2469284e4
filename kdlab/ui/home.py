"""Home's body, in the session's language: what distillation is, where it comes from, teacher, student and soft
targets, the loss, and a path through the pages."""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.glossary import FirstUses, glossary_link
from kdlab.experiments.distill import DEFAULT_STUDENT, DEFAULT_TEACHER
from kdlab.experiments.replays import REPLAYS
from kdlab.i18n import _, number, percent
from kdlab.ml.models import describe_model
from kdlab.ui.pages import pages_in
from kdlab.ui.widgets import loss_formula, page_link

TEACHER, STUDENT = describe_model(DEFAULT_TEACHER), describe_model(DEFAULT_STUDENT)


def render_home_page() -> None:
    """Home below its title: what distillation is, the history, the three roles, the loss, and the path through
    the pages; each glossary word linked where Home first uses it."""
    words = FirstUses()
    st.markdown(
        words.link(
            _(
                "A big network that already reads handwritten digits well is the **teacher**. A smaller network, the "
                "**student**, can learn more from the teacher than from the labels alone. Why? The teacher gives a "
                "probability for every digit, not only the right answer. Underlined words link to the {glossary}."
            ).format(glossary=glossary_link(_("Glossary")))
        )
    )
    st.subheader(_("Where it comes from"))
    st.markdown(
        words.link(
            _(
                "**2006, model compression.** Bucila, Caruana & Niculescu-Mizil shrank a huge *ensemble* (many networks "
                "voting together) into one small network. The ensemble labelled a large set of extra examples, some made "
                "up with their MUNGE procedure. The small network learned to copy those labels, far more than the small "
                "labelled set alone could teach it.\n\n"
                "**2015, softened targets.** Hinton, Vinyals & Dean (*Distilling the Knowledge in a Neural Network*) made "
                "the copying richer. The student copies the teacher's probabilities, softened by a **temperature** T. "
                "The small probabilities of the wrong digits, the dark knowledge, say which wrong answers are less wrong."
            )
        )
    )
    for replay, label in (
        ("compression", _("Replay Bucila et al.'s model compression (2006)")),
        ("table", _("Replay Hinton et al.'s MNIST table (2015)")),
    ):
        page_link("pages/paper_replays.py", label, ":material/menu_book:", {"replay.tab": REPLAYS[replay].title})

    teacher, student, soft = st.columns(3)
    with teacher:
        st.subheader(_("Teacher"), divider="orange")
        st.markdown(
            words.link(
                _(
                    "A big trained network. On full MNIST the lab's default teacher gets more than {share} of the test "
                    "digits right. It is a convolutional network ({name}) with {parameters} parameters. For an image "
                    "of a 3 it does not only say *3*: it also says how much the image looks like a 5 or an 8."
                ).format(share=percent(0.99), name=DEFAULT_TEACHER, parameters=number(TEACHER.parameters))
            )
        )
    with student:
        st.subheader(_("Student"), divider="blue")
        st.markdown(
            words.link(
                _(
                    "The network we want: {fewer_parameters}x fewer parameters and {less_compute}x less compute per "
                    "image than the teacher (by default an MLP, {name}). The lab trains it twice: once from the "
                    "teacher (the distilled student) and once from the labels alone. Both use the same seed and see "
                    "the images in the same order, so the teacher is the only difference."
                ).format(
                    fewer_parameters=number(TEACHER.parameters / STUDENT.parameters, 0),
                    less_compute=number(TEACHER.flops_per_image / STUDENT.flops_per_image, 0),
                    name=DEFAULT_STUDENT,
                )
            )
        )
    with soft:
        st.subheader(_("Soft targets"), divider="gray")
        st.markdown(
            words.link(
                _(
                    "Divide the teacher's scores (logits) by a temperature T > 1 before the softmax: the wrong digits "
                    "get more probability. Those small probabilities are the **dark knowledge**: they say which digits "
                    "look alike. At T = 1 they are almost invisible. At a very high T every digit gets nearly 1 in 10, "
                    "yet nothing is lost: the small differences left still follow the gaps between the scores."
                )
            )
        )

    st.subheader(_("The temperature and the loss"))
    st.latex(
        r"p_i^{(T)} = \frac{\exp(z_i / T)}{\sum_j \exp(z_j / T)}"
        r"\qquad T = 1:\ \text{"
        + latex_text(_("the usual softmax"))
        + r"};\quad T > 1:\ \text{"
        + latex_text(_("softer, more even"))
        + "}"
    )
    loss_formula()
    st.markdown(
        words.link(
            _(
                "$z_t$ and $z_s$ are the teacher's and the student's logits, $y$ the true label. The first term, a KL "
                "divergence, pulls the student's softened outputs towards the teacher's (the **soft targets**). The "
                "second, a cross-entropy, pulls them towards the label (the **hard target**). alpha ($\\alpha$) sets "
                "the balance.\n\n"
                "Why $T^2$? Softening divides the soft term's gradients by about $T^2$; multiplying by $T^2$ keeps them "
                "the same size at every temperature. So a very high T does not silence the teacher: the soft term then "
                "becomes matching the teacher's logits (Hinton et al. 2015, section 2.1). A lower T pays less attention "
                "to the teacher's very negative logits, which its own training hardly shaped. Whether that helps "
                "depends on the student: try it in lesson 3 and the temperature-width replay."
            )
        )
    )
    render_path()


def latex_text(text: str) -> str:
    """``text`` fit for LaTeX's ``\\text{...}``: its braces, backslashes and the few other special characters escaped
    (a translation may hold any of them)."""
    special = {
        "\\": r"\textbackslash{}",
        "{": r"\{",
        "}": r"\}",
        "$": r"\$",
        "%": r"\%",
        "&": r"\&",
        "#": r"\#",
        "_": r"\_",
        "^": r"\^{}",
        "~": r"\~{}",
    }
    return "".join(special.get(character, character) for character in text)


def render_path() -> None:
    """Home's path through the pages: Learn and Experiment numbered, then Go further."""
    st.subheader(_("Start here"))
    for position, entry in enumerate(pages_in("Learn")[1:] + pages_in("Experiment"), start=1):
        page_link(entry.path, f"{position}. {_(entry.title)}", entry.icon)
        st.caption(_(entry.teaches))
    st.markdown(_("Then go further:"))
    for entry in pages_in("Go further"):
        page_link(entry.path, _(entry.title), entry.icon)
        st.caption(_(entry.teaches))
