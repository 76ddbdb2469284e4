"""The compression card of a lab run: measured on request (it times the models), kept for the session.

The cards come from ``kdlab.runs.cards.record_cards`` (the teacher from the server's teacher cache, the
distilled student and the student alone from the run's weights). The accuracy-against-latency chart
also shows the class's runs when the student's runs count for a class (``kdlab.classroom.class_card``):
their accuracy from the class board's summaries, their speed measured once per architecture and shared.
"""

from __future__ import annotations

import streamlit as st

from kdlab.classroom.board import ClassRun
from kdlab.classroom.class_card import ClassPoint, class_points
from kdlab.classroom.classes import find_class
from kdlab.classroom.glossary import term_link
from kdlab.db.database import StorageError, open_database
from kdlab.experiments.card import ECE_BINS, ModelCard, headline, latency_ms
from kdlab.i18n import N_, _, ngettext, number, percent
from kdlab.ml.models import build_model
from kdlab.plots import card as plots
from kdlab.runs.cards import record_cards
from kdlab.runs.record import RunRecord
from kdlab.ui.board import board_snapshot
from kdlab.ui.resources import cached_teacher, get_data
from kdlab.ui.session import CLASS_KEY
from kdlab.ui.widgets import advanced_section

CARDS_KEY = "lab.cards"  # run id -> ({role: card dict}, notes), this session's measured cards
ROLE_WORDS = {"teacher": N_("Teacher"), "distilled": N_("Distilled student"), "baseline": N_("Student alone")}
BOARD_FONT = 14  # the board's normal text size: the card shares the board's cached snapshot


def measure_record_cards(record: RunRecord) -> tuple[dict[str, dict], list[str]]:
    """The cards of ``record``'s models (by the lab's role names) and notes on what could not be measured."""
    cards, notes = record_cards(record, get_data().test, cached_teacher(record.config["teacher"]))
    return {role: card.as_dict() for role, card in cards.items()}, notes


@st.cache_resource(max_entries=64, show_spinner=False)
def architecture_latency_ms(architecture: str) -> float | None:
    """One image's latency of ``architecture`` in ms (``latency_ms``, one thread), measured once per server
    and shared read-only; None for an architecture this server cannot build."""
    try:
        model = build_model(architecture)
    except ValueError:
        return None
    return latency_ms(model, 1, repeats=30)


def class_points_for(record: RunRecord) -> tuple[list[ClassPoint], str | None]:
    """The class's other runs as chart points, and the class code (none when the student's runs count for
    no class, its teacher hides the results, or its runs cannot be read now)."""
    code = st.session_state.get(CLASS_KEY)
    if not code:
        return [], None
    try:
        info = find_class(open_database(), code)  # not cached: hiding the results shows at once, as on the board
        if info is None or info.results_hidden:
            return [], None
        runs = board_snapshot(info.code, BOARD_FONT).runs
    except StorageError:
        return [], None
    return class_points(runs, architecture_latency_ms, skip=lambda run: _is_this_run(run, record)), code


def _is_this_run(run: ClassRun, record: RunRecord) -> bool:
    """A class run with this record's settings and errors: the record itself (or a run that lands on its point)."""
    config = record.config
    return (run.teacher, run.student, run.temperature, run.alpha, run.epochs, run.seed) == (
        config["teacher"],
        config["student"],
        config["temperature"],
        config["alpha"],
        config["epochs"],
        config["seed"],
    ) and (run.distilled_errors, run.baseline_errors) == (record.errors("distilled"), record.errors("baseline"))


# The table's columns (the rows' keys, English: the data) and their number formats; headers translated where shown.
COLUMNS = {
    N_("architecture"): None,
    N_("parameters"): None,
    N_("MFLOPs per image"): "%.2f",
    N_("weights (KB)"): "%.0f",
    N_("ONNX (KB)"): "%.0f",
    N_("ms per image"): "%.3f",
    N_("ms per 256 images"): "%.1f",
    N_("test accuracy"): "%.2f%%",
    N_("ECE"): "%.4f",
}


