"""Home's body: where distillation comes from, teacher, student and soft targets, the loss, and a path through
the pages."""

from __future__ import annotations

import streamlit as st

from kdlab.experiments.distill import DEFAULT_STUDENT, DEFAULT_TEACHER
from kdlab.experiments.replays import REPLAYS
from kdlab.ml.models import describe_model
from kdlab.ui.pages import pages_in
from kdlab.ui.widgets import loss_formula, page_link

TEACHER, STUDENT = describe_model(DEFAULT_TEACHER), describe_model(DEFAULT_STUDENT)


def render_home_page() -> None:
    """Home below its introduction: the history, the three roles, the loss, and the path through the pages."""
    st.subheader("Where it comes from")
    st.markdown(
        "**2006, model compression.** Bucila, Caruana & Niculescu-Mizil shrank a huge *ensemble* into one small "
        "network by letting the ensemble label a large set of extra or synthetic examples (made with their MUNGE "
        "procedure) and training the small network to copy those labels, so it learned far more than the small "
        "labelled set alone could teach.\n\n"
        "**2015, softened targets.** Hinton, Vinyals & Dean (*Distilling the Knowledge in a Neural Network*) made "
        "the copying richer: the student matches the teacher's (or an ensemble's averaged) probabilities softened by "
        "a **temperature** T, whose small values, the dark knowledge, say which wrong answers are less wrong."
    )
    for replay, label in (
        ("compression", "Replay Bucila et al.'s model compression (2006)"),
        ("table", "Replay Hinton et al.'s MNIST table (2015)"),
    ):
        page_link("pages/paper_replays.py", label, ":material/menu_book:", {"replay.tab": REPLAYS[replay].title})

    teacher, student, soft = st.columns(3)
    with teacher:
        st.subheader("Teacher", divider="orange")
        st.markdown(
            f"A big trained network: in the lab by default a convolutional network ({DEFAULT_TEACHER}) with "
            f"{TEACHER.parameters:,} parameters that gets more than 99% of the test digits right. For an image of a 3 "
            "it does not only say *3*: it also says how much the image looks like a 5 or an 8."
        )
    with student:
        st.subheader("Student", divider="blue")
        st.markdown(
            f"The network we want: by default an MLP ({DEFAULT_STUDENT}) with "
            f"{TEACHER.parameters / STUDENT.parameters:.0f}x fewer parameters and "
            f"{TEACHER.flops_per_image / STUDENT.flops_per_image:.0f}x less compute per image. "
            "The lab trains it twice, once from the teacher (distilled) and once from the labels alone "
            "(the baseline), with the same seed and the same data order, so the teacher is the only difference."
        )
    with soft:
        st.subheader("Soft targets", divider="gray")
        st.markdown(
            "Dividing the teacher's scores (logits) by a temperature T > 1 before the softmax spreads "
            "probability onto the wrong digits. Those small probabilities, the **dark knowledge**, say "
            "which digits look alike; at T = 1 they are almost invisible. At a very high T every digit gets nearly "
            "1 in 10, yet nothing is lost: the small differences that remain keep the differences between the scores."
        )

    st.subheader("The temperature and the loss")
    st.latex(
        r"p_i^{(T)} = \frac{\exp(z_i / T)}{\sum_j \exp(z_j / T)}"
        r"\qquad T = 1:\ \text{the usual softmax};\quad T > 1:\ \text{softer, more even}"
    )
    loss_formula()
    st.markdown(
        "$z_t$ and $z_s$ are the teacher's and the student's logits, $y$ the true label. The first term pulls the "
        "student's softened outputs towards the teacher's (the **soft targets**), the second towards the label "
        "(the **hard target**). $\\alpha$ sets the balance; the $T^2$ keeps the soft term's gradients the same size "
        "whatever the temperature, because softening divides them by about $T^2$. So a very high T does not "
        "silence the teacher: in that limit the soft term becomes matching the teacher's logits (Hinton et al. 2015, "
        "section 2.1). Lower temperatures pay less attention to the teacher's very negative logits, which its own "
        "training hardly constrained; whether that helps depends on the student (lesson 3, and the "
        "temperature-width replay)."
    )
    render_path()


def render_path() -> None:
    """Home's path through the pages: Learn and Experiment numbered, then Go further."""
    st.subheader("Start here")
    for number, entry in enumerate(pages_in("Learn")[1:] + pages_in("Experiment"), start=1):
        page_link(entry.path, f"{number}. {entry.title}", entry.icon)
        st.caption(entry.teaches)
    st.markdown("Then go further:")
    for entry in pages_in("Go further"):
        page_link(entry.path, entry.title, entry.icon)
        st.caption(entry.teaches)
