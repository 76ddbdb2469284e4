"""Home: knowledge distillation in one screen, and a path through the pages."""

from pathlib import Path

import streamlit as st

from kdlab import ui

ROOT = Path(__file__).resolve().parent.parent

ui.ensure_entrypoint()
st.title("Knowledge distillation, live on MNIST")
st.markdown(
    "A big network that already knows MNIST well, the **teacher**, can teach a smaller or cheaper "
    "network, the **student**, more than the labels alone can. The trick (Hinton, Vinyals & Dean, 2015, "
    "*Distilling the Knowledge in a Neural Network*) is to train the student on the teacher's whole "
    "probability distribution, softened by a **temperature**, and not only on the right answer."
)

teacher, student, soft = st.columns(3)
with teacher:
    st.subheader("Teacher", divider="orange")
    st.markdown("A trained network, here a small CNN that gets about 99% of the test digits right. For an "
                "image of a 3 it does not only say *3*: it also says how much the image looks like a 5 or an 8.")
with student:
    st.subheader("Student", divider="blue")
    st.markdown("The network we want: smaller or cheaper (an MLP here). The lab trains it twice, once from the "
                "teacher (distilled) and once from the labels alone (the baseline), with the same seed and the "
                "same data order, so the teacher is the only difference.")
with soft:
    st.subheader("Soft targets", divider="gray")
    st.markdown("Dividing the teacher's scores (logits) by a temperature T > 1 before the softmax spreads "
                "probability onto the wrong digits. Those small probabilities, the **dark knowledge**, say "
                "which digits look alike; at T = 1 they are almost invisible.")

st.subheader("The temperature and the loss")
st.latex(r"p_i^{(T)} = \frac{\exp(z_i / T)}{\sum_j \exp(z_j / T)}"
         r"\qquad T = 1:\ \text{the usual softmax};\quad T > 1:\ \text{softer, more even}")
ui.loss_formula()
st.markdown(
    "$z_t$ and $z_s$ are the teacher's and the student's logits, $y$ the true label. The first term pulls the "
    "student's softened outputs towards the teacher's (the **soft targets**), the second towards the label "
    "(the **hard target**). $\\alpha$ sets the balance; the $T^2$ keeps the soft term's gradients the same size "
    "whatever the temperature, because softening divides them by about $T^2$."
)

st.subheader("Start here")
steps = [
    ("pages/dark_knowledge.py", "1. Dark knowledge explorer", ":material/thermostat:",
     "Pick a digit and slide the temperature: watch the runner-up digits appear and see which digits the "
     "teacher thinks look alike. Two minutes."),
    ("pages/distillation_lab.py", "2. Distillation lab", ":material/science:",
     "Press **Train** with the defaults and watch the distilled student (blue) pull ahead of the same "
     "student trained alone (grey). About 40 seconds on full MNIST with a 2-core CPU."),
    ("pages/runs.py", "3. Runs", ":material/table_chart:",
     "Compare your runs side by side. Change one thing at a time: the temperature, alpha, the size of the "
     "training set, the student's width."),
]
for path, label, icon, text in steps:
    ui.page_link(path, label, icon)
    st.caption(text)
further = [("pages/paper_replays.py", "Paper replays", ":material/menu_book:"),
           ("pages/training_schemes.py", "Training schemes", ":material/account_tree:")]
available = [(path, label, icon) for path, label, icon in further if (ROOT / path).exists()]
if available:
    st.markdown("Then go further:")
    for path, label, icon in available:
        ui.page_link(path, label, icon)
