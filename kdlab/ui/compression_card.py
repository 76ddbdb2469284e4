"""The compression card of a lab run: measured on request (it times the models), kept for the session.

What is measured: the teacher from the server's teacher cache, the distilled student from the run's
weights, and for the student alone (whose weights a run does not keep) the same architecture, freshly
built: its size and speed are the distilled student's architecture's, its accuracy the run's, its
calibration unknown.
"""

from __future__ import annotations

import dataclasses

import streamlit as st

from kdlab.experiments.compression_card import ModelCard, headline, measure_card
from kdlab.ml.models import build_model
from kdlab.ml.train import predict_logits
from kdlab.plots import compression as plots
from kdlab.runs.record import RunRecord, model_from_bytes
from kdlab.ui.resources import cached_teacher, get_data

CARDS_KEY = "lab.cards"  # run id -> {role: card dict}, this session's measured cards
ROLE_WORDS = {"teacher": "Teacher", "distilled": "Distilled student", "baseline": "Student alone"}


def measure_record_cards(record: RunRecord) -> tuple[dict[str, dict], list[str]]:
    """The cards of ``record``'s models (by the lab's role names) and notes on what could not be measured."""
    data, config, notes = get_data(), record.config, []
    cards: dict[str, ModelCard] = {}
    teacher = cached_teacher(config["teacher"])
    if teacher is not None and teacher.record.test_errors == record.errors("teacher"):
        cards["teacher"] = measure_card(
            teacher.model, config["teacher"], test_logits=teacher.test_logits, labels=data.test.labels
        )
    else:
        notes.append("The teacher of this run is not in the server's teacher cache, so it was not measured.")
    if record.student_weights is not None:
        model = model_from_bytes(record.student_weights, config["student"])
        logits = predict_logits(model, data.test.images)
        cards["distilled"] = measure_card(model, config["student"], test_logits=logits, labels=data.test.labels)
    else:
        notes.append("This run's student weights were not kept, so the distilled student was not measured.")
    if record.errors("baseline") is not None:
        alone = measure_card(build_model(config["student"], seed=config["seed"]), config["student"])
        cards["baseline"] = dataclasses.replace(alone, accuracy=record.accuracy("baseline"))
        notes.append(
            "A run keeps the distilled student's weights only: the student alone was measured on its architecture "
            "(the same as the distilled student's, so the same size and speed), its accuracy is the run's and its "
            "calibration is unknown."
        )
    return {role: card.as_dict() for role, card in cards.items()}, notes


def _row(role: str, card: dict) -> dict:
    return {
        "": ROLE_WORDS[role],
        "architecture": card["architecture"],
        "parameters": card["parameters"],
        "MFLOPs per image": card["flops_per_image"] / 1e6,
        "weights (KB)": card["bytes"] / 1e3,
        "ONNX (KB)": card["onnx_bytes"] / 1e3,
        "ms per image": card["latency_ms_one"],
        "ms per 256 images": card["latency_ms_batch256"],
        "test accuracy": None if card["accuracy"] is None else 100 * card["accuracy"],
        "ECE": card["ece"],
    }


def render_compression_card(record: RunRecord, *, key: str) -> None:
    """The card of ``record``: a Measure button, then the headline, the table and the two charts."""
    measured = st.session_state.setdefault(CARDS_KEY, {})
    st.markdown("**Compression card**: what the small model buys, measured on this server's CPU.")
    if record.run_id not in measured:
        offer = st.empty()  # the button goes once the card is measured
        with offer.container():
            pressed = st.button("Measure size, speed and calibration", key=f"{key}.measure", icon=":material/speed:")
            st.caption("Takes a few seconds: it times each model on one thread and exports it to ONNX.")
        if not pressed:
            return
        with st.spinner("Timing the models ..."):
            measured[record.run_id] = measure_record_cards(record)
        offer.empty()
    cards, notes = measured[record.run_id]
    if "teacher" in cards and "distilled" in cards:
        teacher, distilled = (_card(cards[role]) for role in ("teacher", "distilled"))
        st.info(f"**{headline(teacher, distilled)}.**")
    st.dataframe(
        [_row(role, card) for role, card in cards.items()],
        hide_index=True,
        width="stretch",
        column_config={
            "MFLOPs per image": st.column_config.NumberColumn(format="%.2f"),
            "weights (KB)": st.column_config.NumberColumn(format="%.0f"),
            "ONNX (KB)": st.column_config.NumberColumn(format="%.0f"),
            "ms per image": st.column_config.NumberColumn(format="%.3f"),
            "ms per 256 images": st.column_config.NumberColumn(format="%.1f"),
            "test accuracy": st.column_config.NumberColumn(format="%.2f%%"),
            "ECE": st.column_config.NumberColumn(format="%.4f", help="Expected calibration error, 15 bins"),
        },
    )
    threads = next(iter(cards.values()))["threads"] if cards else 1
    st.caption(
        f"Latency: median of repeated timings on {threads} CPU thread, on a server other students share. "
        "Weights: the bytes of the saved state dict; ONNX: the bytes of the exported file. " + " ".join(notes)
    )
    reliability, speed = st.columns(2)
    reliability.plotly_chart(plots.reliability_diagram(cards), key=f"{key}.reliability")
    speed.plotly_chart(plots.accuracy_against_latency(cards), key=f"{key}.speed")


def _card(card: dict) -> ModelCard:
    return ModelCard(**{**card, "reliability": None})
