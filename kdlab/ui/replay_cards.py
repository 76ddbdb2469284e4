"""The compression card of a replay's students, measured on request from the weights the replay kept
(``ReplayResult.student_files``, ``kdlab.experiments.card.replay_cards``)."""

from __future__ import annotations

from collections.abc import Callable

import streamlit as st

from kdlab.experiments.card import ModelCard, grid_cards, headline, replay_cards
from kdlab.experiments.replays import REPLAYS, ReplayResult
from kdlab.i18n import N_, _
from kdlab.ui.card import ROLE_WORDS, offer_measuring, render_card_body

CARDS_KEY = "replays.cards"  # widget key of a replay's result -> its measured cards, for this session
TEACHER_NOTE = N_(
    "The teacher was measured on its architecture freshly built (a replay keeps no teacher weights; the same "
    "architecture has the same size and speed), its accuracy and calibration from its stored test answers."
)


def render_replay_cards(result: ReplayResult, key: str) -> None:
    """The students' card: a Measure button, then their table and charts; a note when none was kept."""
    st.markdown(_("**Compression card of the students**: their size, speed and calibration, measured on this CPU."))
    if result.name == "temperature-width":
        render_grid_cards(result, key)
        return
    if not result.student_files:
        st.caption(_("This replay kept no student weights (it stopped first), so no card."))
        return
    cards = _measured(key, lambda: replay_cards(result))
    if cards is None:
        return
    # the replay's run names in words
    names = {run: _(label) for run, label in {**ROLE_WORDS, **REPLAYS[result.name].run_labels}.items()}
    kept = [names.get(run, run) for run in cards if run in result.student_files]
    left = [names.get(run, run) for run in result.test_logits if run not in cards]
    notes = [_("Measured from the weights the replay kept: {runs}.").format(runs=", ".join(kept))]
    if "teacher" in cards:
        notes.append(_(TEACHER_NOTE))
        if "distilled" in cards:
            st.info(f"**{headline(_card(cards['teacher']), _card(cards['distilled']))}.**")
    if left:
        notes.append(_("Not measured (the replay keeps no weights of these): {runs}.").format(runs=", ".join(left)))
    render_card_body(cards, names, notes, key=f"{key}.card")


def render_grid_cards(result: ReplayResult, key: str) -> None:
    """The temperature-width grid's card: one row per width, its architecture measured, its best T's accuracy."""
    if not result.summary.get("findings", {}).get("by_width"):
        st.caption(_("The grid has no finished width yet, so no card."))
        return
    cards = _measured(key, lambda: grid_cards(result))
    if cards is None:
        return
    names = {run: _("Distilled, {architecture} (best T)").format(architecture=run) for run in cards}
    note = _(
        "Each width measured on its architecture freshly built (the grid keeps no weights; the same architecture "
        "has the same size and speed), with the test accuracy of its best temperature. No calibration: the grid "
        "keeps accuracies, not test answers."
    )
    render_card_body(cards, names, [note], key=f"{key}.card")


def _measured(key: str, measure: Callable[[], dict[str, ModelCard]]) -> dict[str, dict] | None:
    """The cards of the replay result ``key``, measured once per session when the student asks (the
    Measure button), by name as dicts; None until then."""
    measured = st.session_state.setdefault(CARDS_KEY, {})
    if key not in measured:
        if not offer_measuring(f"{key}.card"):
            return None
        with st.spinner(_("Timing the students ...")):
            measured[key] = {run: card.as_dict() for run, card in measure().items()}
    return measured[key]


def _card(card: dict) -> ModelCard:
    return ModelCard(**{**card, "reliability": None})