def _row(name: str, card: dict) -> dict:
    return {
        "": name,
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


def _column(key: str):
    number_format = COLUMNS[key]
    if key == "ECE":
        return st.column_config.NumberColumn(
            _(key),
            format=number_format,
            help=_("Calibration error: 0 is perfect. See Advanced: calibration, below."),
        )
    return st.column_config.NumberColumn(_(key), format=number_format) if number_format else _(key)


def render_compression_card(record: RunRecord, *, key: str, advanced: bool = False) -> None:
    """The card of ``record``: a Measure button, then the headline, the table and the two charts (calibration's
    in the Advanced section, open when ``advanced``)."""
    measured = st.session_state.setdefault(CARDS_KEY, {})
    st.markdown(_("**Compression card**: what the small model buys, measured on this server's CPU."))
    if record.run_id not in measured:
        if not offer_measuring(key):
            return
        with st.spinner(_("Timing the models ...")):
            measured[record.run_id] = measure_record_cards(record)
    cards, notes = measured[record.run_id]
    if "teacher" in cards and "distilled" in cards:
        teacher, distilled = (_card(cards[role]) for role in ("teacher", "distilled"))
        st.info(f"**{headline(teacher, distilled)}.**")
    points, code = class_points_for(record)
    render_card_body(cards, ROLE_WORDS, notes, key=key, points=points, advanced=advanced)
    if points:
        count = len({point.label for point in points})
        st.caption(
            ngettext(
                "Open circles on the speed chart: the other runs of class {code} ({count} run), as accurate as their "
                "runs recorded, at the measured speed of their architecture.",
                "Open circles on the speed chart: the other runs of class {code} ({count} runs), as accurate as "
                "their runs recorded, at the measured speed of their architecture.",
                count,
            ).format(code=code, count=number(count))
        )


def offer_measuring(key: str) -> bool:
    """The Measure button and what it costs; True on the press (the offer is gone by then)."""
    offer = st.empty()
    with offer.container():
        pressed = st.button(_("Measure size, speed and calibration"), key=f"{key}.measure", icon=":material/speed:")
        st.caption(_("Takes a few seconds: it times each model on one thread and exports it to ONNX."))
    if pressed:
        offer.empty()
    return pressed


def render_card_body(
    cards: dict[str, dict],
    names: dict[str, str],
    notes: list[str],
    *,
    key: str,
    points: list[ClassPoint] = (),
    advanced: bool = False,
) -> None:
    """The table of ``cards`` (name of each from ``names``), what was measured how, accuracy against latency
    (with the class's ``points``), and the reliability diagram in an Advanced section (open when ``advanced``)."""
    names = {role: _(name) for role, name in names.items()}  # a role's English name, or one translated already
    st.dataframe(
        [_row(names.get(role, role), card) for role, card in cards.items()],
        hide_index=True,
        width="stretch",
        column_config={"": _("model")} | {key: _column(key) for key in COLUMNS},  # "": the row's name
    )
    threads = next(iter(cards.values()))["threads"] if cards else 1
    latency = ngettext(
        "Latency: median of repeated timings on {threads} CPU thread, on a server other students share.",
        "Latency: median of repeated timings on {threads} CPU threads, on a server other students share.",
        threads,
    ).format(threads=threads)
    sizes = _("Weights: the bytes of the saved state dict; ONNX: the bytes of the exported file.")
    st.caption(" ".join([latency, sizes, *notes]))
    st.plotly_chart(plots.accuracy_against_latency(cards, names, class_points=points), key=f"{key}.speed")
    with advanced_section(advanced, _("calibration (ECE)")):
        st.markdown(
            _(
                "**ECE, the {calibration}: 0 is perfect.** A model is well calibrated when it is right {share} of "
                "the time on the answers it gives {share} to. The answers are sorted into {bins} groups by "
                "confidence; ECE averages each group's gap between confidence and accuracy, weighted by its size. "
                "In the diagram, a point below the diagonal is a group where the model was overconfident."
            ).format(
                calibration=term_link("calibration", _("expected calibration error")),
                share=percent(0.8),
                bins=ECE_BINS,
            )
        )
        st.plotly_chart(plots.reliability_diagram(cards, names), key=f"{key}.reliability")


def _card(card: dict) -> ModelCard:
    return ModelCard(**{**card, "reliability": None})
